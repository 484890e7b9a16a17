// The admin REST API on a running Switchboard: auth, create/list/get, remove, close.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { createToken } from '@switchboard/tokens';
import { Switchboard } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';

const KEY = 'adminkey';
const SECRET = 'admin-secret-0123456789';
const port = 24000 + Math.floor(Math.random() * 3000) * 2;
let sb: Switchboard;
const api = `http://127.0.0.1:${port}/api`;

before(async () => {
  const config = loadConfig({
    overrides: {
      auth: { keys: { [KEY]: SECRET } },
      http: { host: '127.0.0.1', port },
      turn: { listeningIps: ['127.0.0.1'], listeningPort: port + 1, threads: 0, staticAuthSecrets: ['turn-secret'] },
      sfu: { listeningIp: '127.0.0.1', port: port + 2 },
      log: { level: 'silent' },
    },
  });
  sb = await Switchboard.start(config, createLogger('silent'), { http: true, devMode: false });
});
after(() => sb.stop());

const admin = (room?: string) => createToken(KEY, SECRET, { identity: 'ops', room, grants: { roomAdmin: true, roomList: true } });
const call = async (method: string, path: string, token?: string, body?: unknown) => {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
};

async function participant(room: string, identity: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/rtc`);
  const inbox: any[] = [];
  let closeCode = 0;
  ws.on('message', (d) => inbox.push(JSON.parse(d.toString())));
  ws.on('close', (c) => (closeCode = c));
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ v: 1, type: 'join', token: await createToken(KEY, SECRET, { identity, room }) }));
  const until = async (f: () => boolean) => {
    for (let i = 0; i < 150 && !f(); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(f());
  };
  await until(() => inbox.some((m) => m.type === 'joined'));
  return { ws, inbox, until, closeCode: () => closeCode };
}

test('outside dev mode there is no token endpoint', async () => {
  const res = await fetch(`http://127.0.0.1:${port}/api/dev/token?room=a&identity=b`);
  assert.equal(res.status, 404);
  assert.equal((await res.json()).code, 'SB_ERR_NOT_DEV_MODE');
});

test('without an admin token: 401 or 403 with a code', async () => {
  assert.deepEqual((await call('GET', '/rooms')).body.code, 'SB_ERR_TOKEN_MISSING');
  assert.equal((await call('GET', '/rooms', 'garbage')).status, 401);
  const expired = await createToken(KEY, SECRET, { identity: 'ops', grants: { roomAdmin: true }, ttlSeconds: 60, now: Date.now() - 3600_000 });
  assert.deepEqual(await call('GET', '/rooms', expired), { status: 401, body: { code: 'SB_ERR_TOKEN_EXPIRED', message: (await call('GET', '/rooms', expired)).body.message } });
  const user = await createToken(KEY, SECRET, { identity: 'u', room: 'r1' });
  assert.equal((await call('POST', '/rooms', user, { name: 'r1' })).status, 403);
  const scoped = await admin('only-this');
  assert.equal((await call('POST', '/rooms', scoped, { name: 'another' })).status, 403);
});

test('create, list, get; duplicates and bad bodies are refused; MCU rooms and their recording endpoints', async () => {
  const t = await admin();
  const created = await call('POST', '/rooms', t, { name: 'standup', topology: 'mesh', maxParticipants: 4 });
  assert.equal(created.status, 201);
  assert.equal(created.body.room.name, 'standup');
  assert.equal(created.body.room.maxParticipants, 4);
  assert.equal((await call('POST', '/rooms', t, { name: 'standup' })).status, 409);
  const bad = await call('POST', '/rooms', t, { name: 'x', maxParticipants: 'many' });
  assert.equal(bad.status, 400);
  assert.match(bad.body.message, /maxParticipants/);
  assert.equal((await call('POST', '/rooms', t, { name: 'big', topology: 'sfu' })).status, 201);
  // MCU rooms are served (ffmpeg is installed where the tests run); recording is for MCU rooms with media
  assert.equal((await call('POST', '/rooms', t, { name: 'mixed', topology: 'mcu' })).status, 201);
  assert.equal((await call('POST', '/rooms/mixed/recording', t, {})).body.code, 'SB_ERR_MCU_NO_MEDIA');
  assert.equal((await call('POST', '/rooms/standup/recording', t, {})).body.code, 'SB_ERR_WRONG_TOPOLOGY');
  assert.equal((await call('DELETE', '/rooms/nowhere/recording', t)).status, 404);
  assert.equal((await call('POST', '/rooms/mixed/participants/amy/mix', t, { gain: 99 })).body.code, 'SB_ERR_INVALID_REQUEST');
  assert.equal((await call('POST', '/rooms/mixed/participants/nobody/mix', t, { muted: true })).body.code, 'SB_ERR_UNKNOWN_PARTICIPANT');
  assert.equal((await call('POST', '/rooms/standup/participants/amy/mix', t, { muted: true })).body.code, 'SB_ERR_WRONG_TOPOLOGY');
  assert.equal((await call('POST', '/rooms', t, { name: 'odd', topology: 'p2p' })).status, 400);
  const list = await call('GET', '/rooms', t);
  assert.ok(list.body.rooms.some((r: any) => r.name === 'standup'));
  const p = await participant('standup', 'amy');
  const one = await call('GET', '/rooms/standup', t);
  assert.deepEqual(one.body.participants.map((x: any) => x.identity), ['amy']);
  assert.equal((await call('GET', '/rooms/nope', t)).status, 404);
  assert.equal((await call('GET', '/rooms/nope/stats', t)).status, 404);
  assert.equal((await call('GET', '/rooms/standup/stats')).status, 401);
  const st = await call('GET', '/rooms/standup/stats', t);
  assert.equal(st.status, 200);
  assert.deepEqual(st.body.participants, [], 'a mesh room has no server-side media stats');
  p.ws.close();
});

test('remove a participant and close a room: the people in it are told', async () => {
  const t = await admin();
  const a = await participant('ops-room', 'al');
  const b = await participant('ops-room', 'bo');
  assert.equal((await call('DELETE', '/rooms/ops-room/participants/bo', t)).status, 204);
  await b.until(() => b.inbox.some((m) => m.type === 'leave' && m.reason === 'removed'));
  await a.until(() => a.inbox.some((m) => m.type === 'participantLeft' && m.reason === 'removed'));
  await b.until(() => b.closeCode() === 4012);
  assert.equal((await call('DELETE', '/rooms/ops-room/participants/bo', t)).status, 404);
  assert.equal((await call('DELETE', '/rooms/ops-room', t)).status, 204);
  await a.until(() => a.inbox.some((m) => m.type === 'leave' && m.reason === 'room_closed'));
  assert.equal((await call('GET', '/rooms/ops-room', t)).status, 404);
});
