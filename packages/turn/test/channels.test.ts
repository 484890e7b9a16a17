// ChannelBind and ChannelData (RFC 8656 §12): binding rules, the relay path both ways (UDP and
// the padded TCP framing), and channel expiry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attr, decodeStun, decodeXorAddress, getAttribute, Method, StunClass } from '@switchboard/stun';
import { C, LIFETIME } from '../src/index.js';
import {
  assertError,
  assertSigned,
  assertSuccess,
  channelData,
  clientRef,
  PEER,
  PEER2,
  setup,
  type SetupOptions,
  TestClient,
  text,
} from './harness.js';

function bound(opts: SetupOptions & { transport?: 'udp' | 'tcp' } = {}, channel = 0x4000) {
  const { transport, ...rest } = opts;
  const h = setup(rest);
  const c = new TestClient(h, 'alice', 'alice-pass', clientRef({ transport: transport ?? 'udp' }));
  const { alloc } = c.allocateOk();
  const res = c.channelBind(channel, PEER);
  assertSuccess(res, Method.ChannelBind);
  return { h, c, alloc, res };
}

/** What the core sent the client for one datagram from a peer. */
function fromPeer(h: ReturnType<typeof setup>, alloc: Parameters<typeof h.core.handlePeerData>[0], address: string, port: number, payload: Uint8Array) {
  const before = h.host.toClient.length;
  h.core.handlePeerData(alloc, address, port, payload);
  return h.host.toClient.slice(before);
}

test('ChannelBind 0x4000 to a peer: success, signed; it installs the permission too', () => {
  const { h, c, alloc, res } = bound();
  assertSigned(res, c.key);
  const ch = alloc.channels.get(0x4000);
  assert.ok(ch);
  assert.equal(ch.peerAddress, PEER.address);
  assert.equal(ch.peerPort, PEER.port);
  assert.equal(ch.expiresAt, h.core.now + LIFETIME.channel * 1000);
  assert.equal(LIFETIME.channel, 600);
  assert.equal(alloc.channelForPeer(PEER.address, PEER.port), ch);
  assert.ok(alloc.permissions.has(PEER.address));
  assert.equal(h.core.counters[C.channels], 1);
  assert.equal(h.core.counters[C.permissions], 1);
});

test('ChannelData from the client: sendToPeer with exactly the payload (offset and length right)', () => {
  const { h, c, alloc } = bound();
  const payload = text('channel payload');
  const frame = channelData(0x4000, payload);
  // Inside a larger buffer, with junk before and after.
  const buf = new Uint8Array(frame.length + 10).fill(0xaa);
  buf.set(frame, 6);
  assert.equal(c.sendRaw(buf, 6, frame.length).length, 0, 'no answer to ChannelData');
  assert.equal(h.host.toPeer.length, 1);
  const sent = h.host.toPeer[0];
  assert.equal(sent.alloc, alloc);
  assert.equal(sent.address, PEER.address);
  assert.equal(sent.port, PEER.port);
  assert.deepEqual(sent.bytes, payload);
  assert.equal(h.core.counters[C.toPeerPackets], 1);
  assert.equal(h.core.counters[C.toPeerBytes], payload.length);
});

test('ChannelData on the UDP fast path: udpAllocation + handleChannelData', () => {
  const { h, c } = bound();
  const alloc = h.core.udpAllocation(c.ref.address, c.ref.port);
  assert.ok(alloc);
  const frame = channelData(0x4000, new Uint8Array([1, 2, 3]));
  h.core.handleChannelData(alloc, frame, 0, frame.length);
  assert.deepEqual(h.host.toPeer[0].bytes, new Uint8Array([1, 2, 3]));
});

test('ChannelData from a TCP client: the padding is not relayed', () => {
  const { h, c } = bound({ transport: 'tcp' });
  const payload = new Uint8Array([1, 2, 3, 4, 5]);
  const frame = channelData(0x4000, payload, true);
  assert.equal(frame.length, 12);
  c.sendRaw(frame);
  assert.deepEqual(h.host.toPeer[0].bytes, payload);
});

