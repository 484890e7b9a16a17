// Fuzz: random bytes and damaged valid packets (with the checksum fixed up, so they reach the
// parser and the state machine) never make receive() throw, and whatever the association sends
// afterwards is still a well-formed SCTP packet for this association.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crc32c, wire } from '../src/index.js';
import { collect, connected, openChannel } from './helpers.js';
import type { Pair } from './helpers.js';

function fixCrc(b: Uint8Array): Uint8Array {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(8, crc32c(b, 8), true);
  return b;
}

function assertWellFormed(p: Pair, from: 'client' | 'server', start: number): void {
  for (const pk of p.sent[from].slice(start)) {
    assert.ok(wire.verifyChecksum(pk), 'valid CRC');
    const d = wire.decodePacket(pk);
    assert.equal(d.srcPort, 5000);
    assert.equal(d.dstPort, 5000);
    assert.ok(d.chunks.length > 0);
    assert.ok(pk.length <= 1200 || d.chunks[0].type === wire.ChunkType.INIT_ACK, `size ${pk.length}`);
    for (const c of d.chunks) if (c.type === wire.ChunkType.DATA) wire.decodeData(c);
  }
}

test('random bytes never throw and never break the association', () => {
  const p = connected();
  const { local, remote } = openChannel(p, 'client', 'x');
  const got = collect(remote);
  const start = { client: p.sent.client.length, server: p.sent.server.length };
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 1500 }), fc.boolean(), (bytes, fix) => {
      const b = fix && bytes.length >= 12 ? fixCrc(bytes.slice()) : bytes;
      p.server.receive(b);
      p.client.receive(b);
    }),
    { numRuns: 3000 },
  );
  assert.equal(p.client.state, 'established');
  assert.equal(p.server.state, 'established');
  local.send('still works');
  p.run(() => got.length === 1);
  assertWellFormed(p, 'client', start.client);
  assertWellFormed(p, 'server', start.server);
});

test('damaged live packets (checksum fixed up) never throw; output stays well-formed', () => {
  const mutation = fc.record({
    seed: fc.nat(),
    which: fc.nat(),
    toServer: fc.boolean(),
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
    tail: fc.uint8Array({ maxLength: 24 }),
    chunkType: fc.option(fc.constantFrom(0, 1, 2, 3, 4, 6, 7, 8, 10, 11, 14, 0x82, 0xc0, 0x40, 0x80, 0xff), { nil: undefined }),
  });
  // Each run: a fresh established pair with traffic on a reliable and a partially reliable
  // channel; every third packet is held back instead of delivered, and a damaged copy of one of
  // those (so its tags and TSNs are live) is injected before the rest of the traffic settles.
  let runs = 0;
  fc.assert(
    fc.property(mutation, (m) => {
      const held: { from: 'client' | 'server'; p: Uint8Array }[] = [];
      let n = 0;
      let holding = false;
      const p = connected({
        seed: m.seed,
        filter: (from, pk) => {
          if (holding && ++n % 3 === 0) {
            held.push({ from, p: pk });
            return false;
          }
          return true;
        },
      });
      const a = openChannel(p, 'client', 'a');
      const b = openChannel(p, 'server', 'b', { maxRetransmits: 0, ordered: false });
      collect(a.remote);
      collect(b.remote);
      const start = { client: p.sent.client.length, server: p.sent.server.length };
      holding = true;
      for (let i = 0; i < 6; i++) {
        a.local.send('m'.repeat(i * 700));
        b.local.send(Uint8Array.of(i));
      }
      if (m.seed % 4 === 0) a.local.close();
      p.run(() => held.length >= 2 || p.now() > 3000, 10_000);
      holding = false;
      const pool = held.filter((h) => (h.from === 'client') === m.toServer);
      const src = pool.length ? pool[m.which % pool.length].p : (m.toServer ? p.sent.client : p.sent.server).at(-1)!;
      let bytes = src.slice();
      if (m.chunkType !== undefined && bytes.length > 12) bytes[12] = m.chunkType;
      for (const [pos, x] of m.flips) {
        const i = 12 + (pos % Math.max(1, bytes.length - 12));
        if (i < bytes.length) bytes[i] ^= x;
      }
      if (m.cut !== undefined) bytes = bytes.subarray(0, 12 + (m.cut % Math.max(1, bytes.length - 11)));
      const c = new Uint8Array(bytes.length + m.tail.length);
      c.set(bytes);
      c.set(m.tail, bytes.length);
      fixCrc(c);
      const target = m.toServer ? p.server : p.client;
      target.receive(c);
      p.settle(30_000);
      assertWellFormed(p, 'client', start.client);
      assertWellFormed(p, 'server', start.server);
      assert.ok(['established', 'closed', 'shutdown', 'failed'].includes(target.state));
      runs++;
    }),
    { numRuns: 800 },
  );
  assert.equal(runs, 800);
});
