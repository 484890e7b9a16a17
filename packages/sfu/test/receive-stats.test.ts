// RFC 3550 reception statistics (§6.4.1, A.3, A.8) on known sequences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BitrateMeter, ReceiveStats } from '../src/receive-stats.js';

const T0 = 1_700_000_000_000; // a Date.now()-sized clock

/** Feeds seqs with 20 ms audio spacing (48 kHz, 960 ticks) and exact arrival times. */
function feed(s: ReceiveStats, seqs: number[], t0 = T0): void {
  seqs.forEach((seq, i) => s.onPacket(seq & 0xffff, (seq * 960) >>> 0, 100, t0 + i * 20));
}
const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

test('no loss: expected = received, fraction 0', () => {
  const s = new ReceiveStats(48000);
  feed(s, range(1000, 1100));
  assert.equal(s.packets, 100);
  assert.equal(s.bytes, 10000);
  assert.equal(s.extendedHighest, 1099);
  assert.equal(s.cumulativeLost, 0);
  const rb = s.reportBlock(0x1234, T0 + 2000);
  assert.equal(rb.ssrc, 0x1234);
  assert.equal(rb.fractionLost, 0);
  assert.equal(rb.cumulativeLost, 0);
  assert.equal(rb.highestSeq, 1099);
  assert.equal(rb.jitter, 0, 'perfectly paced');
  assert.equal(rb.lsr, 0);
  assert.equal(rb.dlsr, 0);
});

test('loss: cumulative and per-interval fraction (8-bit fixed point, floor)', () => {
  const s = new ReceiveStats(48000);
  // 100 expected, 10 lost
  feed(s, range(0, 100).filter((x) => x % 10 !== 5));
  assert.equal(s.cumulativeLost, 10);
  let rb = s.reportBlock(1, T0);
  assert.equal(rb.fractionLost, Math.floor((10 * 256) / 100)); // 25
  assert.equal(rb.cumulativeLost, 10);
  // next interval: 50 expected, 25 lost -> 128
  feed(s, range(100, 150).filter((x) => x % 2 === 1), T0 + 5000);
  rb = s.reportBlock(1, T0);
  assert.equal(rb.fractionLost, 128);
  assert.equal(rb.cumulativeLost, 35);
  assert.equal(rb.highestSeq, 149);
  // an interval with nothing new: 0, cumulative kept
  rb = s.reportBlock(1, T0);
  assert.equal(rb.fractionLost, 0);
  assert.equal(rb.cumulativeLost, 35);
});

test('duplicates make the interval loss negative: fraction 0 (RFC 3550 A.3), cumulative never below 0', () => {
  const s = new ReceiveStats(48000);
  feed(s, [1, 2, 3, 3, 3, 4]);
  assert.equal(s.cumulativeLost, 0);
  assert.equal(s.reportBlock(1, T0).fractionLost, 0);
});

test('extended highest sequence number across the 16-bit wrap, with reordering', () => {
  const s = new ReceiveStats(90000);
  feed(s, [65530, 65531, 65532, 65534, 65533, 65535, 0, 2, 1, 3, 4]);
  assert.equal(s.extendedHighest, 65536 + 4);
  assert.equal(s.cumulativeLost, 0);
  const rb = s.reportBlock(1, T0);
  assert.equal(rb.highestSeq, 65540);
  // a late packet from before the wrap does not move the cycle count back
  s.onPacket(65529, 0, 10, T0 + 500);
  assert.equal(s.extendedHighest, 65540);
  // two more wraps
  const t = T0 + 1000;
  for (let i = 5; i < 2 * 65536 + 10; i += 1000) s.onPacket(i & 0xffff, 0, 10, t);
  s.onPacket((2 * 65536 + 10) & 0xffff, 0, 10, t);
  assert.equal(s.extendedHighest, 3 * 65536 + 10);
});

test('interarrival jitter follows J += (|D| - J) / 16 (RFC 3550 A.8)', () => {
  const s = new ReceiveStats(48000);
  // sent every 20 ms (960 ticks); every odd packet arrives 5 ms late
  let j = 0;
  let prevTransit = NaN;
  for (let i = 0; i < 200; i++) {
    const arrival = T0 + i * 20 + (i % 2 ? 5 : 0);
    const ts = (5000 + i * 960) >>> 0;
    s.onPacket(i, ts, 100, arrival);
    const transit = (arrival * 48000) / 1000 - ts;
    if (!Number.isNaN(prevTransit)) j += (Math.abs(transit - prevTransit) - j) / 16;
    prevTransit = transit;
  }
  assert.ok(Math.abs(s.jitter - j) < 1e-6, `${s.jitter} vs ${j}`);
  assert.ok(Math.abs(s.jitter - 240) < 1, 'converges to |D| = 5 ms = 240 ticks');
  assert.equal(s.reportBlock(1, T0).jitter, Math.floor(j));
});

test('a 32-bit timestamp wrap does not show as jitter', () => {
  const s = new ReceiveStats(90000);
  for (let i = 0; i < 100; i++) s.onPacket(i, (0xffffffff - 50 * 3000 + i * 3000) >>> 0, 1000, T0 + (i * 100) / 3);
  assert.ok(s.jitter < 1, `jitter ${s.jitter}`);
});

test('LSR and DLSR (1/65536 s) from the last sender report', () => {
  const s = new ReceiveStats(90000);
  s.onPacket(1, 1, 100, T0);
  s.lastSrNtpMiddle = 0xdeadbeef;
  s.lastSrAtMs = T0;
  const rb = s.reportBlock(1, T0 + 1500);
  assert.equal(rb.lsr, 0xdeadbeef);
  assert.equal(rb.dlsr, 98304);
});

test('bitrate over the last second, in 100 ms buckets', () => {
  const m = new BitrateMeter();
  // 1250 bytes every 10 ms = 1 Mbit/s
  for (let t = 0; t < 3000; t += 10) m.add(1250, T0 + t);
  const bps = m.bps(T0 + 3000);
  assert.ok(bps >= 900_000 && bps <= 1_000_000, `${bps}`);
  assert.equal(m.bps(T0 + 5000), 0, 'nothing for 2 s');
  const stats = new ReceiveStats(90000);
  for (let i = 0; i < 100; i++) stats.onPacket(i, i * 3000, 1000, T0 + i * 10);
  const b = stats.bitrate.bps(T0 + 1000);
  assert.ok(b >= 700_000 && b <= 800_000, `${b}`);
});
