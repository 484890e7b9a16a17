// VP8 over RTP (RFC 7741): the depacketizer joins a frame's packets and strips the descriptors,
// drops everything from a loss to the next keyframe (asking for one), ignores duplicates, survives
// any bytes; the packetizer's packets are well-formed and come back out of the depacketizer as
// the same frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { rtpHeaderLength, rtpMarker, rtpPayloadType, rtpSeq, rtpSsrc, rtpTimestamp, readVp8Descriptor, newVp8Descriptor } from '@switchboard/rtp';
import { Vp8Depacketizer, MAX_VP8_FRAME } from '../../src/video/vp8-depacketizer.js';
import { Vp8Packetizer } from '../../src/video/vp8-packetizer.js';

/** A VP8 keyframe's first bytes (frame tag, start code, size) followed by filler. */
function keyframe(width: number, height: number, len = 100, fill = 7): Uint8Array {
  const f = new Uint8Array(len).fill(fill);
  f[0] = 0x10; // bit 0 = 0: keyframe; show_frame
  f[1] = 0;
  f[2] = 0;
  f.set([0x9d, 0x01, 0x2a, width & 0xff, width >> 8, height & 0xff, height >> 8], 3);
  return f;
}

function delta(len = 50, fill = 9): Uint8Array {
  const f = new Uint8Array(len).fill(fill);
  f[0] = 0x11; // bit 0 = 1: interframe
  return f;
}

/** One payload: a 1-byte descriptor (S bit on the first part) or, with pictureId, a 4-byte one. */
function payload(part: Uint8Array, start: boolean, pictureId = -1): Uint8Array {
  const head = pictureId < 0 ? [start ? 0x10 : 0] : [0x80 | (start ? 0x10 : 0), 0x80, 0x80 | (pictureId >> 8), pictureId & 0xff];
  const p = new Uint8Array(head.length + part.length);
  p.set(head);
  p.set(part, head.length);
  return p;
}

/** Splits a frame into `parts` payloads. */
function split(frame: Uint8Array, parts: number, pictureId = -1): Uint8Array[] {
  const out: Uint8Array[] = [];
  const per = Math.ceil(frame.length / parts);
  for (let i = 0; i < parts; i++) out.push(payload(frame.subarray(i * per, Math.min(frame.length, (i + 1) * per)), i === 0, pictureId));
  return out;
}

/** Feeds a frame's packets from seq; returns [frame copy or null, next seq]. */
function feed(d: Vp8Depacketizer, frame: Uint8Array, seq: number, ts: number, parts = 3, skip = -1): [{ data: Uint8Array; keyframe: boolean; width: number; height: number; rtpTimestamp: number } | null, number] {
  const payloads = split(frame, parts);
  let out = null;
  for (let i = 0; i < payloads.length; i++) {
    if (i !== skip) {
      const f = d.push(seq & 0xffff, ts, i === payloads.length - 1, payloads[i]);
      if (f !== null) out = { ...f, data: f.data.slice() };
    }
    seq++;
  }
  return [out, seq];
}

test('joins a frame of several packets, strips the descriptors, reads a keyframe size', () => {
  const d = new Vp8Depacketizer();
  const k = keyframe(640, 360, 3000);
  for (let i = 10; i < k.length; i++) k[i] = i & 0xff;
  const [f, seq] = feed(d, k, 100, 9000, 4);
  assert.ok(f !== null);
  assert.deepEqual(f.data, k);
  assert.equal(f.keyframe, true);
  assert.equal(f.width, 640);
  assert.equal(f.height, 360);
  assert.equal(f.rtpTimestamp, 9000);
  const [g] = feed(d, delta(500), seq, 12000, 2);
  assert.ok(g !== null);
  assert.equal(g.keyframe, false);
  assert.equal(g.width, 0);
  assert.equal(d.needsKeyframe, false);
  assert.equal(d.framesOut, 2);
});

