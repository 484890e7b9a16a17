import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RoomError, RoomManager } from '../src/index.js';
import { Recorder, setup } from './harness.js';

function code(c: string): (e: unknown) => boolean {
  return (e) => e instanceof RoomError && e.code === c;
}

test('join and leave: events, others, info', () => {
  const { m, rec } = setup();
  const a = m.join('r', 'alice', { name: 'Alice', metadata: '{"x":1}' }, 1000);
  assert.equal(a.room.topology, 'mesh');
  assert.equal(a.room.maxParticipants, 16);
  assert.deepEqual(a.others, []);
  assert.equal(a.replaced, undefined);
  const b = m.join('r', 'bob', {}, 1001);
  assert.deepEqual(b.others.map((p) => p.identity), ['alice']);
  assert.equal(b.room, a.room);
  assert.deepEqual(rec.take(), [
    { type: 'joined', room: 'r', identity: 'alice', sid: a.participant.sid },
    { type: 'joined', room: 'r', identity: 'bob', sid: b.participant.sid },
  ]);
  assert.deepEqual(a.participant.info(), {
    sid: a.participant.sid, identity: 'alice', name: 'Alice', metadata: '{"x":1}', tracks: [], joinedAt: 1000, state: 'joined',
  });
  assert.deepEqual(a.room.info(), {
    sid: a.room.sid, name: 'r', topology: 'mesh', maxParticipants: 16, metadata: '', createdAt: 1000, numParticipants: 2,
  });
  assert.match(a.participant.sid, /^PA_/);
  assert.match(a.room.sid, /^RM_/);
  m.leave(a.participant.sid, 'left', 1002);
  assert.deepEqual(rec.take(), [{ type: 'left', room: 'r', identity: 'alice', sid: a.participant.sid, reason: 'left' }]);
  assert.equal(a.participant.state, 'disconnected');
  assert.equal(a.room.numParticipants, 1);
  assert.throws(() => m.leave(a.participant.sid, 'left', 1003), code('SB_ERR_UNKNOWN_PARTICIPANT'));
  assert.deepEqual(m.stats(), { rooms: 1, participants: 1 });
});

test('default ids are prefixed base62 and tokens are random', () => {
  const m = new RoomManager(new Recorder());
  const { participant, room } = m.join('r', 'a', {}, 0);
  assert.match(participant.sid, /^PA_[0-9A-Za-z]{12}$/);
  assert.match(room.sid, /^RM_[0-9A-Za-z]{12}$/);
  const t = m.publishTrack(participant.sid, { cid: 'c', kind: 'audio' }, 0);
  assert.match(t.sid, /^TR_[0-9A-Za-z]{12}$/);
  const other = m.join('r', 'b', {}, 0).participant;
  assert.notEqual(participant.sessionToken, other.sessionToken);
  assert.ok(participant.sessionToken.length >= 20);
});

test('duplicate identity replaces the old participant', () => {
  const { m, rec } = setup();
  m.join('r', 'bob', {}, 0);
  const first = m.join('r', 'alice', {}, 0).participant;
  rec.take();
  const second = m.join('r', 'alice', { name: 'again' }, 5);
  assert.equal(second.replaced, first);
  assert.notEqual(second.participant.sid, first.sid);
  assert.deepEqual(second.others.map((p) => p.identity), ['bob']);
  assert.deepEqual(rec.take(), [
    { type: 'left', room: 'r', identity: 'alice', sid: first.sid, reason: 'duplicate_identity' },
    { type: 'joined', room: 'r', identity: 'alice', sid: second.participant.sid },
  ]);
  assert.equal(first.state, 'disconnected');
  assert.equal(m.getParticipant(first.sid), undefined);
  assert.equal(second.room.getParticipant('alice'), second.participant);
  assert.deepEqual(m.stats(), { rooms: 1, participants: 2 });
});

test('room full; a duplicate identity in a full room still replaces', () => {
  const { m } = setup();
  m.createRoom({ name: 'small', maxParticipants: 2 }, 0);
  m.join('small', 'a', {}, 0);
  m.join('small', 'b', {}, 0);
  assert.throws(() => m.join('small', 'c', {}, 0), code('SB_ERR_ROOM_FULL'));
  const again = m.join('small', 'b', {}, 1);
  assert.ok(again.replaced);
  assert.equal(again.room.numParticipants, 2);
});

