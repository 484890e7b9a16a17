// AllocationBroker: relay ports, user and total quotas (coturn's user-quota, total-quota),
// EVEN-PORT and RESERVATION-TOKEN (RFC 8656 §7.2), and the broker behind a host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attr, getAttribute, Method } from '@switchboard/stun';
import { AllocationBroker, type Allocation, type Grant, type PortRequest } from '../src/index.js';
import { assertError, assertSuccess, FakeHost, setup, T0, TestClient, xorAddress } from './harness.js';

const PLAIN: PortRequest = { evenPort: false, reserveNext: false };
const EVEN: PortRequest = { evenPort: true, reserveNext: false };
const PAIR: PortRequest = { evenPort: true, reserveNext: true };

function ok(g: Grant): { port: number; token?: string } {
  assert.ok(g.ok, `granted, got ${g.ok ? '' : `${g.code} ${g.reason}`}`);
  return g;
}

function refused(g: Grant, code: 486 | 508): void {
  assert.equal(g.ok, false);
  if (!g.ok) assert.equal(g.code, code);
}

/** A deterministic Math.random stand-in. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('Ports are granted inside the range, never twice', () => {
  const b = new AllocationBroker({ minPort: 50000, maxPort: 50099, userQuota: 0, totalQuota: 0 });
  const rnd = seeded(1);
  const ports = new Set<number>();
  for (let i = 0; i < 100; i++) {
    const { port } = ok(b.acquire(`u${i}`, PLAIN, T0, rnd));
    assert.ok(port >= 50000 && port <= 50099);
    ports.add(port);
  }
  assert.equal(ports.size, 100);
  assert.equal(b.allocations, 100);
});

test('User quota: the user\'s next grant is 486; other users are unaffected; release returns the slot', () => {
  const b = new AllocationBroker({ minPort: 50000, maxPort: 50099, userQuota: 2, totalQuota: 0 });
  const a1 = ok(b.acquire('alice', PLAIN, T0));
  ok(b.acquire('alice', PLAIN, T0));
  refused(b.acquire('alice', PLAIN, T0), 486);
  ok(b.acquire('bob', PLAIN, T0));
  b.release('alice', a1.port);
  ok(b.acquire('alice', PLAIN, T0));
  refused(b.acquire('alice', PLAIN, T0), 486);
});

test('Total quota: the server-wide limit gives 486 to anyone; release returns it', () => {
  const b = new AllocationBroker({ minPort: 50000, maxPort: 50099, userQuota: 0, totalQuota: 2 });
  const g = ok(b.acquire('alice', PLAIN, T0));
  ok(b.acquire('bob', PLAIN, T0));
  refused(b.acquire('carol', PLAIN, T0), 486);
  assert.equal(b.allocations, 2);
  b.release('alice', g.port);
  assert.equal(b.allocations, 1);
  ok(b.acquire('carol', PLAIN, T0));
});

test('Port exhaustion: 508; a released port is granted again', () => {
  const b = new AllocationBroker({ minPort: 50000, maxPort: 50001, userQuota: 0, totalQuota: 0 });
  const a = ok(b.acquire('a', PLAIN, T0));
  const c = ok(b.acquire('b', PLAIN, T0));
  assert.deepEqual([a.port, c.port].sort(), [50000, 50001]);
  refused(b.acquire('c', PLAIN, T0), 508);
  b.release('a', a.port);
  assert.equal(ok(b.acquire('c', PLAIN, T0)).port, a.port);
});

test('Release does not drive quotas below zero', () => {
  const b = new AllocationBroker({ minPort: 50000, maxPort: 50000, userQuota: 1, totalQuota: 1 });
  b.release('ghost', 50000);
  b.release('ghost', 12345);
  assert.equal(b.allocations, 0);
  ok(b.acquire('alice', PLAIN, T0));
  refused(b.acquire('bob', PLAIN, T0), 486);
});

test('EVEN-PORT gives even ports; with only odd ones left, 508', () => {
  const b = new AllocationBroker({ minPort: 50001, maxPort: 50020, userQuota: 0, totalQuota: 0 });
  const rnd = seeded(7);
  for (let i = 0; i < 10; i++) {
    const { port } = ok(b.acquire('u', EVEN, T0, rnd));
    assert.equal(port % 2, 0, `port ${port}`);
  }
  refused(b.acquire('u', EVEN, T0, rnd), 508);
  const { port } = ok(b.acquire('u', PLAIN, T0, rnd));
  assert.equal(port % 2, 1);
});

test('EVEN-PORT with R: an even port and a token; the token gets port+1, once', () => {
  const b = new AllocationBroker({ minPort: 50000, maxPort: 50099, userQuota: 0, totalQuota: 0 });
  const rnd = seeded(3);
  const first = ok(b.acquire('alice', PAIR, T0, rnd));
  assert.equal(first.port % 2, 0);
  assert.ok(first.token);
  assert.match(first.token, /^[0-9a-f]{16}$/, '8 bytes of hex, the RESERVATION-TOKEN size');
  // Nobody else gets the reserved port meanwhile.
  for (let i = 0; i < 98; i++) assert.notEqual(ok(b.acquire('filler', PLAIN, T0, rnd)).port, first.port + 1);
  refused(b.acquire('filler', PLAIN, T0, rnd), 508);
  const second = ok(b.acquire('bob', { evenPort: false, reserveNext: false, token: first.token }, T0 + 1000, rnd));
  assert.equal(second.port, first.port + 1);
  refused(b.acquire('bob', { evenPort: false, reserveNext: false, token: first.token }, T0 + 1000, rnd), 508);
});

test('EVEN-PORT with R needs a free even/odd pair', () => {
  const b = new AllocationBroker({ minPort: 50000, maxPort: 50002, userQuota: 0, totalQuota: 0 });
  ok(b.acquire('u', PAIR, T0));
  refused(b.acquire('u', PAIR, T0), 508);
});

test('An unknown RESERVATION-TOKEN: 508', () => {
  const b = new AllocationBroker({ minPort: 50000, maxPort: 50099, userQuota: 0, totalQuota: 0 });
  refused(b.acquire('alice', { evenPort: false, reserveNext: false, token: '0011223344556677' }, T0), 508);
  assert.equal(b.allocations, 0, 'a refusal takes no quota');
});

test('Reservations expire after 30 s: the token is refused and the port is free again', () => {
  const b = new AllocationBroker({ minPort: 50000, maxPort: 50001, userQuota: 0, totalQuota: 0 });
  const g = ok(b.acquire('alice', PAIR, T0));
  assert.equal(g.port, 50000);
  refused(b.acquire('x', PLAIN, T0 + 29_999), 508);
  assert.equal(ok(b.acquire('x', PLAIN, T0 + 30_000)).port, 50001, 'the reserved port came back');
  refused(b.acquire('bob', { evenPort: false, reserveNext: false, token: g.token }, T0 + 30_000), 508);
});

test('A reservation used before it expires is not freed later by the expiry', () => {
  const b = new AllocationBroker({ minPort: 50000, maxPort: 50001, userQuota: 0, totalQuota: 0 });
  const g = ok(b.acquire('alice', PAIR, T0));
  assert.equal(ok(b.acquire('bob', { ...PLAIN, token: g.token }, T0 + 10_000)).port, 50001);
  refused(b.acquire('carol', PLAIN, T0 + 60_000), 508);
});

test('replace: another port for the same quota slot; the bad port stays taken', () => {
  const b = new AllocationBroker({ minPort: 50000, maxPort: 50002, userQuota: 1, totalQuota: 0 });
  const g = ok(b.acquire('alice', PLAIN, T0));
  const r = b.replace('alice', g.port, false);
  assert.ok(r.ok);
  assert.notEqual(r.port, g.port);
  assert.equal(b.allocations, 1);
  refused(b.acquire('alice', PLAIN, T0), 486);
  const r2 = b.replace('alice', r.port, false);
  assert.ok(r2.ok);
  // All three ports are now held (two by "someone else"): the next replace fails and frees the slot.
  refused(b.replace('alice', r2.port, false), 508);
  assert.equal(b.allocations, 0);
});

test('A bad port range is refused', () => {
  for (const [minPort, maxPort] of [[0, 10], [10, 65536], [5000, 4999]]) {
    assert.throws(() => new AllocationBroker({ minPort, maxPort, userQuota: 0, totalQuota: 0 }), RangeError);
  }
});

/** A host that asks a broker for the relay port, as the real adapter does. */
class BrokerHost extends FakeHost {
  constructor(readonly broker: AllocationBroker) {
    super();
  }
  override openRelay(alloc: Allocation, ports: PortRequest): void {
    this.opened.push({ alloc, ports });
    const g = this.broker.acquire(alloc.quotaUser, ports, this.core.now);
    if (!g.ok) return this.core.relayFailed(alloc, g.code, g.reason);
    alloc.handle = g.port;
    this.core.relayReady(alloc, { family: 4, address: '192.0.2.1', port: g.port }, g.token);
  }
  override closeRelay(alloc: Allocation): void {
    super.closeRelay(alloc);
    if (typeof alloc.handle === 'number') this.broker.release(alloc.quotaUser, alloc.handle);
  }
}

