// CreatePermission (RFC 8656 §9), the peer address policy as the core applies it, Send and
// Data indications (§11) and permission expiry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attr, decodeStun, decodeXorAddress, getAttribute, Method, StunClass, type TransportAddress } from '@switchboard/stun';
import { C, LIFETIME } from '../src/index.js';
import {
  allocateAttrs,
  assertError,
  assertSigned,
  assertSuccess,
  buildMessage,
  PEER,
  PEER2,
  setup,
  type SetupOptions,
  TestClient,
  text,
} from './harness.js';

function allocated(opts: SetupOptions = {}, family: 4 | 6 = 4) {
  const h = setup(opts);
  const c = new TestClient(h);
  const { alloc } = c.allocateOk(family === 6 ? (w) => w.addRequestedAddressFamily(6) : undefined);
  return { h, c, alloc };
}

const v4 = (address: string, port = 9): TransportAddress => ({ family: 4, address, port });
const v6 = (address: string, port = 9): TransportAddress => ({ family: 6, address, port });

test('CreatePermission to a public address: success, signed, permission installed for 300 s', () => {
  const { h, c, alloc } = allocated();
  const res = c.createPermission(PEER);
  assertSuccess(res, Method.CreatePermission);
  assertSigned(res, c.key);
  assert.equal(LIFETIME.permission, 300);
  assert.equal(alloc.permissions.get('8.8.8.8')?.expiresAt, h.core.now + 300_000);
  assert.equal(h.core.counters[C.permissions], 1);
  // Refreshing does not count it twice.
  h.advance(100_000);
  assertSuccess(c.createPermission(v4('8.8.8.8', 1)), Method.CreatePermission);
  assert.equal(alloc.permissions.get('8.8.8.8')?.expiresAt, h.core.now + 300_000);
  assert.equal(h.core.counters[C.permissions], 1);
});

test('CreatePermission to private, loopback, link-local, multicast and unspecified IPv4: 403 by default', () => {
  const { h, c, alloc } = allocated();
  for (const a of ['10.1.2.3', '192.168.1.1', '127.0.0.1', '169.254.1.1', '224.0.0.1', '0.0.0.0', '172.16.0.1', '100.64.0.1', '255.255.255.255', '198.18.0.1']) {
    const res = c.createPermission(v4(a));
    assertError(res, Method.CreatePermission, 403);
    assertSigned(res, c.key);
  }
  assert.equal(alloc.permissions.size, 0);
  assert.equal(h.core.counters[C.permissions], 0);
});

test('CreatePermission on an IPv6 allocation: ::1, IPv4-mapped private, ULA, link-local, multicast refused; public allowed', () => {
  const { c, alloc } = allocated({ relayFamilies: [4, 6] }, 6);
  assert.equal(alloc.family, 6);
  for (const a of ['::1', '::', '::ffff:10.1.2.3', '::ffff:127.0.0.1', '::ffff:192.168.0.1', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'ff02::1']) {
    assertError(c.createPermission(v6(a)), Method.CreatePermission, 403);
  }
  assert.equal(alloc.permissions.size, 0);
  assertSuccess(c.createPermission(v6('2001:4860:4860::8888')), Method.CreatePermission);
  assertSuccess(c.createPermission(v6('::ffff:8.8.4.4')), Method.CreatePermission);
  assert.deepEqual([...alloc.permissions.keys()].sort(), ['2001:4860:4860::8888', '::ffff:8.8.4.4']);
});

test('allowLoopbackPeers lets 127.0.0.1 and ::1 through, and nothing else', () => {
  const { c } = allocated({ policy: { allowLoopbackPeers: true } });
  assertSuccess(c.createPermission(v4('127.0.0.1')), Method.CreatePermission);
  assertSuccess(c.createPermission(v4('127.3.4.5')), Method.CreatePermission);
  assertError(c.createPermission(v4('10.0.0.1')), Method.CreatePermission, 403);
  const six = allocated({ relayFamilies: [4, 6], policy: { allowLoopbackPeers: true } }, 6);
  assertSuccess(six.c.createPermission(v6('::1')), Method.CreatePermission);
});

test('denied-peer-ip refuses an otherwise public address', () => {
  const { c } = allocated({ policy: { deniedPeerIp: ['8.8.0.0/16', '1.0.0.0-1.0.0.255'] } });
  assertError(c.createPermission(PEER), Method.CreatePermission, 403);
  assertError(c.createPermission(v4('1.0.0.1')), Method.CreatePermission, 403);
  assertSuccess(c.createPermission(PEER2), Method.CreatePermission);
});

test('allowed-peer-ip lets a private range through, and only that range', () => {
  const { c } = allocated({ policy: { allowedPeerIp: ['10.1.0.0/16'] } });
  assertSuccess(c.createPermission(v4('10.1.2.3')), Method.CreatePermission);
  assertError(c.createPermission(v4('10.2.0.1')), Method.CreatePermission, 403);
});

