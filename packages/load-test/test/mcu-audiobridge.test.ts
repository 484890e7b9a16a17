// A real MCU load run against Janus AudioBridge: 1 room x 3 participants x 5 s, every participant
// sending Opus and receiving Janus' N-1 mix. Janus skips loopback interfaces when it gathers ICE
// candidates, so (as bench/sfu-vs-janus.ts does) this file re-runs itself inside `unshare -n` with
// lo up and a veth carrying 127.0.0.2, starts Janus there, runs the load and prints the report;
// the test asserts on it. Skipped, with the reason, without /usr/bin/janus or without root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const INNER = 'SWITCHBOARD_MCU_AUDIOBRIDGE_TEST_INNER';
const MARK = 'MCU_AUDIOBRIDGE_RESULT ';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function waitTcp(port: number, ms: number, alive: () => boolean, tail: () => string): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!alive()) throw new Error(`janus exited: ${tail()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`janus: port ${port} not open after ${ms} ms: ${tail()}`);
}

/** Inside the private namespace: veth, Janus, the load; the report goes to stdout as one line. */
async function inner(): Promise<void> {
  const { runMcuLoad, shutdownLoadGenerator, writeJanusAudioBridgeConfig, addVethAddress, JANUS_BINARY } = await import('../src/index.js');
  addVethAddress();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lt-janus-ab-'));
  const wsPort = await freePort();
  writeJanusAudioBridgeConfig(dir, { wsPort });
  // `timeout` ends Janus even if this process is killed; its process tree is what we sample
  const janus = spawn('timeout', ['-k', '3', '120', JANUS_BINARY, '-F', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let alive = true;
  janus.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-8000)));
  janus.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-8000)));
  janus.on('exit', () => (alive = false));
  try {
    await waitTcp(wsPort, 20_000, () => alive, () => out.split('\n').slice(-10).join(' | '));
    const report = await runMcuLoad({ url: `ws://127.0.0.1:${wsPort}`, target: 'janus-audiobridge', rooms: 1, participants: 3, video: false, durationSec: 5, serverPid: janus.pid, onProgress: (l) => process.stderr.write(`${l}\n`) });
    process.stdout.write(`${MARK}${JSON.stringify({ report, janusLog: out.split('\n').slice(-15) })}\n`);
  } finally {
    janus.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    if (alive) janus.kill('SIGKILL');
    await shutdownLoadGenerator();
    rmSync(dir, { recursive: true, force: true });
  }
}

function skipReason(): string | false {
  if (!existsSync('/usr/bin/janus')) return 'janus is not installed (/usr/bin/janus; apt-get install -y janus)';
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'needs root: Janus only gathers on a non-loopback interface, so the test makes a private network namespace (unshare -n) with a veth carrying 127.0.0.2';
  if (spawnSync('unshare', ['-n', '--', 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'ignore' }).status !== 0) return 'unshare -n / ip not available: cannot make the private network namespace Janus needs';
  return false;
}

if (process.env[INNER] === '1') {
  inner().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
} else {
  test('Janus AudioBridge, 1 room x 3 participants x 5 s: ~50 mix packets/s each, >= 95% of frames on time', { skip: skipReason(), timeout: 120_000 }, async () => {
    const self = fileURLToPath(import.meta.url);
    const child = spawn('unshare', ['-n', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, '--conditions=source', '--import', 'tsx', self], {
      cwd: ROOT,
      env: { ...process.env, [INNER]: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearTimeout(timer);
    const line = stdout.split('\n').find((l) => l.startsWith(MARK));
    assert.ok(line, `no report (exit ${code}):\n${stderr.slice(-4000)}\n${stdout.slice(-2000)}`);
    const { report: r, janusLog } = JSON.parse(line.slice(MARK.length)) as { report: import('../src/index.js').McuLoadReport; janusLog: string[] };
    const diag = `${r.summary}\nerrors: ${r.errors.join('\n')}\njanus: ${janusLog.join('\n')}\n${stderr.slice(-2000)}`;
    assert.equal(r.participants, 3, diag);
    assert.equal(r.receiving, 3, diag);
    assert.equal(r.failed, 0, diag);
    for (const p of r.perParticipant) {
      const a = p.receive?.audio;
      assert.ok(a, `${p.identity}: no audio\n${diag}`);
      const pps = a.packets / p.receive!.windowSec;
      assert.ok(pps > 46 && pps < 54, `${p.identity}: ${pps.toFixed(1)} audio packets/s\n${diag}`);
      assert.ok(a.onTimePct >= 95, `${p.identity}: ${a.onTimePct.toFixed(2)}% on time\n${diag}`);
      assert.ok(a.frames >= 5 * 50 * 0.9, `${p.identity}: ${a.frames} frames counted\n${diag}`);
      assert.ok(p.sentAudio >= 5 * 50 * 0.9, `${p.identity}: sent ${p.sentAudio}\n${diag}`);
      assert.equal(p.receive!.audioSsrcs, 1, diag);
      assert.ok(Number.isFinite(p.firstAudioMs) && p.firstAudioMs > 0, diag);
    }
    assert.ok(r.audio.lossPct < 2, diag);
    assert.ok(r.audio.ppsMean > 46 && r.audio.ppsMean < 54, diag);
    assert.ok(Number.isFinite(r.serverCpuPct) && r.serverCpuPct > 0, `server CPU ${r.serverCpuPct}\n${diag}`);
    assert.equal(r.videoStats, null);
  });
}
