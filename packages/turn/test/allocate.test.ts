// Allocate (RFC 8656 §7.1-7.2) with long-term credentials (RFC 8489 §9.2): the challenge,
// every way authentication fails, the success response, the attribute checks, retransmissions
// (RFC 8489 §6.3.1) and the relay socket's answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attr, getAttribute, longTermKey, Method, type StunWriter } from '@switchboard/stun';
import { C, LIFETIME } from '../src/index.js';
import {
  allocateAttrs,
  assertError,
  assertSigned,
  assertSuccess,
  assertUnsigned,
  buildMessage,
  clientRef,
  decodeResponse,
  FakeHost,
  REALM,
  setup,
  stringAttr,
  T0,
  TCP,
  TestClient,
  u32Attr,
  unknownAttributes,
  xorAddress,
} from './harness.js';

test('Allocate without MESSAGE-INTEGRITY: 401 with REALM and NONCE, unsigned, and no allocation', () => {
  const h = setup();
  const c = new TestClient(h);
  const res = c.request(Method.Allocate, { attrs: allocateAttrs(), signed: false });
  assertError(res, Method.Allocate, 401);
  assert.equal(stringAttr(res, Attr.Realm), REALM);
  const nonce = stringAttr(res, Attr.Nonce);
  assert.ok(nonce && nonce.length > 0);
  assertUnsigned(res);
  assert.equal(h.core.allocationCount, 0);
  assert.equal(h.host.opened.length, 0, 'no relay asked for');
  assert.equal(h.core.counters[C.allocations], 0);
});

test('Allocate with a wrong password: 401, authFailBadIntegrity, no allocation', () => {
  const h = setup();
  const c = new TestClient(h, 'alice', 'wrong');
  c.challenge();
  const res = c.request(Method.Allocate, { attrs: allocateAttrs() });
  assertError(res, Method.Allocate, 401);
  assert.ok(stringAttr(res, Attr.Nonce), 'a fresh challenge');
  assertUnsigned(res);
  assert.equal(h.core.counters[C.authFailBadIntegrity], 1);
  assert.equal(h.core.allocationCount, 0);
  assert.equal(h.host.opened.length, 0);
});

test('Allocate by an unknown user: 401, authFailUnknownUser', () => {
  const h = setup();
  const c = new TestClient(h, 'mallory', 'whatever');
  c.challenge();
  const res = c.request(Method.Allocate, { attrs: allocateAttrs() });
  assertError(res, Method.Allocate, 401);
  assert.equal(h.core.counters[C.authFailUnknownUser], 1);
  assert.equal(h.core.allocationCount, 0);
});

test('Allocate with another REALM than the server\'s: 401', () => {
  const h = setup();
  const c = new TestClient(h);
  c.challenge();
  c.realm = 'elsewhere.test';
  const res = c.request(Method.Allocate, { attrs: allocateAttrs() });
  assertError(res, Method.Allocate, 401);
  assert.equal(h.core.allocationCount, 0);
});

test('MESSAGE-INTEGRITY without USERNAME (or REALM, or NONCE): 400, authFailBadRequest', () => {
  const h = setup();
  const c = new TestClient(h);
  c.challenge();
  const nonce = c.nonce!;
  const variants: [string, (w: StunWriter) => void][] = [
    ['no USERNAME', (w) => w.addString(Attr.Realm, REALM).addString(Attr.Nonce, nonce)],
    ['no REALM', (w) => w.addString(Attr.Username, 'alice').addString(Attr.Nonce, nonce)],
    ['no NONCE', (w) => w.addString(Attr.Username, 'alice').addString(Attr.Realm, REALM)],
  ];
  for (const [what, add] of variants) {
    const msg = buildMessage(Method.Allocate, {
      attrs: (w) => {
        w.addRequestedTransport(17);
        add(w);
        w.addMessageIntegrity(c.key);
      },
    });
    const res = c.send(msg);
    assert.ok(res, what);
    assertError(res, Method.Allocate, 400);
    assertUnsigned(res);
  }
  assert.equal(h.core.counters[C.authFailBadRequest], 3);
  assert.equal(h.core.allocationCount, 0);
});

