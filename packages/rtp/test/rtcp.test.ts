import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  RtpError,
  parseRtcp,
  writeFir,
  writeNack,
  writePli,
  writeReceiverReport,
  writeRemb,
  writeSdes,
  writeSenderReport,
} from '../src/index.js';
import type { ReportBlock, RtcpPacket } from '../src/index.js';

import { chromeTwcc, mediasoupRr, pionRemb, sdesVigil } from './fixtures.js';

test('real compound packet: RR + SDES + transport-cc + REMB', () => {
  const compound = Uint8Array.from([...mediasoupRr, ...sdesVigil, ...chromeTwcc, ...pionRemb]);
  const pkts = parseRtcp(compound, 0, compound.length);
  assert.equal(pkts.length, 4);
  assert.deepEqual(pkts[0], {
    type: 'rr',
    ssrc: 0x5d931534,
    reports: [{ ssrc: 0x01932db4, fractionLost: 0, cumulativeLost: 1, highestSeq: 0, jitter: 0, lsr: 0, dlsr: 5 }],
  });
  assert.deepEqual(pkts[1], { type: 'sdes', chunks: [{ ssrc: 0xcafebabe, cname: 'vigil@192.168.1.42' }] });
  const t = pkts[2];
  assert.ok(t.type === 'twcc');
  assert.equal(t.senderSsrc, 1);
  assert.equal(t.mediaSsrc, 0xdd586eb6);
  assert.equal(t.baseSeq, 1);
  assert.equal(t.referenceTime, 6197520);
  assert.equal(t.fbCount, 0);
  assert.deepEqual(t.packets.map((p) => p.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(t.packets.every((p) => p.received));
  // Wireshark: 7, 3, 11, 14, 0, 1, 0, 2, 6 ms
  assert.deepEqual(t.packets.map((p) => p.deltaUs), [7000, 3000, 11000, 14000, 0, 1000, 0, 2000, 6000]);
  assert.deepEqual(pkts[3], { type: 'remb', senderSsrc: 1, bitrate: 8927168, ssrcs: [1215622422] });
});

test('builders reproduce the captured bytes (REMB, SDES, RR)', () => {
  const out = new Uint8Array(64);
  assert.equal(writeRemb(out, 0, 1, 8927168, [1215622422]), 24);
  assert.deepEqual([...out.subarray(0, 24)], pionRemb);
  assert.equal(writeSdes(out, 0, 0xcafebabe, 'vigil@192.168.1.42'), 32);
  assert.deepEqual([...out.subarray(0, 32)], sdesVigil);
  const n = writeReceiverReport(out, 0, {
    ssrc: 0x5d931534,
    reports: [{ ssrc: 0x01932db4, fractionLost: 0, cumulativeLost: 1, highestSeq: 0, jitter: 0, lsr: 0, dlsr: 5 }],
  });
  assert.deepEqual([...out.subarray(0, n)], mediasoupRr);
});

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const reportArb: fc.Arbitrary<ReportBlock> = fc.record({
  ssrc: u32,
  fractionLost: fc.integer({ min: 0, max: 255 }),
  cumulativeLost: fc.integer({ min: -0x800000, max: 0x7fffff }),
  highestSeq: u32,
  jitter: u32,
  lsr: u32,
  dlsr: u32,
}).map((r) => ({ ...r })); // fast-check records have a null prototype

test('SR and RR round trip (signed cumulative loss, 0..31 blocks)', () => {
  fc.assert(
    fc.property(u32, u32, u32, u32, u32, u32, fc.array(reportArb, { maxLength: 31, size: 'max' }), fc.integer({ min: 0, max: 9 }), (ssrc, ntpSec, ntpFrac, rtpTimestamp, packetCount, octetCount, reports, at) => {
      const out = new Uint8Array(at + 28 + 24 * 31);
      const n = writeSenderReport(out, at, { ssrc, ntpSec, ntpFrac, rtpTimestamp, packetCount, octetCount, reports });
      assert.equal(n, 28 + 24 * reports.length);
      assert.deepEqual(parseRtcp(out, at, n), [{ type: 'sr', ssrc, ntpSec, ntpFrac, rtpTimestamp, packetCount, octetCount, reports }]);
      const m = writeReceiverReport(out, at, { ssrc, reports });
      assert.deepEqual(parseRtcp(out, at, m), [{ type: 'rr', ssrc, reports }]);
    }),
    { numRuns: 300 },
  );
  const out = new Uint8Array(28);
  assert.equal(writeSenderReport(out, 0, { ssrc: 1, ntpSec: 2, ntpFrac: 3, rtpTimestamp: 4, packetCount: 5, octetCount: 6 }), 28);
  assert.equal((parseRtcp(out, 0, 28)[0] as { reports: unknown[] }).reports.length, 0);
  const tooMany = new Array(32).fill({ ssrc: 1, fractionLost: 0, cumulativeLost: 0, highestSeq: 0, jitter: 0, lsr: 0, dlsr: 0 });
  assert.throws(() => writeReceiverReport(new Uint8Array(2000), 0, { ssrc: 1, reports: tooMany }), RtpError);
});

test('SDES round trip with non-ASCII CNAMEs', () => {
  for (const cname of ['', 'a', 'abc', 'abcd', 'user@host', '\u00e9t\u00e9', '\u{1f600}x', 'x'.repeat(255)]) {
    const out = new Uint8Array(300);
    const n = writeSdes(out, 4, 42, cname);
    assert.equal(n % 4, 0);
    assert.deepEqual(parseRtcp(out, 4, n), [{ type: 'sdes', chunks: [{ ssrc: 42, cname }] }]);
  }
  assert.throws(() => writeSdes(new Uint8Array(600), 0, 1, 'x'.repeat(256)), RtpError);
  assert.throws(() => writeSdes(new Uint8Array(600), 0, 1, '\u00e9'.repeat(128)), RtpError);
});

function nackSeqs(p: RtcpPacket[]): number[] {
  assert.equal(p.length, 1);
  const n = p[0];
  assert.ok(n.type === 'nack');
  return n.seqs;
}

test('NACK packs PID/BLP across the 16-bit wrap', () => {
  const out = new Uint8Array(200);
  const wrap = [65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3, 4, 5];
  let n = writeNack(out, 0, 1, 2, wrap, wrap.length);
  assert.equal(n, 16); // one pair: PID 65530, BLP bits 0..10
  assert.deepEqual([...out.subarray(12, 16)], [0xff, 0xfa, 0x07, 0xff]);
  assert.deepEqual(parseRtcp(out, 0, n), [{ type: 'nack', senderSsrc: 1, mediaSsrc: 2, seqs: wrap }]);
  const seventeen = Array.from({ length: 17 }, (_, i) => (65535 + i) & 0xffff);
  n = writeNack(out, 0, 1, 2, seventeen, 17);
  assert.equal(n, 16);
  assert.deepEqual(nackSeqs(parseRtcp(out, 0, n)), seventeen);
  const eighteen = Array.from({ length: 18 }, (_, i) => (65535 + i) & 0xffff);
  n = writeNack(out, 0, 1, 2, eighteen, 18);
  assert.equal(n, 20);
  assert.deepEqual(nackSeqs(parseRtcp(out, 0, n)), eighteen);
  // count smaller than the array; sparse list
  n = writeNack(out, 0, 1, 2, [10, 40, 41, 100, 7], 4);
  assert.deepEqual(nackSeqs(parseRtcp(out, 0, n)), [10, 40, 41, 100]);
  assert.throws(() => writeNack(out, 0, 1, 2, [], 0), RtpError);
  assert.throws(() => writeNack(new Uint8Array(15), 0, 1, 2, [1], 1), RtpError);
});

test('NACK round trip (property): ascending unique seqs from any start', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff }), fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 200, size: 'max' }), (start, gaps) => {
      const seqs = [start];
      for (const g of gaps) seqs.push((seqs[seqs.length - 1] + g) & 0xffff);
      const out = new Uint8Array(12 + 4 * seqs.length);
      const n = writeNack(out, 0, 0xaaaaaaaa, 0xbbbbbbbb, Uint16Array.from(seqs), seqs.length);
      assert.deepEqual(parseRtcp(out, 0, n), [{ type: 'nack', senderSsrc: 0xaaaaaaaa, mediaSsrc: 0xbbbbbbbb, seqs }]);
    }),
    { numRuns: 300 },
  );
});

