// The per-layer packet cache that answers subscribers' NACKs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketCache } from '../src/packet-cache.js';

const T0 = 1_000_000;
const pkt = (seq: number, len: number, fill = seq & 0xff): Uint8Array => {
  const b = new Uint8Array(len).fill(fill);
  b[2] = seq >> 8;
  b[3] = seq & 0xff;
  return b;
};
const held = (c: PacketCache, seq: number, now: number, maxAge?: number): Uint8Array | null => {
  const at = c.find(seq, now, maxAge);
  return at < 0 ? null : c.data.slice(at, at + c.lengthAt(at));
};

test('stores copies and finds them by sequence number', () => {
  const c = new PacketCache();
  const src = new Uint8Array(300).fill(0x11);
  const p = pkt(7, 100);
  src.set(p, 50);
  c.store(src, 50, 100, 7, T0);
  src.fill(0); // the cache holds a copy
  assert.deepEqual(held(c, 7, T0), p);
  assert.equal(held(c, 8, T0), null);
  c.store(pkt(65535, 1500), 0, 1500, 65535, T0);
  assert.equal(held(c, 65535, T0)!.length, 1500);
});

test('a slot reused by a newer sequence number no longer answers for the old one', () => {
  const c = new PacketCache(16);
  for (let s = 0; s < 20; s++) c.store(pkt(s, 40 + s), 0, 40 + s, s, T0);
  assert.equal(held(c, 3, T0), null, '3 and 19 share a slot');
  assert.deepEqual(held(c, 19, T0), pkt(19, 59));
  assert.deepEqual(held(c, 4, T0), pkt(4, 44));
  // wrap: 65535 and 15 share slot 15 with 16 slots
  c.store(pkt(65535, 30), 0, 30, 65535, T0);
  assert.equal(held(c, 15, T0), null);
  assert.deepEqual(held(c, 65535, T0), pkt(65535, 30));
});

test('packets older than maxAgeMs (1 s by default) are not returned', () => {
  const c = new PacketCache();
  c.store(pkt(1, 50), 0, 50, 1, T0);
  assert.notEqual(held(c, 1, T0 + 1000), null);
  assert.equal(held(c, 1, T0 + 1001), null);
  assert.notEqual(held(c, 1, T0 + 2000, 5000), null);
  assert.equal(held(c, 1, T0 + 200, 100), null);
});

test('packets larger than a slot are not stored; slot counts must be powers of two', () => {
  const c = new PacketCache(8);
  c.store(pkt(3, 1501), 0, 1501, 3, T0);
  assert.equal(held(c, 3, T0), null);
  assert.throws(() => new PacketCache(100), RangeError);
});
