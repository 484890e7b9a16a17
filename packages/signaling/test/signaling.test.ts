// The signaling server on a real HTTP server and real WebSockets: joins, mesh relay,
// reconnects, timeouts, and bad input of every kind (it answers with an error and stays up).

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { createToken, type TokenOptions } from '@switchboard/tokens';
import { SignalingServer } from '../src/index.js';

const KEY = 'testkey';
const SECRET = 'test-secret-0123456789';
let server: http.Server;
let signaling: SignalingServer;
let url: string;

before(async () => {
  server = http.createServer();
  signaling = new SignalingServer({
    apiKeys: { [KEY]: SECRET },
    iceServers: (host, identity) => [{ urls: [`turn:${host}:3478`], username: `9999999999:${identity}`, credential: 'x' }],
    pingTimeoutMs: 600,
    reconnectGraceMs: 600,
    joinTimeoutMs: 2000,
    limits: { messagesPerSecond: 20, burst: 40 },
  });
  signaling.attach(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `ws://127.0.0.1:${(server.address() as { port: number }).port}/rtc`;
});
after(async () => {
  await signaling.close();
  await new Promise<void>((r) => server.close(() => r()));
});

type Msg = Record<string, any> & { type: string };

/** A test client: collects every server message; `next(type)` waits for one. */
class Client {
  readonly ws: WebSocket;
  readonly inbox: Msg[] = [];
  closeCode: number | null = null;
  private waiters: (() => void)[] = [];
  private nextId = 1;

  constructor() {
    this.ws = new WebSocket(url);
    this.ws.on('message', (d) => {
      this.inbox.push(JSON.parse(d.toString()));
      this.waiters.splice(0).forEach((w) => w());
    });
    this.ws.on('close', (code) => {
      this.closeCode = code;
      this.waiters.splice(0).forEach((w) => w());
    });
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  send(msg: object): number {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ v: 1, id, ...msg }));
    return id;
  }

  async next(type: string, ms = 3000): Promise<Msg> {
    const end = Date.now() + ms;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.type === type);
      if (i >= 0) return this.inbox.splice(i, 1)[0];
      if (Date.now() > end) throw new Error(`no ${type} in time; got ${JSON.stringify(this.inbox.map((m) => m.type))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  async closed(ms = 3000): Promise<number> {
    const end = Date.now() + ms;
    while (this.closeCode === null) {
      if (Date.now() > end) throw new Error('not closed in time');
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.closeCode;
  }
}

const token = (opts: Partial<TokenOptions> & { identity: string }) => createToken(KEY, SECRET, { room: 'lobby', ...opts });

async function joined(identity: string, room = 'lobby'): Promise<{ c: Client; j: Msg }> {
  const c = new Client();
  await c.open();
  c.send({ type: 'join', token: await token({ identity, room, name: identity.toUpperCase() }) });
  return { c, j: await c.next('joined') };
}

test('join: room, participant, others, ICE servers with TURN credentials for this participant', async () => {
  const a = await joined('alice', 'join-room');
  assert.equal(a.j.room.name, 'join-room');
  assert.equal(a.j.room.topology, 'mesh');
  assert.equal(a.j.participant.identity, 'alice');
  assert.equal(a.j.participant.name, 'ALICE');
  assert.deepEqual(a.j.others, []);
  assert.match(a.j.iceServers[0].username, /:alice$/);
  assert.equal(typeof a.j.sessionToken, 'string');
  const b = await joined('bob', 'join-room');
  assert.deepEqual(b.j.others.map((p: Msg) => p.identity), ['alice']);
  const pj = await a.c.next('participantJoined');
  assert.equal(pj.participant.identity, 'bob');
  a.c.ws.close();
  b.c.ws.close();
});

test('mesh relay: offer, answer and candidates reach the named participant, marked with the sender', async () => {
  const a = await joined('ann', 'relay-room');
  const b = await joined('ben', 'relay-room');
  const aSid = a.j.participant.sid;
  const bSid = b.j.participant.sid;
  b.c.send({ type: 'offer', to: aSid, sdp: 'v=0 offer-from-ben' });
  const offer = await a.c.next('offer');
  assert.equal(offer.from, bSid);
  assert.equal(offer.sdp, 'v=0 offer-from-ben');
  assert.equal(offer.to, undefined);
  a.c.send({ type: 'answer', to: bSid, sdp: 'v=0 answer' });
  assert.equal((await b.c.next('answer')).from, aSid);
  a.c.send({ type: 'candidate', to: bSid, candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 } });
  const cand = await b.c.next('candidate');
  assert.equal(cand.candidate.sdpMid, '0');
  a.c.send({ type: 'candidate', to: bSid, candidate: null });
  assert.equal((await b.c.next('candidate')).candidate, null);
  // requestOffer: the answering side of a pair asks the offerer for an offer (PROTOCOL.md §7)
  a.c.send({ type: 'requestOffer', to: bSid, kinds: ['video', 'audio'], restart: true });
  const req = await b.c.next('requestOffer');
  assert.deepEqual({ from: req.from, kinds: req.kinds, restart: req.restart, to: req.to }, { from: aSid, kinds: ['video', 'audio'], restart: true, to: undefined });
  const badKind = a.c.send({ type: 'requestOffer', to: bSid, kinds: ['data'] } as never);
  assert.equal((await a.c.next('error')).replyTo, badKind);
  // To someone in another room, or nobody: an error, not a crash.
  const other = await joined('oz', 'elsewhere');
  const id = a.c.send({ type: 'offer', to: other.j.participant.sid, sdp: 'x' });
  const err = await a.c.next('error');
  assert.equal(err.code, 'SB_ERR_UNKNOWN_PARTICIPANT');
  assert.equal(err.replyTo, id);
  for (const c of [a.c, b.c, other.c]) c.ws.close();
});

test('mesh relay is for mesh rooms only: in an SFU room without a media backend, offers and requestOffer get SB_ERR_INVALID_MESSAGE', async () => {
  signaling.rooms.createRoom({ name: 'sfu-no-backend', topology: 'sfu' }, Date.now());
  const a = await joined('sam', 'sfu-no-backend');
  const b = await joined('sol', 'sfu-no-backend');
  assert.equal(a.j.room.topology, 'sfu');
  for (const m of [{ type: 'requestOffer', to: b.j.participant.sid }, { type: 'offer', to: b.j.participant.sid, sdp: 'v=0' }, { type: 'subscription', trackSids: [], subscribe: true }]) {
    const id = a.c.send(m as never);
    const err = await a.c.next('error');
    assert.deepEqual([err.code, err.replyTo], ['SB_ERR_INVALID_MESSAGE', id], JSON.stringify(m));
  }
  assert.equal(b.c.inbox.some((m) => m.type === 'requestOffer' || m.type === 'offer'), false, 'nothing was relayed');
  for (const c of [a.c, b.c]) c.ws.close();
});

test('data over signaling: to everyone else or to named participants, marked with the sender; needs publishData', async () => {
  const a = await joined('dana', 'data-room');
  const b = await joined('dave', 'data-room');
  const c = await joined('dora', 'data-room');
  a.c.send({ type: 'data', payload: 'hello all', topic: 'chat' });
  for (const x of [b, c]) {
    const m = await x.c.next('data');
    assert.deepEqual([m.from, m.payload, m.topic], [a.j.participant.sid, 'hello all', 'chat']);
  }
  a.c.send({ type: 'data', payload: 'just dora', destinationSids: [c.j.participant.sid] });
  assert.equal((await c.c.next('data')).payload, 'just dora');
  await assert.rejects(b.c.next('data', 300));
  // no publishData grant: refused
  const q = new Client();
  await q.open();
  q.send({ type: 'join', token: await token({ identity: 'quiet', room: 'data-room', grants: { publishData: false } }) });
  await q.next('joined');
  const id = q.send({ type: 'data', payload: 'x' });
  const err = await q.next('error');
  assert.deepEqual([err.code, err.replyTo], ['SB_ERR_PERMISSION_DENIED', id]);
  for (const x of [a.c, b.c, c.c, q]) x.ws.close();
});

test('tracks and metadata: publish, mute, unpublish and updates reach the others', async () => {
  const a = await joined('pia', 'track-room');
  const b = await joined('paul', 'track-room');
  await a.c.next('participantJoined');
  const id = a.c.send({ type: 'publishTrack', track: { cid: 'c1', kind: 'video', source: 'camera' } });
  const pub = await a.c.next('trackPublished');
  assert.equal(pub.cid, 'c1');
  assert.equal(pub.replyTo ?? pub.id, id);
  let upd = await b.c.next('participantUpdated');
  assert.equal(upd.participant.tracks[0].sid, pub.track.sid);
  a.c.send({ type: 'muteTrack', sid: pub.track.sid, muted: true });
  upd = await b.c.next('participantUpdated');
  assert.equal(upd.participant.tracks[0].muted, true);
  a.c.send({ type: 'updateMetadata', metadata: '{"hand":true}' });
  upd = await b.c.next('participantUpdated');
  assert.equal(upd.participant.metadata, '{"hand":true}');
  a.c.send({ type: 'unpublishTrack', sid: pub.track.sid });
  upd = await b.c.next('participantUpdated');
  assert.deepEqual(upd.participant.tracks, []);
  a.c.ws.close();
  b.c.ws.close();
});

test('leave: the others are told; a vanished participant is removed after the timeouts', async () => {
  const a = await joined('lea', 'leave-room');
  const b = await joined('lou', 'leave-room');
  const c = await joined('lyn', 'leave-room');
  b.c.send({ type: 'leave' });
  assert.equal(await b.c.closed(), 1000);
  assert.equal((await a.c.next('participantLeft')).reason, 'left');
  // lyn stops answering (no pings, socket left open): ping timeout, then grace, then 'timeout'.
  const keepAlive = setInterval(() => a.c.send({ type: 'ping', t: Date.now() }), 150);
  const left = await a.c.next('participantLeft', 5000);
  clearInterval(keepAlive);
  assert.equal(left.sid, c.j.participant.sid);
  assert.equal(left.reason, 'timeout');
  a.c.ws.close();
  c.c.ws.close();
});

test('reconnect: a participant whose socket drops resumes its session and the others see no leave', async () => {
  const a = await joined('rae', 'resume-room');
  const b = await joined('rob', 'resume-room');
  b.c.ws.terminate();
  const again = new Client();
  await again.open();
  again.send({ type: 'join', token: await token({ identity: 'rob', room: 'resume-room' }), reconnect: { participantSid: b.j.participant.sid, sessionToken: b.j.sessionToken } });
  const j = await again.next('joined');
  assert.equal(j.reconnected, true);
  assert.equal(j.participant.sid, b.j.participant.sid);
  // Still reachable by its sid, and nobody was told it left.
  a.c.send({ type: 'offer', to: b.j.participant.sid, sdp: 'after-resume' });
  assert.equal((await again.next('offer')).sdp, 'after-resume');
  assert.equal(a.c.inbox.some((m) => m.type === 'participantLeft'), false);
  // A wrong session token does not resume.
  const thief = new Client();
  await thief.open();
  thief.send({ type: 'join', token: await token({ identity: 'rob', room: 'resume-room' }), reconnect: { participantSid: b.j.participant.sid, sessionToken: 'forged' } });
  assert.equal((await thief.next('error')).code, 'SB_ERR_NOT_JOINED');
  for (const c of [a.c, again, thief]) c.ws.close();
});

test('bad tokens: forged, expired, malformed, missing join grant: a clear error, then the socket closes', async () => {
  const cases: [string | Promise<string>, string][] = [
    [createToken(KEY, 'another-secret-0123456789', { identity: 'eve', room: 'lobby' }), 'SB_ERR_TOKEN_INVALID'],
    [createToken('nokey', SECRET, { identity: 'eve', room: 'lobby' }), 'SB_ERR_TOKEN_INVALID'],
    [token({ identity: 'eve', now: Date.now() - 7200_000, ttlSeconds: 60 }), 'SB_ERR_TOKEN_EXPIRED'],
    ['not.a.jwt', 'SB_ERR_TOKEN_INVALID'],
    [token({ identity: 'eve', grants: { join: false } }), 'SB_ERR_PERMISSION_DENIED'],
  ];
  for (const [t, code] of cases) {
    const c = new Client();
    await c.open();
    c.send({ type: 'join', token: await t });
    const err = await c.next('error');
    assert.equal(err.code, code, String(await t));
    assert.equal(err.fatal, true);
    assert.equal(await c.closed(), 4003);
  }
  // A token for one room used to join another.
  const wrong = new Client();
  await wrong.open();
  wrong.send({ type: 'join', token: await token({ identity: 'eve', room: 'lobby' }), room: 'vault' });
  const werr = await wrong.next('error');
  assert.equal(werr.code, 'SB_ERR_WRONG_ROOM');
  assert.equal(await wrong.closed(), 4003);
  // Publishing without the publish grant.
  const c = new Client();
  await c.open();
  c.send({ type: 'join', token: await token({ identity: 'viewer', grants: { publish: false } }) });
  await c.next('joined');
  c.send({ type: 'publishTrack', track: { cid: 'x', kind: 'video', source: 'camera' } });
  assert.equal((await c.next('error')).code, 'SB_ERR_PERMISSION_DENIED');
  c.ws.close();
});

test('malformed, unknown, oversized and early messages get errors and the connection stays', async () => {
  const c = new Client();
  await c.open();
  c.ws.send('{not json');
  assert.equal((await c.next('error')).code, 'SB_ERR_MALFORMED');
  c.ws.send(JSON.stringify({ v: 1, type: 'teleport' }));
  assert.equal((await c.next('error')).code, 'SB_ERR_UNKNOWN_TYPE');
  c.ws.send(JSON.stringify({ v: 1, type: 'offer', to: 5, sdp: 1 }));
  assert.equal((await c.next('error')).code, 'SB_ERR_INVALID_MESSAGE');
  c.ws.send(JSON.stringify({ v: 1, type: 'offer', to: 'x', sdp: 'y'.repeat(100_000) }));
  assert.equal((await c.next('error')).code, 'SB_ERR_TOO_LARGE');
  c.send({ type: 'offer', to: 'x', sdp: 'v=0' });
  assert.equal((await c.next('error')).code, 'SB_ERR_NOT_JOINED');
  c.send({ type: 'ping', t: 1 });
  assert.equal((await c.next('pong')).t, 1);
  assert.equal(c.closeCode, null);
  c.ws.close();
});

test('a message flood is rate limited, and a client that keeps flooding is cut; the server stays up', async () => {
  const c = new Client();
  await c.open();
  for (let i = 0; i < 200; i++) c.ws.send(JSON.stringify({ v: 1, type: 'ping', t: i }));
  await c.next('error');
  assert.ok(c.inbox.filter((m) => m.type === 'error' && m.code === 'SB_ERR_RATE_LIMITED').length > 0 || c.closeCode === 4008);
  assert.equal(await c.closed(), 4008);
  const fine = await joined('after-flood', 'flood-room');
  assert.equal(fine.j.participant.identity, 'after-flood');
  fine.c.ws.close();
});

test('a socket that never joins is closed with a reason', async () => {
  const c = new Client();
  await c.open();
  assert.equal(await c.closed(4000), 4001);
});

test('many concurrent connections join one room each', async () => {
  const n = 300;
  const clients = await Promise.all(Array.from({ length: n }, (_, i) => joined(`crowd-${i}`, `crowd-${i % 30}`)));
  assert.equal(clients.filter((x) => x.j.type === 'joined').length, n);
  assert.equal(signaling.rooms.stats().participants >= n, true);
  for (const x of clients) x.c.ws.close();
});