test('allowed-peer-ip wins over denied-peer-ip', () => {
  const { c } = allocated({ policy: { deniedPeerIp: ['8.8.8.0/24'], allowedPeerIp: ['8.8.8.8'] } });
  assertSuccess(c.createPermission(PEER), Method.CreatePermission);
  assertError(c.createPermission(v4('8.8.8.9')), Method.CreatePermission, 403);
});

test('Several XOR-PEER-ADDRESS in one CreatePermission install them all', () => {
  const { h, c, alloc } = allocated();
  assertSuccess(c.createPermission(PEER, PEER2, v4('9.9.9.9')), Method.CreatePermission);
  assert.deepEqual([...alloc.permissions.keys()].sort(), ['1.1.1.1', '8.8.8.8', '9.9.9.9']);
  assert.equal(h.core.counters[C.permissions], 3);
});

test('One refused address among several: 403 and none installed', () => {
  const { h, c, alloc } = allocated();
  assertError(c.createPermission(PEER, v4('10.0.0.1'), PEER2), Method.CreatePermission, 403);
  assert.equal(alloc.permissions.size, 0);
  assert.equal(h.core.counters[C.permissions], 0);
});

test('CreatePermission without XOR-PEER-ADDRESS: 400; with an IPv6 peer on an IPv4 allocation: 443', () => {
  const { c, alloc } = allocated();
  assertError(c.createPermission(), Method.CreatePermission, 400);
  assertError(c.createPermission(v6('2001:4860:4860::8888')), Method.CreatePermission, 443);
  const bad = c.signed(Method.CreatePermission, (w) => w.addBytes(Attr.XorPeerAddress, new Uint8Array([0, 9, 0, 0])));
  assertError(bad, Method.CreatePermission, 400);
  assert.equal(alloc.permissions.size, 0);
});

test('CreatePermission without an allocation: 437', () => {
  const h = setup();
  const c = new TestClient(h);
  c.challenge(Method.CreatePermission, (w) => w.addXorAddress(Attr.XorPeerAddress, PEER));
  assertError(c.createPermission(PEER), Method.CreatePermission, 437);
});

test('maxPermissionsPerAllocation: beyond it, 508; refreshing existing ones still works', () => {
  const { c, alloc } = allocated({ maxPermissionsPerAllocation: 2 });
  assertSuccess(c.createPermission(PEER, PEER2), Method.CreatePermission);
  assertError(c.createPermission(v4('9.9.9.9')), Method.CreatePermission, 508);
  assertSuccess(c.createPermission(PEER), Method.CreatePermission);
  assert.equal(alloc.permissions.size, 2);
});

test('Send indication with a permission: sendToPeer with exactly the DATA bytes, to that peer, no response', () => {
  const { h, c, alloc } = allocated();
  c.createPermission(PEER);
  const data = text('hello, peer');
  const out = c.sendIndication(PEER, data);
  assert.equal(out.length, 0, 'indications are not answered');
  assert.equal(h.host.toPeer.length, 1);
  const sent = h.host.toPeer[0];
  assert.equal(sent.alloc, alloc);
  assert.equal(sent.address, '8.8.8.8');
  assert.equal(sent.port, 3478);
  assert.deepEqual(sent.bytes, data);
  // The permission is for the IP address: another port of the same peer works too.
  c.sendIndication(v4('8.8.8.8', 53), new Uint8Array([1, 2, 3]));
  assert.equal(h.host.toPeer[1].port, 53);
  assert.deepEqual(h.host.toPeer[1].bytes, new Uint8Array([1, 2, 3]));
  assert.equal(h.core.counters[C.toPeerPackets], 2);
  assert.equal(h.core.counters[C.toPeerBytes], data.length + 3);
  // An empty DATA is forwarded as an empty datagram.
  c.sendIndication(PEER, new Uint8Array(0));
  assert.equal(h.host.toPeer[2].bytes.length, 0);
});

test('Send indication without a permission: dropped, droppedNoPermission', () => {
  const { h, c } = allocated();
  c.createPermission(PEER);
  c.sendIndication(PEER2, text('nope'));
  assert.equal(h.host.toPeer.length, 0);
  assert.equal(h.core.counters[C.droppedNoPermission], 1);
});

test('Send indication without an allocation, or without DATA or XOR-PEER-ADDRESS: dropped', () => {
  const h = setup();
  const c = new TestClient(h);
  c.sendIndication(PEER, text('x'));
  const a = allocated();
  a.c.createPermission(PEER);
  a.c.sendRaw(buildMessage(Method.Send, { cls: StunClass.Indication, attrs: (w) => w.addXorAddress(Attr.XorPeerAddress, PEER) }));
  a.c.sendRaw(buildMessage(Method.Send, { cls: StunClass.Indication, attrs: (w) => w.addBytes(Attr.Data, text('x')) }));
  assert.equal(h.host.toPeer.length + a.h.host.toPeer.length, 0);
  assert.equal(a.h.host.toClient.length, 3, 'only the 401, Allocate and CreatePermission responses');
});