test('descriptors with picture ids and other extensions are stripped too', () => {
  const d = new Vp8Depacketizer();
  const k = keyframe(320, 240, 40);
  const p = split(k, 2, 1234);
  assert.equal(d.push(1, 0, false, p[0]), null);
  const f = d.push(2, 0, true, p[1]);
  assert.ok(f !== null);
  assert.deepEqual(f.data, k);
  // X with L, T, K: tl0picidx and tid/keyidx bytes
  const d2 = new Vp8Depacketizer();
  const body = keyframe(2, 2, 12);
  const pl = new Uint8Array(4 + body.length);
  pl.set([0x90, 0x70, 5, 0x40]);
  pl.set(body, 4);
  const g = d2.push(7, 0, true, pl);
  assert.ok(g !== null);
  assert.deepEqual(g.data, body);
});

test('loss drops the frame and everything until the next keyframe; needsKeyframe until then', () => {
  const d = new Vp8Depacketizer();
  let seq = 65530; // across the wrap too
  let f;
  [f, seq] = feed(d, keyframe(64, 48), seq, 0);
  assert.ok(f?.keyframe);
  [f, seq] = feed(d, delta(), seq, 3000, 3, 1); // middle packet lost
  assert.equal(f, null);
  assert.equal(d.needsKeyframe, true);
  for (let i = 0; i < 3; i++) {
    [f, seq] = feed(d, delta(), seq, 6000 + i * 3000);
    assert.equal(f, null, 'deltas after a loss are dropped');
    assert.equal(d.needsKeyframe, true);
  }
  [f, seq] = feed(d, keyframe(64, 48), seq, 20000);
  assert.ok(f?.keyframe);
  assert.equal(d.needsKeyframe, false);
  [f, seq] = feed(d, delta(), seq, 23000);
  assert.ok(f !== null && !f.keyframe);
  assert.ok(d.framesDropped >= 4);
});

test('losing the last packet (marker) of a frame is noticed at the next one', () => {
  const d = new Vp8Depacketizer();
  let seq = 1;
  let f;
  [f, seq] = feed(d, keyframe(64, 48), seq, 0);
  [f, seq] = feed(d, delta(), seq, 3000, 3, 2);
  assert.equal(f, null);
  [f, seq] = feed(d, delta(), seq, 6000);
  assert.equal(f, null);
  assert.equal(d.needsKeyframe, true);
});

test('starting mid-stream: deltas are dropped and a keyframe is asked for; duplicates are not loss', () => {
  const d = new Vp8Depacketizer();
  let [f, seq] = feed(d, delta(), 500, 0);
  assert.equal(f, null);
  assert.equal(d.needsKeyframe, true);
  [f, seq] = feed(d, keyframe(8, 8), seq, 3000, 2);
  assert.ok(f?.keyframe);
  // a retransmitted old packet arrives again: ignored, no keyframe needed
  assert.equal(d.push((seq - 1) & 0xffff, 3000, true, payload(delta(10), true)), null);
  assert.equal(d.needsKeyframe, false);
  [f] = feed(d, delta(), seq, 6000, 2);
  assert.ok(f !== null);
});

test('payloads are copied: the caller may reuse its buffers', () => {
  const d = new Vp8Depacketizer();
  const k = keyframe(16, 16, 60);
  const p = split(k, 2);
  d.push(1, 0, false, p[0]);
  p[0].fill(0xee);
  const f = d.push(2, 0, true, p[1]);
  assert.ok(f !== null);
  assert.deepEqual(f.data, k);
});

test('a frame over 2 MB is dropped', () => {
  const d = new Vp8Depacketizer();
  const chunk = 60_000;
  const n = Math.ceil((MAX_VP8_FRAME + 1) / chunk) + 1;
  const big = keyframe(1920, 1080, chunk);
  let out = null;
  for (let i = 0; i < n; i++) out = d.push(i, 0, i === n - 1, payload(i === 0 ? big : delta(chunk), i === 0)) ?? out;
  assert.equal(out, null);
  assert.equal(d.needsKeyframe, true);
  // and the next normal keyframe goes through
  const [f] = feed(d, keyframe(64, 48), n, 3000);
  assert.ok(f?.keyframe);
});

test('random packets never throw (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ seq: fc.integer({ min: 0, max: 0xffff }), ts: fc.nat(), marker: fc.boolean(), bytes: fc.uint8Array({ maxLength: 40 }) }), { maxLength: 60 }),
      (packets) => {
        const d = new Vp8Depacketizer();
        for (const p of packets) {
          const f = d.push(p.seq, p.ts, p.marker, p.bytes);
          if (f !== null) assert.ok(f.data.length > 0 && f.data.length <= MAX_VP8_FRAME);
        }
        // mostly in-order streams of random bytes too
        const d2 = new Vp8Depacketizer();
        packets.forEach((p, i) => d2.push(i, p.ts & 3, p.marker, p.bytes));
      },
    ),
    { numRuns: 300 },
  );
});