test('Stale nonce: 438 with a new NONCE and the REALM; the retry with it succeeds', () => {
  const h = setup({ nonceLifetimeMs: 60_000 });
  const c = new TestClient(h);
  c.challenge();
  const oldNonce = c.nonce;
  h.advance(61_000);
  const res = c.request(Method.Allocate, { attrs: allocateAttrs() });
  assertError(res, Method.Allocate, 438);
  assert.equal(stringAttr(res, Attr.Realm), REALM);
  const fresh = stringAttr(res, Attr.Nonce);
  assert.ok(fresh);
  assert.notEqual(fresh, oldNonce);
  assertUnsigned(res);
  assert.equal(h.core.counters[C.authFailStaleNonce], 1);
  assert.equal(h.core.allocationCount, 0);
  c.learn(res);
  assertSuccess(c.request(Method.Allocate, { attrs: allocateAttrs() }), Method.Allocate);
  assert.equal(h.core.allocationCount, 1);
});

test('A nonce is good until its lifetime ends (default 10 minutes)', () => {
  const h = setup();
  const c = new TestClient(h);
  c.challenge();
  h.advance(590_000);
  assertSuccess(c.request(Method.Allocate, { attrs: allocateAttrs() }), Method.Allocate);
  h.advance(20_000);
  assertError(c.request(Method.Refresh), Method.Refresh, 438);
});

test('A nonce issued to one client is refused (438) from another', () => {
  const h = setup();
  const a = new TestClient(h);
  a.challenge();
  const b = new TestClient(h, 'alice', 'alice-pass', clientRef({ address: '203.0.113.99' }));
  b.realm = a.realm;
  b.nonce = a.nonce;
  const res = b.request(Method.Allocate, { attrs: allocateAttrs() });
  assertError(res, Method.Allocate, 438);
  assert.equal(h.core.allocationCount, 0);
});

test('Allocate success: XOR-RELAYED-ADDRESS, LIFETIME 600, XOR-MAPPED-ADDRESS, signed with the key', () => {
  const h = setup();
  const ref = clientRef({ address: '198.51.100.20', port: 40404 });
  const c = new TestClient(h, 'alice', 'alice-pass', ref);
  const res = c.allocate();
  assertSuccess(res, Method.Allocate);
  assert.deepEqual(xorAddress(res, Attr.XorRelayedAddress), FakeHost.relayAddress(4, 0));
  assert.equal(u32Attr(res, Attr.Lifetime), 600);
  assert.equal(LIFETIME.allocationDefault, 600);
  assert.deepEqual(xorAddress(res, Attr.XorMappedAddress), { family: 4, address: '198.51.100.20', port: 40404 });
  assertSigned(res, longTermKey('alice', REALM, 'alice-pass'));
  assert.equal(getAttribute(res, Attr.ReservationToken), undefined);
  assert.equal(stringAttr(res, Attr.Software), 'Switchboard');

  assert.equal(h.host.opened.length, 1);
  assert.deepEqual(h.host.opened[0].ports, { evenPort: false, reserveNext: false, token: undefined });
  const alloc = h.core.allocationFor(ref);
  assert.ok(alloc);
  assert.equal(alloc.state, 'active');
  assert.equal(alloc.username, 'alice');
  assert.equal(alloc.quotaUser, 'alice');
  assert.equal(alloc.family, 4);
  assert.deepEqual(alloc.relay, FakeHost.relayAddress(4, 0));
  assert.equal(alloc.expiresAt, T0 + 600_000);
  assert.equal(h.core.udpAllocation('198.51.100.20', 40404), alloc);
  assert.equal(h.core.udpAllocation('198.51.100.20', 40405), undefined);
  assert.equal(h.core.allocationCount, 1);
  assert.equal(h.core.counters[C.allocations], 1);
  assert.equal(h.core.counters[C.stunRequests], 2, 'the challenged request and the signed one');
});

test('Allocate LIFETIME: 5000 is clamped to 3600, 100 becomes the default 600, 1200 is kept', () => {
  for (const [asked, granted] of [[5000, 3600], [100, 600], [0, 600], [1200, 1200], [3600, 3600]]) {
    const h = setup();
    const c = new TestClient(h);
    const res = c.allocate((w) => w.addU32(Attr.Lifetime, asked));
    assertSuccess(res, Method.Allocate);
    assert.equal(u32Attr(res, Attr.Lifetime), granted, `asked ${asked}`);
    assert.equal(h.core.allocationFor(c.ref)?.expiresAt, T0 + granted * 1000);
  }
});

