// One short real run against a `switchboard serve` started here: 1 publisher, 2 subscribers, 5 s.
// Real network: run inside `unshare -n bash -c 'ip link set lo up; ...'` (the suite does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadMedia, runLoadTest } from '../src/index.js';
import { KEY, SECRET, serveForLoadTests } from './serve-fixture.js';

const serve = serveForLoadTests('sfu');

test('1 publisher, 2 subscribers, 5 s through the Switchboard SFU: no loss, the media bitrate, latency measured', async () => {
  const lines: string[] = [];
  const r = await runLoadTest({ url: serve.base, target: 'switchboard', room: 'load-test-unit', publishers: 1, subscribers: 2, durationSec: 5, apiKey: KEY, apiSecret: SECRET, onProgress: (l) => lines.push(l) });
  const diag = `${r.summary}\n${lines.join('\n')}\n${r.errors.join('\n')}`;
  assert.equal(r.failedSubscribers, 0, diag);
  assert.equal(r.connectedSubscribers, 2, diag);
  assert.ok(r.lossPct < 1, diag);
  // the media: ~900 kbit/s VP8 + 48 kbit/s Opus, plus RTP headers, descriptors and trailers
  const { video, audio } = loadMedia();
  const mediaKbps = ((video.frames.reduce((a, f) => a + f.data.length, 0) + audio.reduce((a, p) => a + p.length, 0)) * 8) / 10 / 1000;
  assert.ok(Math.abs(r.bitrateKbpsPerSubscriber - mediaKbps) / mediaKbps < 0.15, `${r.bitrateKbpsPerSubscriber} kbit/s vs media ${mediaKbps}\n${diag}`);
  assert.ok(r.sentPackets > 5 * 100, diag);
  assert.ok(r.receivedPackets >= r.sentPackets * 2 * 0.99, diag);
  assert.ok(Number.isFinite(r.latencyMs.p50) && r.latencyMs.p50 > 0 && r.latencyMs.p50 < 50, diag);
  assert.ok(r.latencyMs.p99 >= r.latencyMs.p50, diag);
  assert.ok(Number.isFinite(r.jitterMs), diag);
  assert.match(r.summary, /switchboard: 1 pub x 2\/2 sub/);
});
