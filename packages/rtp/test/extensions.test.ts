import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  findHeaderExtension,
  readAbsSendTime,
  readAudioLevel,
  readStringExtension,
  readTransportSeq,
  rtpHeaderLength,
  rtpMarker,
  rtpPayloadType,
  rtpSeq,
  rtpSsrc,
  rtpTimestamp,
  setHeaderExtensionId,
  writeAbsSendTime,
  writeTransportSeq,
} from '../src/index.js';
import { buildRtp, embed } from './helpers.js';

const off = (r: number): number => r >> 8;
const len = (r: number): number => r & 0xff;

// Chrome video packets as captured by Wireshark (github.com/olivermichel/webrtc-analysis,
// test/include/data.h), with Wireshark's dissection: abs-send-time on id 2, transport-cc on id 4.
const chromeOneByte = Uint8Array.from([
  0x90, 0x2d, 0x1a, 0x5f, 0xd4, 0x09, 0x05, 0x49, 0xf7, 0xb1, 0x6e, 0x83, 0xbe, 0xde, 0x00, 0x03,
  0x22, 0xf3, 0x43, 0x50, 0x41, 0x00, 0x9b, 0xd2, 0x81, 0x00, 0x45, 0x00,
]);
const chromeOneByte2 = Uint8Array.from([
  0x90, 0xad, 0x19, 0xd4, 0xd4, 0x05, 0xe7, 0x97, 0xf7, 0xb1, 0x6e, 0x83, 0xbe, 0xde, 0x00, 0x08,
  0x22, 0xea, 0x43, 0x2b, 0x41, 0x00, 0x04, 0x90, 0x30, 0x30, 0x00, 0x60, 0x02,
  0x7c, 0x01, 0x00, 0x03, 0x00, 0x09, 0x00, 0x0a, 0x00, 0x23, 0x00, 0x00, 0x00, 0x00,
  0xd2, 0x40, 0x00, 0x01, 0x00,
]);
const chromeTwoByte = Uint8Array.from([
  0x90, 0x2d, 0x61, 0xc5, 0x95, 0x0a, 0x0f, 0xee, 0x8d, 0x38, 0x14, 0xe5, 0x10, 0x00, 0x00, 0x11,
  0x02, 0x03, 0x03, 0xf7, 0xae, 0x04, 0x02, 0x00, 0x02, 0x09, 0x01, 0x30, 0x03, 0x01, 0x00,
  0x06, 0x01, 0x02, 0x07, 0x0d, 0x01, 0x00, 0x01, 0x00, 0x07, 0x00, 0x07, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00,
  0x0d, 0x21, 0xc0, 0x00, 0x01, 0x80, 0x03, 0x18, 0x7a, 0xaa, 0xf1, 0x30, 0xa0, 0xa0, 0x14, 0xd1,
  0x41, 0x38, 0x23, 0x04, 0x60, 0x08, 0x64, 0x22, 0x22, 0x26, 0x50, 0x09, 0xf0, 0x07, 0x70, 0x13,
  0xf0, 0x0e, 0xf0,
]);

test('captured Chrome packet, one-byte extensions (Wireshark dissection)', () => {
  const b = chromeOneByte;
  assert.equal(rtpPayloadType(b, 0), 45);
  assert.equal(rtpSeq(b, 0), 6751);
  assert.equal(rtpTimestamp(b, 0), 3557360969);
  assert.equal(rtpSsrc(b, 0), 4155600515);
  assert.equal(rtpHeaderLength(b, 0, b.length), 28);
  assert.equal(readAbsSendTime(b, 0, b.length, 2), 0xf34350);
  assert.equal(readTransportSeq(b, 0, b.length, 4), 155);
  const r13 = findHeaderExtension(b, 0, b.length, 13);
  assert.equal(off(r13), 24);
  assert.equal(len(r13), 3);
  assert.deepEqual([...b.subarray(24, 27)], [0x81, 0x00, 0x45]);
  assert.equal(findHeaderExtension(b, 0, b.length, 5), -1);

  const c = chromeOneByte2;
  assert.equal(rtpMarker(c, 0), true);
  assert.equal(rtpSeq(c, 0), 6612);
  assert.equal(readAbsSendTime(c, 0, c.length, 2), 0xea432b);
  assert.equal(readTransportSeq(c, 0, c.length, 4), 4);
  assert.equal(len(findHeaderExtension(c, 0, c.length, 9)), 1);
  assert.equal(c[off(findHeaderExtension(c, 0, c.length, 9))], 0x30);
  assert.equal(c[off(findHeaderExtension(c, 0, c.length, 6))], 0x02);
  assert.equal(len(findHeaderExtension(c, 0, c.length, 7)), 13);
  assert.equal(len(findHeaderExtension(c, 0, c.length, 13)), 3);
});

