import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SeqUnwrapper, ntpMiddle, ntpNow, seqDiff, seqNewer, tsNewer } from '../src/index.js';

test('seqNewer / seqDiff across the wrap', () => {
  assert.equal(seqNewer(1, 0), true);
  assert.equal(seqNewer(0, 1), false);
  assert.equal(seqNewer(0, 65535), true);
  assert.equal(seqNewer(65535, 0), false);
  assert.equal(seqNewer(5, 5), false);
  assert.equal(seqNewer(0x8000, 0), true); // half-way: the larger one
  assert.equal(seqNewer(0, 0x8000), false);
  assert.equal(seqDiff(0, 65535), 1);
  assert.equal(seqDiff(65535, 0), -1);
  assert.equal(seqDiff(5, 65530), 11);
  assert.equal(seqDiff(0x8000, 0), 32768);
  assert.equal(seqDiff(0, 0x8000), 32768);
  assert.equal(seqDiff(0x8001, 0), -32767);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: -32767, max: 32767 }), (b, d) => {
      const a = (b + d) & 0xffff;
      assert.equal(seqDiff(a, b), d);
      assert.equal(seqNewer(a, b), d > 0);
    }),
  );
});

test('tsNewer across the 32-bit wrap', () => {
  assert.equal(tsNewer(0, 0xffffffff), true);
  assert.equal(tsNewer(0xffffffff, 0), false);
  assert.equal(tsNewer(0x7fffffff, 0), true);
  assert.equal(tsNewer(0x80000000, 0), true);
  assert.equal(tsNewer(0, 0x80000000), false);
  assert.equal(tsNewer(90000, 90000), false);
  assert.equal(tsNewer(-1, 0), false); // -1 is 0xffffffff
});

test('SeqUnwrapper keeps counting across wraps and places reordered packets', () => {
  const u = new SeqUnwrapper();
  assert.equal(u.unwrap(65534), 65534);
  assert.equal(u.unwrap(65535), 65535);
  assert.equal(u.unwrap(0), 65536);
  assert.equal(u.unwrap(65535), 65535); // reordered, before the wrap
  assert.equal(u.unwrap(1), 65537);
  assert.equal(u.unwrap(30000), 65536 + 30000);
  assert.equal(u.unwrap(60000), 65536 + 60000);
  assert.equal(u.unwrap(100), 2 * 65536 + 100);
  const v = new SeqUnwrapper();
  assert.equal(v.unwrap(3), 3);
  assert.equal(v.unwrap(65533), -3);
  assert.equal(v.unwrap(10), 10);
  v.reset();
  assert.equal(v.unwrap(7), 7);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1e9 }), fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 100 }), (start, steps) => {
      const w = new SeqUnwrapper();
      let ext = start;
      assert.equal(w.unwrap(ext & 0xffff), start & 0xffff);
      const offset = start - (start & 0xffff);
      for (const s of steps) {
        ext += s;
        assert.equal(w.unwrap(ext & 0xffff) + offset, ext);
      }
    }),
  );
});

test('NTP conversion and middle 32 bits', () => {
  const t = ntpNow(0);
  assert.deepEqual(t, { sec: 2208988800, frac: 0 });
  const h = ntpNow(1_700_000_000_500);
  assert.equal(h.sec, 1_700_000_000 + 2208988800);
  assert.equal(h.frac, 0x80000000);
  const q = ntpNow(1_700_000_000_250.5);
  assert.ok(Math.abs(q.frac / 2 ** 32 - 0.2505) < 1e-9);
  // beyond the NTP era 0 rollover (2036) the seconds wrap mod 2^32
  assert.equal(ntpNow(2_085_978_496_000 + 1000).sec, 1);
  assert.equal(ntpMiddle(0x12345678, 0x9abcdef0), 0x56789abc);
  assert.equal(ntpMiddle(0xffffffff, 0xffffffff), 0xffffffff);
  assert.equal(ntpMiddle(h.sec, h.frac), (((h.sec & 0xffff) * 65536) + 0x8000) >>> 0);
});
