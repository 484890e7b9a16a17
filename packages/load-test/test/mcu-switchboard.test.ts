// Real MCU load runs against a `switchboard serve` started here with MCU rooms by default: every
// participant publishes Opus (and VP8) and receives ONE audio track (the mix of the others) and
// ONE video track (the composed room picture). The Switchboard twin of mcu-audiobridge.test.ts.
// Real network: run inside `unshare -n bash -c 'ip link set lo up; ...'` (npm test does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMcuLoad, type McuLoadReport } from '../src/index.js';
import { KEY, SECRET, serveForLoadTests } from './serve-fixture.js';

/** The composed video's frame rate, set on the server. */
const FPS = 15;
const serve = serveForLoadTests('mcu', { SWITCHBOARD_MCU_FPS: String(FPS) });

function checkAudio(r: McuLoadReport, diag: string): void {
  assert.equal(r.receiving, r.participants, diag);
  assert.equal(r.failed, 0, diag);
  for (const p of r.perParticipant) {
    const a = p.receive?.audio;
    assert.ok(a, `${p.identity}: no audio\n${diag}`);
    assert.equal(p.receive!.audioSsrcs, 1, `${p.identity}: ${p.receive!.audioSsrcs} audio streams (one mix expected)\n${diag}`);
    const pps = a.packets / p.receive!.windowSec;
    assert.ok(pps > 46 && pps < 54, `${p.identity}: ${pps.toFixed(1)} audio packets/s\n${diag}`);
    assert.ok(a.onTimePct >= 95, `${p.identity}: ${a.onTimePct.toFixed(2)}% on time\n${diag}`);
    assert.ok(p.sentAudio >= 5 * 50 * 0.9, `${p.identity}: sent ${p.sentAudio}\n${diag}`);
    assert.ok(Number.isFinite(p.firstAudioMs) && p.firstAudioMs > 0, diag);
  }
  assert.ok(r.audio.lossPct < 2, diag);
  assert.ok(Number.isFinite(r.serverCpuPct) && r.serverCpuPct > 0, `server CPU ${r.serverCpuPct}\n${diag}`);
}

test('Switchboard MCU, audio only, 1 room x 3 participants x 5 s: one mix each, ~50 packets/s, >= 95% of frames on time', async () => {
  const lines: string[] = [];
  const r = await runMcuLoad({ url: serve.base, target: 'switchboard', rooms: 1, participants: 3, video: false, durationSec: 5, apiKey: KEY, apiSecret: SECRET, serverPid: serve.server.pid, onProgress: (l) => lines.push(l) });
  const diag = `${r.summary}\n${lines.join('\n')}\nerrors: ${r.errors.join('\n')}`;
  checkAudio(r, diag);
  assert.equal(r.videoStats, null);
});

test('Switchboard MCU with the participants in a child process (workers: 1, the shared WorkerGroup): the same audio measures come back over IPC', async () => {
  const lines: string[] = [];
  const r = await runMcuLoad({ url: serve.base, target: 'switchboard', rooms: 1, participants: 3, video: false, durationSec: 5, workers: 1, apiKey: KEY, apiSecret: SECRET, serverPid: serve.server.pid, onProgress: (l) => lines.push(l) });
  const diag = `${r.summary}\n${lines.join('\n')}\nerrors: ${r.errors.join('\n')}`;
  checkAudio(r, diag);
});

test(`Switchboard MCU, audio + video, 1 room x 3 participants x 5 s: the mix, and one composed picture at >= 80% of ${FPS} fps`, async () => {
  const lines: string[] = [];
  const r = await runMcuLoad({ url: serve.base, target: 'switchboard', rooms: 1, participants: 3, video: true, durationSec: 5, apiKey: KEY, apiSecret: SECRET, serverPid: serve.server.pid, expectedFps: FPS, warmupSec: 4, onProgress: (l) => lines.push(l) });
  const diag = `${r.summary}\n${lines.join('\n')}\nerrors: ${r.errors.join('\n')}`;
  checkAudio(r, diag);
  assert.ok(r.videoStats, diag);
  for (const p of r.perParticipant) {
    assert.equal(p.receive!.videoSsrcs, 1, `${p.identity}: ${p.receive!.videoSsrcs} video streams (one composed picture expected)\n${diag}`);
    const v = p.receive!.video!;
    const fps = v.markerFrames / p.receive!.windowSec;
    assert.ok(fps >= FPS * 0.8 && fps <= FPS * 1.2, `${p.identity}: ${fps.toFixed(1)} composed frames/s\n${diag}`);
    assert.ok(p.sentVideo > 5 * 30 * 0.9, `${p.identity}: sent ${p.sentVideo} video packets\n${diag}`);
    assert.ok(Number.isFinite(p.firstVideoMs), diag);
  }
  assert.ok(r.videoStats.lossPct < 2, diag);
});
