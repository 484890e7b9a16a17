import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RtpError, parseRtcp, seqDiff, writeTransportCc } from '../src/index.js';
import type { RtcpPacket } from '../src/index.js';
import { chromeTwcc } from './fixtures.js';

type Twcc = Extract<RtcpPacket, { type: 'twcc' }>;

function parseTwcc(out: Uint8Array, off: number, n: number): Twcc {
  const pkts = parseRtcp(out, off, n);
  assert.equal(pkts.length, 1);
  assert.equal(pkts[0].type, 'twcc');
  return pkts[0] as Twcc;
}

/** Packet chunk words of a feedback packet written at 0 (status count from the header). */
function chunkWords(b: Uint8Array): number[] {
  const count = (b[14] << 8) | b[15];
  const words: number[] = [];
  let covered = 0;
  for (let p = 20; covered < count; p += 2) {
    const w = (b[p] << 8) | b[p + 1];
    words.push(w);
    covered += w & 0x8000 ? (w & 0x4000 ? 7 : 14) : w & 0x1fff;
  }
  return words;
}

/** Checks the parsed feedback against the input: received flags, and arrival times within 125 µs. */
function check(t: Twcc, seqs: number[], arrivals: number[]): void {
  assert.equal(t.baseSeq, seqs[0]);
  assert.equal(t.packets.length, seqDiff(seqs[seqs.length - 1], seqs[0]) + 1);
  let k = 0;
  let time = t.referenceTime * 64000;
  for (let i = 0; i < t.packets.length; i++) {
    const p = t.packets[i];
    assert.equal(p.seq, (seqs[0] + i) & 0xffff);
    if (k < seqs.length && seqs[k] === p.seq) {
      assert.equal(p.received, true, `seq ${p.seq} received`);
      time += p.deltaUs;
      assert.ok(Math.abs(time - arrivals[k]) <= 125, `seq ${p.seq}: ${time} vs ${arrivals[k]}`);
      k++;
    } else {
      assert.equal(p.received, false, `seq ${p.seq} lost`);
      assert.equal(p.deltaUs, 0);
    }
  }
  assert.equal(k, seqs.length);
}

test('reproduces Chrome\'s captured feedback and pion\'s example byte for byte', () => {
  const ref = 6197520 * 64000;
  const deltasMs = [7, 3, 11, 14, 0, 1, 0, 2, 6];
  const arrivals: number[] = [];
  let t = ref;
  for (const d of deltasMs) arrivals.push((t += d * 1000));
  const out = new Uint8Array(64);
  const n = writeTransportCc(out, 0, 1, 0xdd586eb6, 0, [1, 2, 3, 4, 5, 6, 7, 8, 9], arrivals, 9);
  assert.deepEqual([...out.subarray(0, n)], chromeTwcc);

  // pion/rtcp transport_layer_cc_test.go "example1": one packet, run-length chunk, padded.
  const pion = [0xaf, 0xcd, 0x00, 0x05, 0xfa, 0x17, 0xfa, 0x17, 0x43, 0x03, 0x2f, 0xa0, 0x00, 0x99, 0x00, 0x01, 0x3d, 0xe8, 0x02, 0x17, 0x20, 0x01, 0x94, 0x01];
  const p = parseTwcc(Uint8Array.from(pion), 0, pion.length);
  assert.deepEqual(p, {
    type: 'twcc', senderSsrc: 0xfa17fa17, mediaSsrc: 0x43032fa0, baseSeq: 153, referenceTime: 4057090, fbCount: 23,
    packets: [{ seq: 153, received: true, deltaUs: 37000 }],
  });
  const m = writeTransportCc(out, 0, 0xfa17fa17, 0x43032fa0, 23, [153], [4057090 * 64000 + 37000], 1);
  assert.deepEqual([...out.subarray(0, m)], pion);
});