test('Allocate with MESSAGE-INTEGRITY-SHA256 gets a MESSAGE-INTEGRITY-SHA256 response', () => {
  const h = setup();
  const c = new TestClient(h, 'alice', 'alice-pass', clientRef(), true);
  const res = c.allocate();
  assertSuccess(res, Method.Allocate);
  assertSigned(res, c.key, true);
  assert.equal(getAttribute(res, Attr.MessageIntegrity), undefined, 'no SHA-1 MI alongside');
});

test('Allocate without REQUESTED-TRANSPORT: 400, signed, no relay', () => {
  const h = setup();
  const c = new TestClient(h);
  c.challenge();
  const res = c.request(Method.Allocate);
  assertError(res, Method.Allocate, 400);
  assertSigned(res, c.key);
  assert.equal(h.host.opened.length, 0);
  assert.equal(h.core.allocationCount, 0);
  assert.equal(h.core.counters[C.allocateErrors], 1);
});

test('Allocate with a malformed REQUESTED-TRANSPORT: 400', () => {
  const h = setup();
  const c = new TestClient(h);
  c.challenge();
  const res = c.request(Method.Allocate, { attrs: (w) => w.addBytes(Attr.RequestedTransport, new Uint8Array([17, 0])) });
  assertError(res, Method.Allocate, 400);
});

test('Allocate for TCP relaying (REQUESTED-TRANSPORT 6): 442', () => {
  const h = setup();
  const c = new TestClient(h);
  c.challenge();
  const res = c.request(Method.Allocate, { attrs: allocateAttrs(undefined, TCP) });
  assertError(res, Method.Allocate, 442);
  assertSigned(res, c.key);
  assert.equal(h.core.allocationCount, 0);
});

test('REQUESTED-ADDRESS-FAMILY IPv6 on an IPv4-only core: 440', () => {
  const h = setup();
  const c = new TestClient(h);
  c.challenge();
  const res = c.request(Method.Allocate, { attrs: allocateAttrs((w) => w.addRequestedAddressFamily(6)) });
  assertError(res, Method.Allocate, 440);
  assert.equal(h.core.allocationCount, 0);
  assert.equal(h.host.opened.length, 0);
});

test('REQUESTED-ADDRESS-FAMILY IPv6 on a dual-stack core: an IPv6 relay; without it, IPv4 even for an IPv6 client', () => {
  const h = setup({ relayFamilies: [4, 6] });
  const c = new TestClient(h);
  const { relay, alloc } = c.allocateOk((w) => w.addRequestedAddressFamily(6));
  assert.equal(alloc.family, 6);
  assert.equal(relay.family, 6);
  const c6 = new TestClient(h, 'alice', 'alice-pass', clientRef({ address: '2001:db8:c::9' }));
  const r6 = c6.allocateOk();
  assert.equal(r6.alloc.family, 4, 'RFC 8656 §7.2: IPv4 unless asked otherwise');
  assert.deepEqual(xorAddress(r6.res, Attr.XorMappedAddress), { family: 6, address: '2001:db8:c::9', port: c6.ref.port });
});

test('REQUESTED-ADDRESS-FAMILY together with ADDITIONAL-ADDRESS-FAMILY: 400', () => {
  const h = setup({ relayFamilies: [4, 6] });
  const c = new TestClient(h);
  c.challenge();
  const res = c.request(Method.Allocate, {
    attrs: allocateAttrs((w) => w.addRequestedAddressFamily(4).addAdditionalAddressFamily(6)),
  });
  assertError(res, Method.Allocate, 400);
});

test('ADDITIONAL-ADDRESS-FAMILY asking for IPv4: 400 (only IPv6 may be added)', () => {
  const h = setup({ relayFamilies: [4, 6] });
  const c = new TestClient(h);
  c.challenge();
  const res = c.request(Method.Allocate, { attrs: allocateAttrs((w) => w.addAdditionalAddressFamily(4)) });
  assertError(res, Method.Allocate, 400);
});

test('ADDITIONAL-ADDRESS-FAMILY IPv6 on an IPv4-only core: the IPv4 allocation succeeds with ADDRESS-ERROR-CODE 440', () => {
  const h = setup();
  const c = new TestClient(h);
  const res = c.allocate((w) => w.addAdditionalAddressFamily(6));
  assertSuccess(res, Method.Allocate);
  assert.equal(xorAddress(res, Attr.XorRelayedAddress).family, 4);
  const aec = getAttribute(res, Attr.AddressErrorCode);
  assert.ok(aec, 'ADDRESS-ERROR-CODE present');
  assert.equal(aec[0], 0x02, 'for IPv6');
  assert.equal(aec[2] * 100 + aec[3], 440);
});

