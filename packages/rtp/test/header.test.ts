import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isRtcp,
  isRtpOrRtcp,
  rtpHeaderLength,
  rtpMarker,
  rtpPaddingLength,
  rtpPayloadLength,
  rtpPayloadType,
  rtpSeq,
  rtpSsrc,
  rtpTimestamp,
  setRtpMarker,
  setRtpPayloadType,
  setRtpSeq,
  setRtpSsrc,
  setRtpTimestamp,
} from '../src/index.js';
import { buildRtp, embed } from './helpers.js';

test('classification by first bytes (RFC 7983, RFC 5761)', () => {
  const rtp = buildRtp({ pt: 111 });
  assert.equal(isRtpOrRtcp(rtp, 0, rtp.length), true);
  assert.equal(isRtcp(rtp, 0, rtp.length), false);
  const rr = Uint8Array.from([0x81, 201, 0, 7, ...new Array(28).fill(0)]);
  assert.equal(isRtpOrRtcp(rr, 0, rr.length), true);
  assert.equal(isRtcp(rr, 0, rr.length), true);
  // STUN (first byte 0..3), DTLS (20..63), TURN channel (64..79)
  for (const b of [0, 1, 22, 63, 64, 79, 192, 255]) {
    const d = new Uint8Array(20);
    d[0] = b;
    d[1] = 200;
    assert.equal(isRtpOrRtcp(d, 0, d.length), false, `first byte ${b}`);
    assert.equal(isRtcp(d, 0, d.length), false);
  }
  assert.equal(isRtpOrRtcp(rtp, 0, 11), false);
  // PT 72..95 with marker collides with RTCP 200..223 range: RFC 5761 says to avoid those PTs.
  const m = buildRtp({ pt: 96, marker: true });
  assert.equal(isRtcp(m, 0, m.length), false); // 0x80|96 = 224
  const hdr = buildRtp({});
  hdr[1] = 223;
  assert.equal(isRtcp(hdr, 0, hdr.length), true);
  hdr[1] = 191;
  assert.equal(isRtcp(hdr, 0, hdr.length), false);
});

test('fixed header getters and setters, in place, at an offset', () => {
  const pkt = buildRtp({ marker: true, pt: 100, seq: 0xfffe, ts: 0xfedcba98, ssrc: 0x89abcdef, payload: [1, 2, 3] });
  const buf = embed(pkt, 7, 5, 0xaa);
  assert.equal(rtpMarker(buf, 7), true);
  assert.equal(rtpPayloadType(buf, 7), 100);
  assert.equal(rtpSeq(buf, 7), 0xfffe);
  assert.equal(rtpTimestamp(buf, 7), 0xfedcba98);
  assert.equal(rtpSsrc(buf, 7), 0x89abcdef);
  setRtpMarker(buf, 7, false);
  assert.equal(rtpMarker(buf, 7), false);
  assert.equal(rtpPayloadType(buf, 7), 100);
  setRtpPayloadType(buf, 7, 0x7f);
  assert.equal(rtpPayloadType(buf, 7), 127);
  assert.equal(rtpMarker(buf, 7), false);
  setRtpMarker(buf, 7, true);
  setRtpPayloadType(buf, 7, 96);
  assert.equal(buf[8], 0x80 | 96);
  setRtpSeq(buf, 7, 0x10001); // masked to 16 bits
  assert.equal(rtpSeq(buf, 7), 1);
  setRtpTimestamp(buf, 7, 0xffffffff);
  assert.equal(rtpTimestamp(buf, 7), 0xffffffff);
  setRtpSsrc(buf, 7, 0x80000000);
  assert.equal(rtpSsrc(buf, 7), 0x80000000);
  assert.deepEqual([...buf.subarray(0, 7)], new Array(7).fill(0xaa));
  assert.deepEqual([...buf.subarray(buf.length - 5)], new Array(5).fill(0xaa));
});

test('header length with CSRCs, extensions and padding', () => {
  const plain = buildRtp({ payload: [9, 9, 9, 9] });
  assert.equal(rtpHeaderLength(plain, 0, plain.length), 12);
  assert.equal(rtpPayloadLength(plain, 0, plain.length), 4);
  assert.equal(rtpPaddingLength(plain, 0, plain.length), 0);

  const csrc = buildRtp({ csrcs: [1, 2, 3], payload: [1] });
  assert.equal(rtpHeaderLength(csrc, 0, csrc.length), 24);
  assert.equal(rtpPayloadLength(csrc, 0, csrc.length), 1);

  const ext = buildRtp({ csrcs: [7], ext: { form: 'one', elems: [{ id: 1, data: [0x80] }, { id: 3, data: [1, 2] }] }, payload: [5, 6], padding: 4 });
  // 12 + 4 + 4 (ext header) + 8 (5 bytes of elements padded to 8)
  assert.equal(rtpHeaderLength(ext, 0, ext.length), 28);
  assert.equal(rtpPayloadLength(ext, 0, ext.length), 2);
  assert.equal(rtpPaddingLength(ext, 0, ext.length), 4);

  const onlyPad = buildRtp({ padding: 255 });
  assert.equal(rtpPayloadLength(onlyPad, 0, onlyPad.length), 0);
});

test('malformed headers give -1', () => {
  const good = buildRtp({ csrcs: [1, 2], ext: { form: 'two', elems: [{ id: 20, data: [1, 2, 3] }] }, payload: [1, 2, 3] });
  const h = rtpHeaderLength(good, 0, good.length);
  for (let len = 0; len < h; len++) assert.equal(rtpHeaderLength(good, 0, len), -1, `len ${len}`);
  assert.equal(rtpHeaderLength(good, 0, h), h);
  const v1 = good.slice();
  v1[0] = (v1[0] & 0x3f) | 0x40;
  assert.equal(rtpHeaderLength(v1, 0, v1.length), -1);
  // padding count 0, or larger than the payload
  const p = buildRtp({ payload: [1, 2], padding: 2 });
  p[p.length - 1] = 0;
  assert.equal(rtpPayloadLength(p, 0, p.length), -1);
  p[p.length - 1] = 5;
  assert.equal(rtpPayloadLength(p, 0, p.length), -1);
  p[p.length - 1] = 4;
  assert.equal(rtpPayloadLength(p, 0, p.length), 0);
  // P bit set with no byte after the header
  const bare = buildRtp({});
  bare[0] |= 0x20;
  assert.equal(rtpPayloadLength(bare, 0, bare.length), -1);
  assert.equal(rtpPaddingLength(bare, 0, bare.length), -1);
});
