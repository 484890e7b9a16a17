// Sequence number / timestamp and VP8 picture id rewriting, as pure arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SeqTsRewriter, Vp8Rewriter } from '../src/rewriter.js';

const seqDiff = (a: number, b: number): number => ((a - b + 0x8000) & 0xffff) - 0x8000;

test('the first anchor starts at the initial numbers; later anchors follow the last sent', () => {
  const r = new SeqTsRewriter(90000, 500, 0xfffffff0);
  r.anchor(40000, 123, 1000);
  assert.equal(r.seq(40000), 500);
  assert.equal(r.ts(123), 0xfffffff1);
  assert.equal(r.seq(40001), 501);
  assert.equal(r.ts(123 + 3000), (0xfffffff1 + 3000) >>> 0, 'wraps mod 2^32');
  r.sent(501, (0xfffffff1 + 3000) >>> 0, 1033);
  // another source, 100 ms later
  r.anchor(7, 999999, 1133);
  assert.equal(r.seq(7), 502);
  assert.equal(r.ts(999999), (0xfffffff1 + 3000 + 9000) >>> 0);
  // an anchor at the same instant still advances the timestamp by one tick
  r.sent(502, r.ts(999999), 1133);
  r.anchor(1, 1, 1133);
  assert.equal(r.ts(1), (0xfffffff1 + 3000 + 9000 + 1) >>> 0);
});

test('sent() only moves forward', () => {
  const r = new SeqTsRewriter(48000, 65534, 10);
  r.anchor(0, 0, 0);
  r.sent(65534, 10, 0);
  r.sent(1, 2000, 40); // across the wrap
  r.sent(65535, 1000, 50); // older: ignored
  assert.equal(r.lastSeq, 1);
  assert.equal(r.lastTs, 2000);
  assert.equal(r.lastSentMs, 40);
});

interface Segment {
  inSeq: number;
  inTs: number;
  count: number;
  gapMs: number;
  /** Adjacent swaps within the segment (reordering), by index. */
  swaps: number[];
}

const segmentArb = fc.record({
  inSeq: fc.integer({ min: 0, max: 0xffff }),
  inTs: fc.integer({ min: 0, max: 0xffffffff }),
  count: fc.integer({ min: 1, max: 60 }),
  gapMs: fc.integer({ min: 0, max: 10_000 }),
  swaps: fc.array(fc.nat(), { maxLength: 5 }),
});

test('fast-check: across random anchors (switches, pauses) the output is one continuous stream', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.constantFrom(48000, 90000),
      fc.array(segmentArb, { minLength: 1, maxLength: 30 }),
      (seq0, ts0, clock, segments) => {
        const r = new SeqTsRewriter(clock, seq0, ts0);
        let now = 1_000_000;
        let expectedNext = seq0;
        let lastTs = -1;
        let lastMs = 0;
        const window: number[] = [];
        for (const s of segments) {
          now += s.gapMs;
          r.anchor(s.inSeq, s.inTs, now);
          // continuity at the anchor
          assert.equal(r.seq(s.inSeq), expectedNext);
          const advance = lastTs < 0 ? 1 : Math.max(1, Math.round(((now - lastMs) * clock) / 1000));
          const anchorTs = r.ts(s.inTs);
          if (lastTs >= 0) assert.equal((anchorTs - lastTs) >>> 0, advance);
          else assert.equal(anchorTs, (ts0 + 1) >>> 0);
          // the segment's packets (20 ms apart in source time), possibly reordered
          const order = Array.from({ length: s.count }, (_, i) => i);
          for (const w of s.swaps) {
            const i = w % s.count;
            if (i + 1 < s.count) [order[i], order[i + 1]] = [order[i + 1], order[i]];
          }
          for (const k of order) {
            const out = r.seq((s.inSeq + k) & 0xffff);
            const outTs = r.ts((s.inTs + k * 20 * (clock / 1000)) >>> 0);
            assert.equal(out, (expectedNext + k) & 0xffff, 'source spacing kept');
            assert.equal(outTs, (anchorTs + k * 20 * (clock / 1000)) >>> 0);
            assert.ok(!window.includes(out), `sequence number ${out} repeated`);
            window.push(out);
            if (window.length > 30000) window.shift();
            r.sent(out, outTs, now + k * 20);
          }
          expectedNext = (expectedNext + s.count) & 0xffff;
          assert.equal(r.lastSeq, (expectedNext - 1) & 0xffff, 'the newest sent, whatever the order');
          lastTs = r.lastTs;
          lastMs = r.lastSentMs;
          now = lastMs;
          assert.equal(seqDiff(r.lastSeq, window[window.length - 1]) >= 0, true);
        }
      },
    ),
  );
});

test('Vp8Rewriter: picture ids and TL0PICIDX continue across anchors (15-bit and 8-bit wrap)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ pid: fc.integer({ min: 0, max: 0x7fff }), tl0: fc.integer({ min: 0, max: 255 }), frames: fc.integer({ min: 1, max: 300 }) }), { minLength: 1, maxLength: 10 }),
      (segments) => {
        const v = new Vp8Rewriter();
        let prevPid = -1;
        let prevTl0 = -1;
        for (const s of segments) {
          v.anchor(s.pid, s.tl0, 15);
          for (let f = 0; f < s.frames; f++) {
            const pid = v.pid((s.pid + f) & 0x7fff, 15);
            const tl0 = v.tl0((s.tl0 + f) & 0xff);
            if (prevPid < 0) {
              assert.equal(pid, s.pid, 'the first stream keeps its ids');
              assert.equal(tl0, s.tl0);
            } else {
              assert.equal(pid, (prevPid + 1) & 0x7fff);
              assert.equal(tl0, (prevTl0 + 1) & 0xff);
            }
            // a second packet of the same frame: same ids
            assert.equal(v.pid((s.pid + f) & 0x7fff, 15), pid);
            prevPid = pid;
            prevTl0 = tl0;
          }
        }
      },
    ),
  );
});

test('Vp8Rewriter: 7-bit picture ids wrap at 128', () => {
  const v = new Vp8Rewriter();
  v.anchor(120, -1, 7);
  const ids = Array.from({ length: 10 }, (_, i) => v.pid((120 + i) & 0x7f, 7));
  assert.deepEqual(ids, [120, 121, 122, 123, 124, 125, 126, 127, 0, 1]);
  v.anchor(50, -1, 7);
  assert.equal(v.pid(50, 7), 2);
});

test('Vp8Rewriter: an older (reordered) picture id does not move the anchor point back', () => {
  const v = new Vp8Rewriter();
  v.anchor(1000, 10, 15);
  v.pid(1000, 15);
  v.pid(1001, 15);
  v.pid(1000, 15); // late packet of the previous frame
  v.anchor(5, 200, 15); // switch
  assert.equal(v.pid(5, 15), 1002);
});