test('A second Allocate on the same 5-tuple (new transaction): 437, and the first allocation stays', () => {
  const h = setup();
  const c = new TestClient(h);
  const { alloc } = c.allocateOk();
  const res = c.request(Method.Allocate, { attrs: allocateAttrs() });
  assertError(res, Method.Allocate, 437);
  assertSigned(res, c.key);
  assert.equal(h.core.allocationFor(c.ref), alloc);
  assert.equal(alloc.state, 'active');
  assert.equal(h.host.opened.length, 1);
  assert.equal(h.core.counters[C.allocations], 1);
});

test('Allocate by another user on an allocated 5-tuple: 437 (441 is for non-Allocate requests)', () => {
  const h = setup();
  const alice = new TestClient(h);
  alice.allocateOk();
  const bob = new TestClient(h, 'bob', 'bob-pass', alice.ref);
  const res = bob.allocate();
  assertError(res, Method.Allocate, 437);
});

test('Retransmitted Allocate after success: the identical response bytes, no second relay', () => {
  const h = setup();
  const c = new TestClient(h);
  c.challenge();
  const tx = new Uint8Array(12).fill(0x5a);
  const req = c.build(Method.Allocate, { attrs: allocateAttrs(), tx });
  const first = c.sendRaw(req);
  assert.equal(first.length, 1);
  assertSuccess(decodeResponse(first[0].bytes), Method.Allocate);
  h.advance(2000);
  const again = c.sendRaw(req);
  assert.equal(again.length, 1);
  assert.deepEqual(again[0].bytes, first[0].bytes);
  assert.equal(h.host.opened.length, 1);
  assert.equal(h.core.allocationCount, 1);
  // Not the cache: a new transaction on the same 5-tuple is a mismatch.
  assertError(c.request(Method.Allocate, { attrs: allocateAttrs() }), Method.Allocate, 437);
});

test('The same transaction id with another method is no retransmission: it is answered for itself', () => {
  const h = setup();
  const c = new TestClient(h);
  c.challenge();
  const tx = new Uint8Array(12).fill(0x6b);
  assertSuccess(decodeResponse(c.sendRaw(c.build(Method.Allocate, { attrs: allocateAttrs(), tx }))[0].bytes), Method.Allocate);
  const other = c.sendRaw(c.build(Method.Refresh, { tx }));
  assert.equal(other.length, 1);
  assertSuccess(decodeResponse(other[0].bytes), Method.Refresh);
});

test('A retransmission within the client\'s transaction timeout (39.5 s) still gets the cached success', () => {
  const h = setup();
  const c = new TestClient(h);
  c.challenge();
  const req = c.build(Method.Allocate, { attrs: allocateAttrs() });
  const [first] = c.sendRaw(req);
  h.advance(31_500); // the 7th transmission with RFC 8489's default RTO and Rc
  const again = c.sendRaw(req);
  assert.deepEqual(again.map((s) => s.bytes), [first.bytes]);
});

test('Retransmitted Allocate while the relay is opening: absorbed, no second openRelay', () => {
  const h = setup({ mode: 'defer' });
  const c = new TestClient(h);
  c.challenge();
  const req = c.build(Method.Allocate, { attrs: allocateAttrs() });
  assert.equal(c.sendRaw(req).length, 0, 'no answer until the relay is open');
  assert.equal(h.host.opened.length, 1);
  const alloc = h.host.lastOpened();
  assert.equal(alloc.state, 'pending');
  assert.equal(c.sendRaw(req).length, 0, 'retransmission absorbed');
  assert.equal(h.host.opened.length, 1);
  // Another transaction while pending is a mismatch.
  assertError(c.request(Method.Allocate, { attrs: allocateAttrs() }), Method.Allocate, 437);
  assert.equal(h.core.counters[C.allocations], 0, 'pending allocations are not counted');
  const before = h.host.toClient.length;
  const relay = h.host.ready(alloc);
  const sent = h.host.toClient.slice(before);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].client, c.ref);
  const res = decodeResponse(sent[0].bytes);
  assertSuccess(res, Method.Allocate);
  assert.deepEqual(xorAddress(res, Attr.XorRelayedAddress), relay);
  assert.equal(h.core.counters[C.allocations], 1);
  // A late retransmission now gets the cached success.
  const late = c.sendRaw(req);
  assert.deepEqual(late.map((s) => s.bytes), [sent[0].bytes]);
  // A second relayReady for the same allocation is ignored.
  h.host.ready(alloc);
  assert.equal(h.host.toClient.length, before + 2);
});