test('Permissions expire after 300 s: Send indications and peer data are then dropped', () => {
  const { h, c, alloc } = allocated();
  c.createPermission(PEER);
  h.advance(299_999);
  c.sendIndication(PEER, text('still'));
  assert.equal(h.host.toPeer.length, 1);
  h.advance(1);
  assert.equal(alloc.permissions.size, 0, 'swept');
  assert.equal(h.core.counters[C.permissions], 0);
  c.sendIndication(PEER, text('too late'));
  assert.equal(h.host.toPeer.length, 1);
  const before = h.host.toClient.length;
  h.core.handlePeerData(alloc, PEER.address, PEER.port, text('too late'));
  assert.equal(h.host.toClient.length, before);
  assert.equal(h.core.counters[C.droppedNoPermission], 2);
});

test('A refreshed permission lives 300 s from the refresh', () => {
  const { h, c } = allocated();
  c.createPermission(PEER);
  h.advance(200_000);
  c.createPermission(PEER);
  h.advance(200_000);
  c.sendIndication(PEER, text('alive'));
  assert.equal(h.host.toPeer.length, 1);
});

test('Peer data with a permission and no channel: a Data indication with XOR-PEER-ADDRESS and DATA', () => {
  const { h, c, alloc } = allocated();
  c.createPermission(PEER);
  const before = h.host.toClient.length;
  const payload = text('from the peer');
  h.core.handlePeerData(alloc, PEER.address, PEER.port, payload);
  h.core.handlePeerData(alloc, PEER.address, 7777, payload);
  const sent = h.host.toClient.slice(before);
  assert.equal(sent.length, 2);
  assert.equal(sent[0].client, c.ref);
  const ind = decodeStun(sent[0].bytes);
  assert.equal(ind.method, Method.Data);
  assert.equal(ind.cls, StunClass.Indication);
  assert.deepEqual(decodeXorAddress(getAttribute(ind, Attr.XorPeerAddress)!, ind.transactionId), PEER);
  assert.deepEqual(getAttribute(ind, Attr.Data), payload);
  const second = decodeStun(sent[1].bytes);
  assert.equal(decodeXorAddress(getAttribute(second, Attr.XorPeerAddress)!, second.transactionId).port, 7777);
  assert.notDeepEqual(second.transactionId, ind.transactionId, 'each indication has its own transaction id');
  assert.equal(h.core.counters[C.toClientPackets], 2);
  assert.equal(h.core.counters[C.toClientBytes], 2 * payload.length);
});

test('Peer data at an offset in a larger buffer: only [offset, offset+length) is relayed', () => {
  const { h, c, alloc } = allocated();
  c.createPermission(PEER);
  const buf = new Uint8Array([9, 9, 9, 1, 2, 3, 4, 9, 9]);
  const before = h.host.toClient.length;
  h.core.handlePeerData(alloc, PEER.address, PEER.port, buf, 3, 4);
  const ind = decodeStun(h.host.toClient[before].bytes);
  assert.deepEqual(getAttribute(ind, Attr.Data), new Uint8Array([1, 2, 3, 4]));
});

test('Peer data on an IPv6 allocation: the Data indication carries an IPv6 XOR-PEER-ADDRESS', () => {
  const { h, c, alloc } = allocated({ relayFamilies: [4, 6] }, 6);
  const peer = v6('2001:4860:4860::8888', 443);
  c.createPermission(peer);
  const before = h.host.toClient.length;
  h.core.handlePeerData(alloc, peer.address, peer.port, text('v6'));
  const ind = decodeStun(h.host.toClient[before].bytes);
  assert.deepEqual(decodeXorAddress(getAttribute(ind, Attr.XorPeerAddress)!, ind.transactionId), peer);
});

test('Peer data from a peer without a permission: dropped, droppedNoPermission', () => {
  const { h, c, alloc } = allocated();
  c.createPermission(PEER);
  const before = h.host.toClient.length;
  h.core.handlePeerData(alloc, PEER2.address, PEER2.port, text('who are you'));
  assert.equal(h.host.toClient.length, before);
  assert.equal(h.core.counters[C.droppedNoPermission], 1);
});

test('A Send indication with an unknown comprehension-required attribute is discarded (RFC 8489 §6.3.2)', () => {
  const { h, c } = allocated();
  c.createPermission(PEER);
  c.sendIndication(PEER, text('x'), (w) => w.addBytes(0x0031, new Uint8Array(4)));
  assert.equal(h.host.toPeer.length, 0);
});

test('Requests over a closed allocation of another client do not leak: allocations are per 5-tuple', () => {
  const { h, c } = allocated();
  c.createPermission(PEER);
  const other = new TestClient(h, 'alice', 'alice-pass');
  other.sendIndication(PEER, text('not mine'));
  assert.equal(h.host.toPeer.length, 0);
  other.challenge(Method.Allocate, allocateAttrs());
  assertError(other.createPermission(PEER), Method.CreatePermission, 437);
});
