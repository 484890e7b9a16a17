import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RtpError,
  readRtx,
  readTransportSeq,
  rtpHeaderLength,
  rtpMarker,
  rtpPayloadLength,
  rtpPayloadType,
  rtpSeq,
  rtpSsrc,
  rtpTimestamp,
  writeRtx,
} from '../src/index.js';
import { buildRtp } from './helpers.js';

const spec = {
  marker: true,
  pt: 96,
  seq: 0xfff0,
  ts: 0xa0b0c0d0,
  ssrc: 0x01010101,
  csrcs: [0x0a0b0c0d],
  ext: { form: 'one' as const, elems: [{ id: 3, data: [0x12, 0x34] }] },
  payload: [1, 2, 3, 4, 5, 6, 7],
};

test('RTX write/read round trip (RFC 4588)', () => {
  const orig = buildRtp(spec);
  const dst = new Uint8Array(100).fill(0xee);
  const n = writeRtx(orig, 0, orig.length, dst, 10, 97, 0x02020202, 0x0042);
  assert.equal(n, orig.length + 2);
  assert.equal(rtpPayloadType(dst, 10), 97);
  assert.equal(rtpSsrc(dst, 10), 0x02020202);
  assert.equal(rtpSeq(dst, 10), 0x0042);
  assert.equal(rtpMarker(dst, 10), true);
  assert.equal(rtpTimestamp(dst, 10), 0xa0b0c0d0);
  assert.equal(readTransportSeq(dst, 10, n, 3), 0x1234);
  const h = rtpHeaderLength(dst, 10, n);
  assert.equal(h, rtpHeaderLength(orig, 0, orig.length));
  assert.deepEqual([...dst.subarray(10 + h, 10 + n)], [0xff, 0xf0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(dst[9], 0xee);
  assert.equal(dst[10 + n], 0xee);

  const back = new Uint8Array(64);
  const m = readRtx(dst, 10, n, back, 0, 96, 0x01010101);
  assert.equal(m, orig.length);
  assert.deepEqual(back.subarray(0, m), orig);
});

test('RTX drops the original padding, works in place, rejects what cannot fit', () => {
  const padded = buildRtp({ ...spec, padding: 5 });
  const plain = buildRtp(spec);
  const buf = new Uint8Array(padded.length + 2);
  buf.set(padded);
  const n = writeRtx(buf, 0, padded.length, buf, 0, 97, 7, 8); // in place
  assert.equal(n, plain.length + 2);
  assert.equal(buf[0] & 0x20, 0);
  assert.equal(rtpPayloadLength(buf, 0, n), 9);
  const m = readRtx(buf, 0, n, buf, 0, 96, 0x01010101); // in place
  assert.deepEqual(buf.subarray(0, m), plain);

  assert.throws(() => writeRtx(plain, 0, plain.length, new Uint8Array(plain.length + 1), 0, 97, 1, 1), RtpError);
  // malformed source / RTX without OSN
  assert.equal(writeRtx(plain, 0, 11, new Uint8Array(100), 0, 97, 1, 1), -1);
  const noOsn = buildRtp({ payload: [1] });
  assert.equal(readRtx(noOsn, 0, noOsn.length, new Uint8Array(100), 0, 96, 1), -1);
  const empty = buildRtp({ payload: [0, 9] });
  assert.equal(readRtx(empty, 0, empty.length, new Uint8Array(100), 0, 96, 1), 12);
});