test('PLI, FIR, BYE', () => {
  const out = new Uint8Array(64);
  assert.equal(writePli(out, 3, 0x01020304, 0xa0b0c0d0), 12);
  assert.deepEqual([...out.subarray(3, 7)], [0x81, 206, 0, 2]);
  assert.deepEqual(parseRtcp(out, 3, 12), [{ type: 'pli', senderSsrc: 0x01020304, mediaSsrc: 0xa0b0c0d0 }]);
  assert.equal(writeFir(out, 0, 7, 0xfedcba98, 259), 20);
  assert.deepEqual([...out.subarray(0, 20)], [0x84, 206, 0, 4, 0, 0, 0, 7, 0, 0, 0, 0, 0xfe, 0xdc, 0xba, 0x98, 3, 0, 0, 0]);
  assert.deepEqual(parseRtcp(out, 0, 20), [{ type: 'fir', senderSsrc: 7, entries: [{ ssrc: 0xfedcba98, seq: 3 }] }]);
  const bye = Uint8Array.from([0x82, 203, 0, 4, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 3, 0x61, 0x62, 0x63, 0, 0, 0, 0]);
  assert.deepEqual(parseRtcp(bye, 0, bye.length), [{ type: 'bye', ssrcs: [1, 0xffffffff] }]);
  assert.throws(() => writePli(new Uint8Array(11), 0, 1, 2), RtpError);
  assert.throws(() => writeFir(new Uint8Array(30), 11, 1, 2, 3), RtpError);
});

