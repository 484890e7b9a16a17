// Framing errors, the attribute value decoders, what the decoder ignores, and the checksums'
// edge cases (truncated MESSAGE-INTEGRITY-SHA256, FINGERPRINT not last).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import {
  Attr,
  HEADER_LENGTH,
  MAGIC_COOKIE,
  Method,
  StunClass,
  StunError,
  StunWriter,
  classOf,
  crc32,
  decodeAddress,
  decodeChannelNumber,
  decodeErrorCode,
  decodeEvenPort,
  decodePasswordAlgorithm,
  decodePasswordAlgorithms,
  decodeRequestedAddressFamily,
  decodeRequestedTransport,
  decodeStun,
  decodeString,
  decodeU32,
  decodeUnknownAttributes,
  decodeXorAddress,
  findAttribute,
  getAttribute,
  isComprehensionRequired,
  isStunMessage,
  longTermKey,
  longTermKeySha256,
  messageType,
  methodOf,
  shortTermKey,
  stunMessageLength,
  tryDecodeStun,
  unknownComprehensionRequired,
  verifyFingerprint,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '../src/index.js';
import type { StunErrorCode } from '../src/index.js';
import { hex, utf8 } from './helpers.js';

const TID = hex('00 11 22 33 44 55 66 77 88 99 aa bb');

function header(type: number, length: number, cookie = MAGIC_COOKIE): Uint8Array {
  const b = new Uint8Array(HEADER_LENGTH);
  const v = new DataView(b.buffer);
  v.setUint16(0, type);
  v.setUint16(2, length);
  v.setUint32(4, cookie);
  b.set(TID, 8);
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function throwsCode(f: () => unknown, code: StunErrorCode): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof StunError, 'a StunError');
    assert.ok(e instanceof Error);
    assert.equal(e.code, code);
    assert.equal(e.name, 'StunError');
    return true;
  });
}

test('framing errors carry their codes', () => {
  throwsCode(() => decodeStun(new Uint8Array(0)), 'STUN_ERR_TOO_SHORT');
  throwsCode(() => decodeStun(header(0x0001, 0).subarray(0, 19)), 'STUN_ERR_TOO_SHORT');
  throwsCode(() => decodeStun(header(0x4001, 0)), 'STUN_ERR_NOT_STUN');
  throwsCode(() => decodeStun(header(0x8001, 0)), 'STUN_ERR_NOT_STUN');
  throwsCode(() => decodeStun(header(0x0001, 0, 0x2112a443)), 'STUN_ERR_BAD_COOKIE');
  throwsCode(() => decodeStun(concat(header(0x0001, 2), new Uint8Array(2))), 'STUN_ERR_BAD_LENGTH');
  throwsCode(() => decodeStun(concat(header(0x0001, 8), new Uint8Array(4))), 'STUN_ERR_BAD_LENGTH');
  throwsCode(() => decodeStun(concat(header(0x0001, 0), new Uint8Array(4))), 'STUN_ERR_BAD_LENGTH');
  // An attribute claiming 5 bytes in a 8-byte body: value fits, padding does not.
  throwsCode(() => decodeStun(concat(header(0x0001, 8), hex('80 22 00 05 61 62 63 64'))), 'STUN_ERR_ATTR_OVERRUN');
  throwsCode(() => decodeStun(concat(header(0x0001, 8), hex('80 22 01 00 61 62 63 64'))), 'STUN_ERR_ATTR_OVERRUN');
  assert.equal(tryDecodeStun(header(0x0001, 0, 0)), null);
});