test('defaults: sfu/mcu rooms allow 100 participants', () => {
  const { m } = setup({ defaultTopology: 'sfu' });
  assert.equal(m.createRoom({ name: 'x' }, 0).maxParticipants, 100);
  assert.equal(m.join('y', 'a', { topology: 'mcu' }, 0).room.topology, 'mcu');
  assert.equal(m.createRoom({ name: 'z', topology: 'mesh' }, 0).maxParticipants, 16);
});

test('auto-create vs not found; room exists; too many rooms', () => {
  const { m } = setup({ maxRooms: 2 });
  assert.throws(() => m.join('nope', 'a', { autoCreate: false }, 0), code('SB_ERR_ROOM_NOT_FOUND'));
  assert.equal(m.stats().rooms, 0);
  m.join('auto', 'a', {}, 0);
  assert.ok(m.getRoom('auto'));
  assert.throws(() => m.createRoom({ name: 'auto' }, 0), code('SB_ERR_ROOM_EXISTS'));
  m.createRoom({ name: 'two' }, 0);
  assert.throws(() => m.createRoom({ name: 'three' }, 0), code('SB_ERR_TOO_MANY_ROOMS'));
  assert.throws(() => m.join('three', 'a', {}, 0), code('SB_ERR_TOO_MANY_ROOMS'));
  assert.deepEqual(m.listRooms().map((r) => r.name), ['auto', 'two']);
  assert.throws(() => m.createRoom({ name: '' }, 0), code('SB_ERR_INVALID'));
  assert.throws(() => m.join('auto', '', {}, 0), code('SB_ERR_INVALID'));
});

test('join refused while the room is closing', () => {
  const rec = new Recorder();
  let m!: RoomManager;
  let caught: unknown;
  rec.participantLeft = () => {
    try { m.join('r', 'late', {}, 1); } catch (e) { caught = e; }
  };
  m = new RoomManager(rec);
  m.join('r', 'a', {}, 0);
  m.closeRoom('r', 'admin', 1);
  assert.ok(code('SB_ERR_ROOM_CLOSED')(caught));
  assert.deepEqual(m.stats(), { rooms: 0, participants: 0 });
});

test('empty room closes after emptyTimeoutMs', () => {
  const { m, rec } = setup();
  m.createRoom({ name: 'r', emptyTimeoutMs: 1000 }, 0);
  m.tick(1000);
  assert.ok(m.getRoom('r'), 'not yet: empty for exactly the timeout');
  const { participant } = m.join('r', 'a', {}, 1000);
  m.tick(5000); // occupied (joined at 1000; ping timeout 20000)
  assert.ok(m.getRoom('r'));
  m.leave(participant.sid, 'left', 6000);
  rec.take();
  m.tick(7000);
  assert.ok(m.getRoom('r'));
  m.tick(7001);
  assert.equal(m.getRoom('r'), undefined);
  assert.deepEqual(rec.take(), [{ type: 'closed', room: 'r', reason: 'empty' }]);
  assert.deepEqual(m.stats(), { rooms: 0, participants: 0 });
});

test('ping timeout -> reconnecting -> grace expiry -> participantLeft timeout', () => {
  const { m, rec } = setup({ pingTimeoutMs: 20000, reconnectGraceMs: 15000 });
  const a = m.join('r', 'a', {}, 0).participant;
  const b = m.join('r', 'b', {}, 0).participant;
  rec.take();
  m.touch(b.sid, 15000);
  m.tick(20000);
  assert.equal(a.state, 'joined');
  m.tick(20001);
  assert.equal(a.state, 'reconnecting');
  assert.equal(b.state, 'joined');
  assert.deepEqual(rec.take(), [], 'others are not told about reconnecting');
  m.touch(b.sid, 30000);
  m.tick(20001 + 15000);
  assert.equal(a.state, 'reconnecting');
  m.tick(20001 + 15001);
  assert.deepEqual(rec.take(), [{ type: 'left', room: 'r', identity: 'a', sid: a.sid, reason: 'timeout' }]);
  assert.equal(a.state, 'disconnected');
  assert.throws(() => m.resume(a.sid, a.sessionToken, 40000), code('SB_ERR_RECONNECT_FAILED'));
  assert.deepEqual(m.stats(), { rooms: 1, participants: 1 });
});