test('chunk choice: run length, one-bit and two-bit status vectors', () => {
  const out = new Uint8Array(2000);
  const base = 1_000_000_000;
  // 20 received, small deltas: one run-length chunk of symbol 1
  let seqs = Array.from({ length: 20 }, (_, i) => 100 + i);
  let arr = seqs.map((_, i) => base + i * 1000);
  let n = writeTransportCc(out, 0, 1, 2, 3, seqs, arr, seqs.length);
  assert.deepEqual(chunkWords(out), [0x2000 | 20]);
  check(parseTwcc(out, 0, n), seqs, arr);

  // alternating received/lost: one-bit vectors
  seqs = Array.from({ length: 10 }, (_, i) => 65530 + 2 * i).map((s) => s & 0xffff);
  arr = seqs.map((_, i) => base + i * 2000);
  n = writeTransportCc(out, 0, 1, 2, 3, seqs, arr, seqs.length);
  assert.deepEqual(chunkWords(out), [0x8000 | 0b10101010101010, 0x8000 | 0b10101000000000]);
  check(parseTwcc(out, 0, n), seqs, arr);

  // a large delta and a negative (reordered arrival) delta: two-bit vectors
  seqs = [10, 11, 13, 14, 15];
  arr = [base, base + 100_000, base + 50_000, base + 51_000, base + 52_000];
  n = writeTransportCc(out, 0, 1, 2, 3, seqs, arr, seqs.length);
  // symbols: 1, 2 (100 ms > 63.75 ms), 0, 2 (-50 ms), 1, 1 -> two-bit vector of 6 (padded to 7)
  assert.deepEqual(chunkWords(out), [0xc000 | (1 << 12) | (2 << 10) | (0 << 8) | (2 << 6) | (1 << 4) | (1 << 2)]);
  const t = parseTwcc(out, 0, n);
  assert.deepEqual(t.packets.map((p) => p.deltaUs), [0, 100_000, 0, -50_000, 1000, 1000].map((d, i) => (i === 0 ? (base % 64000) : d)));
  check(t, seqs, arr);

  // long loss run in the middle: run-length chunk of zeros
  seqs = [5, 6, 7, 300, 301];
  arr = [base, base + 1000, base + 2000, base + 3000, base + 4000];
  n = writeTransportCc(out, 0, 1, 2, 3, seqs, arr, seqs.length);
  const words = chunkWords(out);
  // 1-bit vector (1,1,1 then 11 lost), run of 281 lost, run of 2 received
  assert.deepEqual(words, [0x8000 | 0b11100000000000, 281, 0x2002]);
  check(parseTwcc(out, 0, n), seqs, arr);

  // 9000 received in a row: run-length chunks capped at 8191
  seqs = Array.from({ length: 9000 }, (_, i) => (60000 + i) & 0xffff);
  arr = seqs.map((_, i) => base + i * 250);
  n = writeTransportCc(new Uint8Array(20000), 0, 1, 2, 3, seqs, arr, seqs.length);
  assert.ok(n < 20000);
});

test('padding, fbCount, reference time wrap to 24 bits, errors', () => {
  const out = new Uint8Array(100);
  const n = writeTransportCc(out, 4, 1, 2, 0x1ff, [7, 8], [64000 * 5 + 250, 64000 * 5 + 500], 2);
  // 20 + 2 (chunk) + 2 deltas = 24: no padding
  assert.equal(n, 24);
  assert.equal(out[4] & 0x20, 0);
  const t = parseTwcc(out, 4, n);
  assert.equal(t.fbCount, 0xff);
  assert.equal(t.referenceTime, 5);
  assert.deepEqual(t.packets.map((p) => p.deltaUs), [250, 250]);
  // a negative reference time in the signed 24-bit field
  const neg = writeTransportCc(out, 0, 1, 2, 0, [1], [-64000], 1);
  assert.equal(parseTwcc(out, 0, neg).referenceTime, -1);

  assert.throws(() => writeTransportCc(out, 0, 1, 2, 0, [5, 5], [0, 0], 2), RtpError);
  assert.throws(() => writeTransportCc(out, 0, 1, 2, 0, [5, 4], [0, 0], 2), RtpError);
  assert.throws(() => writeTransportCc(out, 0, 1, 2, 0, [], [], 0), RtpError);
  assert.throws(() => writeTransportCc(out, 0, 1, 2, 0, [1, 2], [0, 9e6], 2), RtpError); // 9 s delta
  assert.throws(() => writeTransportCc(new Uint8Array(23), 0, 1, 2, 0, [1], [0], 1), RtpError);
  // reserved symbol 3 in a run-length chunk
  const bad = Uint8Array.from([0x8f, 0xcd, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 1, 0, 0, 0, 0, 0x60, 0x01, 0, 0]);
  assert.throws(() => parseRtcp(bad, 0, bad.length), RtpError);
  // deltas missing
  const short = Uint8Array.from([0x8f, 0xcd, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 3, 0, 0, 0, 0, 0x40, 0x03, 0, 0]);
  assert.throws(() => parseRtcp(short, 0, short.length), RtpError);
});

test('round trip (property): gaps, wrap, small/large/negative deltas', () => {
  const step = fc.record({
    gap: fc.oneof(fc.constant(1), fc.constant(1), fc.integer({ min: 2, max: 5 }), fc.integer({ min: 6, max: 60 })),
    dt: fc.oneof(fc.integer({ min: 0, max: 63_000 }), fc.integer({ min: -2_000_000, max: 2_000_000 }), fc.constant(0)),
  });
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 100_000_000_000 }), fc.array(step, { maxLength: 500, size: 'max' }), (start, t0, steps) => {
      const seqs = [start];
      const arr = [t0];
      for (const s of steps) {
        seqs.push((seqs[seqs.length - 1] + s.gap) & 0xffff);
        arr.push(arr[arr.length - 1] + s.dt);
      }
      if (seqDiff(seqs[seqs.length - 1], seqs[0]) < 0) throw new Error('generator out of contract');
      const out = new Uint8Array(20 + 2 * 70000 + 3 * seqs.length);
      const n = writeTransportCc(out, 0, 1, 2, 3, seqs, arr, seqs.length);
      assert.equal(n % 4, 0);
      check(parseTwcc(out, 0, n), seqs, arr);
    }),
    { numRuns: 300 },
  );
});