test('a header-only message decodes; values are views into the input', () => {
  const msg = decodeStun(header(0x0001, 0));
  assert.equal(msg.method, Method.Binding);
  assert.equal(msg.cls, StunClass.Request);
  assert.deepEqual(msg.transactionId, TID);
  assert.deepEqual(msg.attributes, []);

  const backing = new Uint8Array(100);
  const bytes = concat(header(0x0001, 8), hex('00 13 00 03 61 62 63 00'));
  backing.set(bytes, 30);
  const m = decodeStun(backing.subarray(30, 30 + bytes.length));
  assert.equal(m.raw.buffer, backing.buffer);
  assert.equal(m.raw.byteOffset, 30);
  const data = getAttribute(m, Attr.Data)!;
  assert.deepEqual(data, utf8('abc'));
  backing[30 + 24] = 0x7a;
  assert.equal(data[0], 0x7a, 'a view, not a copy');

  // Buffers in, plain Uint8Arrays out.
  const fromBuffer = decodeStun(Buffer.from(bytes));
  assert.equal(Object.getPrototypeOf(fromBuffer.raw), Uint8Array.prototype);
  assert.equal(Object.getPrototypeOf(getAttribute(fromBuffer, Attr.Data)), Uint8Array.prototype);
});

test('message type packs method and class bits as RFC 8489 §5 says', () => {
  assert.equal(messageType(Method.Binding, StunClass.Request), 0x0001);
  assert.equal(messageType(Method.Binding, StunClass.SuccessResponse), 0x0101);
  assert.equal(messageType(Method.Binding, StunClass.ErrorResponse), 0x0111);
  assert.equal(messageType(Method.Binding, StunClass.Indication), 0x0011);
  assert.equal(messageType(Method.Allocate, StunClass.ErrorResponse), 0x0113);
  assert.equal(messageType(Method.Send, StunClass.Indication), 0x0016);
  assert.equal(messageType(Method.Data, StunClass.Indication), 0x0017);
  assert.equal(messageType(Method.ChannelBind, StunClass.SuccessResponse), 0x0109);
  assert.equal(messageType(0xfff, StunClass.ErrorResponse), 0x3fff);
  for (let m = 0; m <= 0xfff; m++) {
    for (const c of [0, 1, 2, 3] as const) {
      const t = messageType(m, c);
      assert.ok(t <= 0x3fff);
      assert.equal(methodOf(t), m);
      assert.equal(classOf(t), c);
    }
  }
});

test('isStunMessage and stunMessageLength', () => {
  const ok = concat(header(0x0001, 4), hex('00 25 00 00'));
  assert.equal(isStunMessage(ok), true);
  assert.equal(isStunMessage(concat(ok, new Uint8Array(3))), true, 'trailing bytes are allowed');
  assert.equal(isStunMessage(ok.subarray(0, 23)), false);
  assert.equal(isStunMessage(header(0x0001, 2)), false);
  assert.equal(isStunMessage(header(0x4001, 0)), false);
  assert.equal(isStunMessage(header(0x0001, 0, 0)), false);
  assert.equal(isStunMessage(new Uint8Array(0)), false);
  assert.equal(stunMessageLength(ok.subarray(0, 19)), -1);
  assert.equal(stunMessageLength(ok.subarray(0, 20)), 24);
  assert.equal(stunMessageLength(header(0x0001, 0xfffc)), 20 + 0xfffc);
});

test('comprehension-required range and unknown attribute listing', () => {
  assert.equal(isComprehensionRequired(0x0000), true);
  assert.equal(isComprehensionRequired(Attr.Username), true);
  assert.equal(isComprehensionRequired(0x7fff), true);
  assert.equal(isComprehensionRequired(0x8000), false);
  assert.equal(isComprehensionRequired(Attr.Fingerprint), false);
  assert.equal(isComprehensionRequired(0xffff), false);
  const w = new StunWriter().start(Method.Allocate, StunClass.Request, TID);
  w.addRequestedTransport(17).addBytes(0x7777, hex('01')).addBytes(0x8888, hex('02')).addBytes(0x7777, hex('03'));
  const msg = decodeStun(w.view());
  assert.deepEqual(unknownComprehensionRequired(msg, new Set([Attr.RequestedTransport])), [0x7777]);
});