test('resume within grace sends nothing; bad token and expired grace fail', () => {
  const { m, rec } = setup({ reconnectGraceMs: 1000 });
  const a = m.join('r', 'a', {}, 0).participant;
  const b = m.join('r', 'b', {}, 0).participant;
  m.publishTrack(a.sid, { cid: 'mic', kind: 'audio', source: 'microphone' }, 0);
  rec.take();
  m.disconnected(a.sid, 100);
  assert.equal(a.state, 'reconnecting');
  assert.equal(a.room.numParticipants, 2, 'keeps its slot');
  assert.throws(() => m.resume(a.sid, 'wrong', 200), code('SB_ERR_RECONNECT_FAILED'));
  assert.equal(a.state, 'reconnecting');
  assert.throws(() => m.resume('PA_nobody', a.sessionToken, 200), code('SB_ERR_RECONNECT_FAILED'));
  assert.equal(m.resume(a.sid, a.sessionToken, 1100), a);
  assert.equal(a.state, 'joined');
  assert.equal(a.tracks.length, 1, 'tracks survive a resume');
  assert.deepEqual(rec.take(), []);

  m.disconnected(b.sid, 2000);
  assert.throws(() => m.resume(b.sid, b.sessionToken, 3001), code('SB_ERR_RECONNECT_FAILED'));
  assert.deepEqual(rec.take(), [{ type: 'left', room: 'r', identity: 'b', sid: b.sid, reason: 'timeout' }]);
});

test('publish, unpublish, mute, metadata: events', () => {
  const { m, rec } = setup();
  const a = m.join('r', 'a', {}, 0).participant;
  rec.take();
  const t = m.publishTrack(a.sid, { cid: 'cam', kind: 'video', source: 'camera', width: 640, height: 480, simulcast: true }, 1);
  assert.deepEqual(t, { sid: t.sid, cid: 'cam', kind: 'video', source: 'camera', muted: false, width: 640, height: 480, simulcast: true });
  assert.match(t.sid, /^TR_/);
  assert.deepEqual(rec.take(), [{ type: 'published', room: 'r', identity: 'a', track: t }]);
  assert.deepEqual(a.info().tracks, [t]);
  t.muted = true; // returned copies do not alias the model
  assert.equal(a.getTrack(t.sid)?.muted, false);

  assert.equal(m.muteTrack(a.sid, t.sid, true).muted, true);
  assert.deepEqual(rec.take(), [{ type: 'updated', room: 'r', identity: 'a' }]);
  m.muteTrack(a.sid, t.sid, true);
  assert.deepEqual(rec.take(), [], 'no event when nothing changed');

  assert.equal(m.setTrackMid(a.sid, t.sid, '0').mid, '0');
  m.updateMetadata(a.sid, { name: 'Alice', metadata: 'm' });
  assert.deepEqual(rec.take(), [{ type: 'updated', room: 'r', identity: 'a' }]);
  assert.equal(a.name, 'Alice');
  assert.equal(a.metadata, 'm');

  const gone = m.unpublishTrack(a.sid, t.sid);
  assert.equal(gone.sid, t.sid);
  assert.deepEqual(rec.take(), [{ type: 'unpublished', room: 'r', identity: 'a', track: gone }]);
  assert.deepEqual(a.tracks, []);
  assert.throws(() => m.unpublishTrack(a.sid, t.sid), code('SB_ERR_UNKNOWN_TRACK'));
  assert.throws(() => m.muteTrack(a.sid, 'TR_x', true), code('SB_ERR_UNKNOWN_TRACK'));
  // The cid is free again after unpublish.
  m.publishTrack(a.sid, { cid: 'cam', kind: 'video' }, 2);
});

