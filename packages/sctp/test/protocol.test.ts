// Chunk-level behaviour against a hand-driven raw peer: checksum vectors, stateless cookie,
// verification tags, HEARTBEAT, unknown chunk types, delayed SACK, gap blocks, duplicates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SctpAssociation, crc32c, wire } from '../src/index.js';

const { ChunkType } = wire;
const enc = new TextEncoder();

test('CRC32c test vectors (RFC 3720 B.4)', () => {
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(enc.encode('123456789')), 0xe3069283);
});

test('packet and chunk codecs round-trip', () => {
  const data = wire.encodeData({ tsn: 0xfffffffe, sid: 3, ssn: 9, ppid: 51, unordered: true, beginning: true, ending: false, immediate: true, data: enc.encode('abc') });
  const sack = wire.encodeSack({ cumTsn: 5, arwnd: 1000, gaps: [[2, 3], [5, 5]], dups: [4] });
  const fwd = wire.encodeForwardTsn({ newCumTsn: 77, streams: [{ sid: 1, ssn: 2 }] });
  const pk = wire.encodePacket(5000, 5001, 0xdeadbeef, [data, sack, fwd]);
  assert.ok(wire.verifyChecksum(pk));
  const d = wire.decodePacket(pk);
  assert.equal(d.vtag, 0xdeadbeef);
  assert.equal(d.dstPort, 5001);
  const dc = wire.decodeData(d.chunks[0]);
  assert.equal(dc.tsn, 0xfffffffe);
  assert.ok(dc.unordered && dc.beginning && !dc.ending && dc.immediate);
  assert.deepEqual(dc.data, enc.encode('abc'));
  assert.deepEqual(wire.decodeSack(d.chunks[1]), { cumTsn: 5, arwnd: 1000, gaps: [[2, 3], [5, 5]], dups: [4] });
  assert.deepEqual(wire.decodeForwardTsn(d.chunks[2]), { newCumTsn: 77, streams: [{ sid: 1, ssn: 2 }] });
  assert.ok(wire.tsnGt(1, 0xffffffff) && wire.tsnLt(0xffffffff, 1) && wire.ssnGt(0, 0xffff));
});

/** A raw peer that has completed the handshake with `server`. */
function rawPeer(extra: { now?: () => number } = {}) {
  const out: Uint8Array[] = [];
  let t = 0;
  const now = extra.now ?? (() => t);
  const server = new SctpAssociation({ role: 'server', send: (p) => out.push(p), now, timers: 'manual' });
  server.start();
  const myTag = 0x11223344;
  const myTsn = 1000;
  const send = (vtag: number, chunks: Uint8Array[]) => server.receive(wire.encodePacket(5000, 5000, vtag, chunks));
  const take = () => out.splice(0).map((p) => wire.decodePacket(p));
  send(0, [wire.encodeInit(ChunkType.INIT, { initiateTag: myTag, arwnd: 100000, outboundStreams: 10, inboundStreams: 10, initialTsn: myTsn, forwardTsn: true, reconfig: true })]);
  const [ackPkt] = take();
  assert.equal(ackPkt.vtag, myTag);
  const initAck = wire.decodeInit(ackPkt.chunks[0]);
  assert.equal(server.state, 'closed', 'no state before COOKIE-ECHO');
  return {
    server,
    out,
    take,
    send,
    myTag,
    myTsn,
    peerTag: initAck.initiateTag,
    cookie: initAck.cookie!,
    advance: (ms: number) => (t += ms),
    establish() {
      send(initAck.initiateTag, [wire.encodeChunk(ChunkType.COOKIE_ECHO, 0, initAck.cookie!)]);
      const [p] = take();
      assert.equal(p.chunks[0].type, ChunkType.COOKIE_ACK);
      assert.equal(server.state, 'established');
    },
    data(tsn: number, sid: number, ssn: number, text: string, flags: Partial<{ unordered: boolean; immediate: boolean }> = {}) {
      return wire.encodeData({ tsn, sid, ssn, ppid: 51, unordered: false, beginning: true, ending: true, immediate: false, ...flags, data: enc.encode(text) });
    },
  };
}

test('INIT-ACK advertises extensions; COOKIE-ECHO establishes; forged and stale cookies are ignored', () => {
  const r = rawPeer();
  const forged = r.cookie.slice();
  forged[5] ^= 1;
  r.send(r.peerTag, [wire.encodeChunk(ChunkType.COOKIE_ECHO, 0, forged)]);
  assert.equal(r.server.state, 'closed');
  assert.equal(r.take().length, 0);
  r.advance(61_000);
  r.send(r.peerTag, [wire.encodeChunk(ChunkType.COOKIE_ECHO, 0, r.cookie)]);
  assert.equal(r.server.state, 'closed', 'stale cookie');
  const r2 = rawPeer();
  r2.establish();
  // A retransmitted COOKIE-ECHO is acknowledged again.
  r2.send(r2.peerTag, [wire.encodeChunk(ChunkType.COOKIE_ECHO, 0, r2.cookie)]);
  assert.equal(r2.take()[0].chunks[0].type, ChunkType.COOKIE_ACK);
});

test('wrong verification tag and INIT bundled with other chunks are dropped', () => {
  const r = rawPeer();
  r.establish();
  r.send(r.peerTag ^ 1, [wire.encodeChunk(ChunkType.HEARTBEAT, 0, wire.encodeParam(1, Uint8Array.of(1, 2, 3, 4)))]);
  assert.equal(r.take().length, 0);
  r.send(r.peerTag, [wire.encodeChunk(ChunkType.HEARTBEAT, 0, wire.encodeParam(1, Uint8Array.of(1, 2, 3, 4)))]);
  const [hb] = r.take();
  assert.equal(hb.vtag, r.myTag);
  assert.equal(hb.chunks[0].type, ChunkType.HEARTBEAT_ACK);
  assert.deepEqual([...hb.chunks[0].value.subarray(4, 8)], [1, 2, 3, 4]);
});