test('attributes after MESSAGE-INTEGRITY (except MI-SHA256, FINGERPRINT) and after FINGERPRINT are ignored', () => {
  const key = utf8('key');
  const w = new StunWriter().start(Method.Allocate, StunClass.Request, TID);
  w.addU32(Attr.Lifetime, 600).addMessageIntegrity(key);
  const signed = w.toBytes();
  // Append a USERNAME after MESSAGE-INTEGRITY by hand, then SHA256 and FINGERPRINT.
  const extra = hex('00 06 00 04 65 76 69 6c');
  const tampered = concat(signed, extra);
  new DataView(tampered.buffer).setUint16(2, tampered.length - HEADER_LENGTH);
  const msg = decodeStun(tampered);
  assert.deepEqual(msg.attributes.map((a) => a.type), [Attr.Lifetime, Attr.MessageIntegrity]);
  assert.equal(getAttribute(msg, Attr.Username), undefined);
  assert.equal(verifyMessageIntegrity(msg, key), true, 'MI still covers what it covered');

  const w2 = new StunWriter().start(Method.Binding, StunClass.Request, TID);
  w2.addMessageIntegrity(key).addString(Attr.Username, 'x').addMessageIntegritySha256(key).addString(Attr.Realm, 'y').addFingerprint();
  const m2 = decodeStun(w2.view());
  assert.deepEqual(m2.attributes.map((a) => a.type), [Attr.MessageIntegrity, Attr.MessageIntegritySha256, Attr.Fingerprint]);
  assert.equal(verifyMessageIntegrity(m2, key), true);
  assert.equal(verifyMessageIntegritySha256(m2, key), true);
  assert.equal(verifyFingerprint(m2), true);

  // Anything after FINGERPRINT: ignored, and FINGERPRINT no longer verifies (it is not last).
  const fp = new StunWriter().start(Method.Binding, StunClass.Request, TID).addFingerprint().toBytes();
  assert.equal(verifyFingerprint(decodeStun(fp)), true);
  const after = concat(fp, hex('00 24 00 04 00 00 00 01'));
  new DataView(after.buffer).setUint16(2, after.length - HEADER_LENGTH);
  const m3 = decodeStun(after);
  assert.deepEqual(m3.attributes.map((a) => a.type), [Attr.Fingerprint]);
  assert.equal(verifyFingerprint(m3), false);
});

test('MESSAGE-INTEGRITY-SHA256 truncated to 16..28 bytes (multiples of 4) verifies; other lengths do not', () => {
  const key = longTermKeySha256('user', 'realm', 'pass');
  assert.equal(key.length, 32);
  for (const n of [12, 16, 18, 20, 24, 28, 32]) {
    const w = new StunWriter().start(Method.Allocate, StunClass.Request, TID).addString(Attr.Username, 'user');
    const before = w.toBytes();
    new DataView(before.buffer).setUint16(2, before.length - HEADER_LENGTH + 4 + n);
    const mac = createHmac('sha256', key).update(before).digest().subarray(0, n);
    w.addBytes(Attr.MessageIntegritySha256, mac);
    const msg = decodeStun(w.view());
    const allowed = n >= 16 && n % 4 === 0;
    assert.equal(verifyMessageIntegritySha256(msg, key), allowed, `truncated to ${n}`);
    if (allowed) {
      const bad = w.toBytes();
      bad[bad.length - 1 - ((4 - (n % 4)) % 4)] ^= 1; // last MAC byte
      assert.equal(verifyMessageIntegritySha256(decodeStun(bad), key), false);
    }
  }
  const full = new StunWriter().start(1, 0, TID).addMessageIntegritySha256(key).view();
  assert.equal(getAttribute(decodeStun(full), Attr.MessageIntegritySha256)!.length, 32);
});

test('integrity checks reject a MESSAGE-INTEGRITY of the wrong size', () => {
  const w = new StunWriter().start(1, 0, TID).addBytes(Attr.MessageIntegrity, new Uint8Array(16));
  assert.equal(verifyMessageIntegrity(decodeStun(w.view()), new Uint8Array(0)), false);
  const f = new StunWriter().start(1, 0, TID).addBytes(Attr.Fingerprint, new Uint8Array(8));
  assert.equal(verifyFingerprint(decodeStun(f.view())), false);
});