test('limits: 16 tracks, duplicate cid, name and metadata sizes', () => {
  const { m, rec } = setup();
  const a = m.join('r', 'a', {}, 0).participant;
  for (let i = 0; i < 16; i++) m.publishTrack(a.sid, { cid: `c${i}`, kind: 'audio' }, 0);
  assert.throws(() => m.publishTrack(a.sid, { cid: 'c16', kind: 'audio' }, 0), code('SB_ERR_TOO_MANY_TRACKS'));
  const b = m.join('r', 'b', {}, 0).participant;
  m.publishTrack(b.sid, { cid: 'x', kind: 'audio' }, 0);
  assert.throws(() => m.publishTrack(b.sid, { cid: 'x', kind: 'audio' }, 0), code('SB_ERR_INVALID'));
  assert.throws(() => m.publishTrack(b.sid, { cid: 'y', kind: 'smell' as 'audio' }, 0), code('SB_ERR_INVALID'));
  assert.throws(() => m.publishTrack(b.sid, { cid: 'y', kind: 'video', width: -1 }, 0), code('SB_ERR_INVALID'));
  assert.throws(() => m.publishTrack('PA_none', { cid: 'y', kind: 'audio' }, 0), code('SB_ERR_UNKNOWN_PARTICIPANT'));

  rec.take();
  m.updateMetadata(b.sid, { name: 'n'.repeat(128), metadata: 'm'.repeat(4096) });
  assert.throws(() => m.updateMetadata(b.sid, { name: 'n'.repeat(129) }), code('SB_ERR_INVALID'));
  assert.throws(() => m.updateMetadata(b.sid, { metadata: 'm'.repeat(4097) }), code('SB_ERR_INVALID'));
  // 4096 bytes counts UTF-8 bytes, not characters: 2000 x 'é' (2 bytes) + 97 = 4097 bytes.
  assert.throws(() => m.updateMetadata(b.sid, { metadata: 'é'.repeat(2000) + 'x'.repeat(97) }), code('SB_ERR_INVALID'));
  assert.throws(() => m.join('r', 'c', { name: 'n'.repeat(129) }, 0), code('SB_ERR_INVALID'));
  assert.equal(b.name.length, 128, 'failed updates change nothing');
  assert.equal(rec.take().length, 1);
});

test('permissions: publish and publishData grants', () => {
  const { m } = setup();
  const viewer = m.join('r', 'v', { grants: { publish: false, subscribe: true, publishData: true, roomAdmin: false } }, 0).participant;
  assert.equal(viewer.canPublish, false);
  assert.throws(() => m.publishTrack(viewer.sid, { cid: 'a', kind: 'audio' }, 0), code('SB_ERR_PERMISSION_DENIED'));
  assert.equal(m.publishTrack(viewer.sid, { cid: 'd', kind: 'data' }, 0).kind, 'data');
  const mute = m.join('r', 'm', { grants: { publish: true, subscribe: true, publishData: false, roomAdmin: false } }, 0).participant;
  assert.throws(() => m.publishTrack(mute.sid, { cid: 'd', kind: 'data' }, 0), code('SB_ERR_PERMISSION_DENIED'));
  m.publishTrack(mute.sid, { cid: 'v', kind: 'video' }, 0);
  const dflt = m.join('r', 'd', {}, 0).participant;
  assert.deepEqual({ ...dflt.grants }, { publish: true, subscribe: true, publishData: true, roomAdmin: false });
});

test('admin remove', () => {
  const { m, rec } = setup();
  const a = m.join('r', 'a', {}, 0).participant;
  rec.take();
  assert.equal(m.remove('r', 'a', 1), a);
  assert.deepEqual(rec.take(), [{ type: 'left', room: 'r', identity: 'a', sid: a.sid, reason: 'removed' }]);
  assert.throws(() => m.remove('r', 'a', 1), code('SB_ERR_UNKNOWN_PARTICIPANT'));
  assert.throws(() => m.remove('nope', 'a', 1), code('SB_ERR_ROOM_NOT_FOUND'));
});

test('closeRoom removes everything and reports in order', () => {
  const { m, rec } = setup();
  const a = m.join('r', 'a', {}, 0).participant;
  const b = m.join('r', 'b', {}, 0).participant;
  m.publishTrack(a.sid, { cid: 'x', kind: 'audio' }, 0);
  m.disconnected(b.sid, 1);
  m.join('keep', 'k', {}, 0);
  rec.take();
  m.closeRoom('r', 'admin', 2);
  assert.deepEqual(rec.take(), [
    { type: 'left', room: 'r', identity: 'a', sid: a.sid, reason: 'room_closed' },
    { type: 'left', room: 'r', identity: 'b', sid: b.sid, reason: 'room_closed' },
    { type: 'closed', room: 'r', reason: 'admin' },
  ]);
  assert.deepEqual(m.stats(), { rooms: 1, participants: 1 });
  assert.equal(m.getRoom('r'), undefined);
  assert.equal(m.getParticipant(a.sid), undefined);
  assert.throws(() => m.closeRoom('r', 'again', 3), code('SB_ERR_ROOM_NOT_FOUND'));
  m.closeRoom('keep', 'admin', 3);
  assert.deepEqual(m.stats(), { rooms: 0, participants: 0 });
  // The name is free again.
  assert.notEqual(m.join('r', 'a', {}, 4).participant.sid, a.sid);
});