test('packetizer: well-formed RTP, marker on the last packet, sizes within the limit, seq continues', () => {
  const pz = new Vp8Packetizer({ ssrc: 0xdeadbeef, payloadType: 96, maxPacketSize: 500 });
  const seq0 = pz.seq;
  const pid0 = pz.pictureId;
  const frame = keyframe(640, 360, 2000);
  const pkts = pz.packetize(frame, true, 90_000);
  assert.equal(pkts.length, Math.ceil(2000 / (500 - 16)));
  const desc = newVp8Descriptor();
  pkts.forEach((p, i) => {
    assert.ok(p.length <= 500);
    assert.equal(rtpHeaderLength(p, 0, p.length), 12);
    assert.equal(rtpPayloadType(p, 0), 96);
    assert.equal(rtpSsrc(p, 0), 0xdeadbeef);
    assert.equal(rtpTimestamp(p, 0), 90_000);
    assert.equal(rtpSeq(p, 0), (seq0 + i) & 0xffff);
    assert.equal(rtpMarker(p, 0), i === pkts.length - 1);
    assert.ok(readVp8Descriptor(p, 12, p.length - 12, desc));
    assert.equal(desc.pictureId, pid0);
    assert.equal(desc.pictureIdBits, 15);
    assert.equal((p[12] & 0x10) !== 0, i === 0, 'S only on the first');
    assert.equal(p[12] & 0x07, 0, 'PID 0');
  });
  const more = pz.packetize(delta(100), false, 93_000);
  assert.equal(more.length, 1);
  assert.equal(rtpSeq(more[0], 0), (seq0 + pkts.length) & 0xffff);
  assert.ok(readVp8Descriptor(more[0], 12, more[0].length - 12, desc));
  assert.equal(desc.pictureId, (pid0 + 1) & 0x7fff);
  assert.deepEqual(pz.packetize(new Uint8Array(0), false, 0), []);
});

test('packetizer: the picture id wraps at 15 bits', () => {
  const pz = new Vp8Packetizer({ ssrc: 1, payloadType: 96 });
  const desc = newVp8Descriptor();
  let prev = -1;
  let wrapped = false;
  for (let i = 0; i <= 0x8000; i++) {
    const [p] = pz.packetize(delta(4), false, i);
    readVp8Descriptor(p, 12, p.length - 12, desc);
    if (prev >= 0) {
      assert.equal(desc.pictureId, (prev + 1) & 0x7fff);
      if (desc.pictureId === 0) wrapped = true;
    }
    prev = desc.pictureId;
  }
  assert.ok(wrapped);
});

test('packetizer -> depacketizer round trip gives the same frames (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 6000 }), fc.nat()), { minLength: 1, maxLength: 8 }), fc.integer({ min: 100, max: 1500 }), (frames, max) => {
      const pz = new Vp8Packetizer({ ssrc: 5, payloadType: 100, maxPacketSize: max });
      const d = new Vp8Depacketizer();
      let ts = 1000;
      frames.forEach(([isKey, len, seed], i) => {
        const f = i === 0 || isKey ? keyframe(320, 180, Math.max(10, len), seed & 0xff) : delta(len, seed & 0xff);
        ts += 3000;
        let got = null;
        for (const p of pz.packetize(f, i === 0 || isKey, ts)) {
          assert.ok(p.length <= max);
          const hl = rtpHeaderLength(p, 0, p.length);
          const r = d.push(rtpSeq(p, 0), rtpTimestamp(p, 0), rtpMarker(p, 0), p.subarray(hl));
          if (r !== null) got = { ...r, data: r.data.slice() };
        }
        assert.ok(got !== null);
        assert.deepEqual(got.data, f);
        assert.equal(got.keyframe, i === 0 || isKey);
        assert.equal(got.rtpTimestamp, ts);
      });
      assert.equal(d.needsKeyframe, false);
    }),
    { numRuns: 100 },
  );
});