test('captured Chrome packet, two-byte extensions (0x1000)', () => {
  const b = chromeTwoByte;
  assert.equal(rtpSeq(b, 0), 25029);
  assert.equal(rtpTimestamp(b, 0), 2500464622);
  assert.equal(rtpSsrc(b, 0), 0x8d3814e5);
  assert.equal(rtpHeaderLength(b, 0, b.length), b.length);
  assert.equal(readAbsSendTime(b, 0, b.length, 2), 0x03f7ae);
  assert.equal(readTransportSeq(b, 0, b.length, 4), 2);
  const r = findHeaderExtension(b, 0, b.length, 13);
  assert.equal(len(r), 33);
  assert.equal(off(r) + 33, b.length);
  assert.equal(b[off(r)], 0xc0);
  // In-place rewrite of transport seq and abs-send-time, at an offset inside a bigger buffer.
  const e = embed(b, 5, 3, 0x5a);
  assert.equal(writeTransportSeq(e, 5, b.length, 4, 0xbeef), true);
  assert.equal(readTransportSeq(e, 5, b.length, 4), 0xbeef);
  assert.equal(writeAbsSendTime(e, 5, b.length, 2, 0x123456), true);
  assert.equal(readAbsSendTime(e, 5, b.length, 2), 0x123456);
  assert.equal(writeTransportSeq(e, 5, b.length, 44, 1), false);
  assert.equal(writeAbsSendTime(e, 5, b.length, 44, 1), false);
  // value offsets are absolute in buf
  assert.equal(off(findHeaderExtension(e, 5, b.length, 13)), off(r) + 5);
});

test('one-byte form: padding, CSRCs, ids 1..14, reserved id 15', () => {
  const pkt = buildRtp({
    csrcs: [0xdeadbeef],
    ext: { form: 'one', padBetween: 2, elems: [{ id: 1, data: [0x80 | 42] }, { id: 14, data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16] }, { id: 3, data: [0x12, 0x34] }] },
    payload: [0xaa],
  });
  assert.equal(readAudioLevel(pkt, 0, pkt.length, 1), 0x80 | 42);
  assert.equal(len(findHeaderExtension(pkt, 0, pkt.length, 14)), 16);
  assert.equal(readTransportSeq(pkt, 0, pkt.length, 3), 0x1234);
  assert.equal(findHeaderExtension(pkt, 0, pkt.length, 0), -1);
  assert.equal(findHeaderExtension(pkt, 0, pkt.length, 15), -1);
  // too short for the reader's value
  assert.equal(readTransportSeq(pkt, 0, pkt.length, 1), -1);
  assert.equal(readAbsSendTime(pkt, 0, pkt.length, 3), -1);
  // id 15 stops processing: elements after it are not found
  const stop = buildRtp({ rawExt: { profile: 0xbede, data: [0x10, 0x7f, 0xf0, 0x20, 0x01, 0x02] } });
  assert.equal(readAudioLevel(stop, 0, stop.length, 1), 0x7f);
  assert.equal(findHeaderExtension(stop, 0, stop.length, 2), -1);
  // element running past the extension block
  const over = buildRtp({ rawExt: { profile: 0xbede, data: [0x13, 1, 2, 3] } }); // needs 4 value bytes, has 3
  assert.equal(findHeaderExtension(over, 0, over.length, 1), -1);
  // extension block longer than the packet
  const trunc = buildRtp({ ext: { form: 'one', elems: [{ id: 1, data: [5] }] } });
  assert.equal(findHeaderExtension(trunc, 0, trunc.length - 1, 1), -1);
  // no X bit / unknown profile
  const none = buildRtp({ payload: [0x10, 0x05, 0, 0] });
  assert.equal(findHeaderExtension(none, 0, none.length, 1), -1);
  const other = buildRtp({ rawExt: { profile: 0x1234, data: [0x10, 0x05, 0, 0] } });
  assert.equal(findHeaderExtension(other, 0, other.length, 1), -1);
});