test('keys: long-term MD5 and SHA-256, short-term UTF-8', () => {
  const digest = (alg: string, text: string) => new Uint8Array(createHash(alg).update(text, 'utf8').digest());
  assert.deepEqual(longTermKey('user', 'realm', 'pass'), digest('md5', 'user:realm:pass'));
  assert.deepEqual(longTermKeySha256('user', 'realm', 'pass'), digest('sha256', 'user:realm:pass'));
  assert.deepEqual(longTermKey('\u00e4', 'r', 'p'), digest('md5', '\u00e4:r:p'), 'UTF-8');
  assert.deepEqual(shortTermKey('p\u00e4ss'), hex('70 c3 a4 73 73'));
  assert.equal(Object.getPrototypeOf(longTermKey('a', 'b', 'c')), Uint8Array.prototype);
});

test('address decoders', () => {
  assert.deepEqual(decodeAddress(hex('00 01 0d 96 c0 00 02 01')), { family: 4, address: '192.0.2.1', port: 3478 });
  assert.deepEqual(decodeAddress(hex('ff 02 00 50 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01')), {
    family: 6,
    address: '2001:db8::1',
    port: 80,
  });
  throwsCode(() => decodeAddress(hex('00 03 00 50 01 02 03 04')), 'STUN_ERR_BAD_ATTRIBUTE');
  throwsCode(() => decodeAddress(hex('00 01 00 50 01 02 03')), 'STUN_ERR_BAD_ATTRIBUTE');
  throwsCode(() => decodeAddress(hex('00 01 00 50 01 02 03 04 05')), 'STUN_ERR_BAD_ATTRIBUTE');
  throwsCode(() => decodeAddress(hex('00 02 00 50 01 02 03 04')), 'STUN_ERR_BAD_ATTRIBUTE');
  throwsCode(() => decodeAddress(hex('00 01')), 'STUN_ERR_BAD_ATTRIBUTE');
  throwsCode(() => decodeXorAddress(hex('00 01 00 50 01 02 03 04'), new Uint8Array(11)), 'STUN_ERR_BAD_ATTRIBUTE');
});

test('ERROR-CODE, UNKNOWN-ATTRIBUTES, strings and numbers', () => {
  assert.deepEqual(decodeErrorCode(hex('00 00 04 01 55 6e 61 75 74 68 6f 72 69 7a 65 64')), { code: 401, reason: 'Unauthorized' });
  assert.deepEqual(decodeErrorCode(hex('ff ff fc 26')), { code: 438, reason: '' }, 'reserved bits are ignored');
  throwsCode(() => decodeErrorCode(hex('00 00 04 64')), 'STUN_ERR_BAD_ATTRIBUTE'); // number 100
  throwsCode(() => decodeErrorCode(hex('00 00 02 00')), 'STUN_ERR_BAD_ATTRIBUTE'); // class 2
  throwsCode(() => decodeErrorCode(hex('00 00 07 00')), 'STUN_ERR_BAD_ATTRIBUTE'); // class 7
  throwsCode(() => decodeErrorCode(hex('00 00 04')), 'STUN_ERR_BAD_ATTRIBUTE');
  throwsCode(() => decodeErrorCode(hex('00 00 04 01 ff')), 'STUN_ERR_BAD_ATTRIBUTE'); // bad UTF-8

  assert.deepEqual(decodeUnknownAttributes(hex('')), []);
  assert.deepEqual(decodeUnknownAttributes(hex('00 1a 80 22 7f ff')), [0x001a, 0x8022, 0x7fff]);
  throwsCode(() => decodeUnknownAttributes(hex('00 1a 80')), 'STUN_ERR_BAD_ATTRIBUTE');

  assert.equal(decodeString(hex('')), '');
  assert.equal(decodeString(hex('ef bb bf 61')), '\ufeffa', 'a leading BOM is kept');
  assert.equal(decodeString(hex('e3 83 9e')), '\u30de');
  throwsCode(() => decodeString(hex('e3 83')), 'STUN_ERR_BAD_ATTRIBUTE');
  throwsCode(() => decodeString(hex('c0 80')), 'STUN_ERR_BAD_ATTRIBUTE');

  assert.equal(decodeU32(hex('ff ff ff ff')), 0xffffffff);
  assert.equal(decodeU32(hex('00 00 02 58')), 600);
  throwsCode(() => decodeU32(hex('00 00 02')), 'STUN_ERR_BAD_ATTRIBUTE');
  throwsCode(() => decodeU32(hex('00 00 02 58 00')), 'STUN_ERR_BAD_ATTRIBUTE');

  assert.equal(decodeChannelNumber(hex('40 01 00 00')), 0x4001);
  assert.equal(decodeChannelNumber(hex('12 34 ff ff')), 0x1234, 'range is the caller\'s check');
  throwsCode(() => decodeChannelNumber(hex('40 01')), 'STUN_ERR_BAD_ATTRIBUTE');

  assert.equal(decodeRequestedTransport(hex('11 00 00 00')), 17);
  throwsCode(() => decodeRequestedTransport(hex('11')), 'STUN_ERR_BAD_ATTRIBUTE');

  assert.equal(decodeRequestedAddressFamily(hex('01 00 00 00')), 4);
  assert.equal(decodeRequestedAddressFamily(hex('02 00 00 00')), 6);
  throwsCode(() => decodeRequestedAddressFamily(hex('03 00 00 00')), 'STUN_ERR_BAD_ATTRIBUTE');
  throwsCode(() => decodeRequestedAddressFamily(hex('00 00 00 00')), 'STUN_ERR_BAD_ATTRIBUTE');
  throwsCode(() => decodeRequestedAddressFamily(hex('01')), 'STUN_ERR_BAD_ATTRIBUTE');

  assert.equal(decodeEvenPort(hex('80')), true);
  assert.equal(decodeEvenPort(hex('00')), false);
  throwsCode(() => decodeEvenPort(hex('')), 'STUN_ERR_BAD_ATTRIBUTE');
});

