import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  av1IsKeyframe,
  h264IsKeyframe,
  newVp8Descriptor,
  readVp8Descriptor,
  vp8IsKeyframe,
  vp9IsKeyframe,
  writeVp8PictureId,
  writeVp8Tl0PicIdx,
} from '../src/index.js';
import type { Vp8Descriptor } from '../src/index.js';
import { buildRtp, embed } from './helpers.js';

const at = (bytes: number[], f: (b: Uint8Array, o: number, l: number) => boolean): boolean =>
  f(embed(Uint8Array.from(bytes), 3, 2, 0xff), 3, bytes.length);

test('VP8 descriptor with a 7-bit picture id', () => {
  const d: Vp8Descriptor = newVp8Descriptor();
  const payload = Uint8Array.from([0x90, 0x80, 0x11, 0x50, 0x2a, 0x01]);
  assert.equal(readVp8Descriptor(payload, 0, payload.length, d), true);
  assert.deepEqual(d, { pictureId: 0x11, pictureIdBits: 7, tl0PicIdx: -1, tid: -1, layerSync: false, keyIdx: -1, headerLength: 3 });
  writeVp8PictureId(payload, 0, 0x1ff); // masked to 7 bits
  assert.equal(payload[2], 0x7f);
  writeVp8Tl0PicIdx(payload, 0, 5); // absent: no-op
  assert.deepEqual([...payload], [0x90, 0x80, 0x7f, 0x50, 0x2a, 0x01]);
  assert.equal(vp8IsKeyframe(payload, 0, payload.length), true);
});

test('VP8 descriptor with a 15-bit picture id, TL0PICIDX, TID/Y/KEYIDX', () => {
  const pkt = buildRtp({ ext: { form: 'one', elems: [{ id: 1, data: [1] }] }, payload: [0x90, 0xf0, 0x81, 0x23, 0x42, 0xa5, 0x9d, 0x01, 0x2a] });
  const po = 20;
  const pl = pkt.length - po;
  const d = newVp8Descriptor();
  assert.equal(readVp8Descriptor(pkt, po, pl, d), true);
  assert.deepEqual(d, { pictureId: 0x123, pictureIdBits: 15, tl0PicIdx: 0x42, tid: 2, layerSync: true, keyIdx: 5, headerLength: 6 });
  writeVp8PictureId(pkt, po, 0x7ffe);
  writeVp8Tl0PicIdx(pkt, po, 0x1ff);
  assert.equal(readVp8Descriptor(pkt, po, pl, d), true);
  assert.equal(d.pictureId, 0x7ffe);
  assert.equal(d.pictureIdBits, 15);
  assert.equal(d.tl0PicIdx, 0xff);
  assert.equal(d.tid, 2);
  assert.equal(d.keyIdx, 5);
  writeVp8PictureId(pkt, po, 0x8001); // wraps within 15 bits
  readVp8Descriptor(pkt, po, pl, d);
  assert.equal(d.pictureId, 1);
  assert.equal(vp8IsKeyframe(pkt, po, pl), false); // P bit set in 0x9d
  // K only: TID stays absent
  const konly = Uint8Array.from([0x80, 0x10, 0x1f]);
  assert.equal(readVp8Descriptor(konly, 0, 3, d), true);
  assert.equal(d.tid, -1);
  assert.equal(d.keyIdx, 31);
  assert.equal(d.headerLength, 3);
  // no extension byte
  assert.equal(readVp8Descriptor(Uint8Array.from([0x10, 0x00]), 0, 2, d), true);
  assert.equal(d.headerLength, 1);
  assert.equal(d.pictureIdBits, 0);
  // truncated descriptors
  for (const bad of [[], [0x80], [0x80, 0x80], [0x80, 0x80, 0x81], [0x80, 0x40], [0x80, 0x20]]) {
    assert.equal(readVp8Descriptor(Uint8Array.from(bad), 0, bad.length, d), false, JSON.stringify(bad));
  }
});

