// The mesh strategy's pair rules on the real room model: who a peer-to-peer message may go to
// (joined, same room, not oneself), who is polite, who offers. (These checks lived in the room
// model as route/politeOf/shouldOffer before mesh became a MediaBackend.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RoomManager } from '@switchboard/rooms';
import type { RoomListener } from '@switchboard/rooms';
import type { ServerMessage } from '@switchboard/protocol';
import { MeshBackend, peerOf, politeOf, shouldOffer } from '../src/mesh-backend.js';

const quiet: RoomListener = {
  participantJoined() {},
  participantUpdated() {},
  participantLeft() {},
  trackPublished() {},
  trackUnpublished() {},
  roomClosed() {},
};
const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

test('peerOf: same room only, joined, not oneself; polite and offerer', () => {
  const m = new RoomManager(quiet, { reconnectGraceMs: 1000, pingTimeoutMs: 60_000 });
  const a = m.join('one', 'a', {}, 0).participant;
  const b = m.join('one', 'b', {}, 1).participant;
  const c = m.join('two', 'c', {}, 2).participant;
  assert.equal(peerOf(a.room, a, b.sid), b);
  assert.equal(peerOf(b.room, b, a.sid), a);
  assert.throws(() => peerOf(a.room, a, c.sid), code('SB_ERR_UNKNOWN_PARTICIPANT'));
  assert.throws(() => peerOf(a.room, a, 'PA_none'), code('SB_ERR_UNKNOWN_PARTICIPANT'));
  assert.throws(() => peerOf(a.room, c, a.sid), code('SB_ERR_UNKNOWN_PARTICIPANT'), 'a sender from another room');
  assert.throws(() => peerOf(a.room, a, a.sid), code('SB_ERR_INVALID_MESSAGE'));

  assert.equal(politeOf(a, b), a.sid < b.sid ? a : b);
  assert.equal(politeOf(b, a), politeOf(a, b));
  assert.equal(shouldOffer(b, a), true);
  assert.equal(shouldOffer(a, b), false);
  assert.equal(shouldOffer(a, c), false, 'different rooms');
  // Same joinedAt: join order still decides.
  const d = m.join('one', 'd', {}, 1).participant;
  assert.equal(shouldOffer(d, b), true);
  assert.equal(shouldOffer(b, d), false);

  // a reconnecting participant cannot be sent to; after a resume it can
  m.disconnected(a.sid, 100);
  assert.throws(() => peerOf(b.room, b, a.sid), code('SB_ERR_UNKNOWN_PARTICIPANT'));
  m.resume(a.sid, a.sessionToken, 200);
  assert.equal(peerOf(b.room, b, a.sid), a);
});

test('MeshBackend relays to the named participant with `from` set, refuses what mesh does not use, and says when the target has no connection', () => {
  const m = new RoomManager(quiet, { reconnectGraceMs: 1000, pingTimeoutMs: 60_000 });
  const a = m.join('one', 'a', {}, 0).participant;
  const b = m.join('one', 'b', {}, 1).participant;
  const sent: { sid: string; msg: ServerMessage }[] = [];
  let connected = true;
  const mesh = new MeshBackend();
  mesh.attach({ toParticipant: (sid, msg) => (sent.push({ sid, msg }), connected), toRoom: () => undefined });
  mesh.handle(a.room, a, { v: 1, type: 'requestOffer', to: b.sid, kinds: ['video'] } as never);
  assert.deepEqual(sent, [{ sid: b.sid, msg: { v: 1, type: 'requestOffer', kinds: ['video'], from: a.sid } }]);
  assert.throws(() => mesh.handle(a.room, a, { v: 1, type: 'offer', sdp: 'v=0' } as never), code('SB_ERR_INVALID_MESSAGE'), 'no `to`');
  assert.throws(() => mesh.handle(a.room, a, { v: 1, type: 'subscription', trackSids: [], subscribe: true } as never), code('SB_ERR_INVALID_MESSAGE'));
  connected = false;
  assert.throws(() => mesh.handle(a.room, a, { v: 1, type: 'candidate', to: b.sid, candidate: {} } as never), code('SB_ERR_UNKNOWN_PARTICIPANT'));
});