test('two-byte form: zero-length values, ids above 14, app bits, padding', () => {
  const pkt = buildRtp({
    ext: { form: 'two', appBits: 0xf, padBetween: 1, elems: [{ id: 1, data: [] }, { id: 200, data: [0x61, 0x62] }, { id: 15, data: [0x7f] }] },
  });
  const r1 = findHeaderExtension(pkt, 0, pkt.length, 1);
  assert.equal(len(r1), 0);
  assert.equal(readAudioLevel(pkt, 0, pkt.length, 1), -1);
  assert.equal(readStringExtension(pkt, 0, pkt.length, 1), '');
  assert.equal(readStringExtension(pkt, 0, pkt.length, 200), 'ab');
  assert.equal(readAudioLevel(pkt, 0, pkt.length, 15), 0x7f);
  assert.equal(findHeaderExtension(pkt, 0, pkt.length, 256), -1);
});

test('string extensions (mid, rid, repaired-rid)', () => {
  const pkt = buildRtp({
    ext: {
      form: 'one',
      elems: [
        { id: 4, data: [...'audio0'].map((c) => c.charCodeAt(0)) },
        { id: 10, data: [...'hi'].map((c) => c.charCodeAt(0)) },
        { id: 11, data: [0x71, 0x00] }, // NUL-padded
        { id: 12, data: [0xc3, 0xa9] }, // UTF-8
      ],
    },
  });
  assert.equal(readStringExtension(pkt, 0, pkt.length, 4), 'audio0');
  assert.equal(readStringExtension(pkt, 0, pkt.length, 10), 'hi');
  assert.equal(readStringExtension(pkt, 0, pkt.length, 11), 'q');
  assert.equal(readStringExtension(pkt, 0, pkt.length, 12), '\u00e9');
  assert.equal(readStringExtension(pkt, 0, pkt.length, 3), undefined);
});

test('setHeaderExtensionId rewrites ids in place or disables them as padding', () => {
  const pkt = buildRtp({ ext: { form: 'one', elems: [{ id: 1, data: [0x85] }, { id: 5, data: [0, 7] }, { id: 2, data: [1, 2, 3] }] }, payload: [1, 2] });
  const before = pkt.slice();
  assert.equal(setHeaderExtensionId(pkt, 0, pkt.length, 5, 9), true);
  assert.equal(readTransportSeq(pkt, 0, pkt.length, 9), 7);
  assert.equal(readTransportSeq(pkt, 0, pkt.length, 5), -1);
  assert.equal(setHeaderExtensionId(pkt, 0, pkt.length, 9, 15), false); // not valid in one-byte form
  assert.equal(setHeaderExtensionId(pkt, 0, pkt.length, 9, 20), false);
  assert.equal(setHeaderExtensionId(pkt, 0, pkt.length, 5, 6), false); // absent now
  // disable id 1: its bytes become padding, the others still parse
  assert.equal(setHeaderExtensionId(pkt, 0, pkt.length, 1, 0), true);
  assert.equal(findHeaderExtension(pkt, 0, pkt.length, 1), -1);
  assert.equal(readTransportSeq(pkt, 0, pkt.length, 9), 7);
  assert.equal(readAbsSendTime(pkt, 0, pkt.length, 2), 0x010203);
  assert.equal(pkt.length, before.length);
  assert.deepEqual([...pkt.subarray(pkt.length - 2)], [1, 2]);

  const two = buildRtp({ ext: { form: 'two', elems: [{ id: 3, data: [0x81] }, { id: 100, data: [0, 9] }] } });
  assert.equal(setHeaderExtensionId(two, 0, two.length, 100, 250), true);
  assert.equal(readTransportSeq(two, 0, two.length, 250), 9);
  assert.equal(setHeaderExtensionId(two, 0, two.length, 3, 0), true);
  assert.equal(readAudioLevel(two, 0, two.length, 3), -1);
  assert.equal(readTransportSeq(two, 0, two.length, 250), 9);
  assert.equal(setHeaderExtensionId(two, 0, two.length, 3, 4), false);
});