test('ChannelData that is short, for an unbound channel, or without an allocation: dropped', () => {
  const { h, c } = bound();
  const frame = channelData(0x4000, text('abcdef'));
  c.sendRaw(frame.subarray(0, frame.length - 1)); // declared length runs past the end
  c.sendRaw(channelData(0x4001, text('abc'))); // not bound
  new TestClient(h).sendRaw(channelData(0x4000, text('abc'))); // no allocation
  assert.equal(h.host.toPeer.length, 0);
  assert.equal(h.core.counters[C.droppedMalformed], 3);
});

test('Peer data from a channel peer: ChannelData to a UDP client, header + payload, unpadded', () => {
  const { h, c, alloc } = bound();
  const payload = new Uint8Array([10, 20, 30, 40, 50]);
  const sent = fromPeer(h, alloc, PEER.address, PEER.port, payload);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].client, c.ref);
  assert.deepEqual(sent[0].bytes, new Uint8Array([0x40, 0x00, 0x00, 0x05, 10, 20, 30, 40, 50]));
  assert.equal(h.core.counters[C.toClientPackets], 1);
  assert.equal(h.core.counters[C.toClientBytes], 5);
});

test('Peer data from a channel peer to a TCP client: ChannelData padded to a multiple of 4 with zeros', () => {
  const { h, alloc } = bound({ transport: 'tcp' }, 0x4abc);
  for (const n of [0, 1, 4, 5, 7]) {
    const payload = new Uint8Array(n).fill(0xff);
    const [sent] = fromPeer(h, alloc, PEER.address, PEER.port, payload);
    const expected = new Uint8Array((4 + n + 3) & ~3);
    expected.set([0x4a, 0xbc, 0, n]);
    expected.fill(0xff, 4, 4 + n);
    assert.deepEqual(sent.bytes, expected, `${n} bytes`);
  }
});

test('Peer data from the channel peer\'s address but another port: a Data indication (the permission is per IP)', () => {
  const { h, alloc } = bound();
  const [sent] = fromPeer(h, alloc, PEER.address, 9999, text('other port'));
  const ind = decodeStun(sent.bytes);
  assert.equal(ind.method, Method.Data);
  assert.equal(ind.cls, StunClass.Indication);
  assert.deepEqual(decodeXorAddress(getAttribute(ind, Attr.XorPeerAddress)!, ind.transactionId), { ...PEER, port: 9999 });
  assert.deepEqual(getAttribute(ind, Attr.Data), text('other port'));
});

test('Peer data from a peer without a permission: dropped', () => {
  const { h, alloc } = bound();
  assert.equal(fromPeer(h, alloc, PEER2.address, PEER2.port, text('x')).length, 0);
  assert.equal(h.core.counters[C.droppedNoPermission], 1);
});

test('Bad channel numbers (0x3fff, 0x8000, 0xffff, 0) and a missing CHANNEL-NUMBER: 400', () => {
  const { c, alloc } = bound();
  for (const n of [0x3fff, 0x8000, 0xffff, 0]) assertError(c.channelBind(n, PEER2), Method.ChannelBind, 400);
  assertError(c.signed(Method.ChannelBind, (w) => w.addXorAddress(Attr.XorPeerAddress, PEER2)), Method.ChannelBind, 400);
  assertError(c.signed(Method.ChannelBind, (w) => w.addBytes(Attr.ChannelNumber, new Uint8Array([0x40, 0x01]))), Method.ChannelBind, 400);
  assert.equal(alloc.channels.size, 1);
  assert.equal(alloc.permissions.has(PEER2.address), false);
});

test('The top of RFC 8656\'s range, 0x4fff, binds', () => {
  const { c } = bound();
  assertSuccess(c.channelBind(0x4fff, PEER2), Method.ChannelBind);
});

