// ChannelData framing (RFC 8656 §12.4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  StunError,
  channelDataChannel,
  channelDataLength,
  decodeChannelData,
  isChannelData,
  isStunMessage,
  writeChannelDataHeader,
} from '../src/index.js';

test('writeChannelDataHeader writes channel and length big-endian and returns 4', () => {
  const out = new Uint8Array(8).fill(0xee);
  assert.equal(writeChannelDataHeader(out, 0x4001, 5), 4);
  assert.deepEqual(out, new Uint8Array([0x40, 0x01, 0x00, 0x05, 0xee, 0xee, 0xee, 0xee]));
  writeChannelDataHeader(out, 0x4fff, 0xffff);
  assert.deepEqual(out.subarray(0, 4), new Uint8Array([0x4f, 0xff, 0xff, 0xff]));
  writeChannelDataHeader(out, 0x4000, 0);
  assert.deepEqual(out.subarray(0, 4), new Uint8Array([0x40, 0x00, 0x00, 0x00]));
  // Writing into a view at an offset, as a sender prepends the header in place.
  const frame = new Uint8Array(12);
  writeChannelDataHeader(frame.subarray(4), 0x4abc, 3);
  assert.deepEqual(frame.subarray(4, 8), new Uint8Array([0x4a, 0xbc, 0x00, 0x03]));
});

test('writeChannelDataHeader rejects bad channels, lengths and outputs', () => {
  const out = new Uint8Array(4);
  for (const [ch, len] of [[0x3fff, 0], [0x8000, 0], [16384.5, 0], [0x4000, -1], [0x4000, 0x10000], [0x4000, 1.5], [NaN, 0]]) {
    assert.throws(() => writeChannelDataHeader(out, ch, len), (e: unknown) => e instanceof StunError && e.code === 'STUN_ERR_INVALID_ARGUMENT');
  }
  assert.throws(() => writeChannelDataHeader(new Uint8Array(3), 0x4000, 0), StunError);
});

test('isChannelData, channelDataLength, decodeChannelData', () => {
  const frame = new Uint8Array([0x40, 0x01, 0x00, 0x05, 104, 101, 108, 108, 111, 0, 0, 0]);
  assert.equal(isChannelData(frame), true);
  assert.equal(isChannelData(frame.subarray(0, 9)), true);
  assert.equal(isChannelData(frame.subarray(0, 8)), false, 'declared payload not all there');
  assert.equal(isChannelData(frame.subarray(0, 3)), false);
  assert.equal(isChannelData(new Uint8Array([0x3f, 0xff, 0, 0])), false);
  assert.equal(isChannelData(new Uint8Array([0x50, 0x00, 0, 0])), true, 'RFC 5766 channels up to 0x7FFF');
  assert.equal(isChannelData(new Uint8Array([0x80, 0x00, 0, 0])), false);
  assert.equal(isChannelData(new Uint8Array([0x4f, 0xff, 0, 0])), true);
  assert.equal(isStunMessage(frame), false);
  assert.equal(channelDataLength(frame, false), 9);
  assert.equal(channelDataLength(frame, true), 12);
  assert.equal(channelDataLength(frame.subarray(0, 4), true), 12, 'only the header is needed');
  assert.equal(channelDataLength(frame.subarray(0, 3), false), -1);
  assert.equal(channelDataLength(new Uint8Array([0x40, 0, 0, 0]), true), 4);
  assert.equal(channelDataLength(new Uint8Array([0x40, 0, 0xff, 0xff]), true), 65540);
  assert.equal(channelDataChannel(frame), 0x4001);
  assert.equal(channelDataChannel(frame.subarray(0, 1)), -1);
  const d = decodeChannelData(frame)!;
  assert.equal(d.channel, 0x4001);
  assert.deepEqual(d.data, new TextEncoder().encode('hello'));
  assert.equal(d.data.buffer, frame.buffer, 'payload is a view');
  assert.equal(decodeChannelData(frame.subarray(0, 8)), null);
});

test('header + payload round trip for every channel and payload size', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0x4000, max: 0x7fff }), fc.uint8Array({ maxLength: 600 }), fc.boolean(), (channel, payload, padded) => {
      const total = padded ? (4 + payload.length + 3) & ~3 : 4 + payload.length;
      const frame = new Uint8Array(total);
      assert.equal(writeChannelDataHeader(frame, channel, payload.length), 4);
      frame.set(payload, 4);
      assert.equal(isChannelData(frame), true);
      assert.equal(isStunMessage(frame), false, 'never mistaken for STUN');
      assert.equal(channelDataLength(frame, padded), total);
      assert.equal(channelDataLength(frame, false), 4 + payload.length);
      assert.equal(total % 4 === 0 || !padded, true);
      const d = decodeChannelData(frame)!;
      assert.equal(d.channel, channel);
      assert.deepEqual(d.data, payload);
    }),
    { numRuns: 2000 },
  );
});
