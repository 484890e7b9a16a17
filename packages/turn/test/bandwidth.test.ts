// The per-allocation bandwidth cap (coturn's max-bps): a token bucket per direction, refilled
// by the clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Method } from '@switchboard/stun';
import { C } from '../src/index.js';
import { assertSuccess, channelData, PEER, setup, type SetupOptions, TestClient } from './harness.js';

function capped(opts: SetupOptions) {
  const h = setup(opts);
  const c = new TestClient(h);
  const { alloc } = c.allocateOk();
  assertSuccess(c.channelBind(0x4000, PEER), Method.ChannelBind);
  const toPeer = (n: number) => c.sendRaw(channelData(0x4000, new Uint8Array(n)));
  const toClient = (n: number) => h.core.handlePeerData(alloc, PEER.address, PEER.port, new Uint8Array(n));
  return { h, c, alloc, toPeer, toClient };
}

test('maxBps: data beyond the bucket is dropped (droppedBandwidth) and the bucket refills on tick', () => {
  const { h, toPeer } = capped({ maxBps: 1000 });
  toPeer(600);
  toPeer(300);
  assert.equal(h.host.toPeer.length, 2);
  toPeer(600);
  assert.equal(h.host.toPeer.length, 2, 'over the cap');
  assert.equal(h.core.counters[C.droppedBandwidth], 1);
  h.advance(2000);
  toPeer(1000);
  assert.equal(h.host.toPeer.length, 3, 'refilled');
  assert.equal(h.core.counters[C.toPeerBytes], 1900);
});

test('maxBps: the bucket never holds more than one second of data', () => {
  const { h, toPeer } = capped({ maxBps: 1000 });
  h.advance(60_000);
  toPeer(1000);
  toPeer(1);
  assert.equal(h.host.toPeer.length, 1);
  assert.equal(h.core.counters[C.droppedBandwidth], 1);
});

test('maxBps: the two directions have their own buckets', () => {
  const { h, toPeer, toClient } = capped({ maxBps: 1000 });
  const sentBefore = h.host.toClient.length;
  toPeer(1000);
  toClient(1000);
  assert.equal(h.host.toPeer.length, 1);
  assert.equal(h.host.toClient.length, sentBefore + 1);
  toClient(1);
  assert.equal(h.host.toClient.length, sentBefore + 1);
  assert.equal(h.core.counters[C.droppedBandwidth], 1);
  h.advance(500);
  toClient(400);
  assert.equal(h.host.toClient.length, sentBefore + 2, 'half a second refills half the bucket');
});

test('maxBps: Send indications draw on the same bucket as ChannelData', () => {
  const { h, c, toPeer } = capped({ maxBps: 1000 });
  toPeer(800);
  c.sendIndication(PEER, new Uint8Array(300));
  assert.equal(h.host.toPeer.length, 1);
  assert.equal(h.core.counters[C.droppedBandwidth], 1);
});

test('maxBps 0 (the default): uncapped', () => {
  const { h, toPeer, toClient } = capped({});
  for (let i = 0; i < 20; i++) toPeer(60_000);
  for (let i = 0; i < 20; i++) toClient(60_000);
  assert.equal(h.host.toPeer.length, 20);
  assert.equal(h.core.counters[C.toClientPackets], 20);
  assert.equal(h.core.counters[C.droppedBandwidth], 0);
});

test('maxBps: a client sending at twice the cap still gets about the cap through', () => {
  const { h, toPeer } = capped({ maxBps: 1000 });
  // 10 s of 100-byte packets every 50 ms: 2000 B/s offered against 1000 B/s allowed.
  for (let ms = 0; ms < 10_000; ms += 50) {
    toPeer(100);
    h.advance(50);
  }
  const delivered = h.core.counters[C.toPeerBytes];
  assert.ok(delivered >= 9000, `delivered ${delivered} bytes in 10 s at a 1000 B/s cap`);
});

test('maxBps: after a second of silence a full bucket is available, whatever was dropped before', () => {
  const { h, toPeer } = capped({ maxBps: 1000 });
  toPeer(1000);
  toPeer(1000); // dropped
  h.advance(1000);
  toPeer(1000);
  assert.equal(h.host.toPeer.length, 2);
});
