// The SFU scenario with its subscribers in a child process (workers: 1, the shared WorkerGroup)
// against a `switchboard serve` started here. Its own file, so one generator run per process:
// node-datachannel's cleanup() after two runs in one process failed in libdatachannel here
// (a glibc mutex assertion, or a hang), 2 runs in 4; the CLI and the benchmarks do one run each
// or exit without it.
// Real network: run inside `unshare -n bash -c 'ip link set lo up; ...'` (the suite does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runLoadTest } from '../src/index.js';
import { KEY, SECRET, serveForLoadTests } from './serve-fixture.js';

const serve = serveForLoadTests('sfu');

test('subscribers in a child process (workers: 1, the shared WorkerGroup): the same results come back over IPC', async () => {
  const lines: string[] = [];
  const r = await runLoadTest({ url: serve.base, target: 'switchboard', room: 'load-test-workers', publishers: 1, subscribers: 2, durationSec: 5, workers: 1, apiKey: KEY, apiSecret: SECRET, onProgress: (l) => lines.push(l) });
  const diag = `${r.summary} (sequence loss ${r.seqLossPct}%, delivery loss ${r.deliveryLossPct}%)\n${lines.join('\n')}\n${r.errors.join('\n')}`;
  assert.equal(r.connectedSubscribers, 2, diag);
  assert.equal(r.failedSubscribers, 0, diag);
  // Sequence gaps are exact; "received / sent" is not across processes: the window reaches the
  // child over IPC, so packets in flight at its edges fall in or out (1.03% once in a 3 s window).
  assert.ok(r.seqLossPct < 1, diag);
  assert.ok(r.deliveryLossPct < 3, diag);
  assert.ok(Number.isFinite(r.latencyMs.p50) && r.latencyMs.p50 > 0, diag);
  assert.ok(Number.isFinite(r.setupMs) && r.setupMs > 0, `first-media time survives the IPC (NaN would be lost to JSON): ${diag}`);
  assert.ok(r.generatorCpuPct > 0, diag);
});