test('relayFailed(486): a 486 response, no allocation; a retransmission gets the same 486', () => {
  const h = setup({ mode: 'defer' });
  const c = new TestClient(h);
  c.challenge();
  const req = c.build(Method.Allocate, { attrs: allocateAttrs() });
  c.sendRaw(req);
  const alloc = h.host.lastOpened();
  const before = h.host.toClient.length;
  h.core.relayFailed(alloc, 486, 'user quota reached');
  const sent = h.host.toClient.slice(before);
  assert.equal(sent.length, 1);
  const res = decodeResponse(sent[0].bytes);
  assertError(res, Method.Allocate, 486);
  assertSigned(res, c.key);
  assert.equal(h.core.allocationCount, 0);
  assert.equal(h.core.allocationFor(c.ref), undefined);
  assert.equal(h.core.udpAllocation(c.ref.address, c.ref.port), undefined);
  assert.equal(alloc.state, 'closed');
  assert.equal(h.core.counters[C.allocations], 0);
  assert.equal(h.core.counters[C.allocateErrors], 1);
  assert.deepEqual(c.sendRaw(req).map((s) => s.bytes), [sent[0].bytes]);
  // relayReady after the failure changes nothing.
  h.host.ready(alloc);
  assert.equal(h.core.allocationCount, 0);
  // The 5-tuple is free again.
  assert.equal(c.sendRaw(c.build(Method.Allocate, { attrs: allocateAttrs() })).length, 0, 'pending again');
  assert.equal(h.host.opened.length, 2);
  h.host.ready(h.host.lastOpened());
  assertSuccess(decodeResponse(h.host.toClient[h.host.toClient.length - 1].bytes), Method.Allocate);
  assert.equal(h.core.allocationCount, 1);
});

test('relayFailed(508): a 508 response', () => {
  const h = setup({ mode: 'defer' });
  const c = new TestClient(h);
  c.challenge();
  c.sendRaw(c.build(Method.Allocate, { attrs: allocateAttrs() }));
  const before = h.host.toClient.length;
  h.core.relayFailed(h.host.lastOpened(), 508, 'no relay ports left');
  assertError(decodeResponse(h.host.toClient[before].bytes), Method.Allocate, 508);
  assert.equal(h.core.allocationCount, 0);
});

test('A relay that never opens: after 30 s the Allocate fails with 508 and the relay is closed', () => {
  const h = setup({ mode: 'defer' });
  const c = new TestClient(h);
  c.challenge();
  c.sendRaw(c.build(Method.Allocate, { attrs: allocateAttrs() }));
  const alloc = h.host.lastOpened();
  h.advance(29_000);
  assert.equal(alloc.state, 'pending');
  const before = h.host.toClient.length;
  h.advance(1_000);
  assert.deepEqual(h.host.closed, [alloc]);
  assertError(decodeResponse(h.host.toClient[before].bytes), Method.Allocate, 508);
  assert.equal(h.core.allocationCount, 0);
});

test('DONT-FRAGMENT in an Allocate: 420 with DONT-FRAGMENT in UNKNOWN-ATTRIBUTES, no relay', () => {
  const h = setup();
  const c = new TestClient(h);
  c.challenge();
  const res = c.request(Method.Allocate, { attrs: allocateAttrs((w) => w.addFlag(Attr.DontFragment)) });
  assertError(res, Method.Allocate, 420);
  assertSigned(res, c.key);
  assert.ok(unknownAttributes(res).includes(Attr.DontFragment));
  assert.equal(h.host.opened.length, 0);
  assert.equal(h.core.allocationCount, 0);
});