test('VP8 keyframes: S=1, PID=0, P=0', () => {
  assert.equal(at([0x10, 0x50, 0x2a], vp8IsKeyframe), true);
  assert.equal(at([0x10, 0x51], vp8IsKeyframe), false); // P=1: interframe
  assert.equal(at([0x00, 0x50], vp8IsKeyframe), false); // not a partition start
  assert.equal(at([0x11, 0x50], vp8IsKeyframe), false); // partition 1
  assert.equal(at([0x90, 0xc0, 0x80, 0x01, 0x07, 0x50], vp8IsKeyframe), true); // I (15 bit) + L
  assert.equal(at([0x90, 0xc0, 0x80, 0x01, 0x07], vp8IsKeyframe), false); // no payload header
  assert.equal(at([0x10], vp8IsKeyframe), false);
});

test('VP9 keyframes: P=0 and B=1 on the first spatial layer', () => {
  assert.equal(at([0x88, 0x05], vp9IsKeyframe), true); // I B, 7-bit pid, no layers
  assert.equal(at([0x08], vp9IsKeyframe), true);
  assert.equal(at([0xc8, 0x05], vp9IsKeyframe), false); // P=1
  assert.equal(at([0x80, 0x05], vp9IsKeyframe), false); // B=0
  // non-flexible with layer indices: TID/U/SID/D then TL0PICIDX
  assert.equal(at([0xa8, 0x81, 0x00, 0x00, 0x05], vp9IsKeyframe), true);
  assert.equal(at([0xa8, 0x81, 0x00, 0x02, 0x05], vp9IsKeyframe), false); // SID 1
  // flexible mode
  assert.equal(at([0xb8, 0x7f, 0x20], vp9IsKeyframe), true); // TID 1, SID 0
  assert.equal(at([0xb8, 0x7f, 0x04], vp9IsKeyframe), false); // SID 2
  assert.equal(at([0xa8, 0x81, 0x00], vp9IsKeyframe), false); // truncated
  assert.equal(at([], vp9IsKeyframe), false);
});

test('H.264 keyframes: single NAL, STAP-A, FU-A', () => {
  assert.equal(at([0x65, 0x88], h264IsKeyframe), true); // IDR
  assert.equal(at([0x67, 0x42], h264IsKeyframe), true); // SPS
  assert.equal(at([0x68, 0xce], h264IsKeyframe), false); // PPS
  assert.equal(at([0x41, 0x9a], h264IsKeyframe), false); // non-IDR slice
  // STAP-A: AUD, SPS, PPS
  assert.equal(at([0x78, 0x00, 0x02, 0x09, 0xf0, 0x00, 0x03, 0x67, 0x42, 0x00, 0x00, 0x02, 0x68, 0xce], h264IsKeyframe), true);
  assert.equal(at([0x78, 0x00, 0x02, 0x09, 0xf0, 0x00, 0x02, 0x41, 0x9a], h264IsKeyframe), false);
  assert.equal(at([0x78, 0x00, 0x02, 0x09, 0xf0, 0x00, 0x09, 0x65], h264IsKeyframe), false); // size overruns
  // FU-A
  assert.equal(at([0x7c, 0x85, 0xb8], h264IsKeyframe), true); // start of an IDR
  assert.equal(at([0x7c, 0x05, 0xb8], h264IsKeyframe), false); // middle
  assert.equal(at([0x7c, 0x45, 0xb8], h264IsKeyframe), false); // end
  assert.equal(at([0x7c, 0x81, 0xb8], h264IsKeyframe), false); // start of a non-IDR slice
  assert.equal(at([0x7c], h264IsKeyframe), false);
  assert.equal(at([], h264IsKeyframe), false);
});

test('AV1 keyframes: N bit of the aggregation header', () => {
  assert.equal(at([0x18, 0x0a], av1IsKeyframe), true); // W=1, N=1
  assert.equal(at([0x08], av1IsKeyframe), true);
  assert.equal(at([0x10, 0x0a], av1IsKeyframe), false);
  assert.equal(at([0xf7], av1IsKeyframe), false);
  assert.equal(at([], av1IsKeyframe), false);
});