function brokered(userQuota: number, totalQuota: number, maxPort = 50099) {
  const broker = new AllocationBroker({ minPort: 50000, maxPort, userQuota, totalQuota });
  return { h: setup({ host: new BrokerHost(broker) }), broker };
}

test('Through the core: the user quota refuses the second Allocate with 486; deleting the first frees it', () => {
  const { h, broker } = brokered(1, 0);
  const first = new TestClient(h);
  first.allocateOk();
  const second = new TestClient(h);
  assertError(second.allocate(), Method.Allocate, 486);
  assertSuccess(new TestClient(h, 'bob', 'bob-pass').allocate(), Method.Allocate);
  assert.equal(broker.allocations, 2);
  assertSuccess(first.refresh(0), Method.Refresh);
  assert.equal(broker.allocations, 1);
  assertSuccess(second.allocate(), Method.Allocate);
});

test('Through the core: no ports left gives 508; EVEN-PORT R gives a token that a second Allocate redeems', () => {
  const { h } = brokered(0, 0, 50001);
  const a = new TestClient(h);
  const res = a.allocate((w) => w.addBytes(Attr.EvenPort, new Uint8Array([0x80])));
  assertSuccess(res, Method.Allocate);
  const relay = xorAddress(res, Attr.XorRelayedAddress);
  assert.equal(relay.port, 50000);
  const token = getAttribute(res, Attr.ReservationToken);
  assert.ok(token && token.length === 8);
  assertError(new TestClient(h, 'bob', 'bob-pass').allocate(), Method.Allocate, 508);
  const b = new TestClient(h, 'bob', 'bob-pass');
  const res2 = b.allocate((w) => w.addBytes(Attr.ReservationToken, token));
  assertSuccess(res2, Method.Allocate);
  assert.equal(xorAddress(res2, Attr.XorRelayedAddress).port, 50001);
});