test('REMB mantissa/exponent for 0..10 Gbit/s', () => {
  const out = new Uint8Array(40);
  for (const b of [0, 1, 0x3ffff, 0x40000, 0x40001, 8927168, 1e6, 2.5e6, 123456789, 2 ** 32 + 7, 1e10]) {
    const n = writeRemb(out, 0, 9, b, [1, 2]);
    const [p] = parseRtcp(out, 0, n);
    assert.ok(p.type === 'remb');
    assert.deepEqual(p.ssrcs, [1, 2]);
    assert.ok(p.bitrate <= b && p.bitrate >= b * (1 - 2 ** -17) - 1, `${b} -> ${p.bitrate}`);
    if (b < 0x40000) assert.equal(p.bitrate, b);
  }
  fc.assert(
    fc.property(fc.double({ min: 0, max: 1e10, noNaN: true }), (b) => {
      const n = writeRemb(out, 0, 9, b, []);
      const [p] = parseRtcp(out, 0, n);
      assert.ok(p.type === 'remb');
      assert.ok(p.bitrate <= b && p.bitrate > b * (1 - 2 ** -17) - 1);
      // encoding the decoded value is exact
      writeRemb(out, 20, 9, p.bitrate, []);
      assert.deepEqual(out.subarray(20, 40), out.subarray(0, 20));
    }),
    { numRuns: 500 },
  );
  assert.throws(() => writeRemb(out, 0, 1, -1, []), RtpError);
  assert.throws(() => writeRemb(out, 0, 1, NaN, []), RtpError);
  assert.throws(() => writeRemb(out, 0, 1, Infinity, []), RtpError);
});

test('parseRtcp rejects malformed input with RtpError, keeps unknown types', () => {
  const rr = Uint8Array.from(mediasoupRr);
  const bad = (b: Uint8Array, off = 0, len = b.length) => assert.throws(() => parseRtcp(b, off, len), (e) => e instanceof RtpError && e.code === 'SB_ERR_RTP_INVALID');
  const v1 = rr.slice();
  v1[0] = 0x41;
  bad(v1);
  bad(rr, 0, 31); // length beyond buffer
  bad(rr, 0, 3);
  bad(rr, 4, 32); // range outside the buffer
  const rc2 = rr.slice();
  rc2[0] = 0x82; // two blocks claimed, one present
  bad(rc2);
  const pad = rr.slice();
  pad[0] |= 0x20;
  pad[31] = 0; // pad count 0
  bad(pad);
  pad[31] = 40;
  bad(pad);
  const app = Uint8Array.from([0x80, 204, 0, 2, 0, 0, 0, 1, 0x61, 0x62, 0x63, 0x64]);
  assert.deepEqual(parseRtcp(app, 0, app.length), [{ type: 'unknown', packetType: 204, fmt: 0 }]);
  const afb = Uint8Array.from([0x8f, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0]);
  assert.deepEqual(parseRtcp(afb, 0, afb.length), [{ type: 'unknown', packetType: 206, fmt: 15 }]);
  const tmmbr = Uint8Array.from([0x83, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0]);
  assert.deepEqual(parseRtcp(tmmbr, 0, tmmbr.length), [{ type: 'unknown', packetType: 205, fmt: 3 }]);
});