test('PASSWORD-ALGORITHMS and PASSWORD-ALGORITHM', () => {
  assert.deepEqual(decodePasswordAlgorithms(hex('00 02 00 00 00 01 00 00')), [
    { algorithm: 2, params: new Uint8Array(0) },
    { algorithm: 1, params: new Uint8Array(0) },
  ]);
  assert.deepEqual(decodePasswordAlgorithms(hex('00 09 00 03 aa bb cc 00 00 01 00 00')), [
    { algorithm: 9, params: hex('aa bb cc') },
    { algorithm: 1, params: new Uint8Array(0) },
  ]);
  assert.deepEqual(decodePasswordAlgorithms(hex('')), []);
  throwsCode(() => decodePasswordAlgorithms(hex('00 02 00')), 'STUN_ERR_BAD_ATTRIBUTE');
  throwsCode(() => decodePasswordAlgorithms(hex('00 02 00 08 01 02')), 'STUN_ERR_BAD_ATTRIBUTE');
  assert.deepEqual(decodePasswordAlgorithm(hex('00 02 00 00')), { algorithm: 2, params: new Uint8Array(0) });
  throwsCode(() => decodePasswordAlgorithm(hex('00 02')), 'STUN_ERR_BAD_ATTRIBUTE');
  throwsCode(() => decodePasswordAlgorithm(hex('00 02 00 01')), 'STUN_ERR_BAD_ATTRIBUTE');
});

test('findAttribute returns the first of a type with its offset', () => {
  const w = new StunWriter().start(1, 0, TID).addU32(Attr.Priority, 1).addU32(Attr.Priority, 2);
  const msg = decodeStun(w.view());
  const a = findAttribute(msg, Attr.Priority)!;
  assert.equal(a.offset, 20);
  assert.equal(decodeU32(a.value), 1);
  assert.equal(findAttribute(msg, Attr.Lifetime), undefined);
});

test('crc32 is the standard CRC-32', () => {
  assert.equal(crc32(utf8('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  assert.equal(crc32(utf8('xx123456789yy'), 2, 11), 0xcbf43926);
});
