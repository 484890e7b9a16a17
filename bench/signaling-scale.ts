/**
 * Signaling at scale: N participants connected and joined on one server process, the server's
 * memory per participant, and join latency (p50/p99) at a fixed join rate.
 *
 *   npm run bench:signaling [-- --participants 10000 --rate 500 --room-size 10]
 *
 * The server is `switchboard serve` (built) in its own process, TURN off, on 127.0.0.1; this
 * process opens the WebSockets. Each side needs one descriptor per participant: keep N below the
 * open-file limit (`ulimit -n`; 20000 on this machine).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { createToken } from '@switchboard/tokens';

const { values } = parseArgs({
  options: {
    participants: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '500' },
    'room-size': { type: 'string', default: '10' },
    port: { type: 'string', default: String(27000 + Math.floor(Math.random() * 1000)) },
  },
});
const N = Number(values.participants);
const RATE = Number(values.rate);
const ROOM_SIZE = Number(values['room-size']);
const PORT = Number(values.port);
const KEY = 'benchkey';
const SECRET = 'bench-secret-0123456789abcdef';
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

spawnSync('npx', ['tsc', '-b', 'packages/server'], { cwd: root, stdio: 'inherit' });
const server = spawn(process.execPath, ['bin/switchboard.js', 'serve'], {
  cwd: root,
  env: {
    ...process.env,
    SWITCHBOARD_HTTP_HOST: '127.0.0.1',
    SWITCHBOARD_HTTP_PORT: String(PORT),
    SWITCHBOARD_TURN_ENABLED: 'false',
    SWITCHBOARD_SFU_ENABLED: 'false',
    SWITCHBOARD_AUTH_KEYS: `${KEY}:${SECRET}`,
    SWITCHBOARD_LOG_LEVEL: 'warn',
    SWITCHBOARD_STATE_DIR: mkdtempSync(path.join(tmpdir(), 'sb-bench-')),
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const stop = () => server.kill('SIGKILL');
process.on('exit', stop);
for (let i = 0; i < 100; i++) {
  try {
    if ((await fetch(`http://127.0.0.1:${PORT}/healthz`)).ok) break;
  } catch {
    // not up yet
  }
  await new Promise((r) => setTimeout(r, 100));
}
const serverPid = server.pid!;
const rss0 = rssKiB(serverPid);

console.log(`signaling scale: ${N} participants, rooms of ${ROOM_SIZE}, joins at ${RATE}/s, server pid ${serverPid} (rss ${(rss0 / 1024).toFixed(0)} MiB idle)`);
const tokens = await Promise.all(
  Array.from({ length: N }, (_, i) => createToken(KEY, SECRET, { identity: `p${i}`, room: `room-${Math.floor(i / ROOM_SIZE)}`, ttlSeconds: 3600 })),
);
const sockets: WebSocket[] = [];
const latencies: number[] = [];
let failures = 0;
const start = performance.now();
await new Promise<void>((resolve) => {
  let started = 0;
  let done = 0;
  const finish = () => {
    if (++done === N) resolve();
  };
  const tick = setInterval(() => {
    // Pace the joins: as many as the rate allows by now.
    const due = Math.min(N, Math.floor(((performance.now() - start) / 1000) * RATE) + 1);
    for (; started < due; started++) {
      const i = started;
      const ws = new WebSocket(`ws://127.0.0.1:${PORT}/rtc`);
      sockets.push(ws);
      let t0 = 0;
      ws.on('open', () => {
        t0 = performance.now();
        ws.send(JSON.stringify({ v: 1, type: 'join', token: tokens[i] }));
      });
      const onMessage = (d: WebSocket.RawData) => {
        const m = JSON.parse(d.toString());
        if (m.type === 'joined') {
          latencies.push(performance.now() - t0);
          ws.off('message', onMessage);
          finish();
        } else if (m.type === 'error') {
          failures++;
          ws.off('message', onMessage);
          finish();
        }
      };
      ws.on('message', onMessage);
      ws.on('error', () => {
        failures++;
        finish();
      });
    }
    if (started >= N) clearInterval(tick);
  }, 5);
});
const elapsed = (performance.now() - start) / 1000;
// Keepalive as the SDK does, so nobody times out while we measure.
const ping = setInterval(() => {
  for (const ws of sockets) if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ v: 1, type: 'ping', t: Date.now() }));
}, 5000);
await new Promise((r) => setTimeout(r, 3000));
const rss1 = rssKiB(serverPid);
const health = await (await fetch(`http://127.0.0.1:${PORT}/healthz`)).json();
clearInterval(ping);
latencies.sort((a, b) => a - b);
const perParticipant = ((rss1 - rss0) * 1024) / N;
console.log(`joined ${latencies.length}/${N} in ${elapsed.toFixed(1)} s (${(latencies.length / elapsed).toFixed(0)}/s), failures ${failures}`);
console.log(`join latency: p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms`);
console.log(`server memory: ${(rss1 / 1024).toFixed(0)} MiB RSS with ${N} connected (${(perParticipant / 1024).toFixed(1)} KiB per participant over idle)`);
console.log(`goal: ${N} participants under 1 GiB: ${rss1 < 1024 * 1024 ? 'yes' : 'NO'}; join p99 < 50 ms at ${RATE}/s: ${pct(latencies, 99) < 50 ? 'yes' : 'NO'}; health ${JSON.stringify(health)}`);
for (const ws of sockets) ws.terminate();
stop();
process.exit(0);
