// Counters (shared across relay threads), the host log, and the core's buffer helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Method } from '@switchboard/stun';
import { C, COUNTERS, counterBytes, createCounters, sumCounters } from '../src/index.js';
import { OutputRing } from '../src/ring.js';
import { TransactionCache } from '../src/transaction-cache.js';
import { assertError, setup, TestClient } from './harness.js';

test('Counters: a fixed layout, shareable, summed by name', () => {
  assert.equal(counterBytes(), COUNTERS.length * 8);
  for (const [i, name] of COUNTERS.entries()) assert.equal(C[name], i);
  const shared = new SharedArrayBuffer(counterBytes());
  const a = createCounters(shared);
  const view = new Float64Array(shared);
  a[C.allocations] = 3;
  assert.equal(view[C.allocations], 3, 'same memory');
  const b = createCounters();
  b[C.allocations] = 4;
  b[C.toPeerBytes] = 10;
  const sum = sumCounters([a, b]);
  assert.equal(sum.allocations, 7);
  assert.equal(sum.toPeerBytes, 10);
  assert.equal(sum.channels, 0);
  assert.deepEqual(Object.keys(sum), [...COUNTERS]);
});

test('The core counts into the array it is given', () => {
  const counters = createCounters(new SharedArrayBuffer(counterBytes()));
  const h = setup({ counters });
  assert.equal(h.core.counters, counters);
  new TestClient(h).allocateOk();
  assert.equal(counters[C.allocations], 1);
});

test('The host log hears about allocations, auth failures and refused peers', () => {
  const h = setup();
  const c = new TestClient(h);
  c.allocateOk();
  assertError(c.createPermission({ family: 4, address: '10.0.0.1', port: 1 }), Method.CreatePermission, 403);
  const bad = new TestClient(h, 'alice', 'wrong');
  bad.challenge();
  bad.request(Method.Allocate, { attrs: (w) => w.addRequestedTransport(17) });
  c.refresh(0);
  const msgs = h.host.logs.map((l) => `${l.level} ${l.msg}`);
  assert.ok(msgs.includes('info allocation created'));
  assert.ok(msgs.includes('warn peer refused'));
  assert.ok(msgs.includes('warn auth failed'));
  assert.ok(msgs.includes('info allocation deleted'));
  const created = h.host.logs.find((l) => l.msg === 'allocation created');
  assert.equal(created?.fields.username, 'alice');
  assert.equal(created?.fields.lifetime, 600);
});

test('OutputRing: a slot stays untouched for slots-1 more calls; oversized requests get a fresh buffer', () => {
  const ring = new OutputRing(3, 16);
  const a = ring.next(10);
  const b = ring.next(10);
  const c = ring.next(10);
  assert.notEqual(a, b);
  assert.notEqual(b, c);
  assert.equal(a.buffer, b.buffer, 'one backing store');
  assert.equal(ring.next(10), a, 'wraps around after 3');
  const big = ring.next(17);
  assert.equal(big.length, 17);
  assert.notEqual(big.buffer, a.buffer);
  assert.equal(ring.next(1), b, 'an oversized request does not use a slot');
});

test('TransactionCache: per client and transaction, bounded in age and in size', () => {
  const cache = new TransactionCache(2, 1000);
  const tx = (n: number) => new Uint8Array(12).fill(n);
  cache.put('a', tx(1), new Uint8Array([1]), 0);
  assert.deepEqual(cache.get('a', tx(1), 999), new Uint8Array([1]));
  assert.equal(cache.get('b', tx(1), 0), undefined, 'another client');
  assert.equal(cache.get('a', tx(2), 0), undefined, 'another transaction');
  assert.equal(cache.get('a', tx(1), 1000), undefined, 'too old');
  cache.put('a', tx(2), new Uint8Array([2]), 10);
  cache.put('a', tx(3), new Uint8Array([3]), 20);
  assert.equal(cache.size, 2);
  assert.equal(cache.get('a', tx(1), 20), undefined, 'the oldest went');
  cache.sweep(1010);
  assert.equal(cache.size, 1);
  cache.sweep(5000);
  assert.equal(cache.size, 0);
});