test('DONT-FRAGMENT is listed once in UNKNOWN-ATTRIBUTES', () => {
  const h = setup();
  const c = new TestClient(h);
  c.challenge();
  const res = c.request(Method.Allocate, { attrs: allocateAttrs((w) => w.addFlag(Attr.DontFragment)) });
  assert.deepEqual(unknownAttributes(res), [Attr.DontFragment]);
});

test('Unknown comprehension-required attribute in an authenticated Allocate: 420, signed', () => {
  const h = setup();
  const c = new TestClient(h);
  c.challenge();
  const res = c.request(Method.Allocate, { attrs: allocateAttrs((w) => w.addBytes(0x0031, new Uint8Array(4))) });
  assertError(res, Method.Allocate, 420);
  assertSigned(res, c.key);
  assert.deepEqual(unknownAttributes(res), [0x0031]);
});

test('EVEN-PORT with R: the host is asked for a pair, and the RESERVATION-TOKEN it returns is in the response', () => {
  const h = setup();
  h.host.reservationToken = '0123456789abcdef';
  const c = new TestClient(h);
  const res = c.allocate((w) => w.addBytes(Attr.EvenPort, new Uint8Array([0x80])));
  assertSuccess(res, Method.Allocate);
  assert.deepEqual(h.host.opened[0].ports, { evenPort: true, reserveNext: true, token: undefined });
  assert.deepEqual(getAttribute(res, Attr.ReservationToken), new Uint8Array([0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]));
});

test('EVEN-PORT without R; RESERVATION-TOKEN is passed on as hex', () => {
  const h = setup();
  const c = new TestClient(h);
  c.allocateOk((w) => w.addBytes(Attr.EvenPort, new Uint8Array([0x00])));
  assert.deepEqual(h.host.opened[0].ports, { evenPort: true, reserveNext: false, token: undefined });
  const d = new TestClient(h);
  d.allocateOk((w) => w.addBytes(Attr.ReservationToken, new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3])));
  assert.deepEqual(h.host.opened[1].ports, { evenPort: false, reserveNext: false, token: 'deadbeef00010203' });
});

test('EVEN-PORT with RESERVATION-TOKEN, or a token that is not 8 bytes: 400', () => {
  const h = setup();
  const c = new TestClient(h);
  c.challenge();
  const both = c.request(Method.Allocate, {
    attrs: allocateAttrs((w) => w.addBytes(Attr.EvenPort, new Uint8Array([0])).addBytes(Attr.ReservationToken, new Uint8Array(8))),
  });
  assertError(both, Method.Allocate, 400);
  const short = c.request(Method.Allocate, { attrs: allocateAttrs((w) => w.addBytes(Attr.ReservationToken, new Uint8Array(4))) });
  assertError(short, Method.Allocate, 400);
  assert.equal(h.host.opened.length, 0);
});

test('Allocate over TCP; the connection closing takes the allocation with it', () => {
  const h = setup();
  const c = new TestClient(h, 'alice', 'alice-pass', clientRef({ transport: 'tcp' }));
  const { alloc } = c.allocateOk();
  assert.equal(h.core.udpAllocation(c.ref.address, c.ref.port), undefined, 'not in the UDP fast-path map');
  h.core.clientGone(c.ref);
  assert.deepEqual(h.host.closed, [alloc]);
  assert.equal(h.core.allocationCount, 0);
  assert.equal(h.core.counters[C.allocations], 0);
});

test('Two clients, two allocations, two relays; closeAll closes both', () => {
  const h = setup();
  const a = new TestClient(h);
  const b = new TestClient(h, 'bob', 'bob-pass');
  const ra = a.allocateOk();
  const rb = b.allocateOk();
  assert.notDeepEqual(ra.relay, rb.relay);
  assert.equal(h.core.counters[C.allocations], 2);
  h.core.closeAll();
  assert.equal(h.host.closed.length, 2);
  assert.equal(h.core.allocationCount, 0);
  assert.equal(h.core.counters[C.allocations], 0);
});

test('A retransmitted unauthenticated request is challenged again', () => {
  const h = setup();
  const c = new TestClient(h);
  const req = c.build(Method.Allocate, { attrs: allocateAttrs(), signed: false });
  const a = c.send(req);
  const b = c.send(req);
  assert.ok(a && b);
  assertError(a, Method.Allocate, 401);
  assertError(b, Method.Allocate, 401);
  assert.equal(stringAttr(b, Attr.Nonce), stringAttr(a, Attr.Nonce), 'same client, same moment: same nonce');
});
