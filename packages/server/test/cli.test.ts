// The `switchboard` command as a user runs it: serve with defaults, metrics, health, bad input.

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import WebSocket from 'ws';
import { TestTurnClient } from '../../turn-server/test/client.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'bin/switchboard.js');
const nodeArgs = ['--conditions=source', '--import', 'tsx', bin];
const children: ChildProcess[] = [];
after(() => children.forEach((c) => c.kill('SIGKILL')));

function start(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; out: () => string }> {
  const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`not ready:\n${out}`)), 20000);
    const check = () => {
      if (out.includes('"msg":"http listening"')) {
        clearTimeout(t);
        resolve({ child, out: () => out });
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)));
  });
}

const base = 20000 + Math.floor(Math.random() * 5000) * 2;

test('serve runs STUN/TURN and HTTP with built-in defaults; /healthz and /metrics answer', async () => {
  const env = {
    SWITCHBOARD_HTTP_HOST: '127.0.0.1',
    SWITCHBOARD_HTTP_PORT: String(base),
    SWITCHBOARD_TURN_LISTENING_IPS: '127.0.0.1',
    SWITCHBOARD_TURN_LISTENING_PORT: String(base + 1),
    SWITCHBOARD_TURN_THREADS: '0',
    SWITCHBOARD_SFU_LISTENING_IP: '127.0.0.1',
    SWITCHBOARD_SFU_PORT: String(base + 2),
    SWITCHBOARD_STATE_DIR: mkdtempSync(path.join(tmpdir(), 'sb-state-')),
  };
  const { child, out } = await start(['serve'], env);
  assert.match(out(), /dev mode: no API keys configured/);
  assert.match(out(), /"apiKey":"SB[0-9A-Za-z]{12}"/);
  // The dev key pair is kept for `token create`, readable by this user only.
  assert.equal(statSync(path.join(env.SWITCHBOARD_STATE_DIR, 'dev-keys.json')).mode & 0o777, 0o600);
  const health = await fetch(`http://127.0.0.1:${base}/healthz`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok', services: { turn: true, signaling: true } });
  // A STUN binding on the TURN port, and an unauthenticated Allocate, show up in the metrics.
  const c = new TestTurnClient(base + 1);
  await c.bind();
  const r = await c.allocate('nobody', 'nothing');
  assert.equal(r.error?.code, 401);
  c.close();
  const metrics = await (await fetch(`http://127.0.0.1:${base}/metrics`)).text();
  assert.match(metrics, /switchboard_turn_allocations 0/);
  assert.match(metrics, /switchboard_turn_auth_failures_total\{reason="unknown_user"\} 1/);
  assert.match(metrics, /switchboard_turn_relayed_packets_total\{direction="to_peer"\} 0/);
  assert.match(metrics, /switchboard_process_cpu_seconds_total/);
  assert.equal((await fetch(`http://127.0.0.1:${base}/nope`)).status, 404);
  // The browser side: the SDK module, the app page, and (dev mode) a token for the app.
  const sdk = await fetch(`http://127.0.0.1:${base}/sdk/switchboard.js`);
  assert.equal(sdk.status, 200);
  assert.match(sdk.headers.get('content-type') ?? '', /javascript/);
  assert.equal((await fetch(`http://127.0.0.1:${base}/`)).status, 200);
  const devTok = await (await fetch(`http://127.0.0.1:${base}/api/dev/token?room=lobby&identity=web`)).json();
  assert.match(devTok.token, /^ey/);
  assert.equal((await fetch(`http://127.0.0.1:${base}/api/dev/token?room=lobby`)).status, 400);
  // Signaling with a token from `token create`: the join hands out TURN credentials that work.
  const tok = spawnSync(process.execPath, [...nodeArgs, 'token', 'create', '--room', 'lobby', '--identity', 'alice'], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.equal(tok.status, 0, tok.stderr);
  const ws = new WebSocket(`ws://127.0.0.1:${base}/rtc`);
  await new Promise((r) => ws.once('open', r));
  const joined = new Promise<any>((r) => ws.once('message', (d) => r(JSON.parse(d.toString()))));
  ws.send(JSON.stringify({ v: 1, type: 'join', token: tok.stdout.trim() }));
  const j = await joined;
  assert.equal(j.type, 'joined', JSON.stringify(j));
  assert.equal(j.room.name, 'lobby');
  const turnServer = j.iceServers.find((s: any) => s.username);
  assert.ok(turnServer.urls.includes(`turn:127.0.0.1:${base + 1}?transport=udp`));
  assert.match(turnServer.username, /^\d+:alice$/);
  const tc = new TestTurnClient(base + 1);
  await tc.bind();
  assert.ok((await tc.allocate(turnServer.username, turnServer.credential)).relay, 'the minted TURN credentials allocate');
  tc.close();
  // The admin API from the command line, signed with the same dev keys.
  const cli = (...args: string[]) => spawnSync(process.execPath, [...nodeArgs, 'room', ...args, '--url', `http://127.0.0.1:${base}`], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' });
  let rc = cli('create', 'board', '--max-participants', '3');
  assert.equal(rc.status, 0, rc.stderr);
  assert.equal(JSON.parse(rc.stdout).room.maxParticipants, 3);
  rc = cli('list');
  assert.deepEqual(JSON.parse(rc.stdout).rooms.map((x: any) => x.name).sort(), ['board', 'lobby']);
  rc = cli('close', 'board');
  assert.equal(rc.status, 0, rc.stderr);
  rc = cli('close', 'board');
  assert.equal(rc.status, 1);
  assert.match(rc.stderr, /404 .*SB_ERR_ROOM_NOT_FOUND/);
  ws.close();
  child.kill('SIGTERM');
  const code = await new Promise((r) => child.on('exit', r));
  assert.equal(code, 0);
});

test('bad flags and bad config exit 2 with a message naming the problem', () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [...nodeArgs, ...args], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20000 });
  let r = run(['turn', '--listening-port', 'abc']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--listening-port: expected a whole number/);
  r = run(['turn', '--listening-ip', '127.0.0.1', '--listening-port', String(base + 3)]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /nothing is relayed without authentication/);
  r = run(['serve'], { SWITCHBOARD_HTTP_PORT: '99999' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /http\.port/);
  r = run(['load-test', '--subscribers', 'many']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--subscribers must be an integer/);
  r = run(['load-test', '--target', 'mediasoup']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--target must be switchboard or janus/);
  r = run(['frobnicate']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command/);
  r = run(['turn', '--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /--static-auth-secret/);
});
