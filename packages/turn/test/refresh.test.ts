// Refresh (RFC 8656 §7.3-7.4), allocation expiry on the clock, and 441 Wrong Credentials.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attr, Method } from '@switchboard/stun';
import { C } from '../src/index.js';
import { assertError, assertSigned, assertSuccess, channelData, PEER, setup, T0, TestClient, text, u32Attr } from './harness.js';

test('Refresh updates the lifetime: none asked -> 600, 1800 kept, 5000 -> 3600, 100 -> 600', () => {
  const h = setup();
  const c = new TestClient(h);
  const { alloc } = c.allocateOk();
  h.advance(500_000);
  for (const [asked, granted] of [[undefined, 600], [1800, 1800], [5000, 3600], [100, 600]] as const) {
    const res = c.refresh(asked);
    assertSuccess(res, Method.Refresh);
    assertSigned(res, c.key);
    assert.equal(u32Attr(res, Attr.Lifetime), granted, `asked ${asked}`);
    assert.equal(alloc.expiresAt, h.core.now + granted * 1000);
  }
  // The refreshed allocation outlives its original 600 s.
  h.advance(599_000);
  assert.equal(alloc.state, 'active');
  assert.equal(h.host.closed.length, 0);
  h.advance(1_000);
  assert.equal(alloc.state, 'closed');
  assert.deepEqual(h.host.closed, [alloc]);
});

test('Refresh with LIFETIME 0 deletes the allocation: success with LIFETIME 0, closeRelay, counters back to 0', () => {
  const h = setup();
  const c = new TestClient(h);
  const { alloc } = c.allocateOk();
  assertSuccess(c.createPermission(PEER), Method.CreatePermission);
  assertSuccess(c.channelBind(0x4000, PEER), Method.ChannelBind);
  assert.equal(h.core.counters[C.allocations], 1);
  assert.equal(h.core.counters[C.permissions], 1);
  assert.equal(h.core.counters[C.channels], 1);
  const tx = new Uint8Array(12).fill(3);
  const req = c.build(Method.Refresh, { attrs: (w) => w.addU32(Attr.Lifetime, 0), tx });
  const sent = c.sendRaw(req);
  assert.equal(sent.length, 1);
  const res = c.send(req); // the retransmission: same bytes from the cache, although the allocation is gone
  assert.ok(res);
  assertSuccess(res, Method.Refresh);
  assert.equal(u32Attr(res, Attr.Lifetime), 0);
  assert.deepEqual(h.host.toClient.at(-1)?.bytes, sent[0].bytes);
  assert.deepEqual(h.host.closed, [alloc]);
  assert.equal(alloc.state, 'closed');
  assert.equal(h.core.allocationCount, 0);
  assert.equal(h.core.allocationFor(c.ref), undefined);
  assert.equal(h.core.udpAllocation(c.ref.address, c.ref.port), undefined);
  assert.equal(h.core.counters[C.allocations], 0);
  assert.equal(h.core.counters[C.permissions], 0);
  assert.equal(h.core.counters[C.channels], 0);
  // Nothing is relayed for the closed allocation.
  h.core.handlePeerData(alloc, PEER.address, PEER.port, text('late'));
  c.sendRaw(channelData(0x4000, text('late')));
  assert.equal(h.host.toPeer.length, 0);
  // A new Refresh is a mismatch; a new Allocate works.
  assertError(c.refresh(), Method.Refresh, 437);
  c.allocateOk();
});

test('Refresh without an allocation: 437, signed', () => {
  const h = setup();
  const c = new TestClient(h);
  c.challenge();
  const res = c.request(Method.Refresh);
  assertError(res, Method.Refresh, 437);
  assertSigned(res, c.key);
  assertError(c.request(Method.Refresh, { attrs: (w) => w.addU32(Attr.Lifetime, 0) }), Method.Refresh, 437);
});

test('Refresh, CreatePermission and ChannelBind by another user on the same 5-tuple: 441', () => {
  const h = setup();
  const alice = new TestClient(h);
  const { alloc } = alice.allocateOk();
  const bob = new TestClient(h, 'bob', 'bob-pass', alice.ref);
  bob.realm = alice.realm;
  bob.nonce = alice.nonce;
  const r = bob.refresh(0);
  assertError(r, Method.Refresh, 441);
  assertSigned(r, bob.key);
  assertError(bob.createPermission(PEER), Method.CreatePermission, 441);
  assertError(bob.channelBind(0x4000, PEER), Method.ChannelBind, 441);
  assert.equal(h.core.counters[C.authFailWrongCredentials], 3);
  assert.equal(alloc.state, 'active', 'the allocation is untouched');
  assert.equal(alloc.permissions.size, 0);
  assert.equal(h.host.closed.length, 0);
});

test('Refresh with a REQUESTED-ADDRESS-FAMILY other than the allocation\'s: 443', () => {
  const h = setup({ relayFamilies: [4, 6] });
  const c = new TestClient(h);
  const { alloc } = c.allocateOk();
  const res = c.signed(Method.Refresh, (w) => w.addRequestedAddressFamily(6));
  assertError(res, Method.Refresh, 443);
  assertSuccess(c.signed(Method.Refresh, (w) => w.addRequestedAddressFamily(4)), Method.Refresh);
  assert.equal(alloc.state, 'active');
});

test('An allocation expires after its lifetime: closeRelay, counters drop, later requests get 437', () => {
  const h = setup();
  const c = new TestClient(h);
  const { alloc } = c.allocateOk();
  assertSuccess(c.createPermission(PEER), Method.CreatePermission);
  assertSuccess(c.channelBind(0x4001, PEER), Method.ChannelBind);
  h.advance(599_999);
  assert.equal(alloc.state, 'active');
  assert.equal(h.core.counters[C.allocations], 1);
  h.advance(1);
  assert.equal(h.core.now, T0 + 600_000);
  assert.equal(alloc.state, 'closed');
  assert.deepEqual(h.host.closed, [alloc]);
  assert.equal(h.core.allocationCount, 0);
  assert.equal(h.core.counters[C.allocations], 0);
  assert.equal(h.core.counters[C.permissions], 0);
  assert.equal(h.core.counters[C.channels], 0);
  assertError(c.createPermission(PEER), Method.CreatePermission, 437);
  // Ticking again does not close it twice.
  h.advance(1000);
  assert.equal(h.host.closed.length, 1);
});

test('A tick with an earlier time expires nothing', () => {
  const h = setup();
  const c = new TestClient(h);
  const { alloc } = c.allocateOk();
  h.core.tick(T0 - 5000);
  assert.equal(alloc.state, 'active');
});
