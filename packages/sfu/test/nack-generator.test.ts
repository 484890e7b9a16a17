// Generic NACK bookkeeping (RFC 4585 §6.2.1): which inbound packets are missing and when to ask.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NackGenerator } from '../src/nack-generator.js';

const T0 = 1_000_000;
const due = (g: NackGenerator, now: number, rtt = 0): number[] => [...g.out.subarray(0, g.due(now, rtt))];

test('a gap records the missing sequence numbers, oldest first; an arrival removes one', () => {
  const g = new NackGenerator();
  for (const s of [100, 101, 102, 105, 106, 110]) assert.equal(g.received(s, T0), false);
  assert.equal(g.pending, 5);
  assert.deepEqual(due(g, T0), [103, 104, 107, 108, 109]);
  assert.equal(g.received(104, T0 + 5), true, 'a missing packet arrived');
  assert.equal(g.recovered, 1);
  assert.equal(g.received(104, T0 + 6), false, 'a duplicate fills nothing');
  assert.equal(g.received(90, T0 + 6), false, 'an old packet never missed');
  assert.equal(g.recovered, 1);
  assert.deepEqual(due(g, T0 + 100), [103, 107, 108, 109]);
});

test('each is asked for again after max(40 ms, rtt), at most 10 times, and for at most 1 s', () => {
  const g = new NackGenerator();
  g.received(1, T0);
  g.received(3, T0);
  assert.deepEqual(due(g, T0), [2]);
  assert.deepEqual(due(g, T0 + 39), [], 'not before 40 ms');
  assert.deepEqual(due(g, T0 + 40), [2]);
  assert.deepEqual(due(g, T0 + 100, 150), [], 'rtt 150: not before 150 ms');
  assert.deepEqual(due(g, T0 + 190, 150), [2]);
  let asks = 3;
  for (let t = T0 + 240; t < T0 + 1000 && g.pending > 0; t += 40) asks += due(g, t).length;
  assert.equal(asks, 10, 'asked 10 times in all');
  assert.equal(g.pending, 0, 'then forgotten');

  const h = new NackGenerator();
  h.received(1, T0);
  h.received(3, T0);
  assert.deepEqual(due(h, T0, 600), [2]);
  assert.deepEqual(due(h, T0 + 700, 600), [2]);
  assert.deepEqual(due(h, T0 + 1001, 600), [], 'older than 1 s: dropped');
  assert.equal(h.pending, 0);
});

test('across the 16-bit wrap', () => {
  const g = new NackGenerator();
  g.received(65533, T0);
  g.received(2, T0);
  assert.deepEqual(due(g, T0), [65534, 65535, 0, 1]);
  assert.equal(g.received(0, T0 + 1), true);
  assert.equal(g.received(65535, T0 + 1), true);
  assert.deepEqual(due(g, T0 + 50), [65534, 1]);
});

test('a jump of more than 200 is a restart, not loss; reset forgets everything', () => {
  const g = new NackGenerator();
  g.received(10, T0);
  g.received(12, T0);
  g.received(12 + 201, T0);
  assert.equal(g.pending, 0);
  g.received(12 + 205, T0);
  assert.deepEqual(due(g, T0), [214, 215, 216]);
  g.reset();
  assert.equal(g.pending, 0);
  g.received(5000, T0);
  assert.equal(g.pending, 0, 'after reset the next packet starts afresh');
});

test('at most 256 pending: the oldest are dropped', () => {
  const g = new NackGenerator();
  g.received(0, T0);
  g.received(151, T0); // 150 missing: 1..150
  g.received(302, T0); // 150 more: 152..301
  assert.equal(g.pending, 256);
  const out = due(g, T0);
  assert.equal(out.length, 256);
  assert.equal(out[0], 45, 'the 44 oldest were dropped');
  assert.equal(out[255], 301);
});

test('fast-check: pending is exactly the missing set (small gaps, in-order with holes, then arrivals)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff }), fc.array(fc.boolean(), { minLength: 2, maxLength: 200 }), (start, keep) => {
      const g = new NackGenerator();
      keep[0] = true;
      keep[keep.length - 1] = true;
      for (let i = 0; i < keep.length; i++) if (keep[i]) g.received((start + i) & 0xffff, T0);
      const missing = keep.flatMap((k, i) => (k ? [] : [(start + i) & 0xffff]));
      assert.equal(g.pending, missing.length);
      assert.deepEqual(due(g, T0), missing);
      for (const s of missing) assert.equal(g.received(s, T0 + 1), true);
      assert.equal(g.pending, 0);
      assert.equal(g.recovered, missing.length);
    }),
  );
});