test('unknown chunk types follow their upper two bits', () => {
  const hb = wire.encodeChunk(ChunkType.HEARTBEAT, 0, wire.encodeParam(1, Uint8Array.of(9, 9, 9, 9)));
  const cases: [number, boolean, boolean][] = [
    // type, keeps processing (HEARTBEAT answered), reports an ERROR
    [0x3f, false, false],
    [0x7f, false, true],
    [0xbf, true, false],
    [0xff, true, true],
  ];
  for (const [type, cont, report] of cases) {
    const r = rawPeer();
    r.establish();
    r.send(r.peerTag, [wire.encodeChunk(type, 0, Uint8Array.of(1, 2, 3)), hb]);
    const chunks = r.take().flatMap((p) => p.chunks.map((c) => c.type));
    assert.equal(chunks.includes(ChunkType.HEARTBEAT_ACK), cont, `type ${type} continue`);
    assert.equal(chunks.includes(ChunkType.ERROR), report, `type ${type} report`);
  }
});

test('delayed SACK: every second packet or 200 ms; immediately on gaps; duplicates reported', () => {
  const r = rawPeer();
  r.establish();
  // Negotiated channel so the data is delivered.
  const ch = r.server.createDataChannel('n', { negotiated: true, id: 1 });
  const got: unknown[] = [];
  ch.onmessage = (m) => got.push(m);
  r.send(r.peerTag, [r.data(r.myTsn, 1, 0, 'a')]);
  assert.equal(r.take().length, 0, 'first packet: SACK delayed');
  assert.ok(r.server.nextTimeout() !== null);
  r.advance(200);
  r.server.handleTimeout();
  let sacks = r.take();
  assert.equal(sacks.length, 1);
  assert.equal(wire.decodeSack(sacks[0].chunks[0]).cumTsn, r.myTsn);
  r.send(r.peerTag, [r.data(r.myTsn + 1, 1, 1, 'b')]);
  assert.equal(r.take().length, 0);
  r.send(r.peerTag, [r.data(r.myTsn + 2, 1, 2, 'c')]);
  sacks = r.take();
  assert.equal(sacks.length, 1, 'second packet: SACK now');
  // Gap: TSN +4 arrives before +3.
  r.send(r.peerTag, [r.data(r.myTsn + 4, 1, 4, 'e')]);
  sacks = r.take();
  assert.equal(sacks.length, 1, 'gap: SACK now');
  const s = wire.decodeSack(sacks[0].chunks[0]);
  assert.equal(s.cumTsn, r.myTsn + 2);
  assert.deepEqual(s.gaps, [[2, 2]]);
  assert.deepEqual(got, ['a', 'b', 'c'], 'SSN 4 waits for SSN 3');
  r.send(r.peerTag, [r.data(r.myTsn + 3, 1, 3, 'd')]);
  assert.deepEqual(got, ['a', 'b', 'c', 'd', 'e']);
  r.take();
  r.send(r.peerTag, [r.data(r.myTsn + 1, 1, 1, 'b')]);
  const dup = wire.decodeSack(r.take()[0].chunks[0]);
  assert.deepEqual(dup.dups, [r.myTsn + 1]);
  assert.equal(got.length, 5, 'duplicate not delivered twice');
});

test('FORWARD-TSN skips a lost ordered message and releases the ones behind it', () => {
  const r = rawPeer();
  r.establish();
  const ch = r.server.createDataChannel('n', { negotiated: true, id: 1 });
  const got: unknown[] = [];
  ch.onmessage = (m) => got.push(m);
  r.send(r.peerTag, [r.data(r.myTsn, 1, 0, 'a')]);
  r.send(r.peerTag, [r.data(r.myTsn + 2, 1, 2, 'c')]);
  assert.deepEqual(got, ['a']);
  r.send(r.peerTag, [wire.encodeForwardTsn({ newCumTsn: r.myTsn + 1, streams: [{ sid: 1, ssn: 1 }] })]);
  assert.deepEqual(got, ['a', 'c']);
  const last = r.take().at(-1)!;
  assert.equal(wire.decodeSack(last.chunks[0]).cumTsn, r.myTsn + 2);
});

test('RE-CONFIG: outgoing reset before the data arrived answers In progress, then Performed', () => {
  const r = rawPeer();
  r.establish();
  r.send(r.peerTag, [r.data(r.myTsn + 1, 1, 1, 'late')]);
  r.take();
  const req = wire.encodeChunk(ChunkType.RECONFIG, 0, wire.encodeOutgoingReset({ reqSeq: r.myTsn, respSeq: 0, lastTsn: r.myTsn + 1, streams: [1] }));
  r.send(r.peerTag, [req]);
  const resp = (p: wire.Packet) => wire.decodeReconfigResponse(wire.decodeParams(p.chunks.find((c) => c.type === ChunkType.RECONFIG)!.value)[0]);
  assert.equal(resp(r.take()[0]).result, wire.ReconfigResult.IN_PROGRESS);
  r.send(r.peerTag, [r.data(r.myTsn, 1, 0, 'first')]);
  r.take();
  r.send(r.peerTag, [req]);
  assert.equal(resp(r.take()[0]).result, wire.ReconfigResult.SUCCESS_PERFORMED);
  r.send(r.peerTag, [req]);
  assert.equal(resp(r.take()[0]).result, wire.ReconfigResult.SUCCESS_PERFORMED, 'retransmission gets the same answer');
});