test('Rebinding a channel to another peer, or a bound peer to another channel: 400', () => {
  const { h, c, alloc } = bound();
  assertError(c.channelBind(0x4000, PEER2), Method.ChannelBind, 400);
  assertError(c.channelBind(0x4000, { ...PEER, port: PEER.port + 1 }), Method.ChannelBind, 400);
  assertError(c.channelBind(0x4001, PEER), Method.ChannelBind, 400);
  assert.equal(alloc.channels.size, 1);
  assert.equal(alloc.channels.get(0x4000)?.peerAddress, PEER.address);
  assert.equal(h.core.counters[C.channels], 1);
  // Another port of the same peer IP on another channel is a different transport address: fine.
  assertSuccess(c.channelBind(0x4001, { ...PEER, port: PEER.port + 1 }), Method.ChannelBind);
  assert.equal(h.core.counters[C.channels], 2);
  assert.equal(h.core.counters[C.permissions], 1, 'one permission per IP');
});

test('ChannelBind to a peer the policy refuses: 403; without an allocation: 437', () => {
  const { c } = bound();
  assertError(c.channelBind(0x4002, { family: 4, address: '192.168.0.10', port: 1 }), Method.ChannelBind, 403);
  const h = setup();
  const d = new TestClient(h);
  d.challenge();
  assertError(d.channelBind(0x4000, PEER), Method.ChannelBind, 437);
});

test('Binding the same channel to the same peer again refreshes it (and its permission)', () => {
  const { h, c, alloc } = bound();
  h.advance(400_000);
  assertSuccess(c.channelBind(0x4000, PEER), Method.ChannelBind);
  assert.equal(alloc.channels.get(0x4000)?.expiresAt, h.core.now + 600_000);
  assert.equal(alloc.permissions.get(PEER.address)?.expiresAt, h.core.now + 300_000);
  assert.equal(h.core.counters[C.channels], 1);
  assert.equal(h.core.counters[C.permissions], 1);
});

test('A channel whose permission lapsed (300 s) drops data until the permission is refreshed', () => {
  const { h, c, alloc } = bound();
  h.advance(300_000);
  assert.ok(alloc.channels.has(0x4000), 'the channel lives 600 s');
  c.sendRaw(channelData(0x4000, text('x')));
  assert.equal(fromPeer(h, alloc, PEER.address, PEER.port, text('y')).length, 0);
  assert.equal(h.host.toPeer.length, 0);
  assert.equal(h.core.counters[C.droppedNoPermission], 2);
  c.createPermission(PEER);
  c.sendRaw(channelData(0x4000, text('x')));
  assert.equal(h.host.toPeer.length, 1);
});

test('Channels expire after 600 s: ChannelData is dropped and peer data comes as Data indications', () => {
  const { h, c, alloc } = bound();
  h.advance(250_000);
  c.createPermission(PEER);
  h.advance(250_000);
  c.createPermission(PEER); // permission now good until 800 s
  c.refresh(); // and the allocation until 1100 s
  h.advance(99_999);
  c.sendRaw(channelData(0x4000, text('last')));
  assert.equal(h.host.toPeer.length, 1);
  h.advance(1);
  assert.equal(alloc.channels.size, 0, 'swept at 600 s');
  assert.equal(alloc.channelForPeer(PEER.address, PEER.port), undefined);
  assert.equal(h.core.counters[C.channels], 0);
  assert.equal(h.core.counters[C.permissions], 1);
  c.sendRaw(channelData(0x4000, text('gone')));
  assert.equal(h.host.toPeer.length, 1);
  const [sent] = fromPeer(h, alloc, PEER.address, PEER.port, text('now an indication'));
  assert.equal(decodeStun(sent.bytes).method, Method.Data);
  // Nothing refreshed: at 800 s the permission goes as well.
  h.advance(200_000);
  assert.equal(alloc.permissions.size, 0);
  assert.equal(h.core.counters[C.permissions], 0);
});

test('maxChannelsPerAllocation: beyond it, 508', () => {
  const { c, alloc } = bound({ maxChannelsPerAllocation: 1 });
  assertError(c.channelBind(0x4001, PEER2), Method.ChannelBind, 508);
  assertSuccess(c.channelBind(0x4000, PEER), Method.ChannelBind);
  assert.equal(alloc.channels.size, 1);
});
