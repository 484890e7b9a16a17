// RFC 5769 "Test Vectors for STUN", every vector (§2.1-§2.4), typed byte for byte from the RFC.
//
// Padding: §2.1-§2.3 pad the odd-length USERNAME and SOFTWARE values with 0x20 (space) bytes,
// while StunWriter pads with zeros (RFC 8489 §14: padding may be any value and is ignored).
// So for those vectors we assert (a) decoding and verification of the RFC bytes as printed,
// (b) that StunWriter reproduces the RFC bytes exactly when the test overwrites the padding
// bytes with 0x20 right after writing the padded attribute (before MESSAGE-INTEGRITY and
// FINGERPRINT are computed), and (c) that the zero-padded rebuild differs from the RFC only in
// those padding bytes and the MESSAGE-INTEGRITY/FINGERPRINT values, and verifies on its own.
// §2.4 pads with zeros, so StunWriter rebuilds it byte for byte with no help.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Attr,
  HEADER_LENGTH,
  Method,
  StunClass,
  StunWriter,
  decodeStun,
  decodeString,
  decodeU32,
  decodeU64,
  decodeXorAddress,
  getAttribute,
  longTermKey,
  shortTermKey,
  tryDecodeStun,
  verifyFingerprint,
  verifyMessageIntegrity,
} from '../src/index.js';
import type { StunMessage } from '../src/index.js';
import { hex, utf8 } from './helpers.js';

const PASSWORD = 'VOkJxbRl1RmTxUk/WvJxBt';
const TID = hex('b7 e7 a7 01 bc 34 d6 86 fa 87 df ae');

// §2.1 Sample Request
const REQUEST = hex(`
  00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
  00 24 00 04 6e 00 01 ff
  80 29 00 08 93 2f f9 b1 51 26 3b 36
  00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
  00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
  80 28 00 04 e5 7a 3b cf`);

// §2.2 Sample IPv4 Response
const IPV4_RESPONSE = hex(`
  01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 08 00 01 a1 47 e1 12 a6 43
  00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
  80 28 00 04 c0 7d 4c 96`);

// §2.3 Sample IPv6 Response
const IPV6_RESPONSE = hex(`
  01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
  00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
  80 28 00 04 c8 fb 0b 4c`);

// §2.4 Sample Request with Long-Term Authentication
const LONG_TERM_REQUEST = hex(`
  00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
  00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00
  00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41
  00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
  00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66`);

const LT_USERNAME = '\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9';
const LT_REALM = 'example.org';
const LT_NONCE = 'f//499k954d6OL34oL9FSTvy64sA';
// The RFC's password is "The<U+00AD>M<U+00AA>tr<U+2168>"; SASLprep maps it to "TheMatrIX".
const LT_PASSWORD = 'TheMatrIX';

function str(msg: StunMessage, type: number): string {
  const v = getAttribute(msg, type);
  assert.ok(v, `attribute 0x${type.toString(16)} present`);
  return decodeString(v);
}

/** Every single-byte change must break MESSAGE-INTEGRITY or FINGERPRINT (or decoding). */
function assertEveryFlipIsCaught(bytes: Uint8Array, key: Uint8Array, hasFingerprint: boolean): void {
  for (let i = 0; i < bytes.length; i++) {
    const copy = bytes.slice();
    copy[i] ^= 0x01;
    const m = tryDecodeStun(copy);
    if (m === null) continue;
    const intact = verifyMessageIntegrity(m, key) && (!hasFingerprint || verifyFingerprint(m));
    // Padding bytes are covered by both checksums, so even those flips are caught.
    assert.equal(intact, false, `flip at byte ${i} went unnoticed`);
  }
}

/** Sets value bytes from `from` up to the next multiple of 4 to 0x20, as the RFC vectors pad. */
function spacePad(w: StunWriter, from: number): void {
  const v = w.view();
  for (let i = from; i < v.length; i++) v[i] = 0x20;
}

test('RFC 5769 §2.1 sample request: decodes every attribute', () => {
  const msg = decodeStun(REQUEST);
  assert.equal(msg.method, Method.Binding);
  assert.equal(msg.cls, StunClass.Request);
  assert.deepEqual(msg.transactionId, TID);
  assert.deepEqual(
    msg.attributes.map((a) => a.type),
    [Attr.Software, Attr.Priority, Attr.IceControlled, Attr.Username, Attr.MessageIntegrity, Attr.Fingerprint],
  );
  assert.deepEqual(
    msg.attributes.map((a) => a.offset),
    [20, 40, 48, 60, 76, 100],
  );
  assert.equal(str(msg, Attr.Software), 'STUN test client');
  assert.equal(decodeU32(getAttribute(msg, Attr.Priority)!), 0x6e0001ff);
  assert.equal(decodeU64(getAttribute(msg, Attr.IceControlled)!), 0x932ff9b151263b36n);
  assert.equal(str(msg, Attr.Username), 'evtj:h6vY');
  assert.equal(getAttribute(msg, Attr.Username)!.length, 9, 'value is unpadded');
  assert.equal(msg.raw.length, REQUEST.length);
});

test('RFC 5769 §2.1 sample request: MESSAGE-INTEGRITY and FINGERPRINT verify; changes do not', () => {
  const msg = decodeStun(REQUEST);
  const key = shortTermKey(PASSWORD);
  assert.equal(verifyMessageIntegrity(msg, key), true);
  assert.equal(verifyFingerprint(msg), true);
  assert.equal(verifyMessageIntegrity(msg, shortTermKey('VOkJxbRl1RmTxUk/WvJxBT')), false);
  assertEveryFlipIsCaught(REQUEST, key, true);
});

test('RFC 5769 §2.1 sample request: StunWriter reproduces it (given the RFC space padding)', () => {
  const key = shortTermKey(PASSWORD);
  const w = new StunWriter();
  w.start(Method.Binding, StunClass.Request, TID)
    .addString(Attr.Software, 'STUN test client')
    .addU32(Attr.Priority, 0x6e0001ff)
    .addU64(Attr.IceControlled, 0x932ff9b151263b36n)
    .addString(Attr.Username, 'evtj:h6vY');
  spacePad(w, 60 + 4 + 9);
  w.addMessageIntegrity(key).addFingerprint();
  assert.deepEqual(w.toBytes(), REQUEST);

  // Zero padding, as StunWriter writes by itself: only the padding, MI and FINGERPRINT differ.
  w.start(Method.Binding, StunClass.Request, TID)
    .addString(Attr.Software, 'STUN test client')
    .addU32(Attr.Priority, 0x6e0001ff)
    .addBytes(Attr.IceControlled, hex('93 2f f9 b1 51 26 3b 36'))
    .addString(Attr.Username, 'evtj:h6vY')
    .addMessageIntegrity(key)
    .addFingerprint();
  const zeroPadded = w.toBytes();
  assert.equal(zeroPadded.length, REQUEST.length);
  assertDiffersOnlyAt(zeroPadded, REQUEST, [[73, 76], [80, 100], [104, 108]]);
  const m = decodeStun(zeroPadded);
  assert.equal(verifyMessageIntegrity(m, key), true);
  assert.equal(verifyFingerprint(m), true);
});

/** a and b are equal outside the given [start, end) ranges, and differ inside each. */
function assertDiffersOnlyAt(a: Uint8Array, b: Uint8Array, ranges: [number, number][]): void {
  const inRange = (i: number) => ranges.some(([s, e]) => i >= s && i < e);
  for (let i = 0; i < a.length; i++) {
    if (!inRange(i)) assert.equal(a[i], b[i], `byte ${i}`);
  }
  for (const [s, e] of ranges) {
    assert.notDeepEqual(a.subarray(s, e), b.subarray(s, e), `bytes ${s}..${e} should differ`);
  }
}

const responses = [
  {
    name: '§2.2 IPv4 response',
    bytes: IPV4_RESPONSE,
    mapped: { family: 4 as const, address: '192.0.2.1', port: 32853 },
    miOffset: 48,
  },
  {
    name: '§2.3 IPv6 response',
    bytes: IPV6_RESPONSE,
    mapped: { family: 6 as const, address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 },
    miOffset: 60,
  },
];

for (const r of responses) {
  test(`RFC 5769 ${r.name}: decodes, verifies, catches changes`, () => {
    const msg = decodeStun(r.bytes);
    assert.equal(msg.method, Method.Binding);
    assert.equal(msg.cls, StunClass.SuccessResponse);
    assert.deepEqual(msg.transactionId, TID);
    assert.deepEqual(
      msg.attributes.map((a) => a.type),
      [Attr.Software, Attr.XorMappedAddress, Attr.MessageIntegrity, Attr.Fingerprint],
    );
    assert.equal(str(msg, Attr.Software), 'test vector');
    assert.deepEqual(decodeXorAddress(getAttribute(msg, Attr.XorMappedAddress)!, msg.transactionId), r.mapped);
    const key = shortTermKey(PASSWORD);
    assert.equal(verifyMessageIntegrity(msg, key), true);
    assert.equal(verifyFingerprint(msg), true);
    assert.equal(verifyMessageIntegrity(msg, utf8('wrong')), false);
    assertEveryFlipIsCaught(r.bytes, key, true);
  });

  test(`RFC 5769 ${r.name}: StunWriter reproduces it (given the RFC space padding)`, () => {
    const key = shortTermKey(PASSWORD);
    const w = new StunWriter(64); // small on purpose: exercises growing
    w.start(Method.Binding, StunClass.SuccessResponse, TID).addString(Attr.Software, 'test vector');
    spacePad(w, HEADER_LENGTH + 4 + 11);
    w.addXorAddress(Attr.XorMappedAddress, r.mapped).addMessageIntegrity(key).addFingerprint();
    assert.deepEqual(w.toBytes(), r.bytes);

    w.start(Method.Binding, StunClass.SuccessResponse, TID)
      .addString(Attr.Software, 'test vector')
      .addXorAddress(Attr.XorMappedAddress, r.mapped)
      .addMessageIntegrity(key)
      .addFingerprint();
    const zeroPadded = w.view();
    assert.equal(zeroPadded[35], 0);
    const mi = r.miOffset;
    assertDiffersOnlyAt(zeroPadded, r.bytes, [[35, 36], [mi + 4, mi + 24], [mi + 28, mi + 32]]);
    const m = decodeStun(zeroPadded);
    assert.equal(verifyMessageIntegrity(m, key), true);
    assert.equal(verifyFingerprint(m), true);
  });
}

test('RFC 5769 §2.4 long-term request: decodes, verifies, catches changes', () => {
  const msg = decodeStun(LONG_TERM_REQUEST);
  assert.equal(msg.method, Method.Binding);
  assert.equal(msg.cls, StunClass.Request);
  assert.deepEqual(msg.transactionId, hex('78 ad 34 33 c6 ad 72 c0 29 da 41 2e'));
  assert.deepEqual(
    msg.attributes.map((a) => a.type),
    [Attr.Username, Attr.Nonce, Attr.Realm, Attr.MessageIntegrity],
  );
  assert.equal(str(msg, Attr.Username), LT_USERNAME);
  assert.equal(str(msg, Attr.Nonce), LT_NONCE);
  assert.equal(str(msg, Attr.Realm), LT_REALM);
  const key = longTermKey(LT_USERNAME, LT_REALM, LT_PASSWORD);
  assert.equal(key.length, 16);
  assert.equal(verifyMessageIntegrity(msg, key), true);
  assert.equal(verifyFingerprint(msg), false, 'no FINGERPRINT in this vector');
  assert.equal(verifyMessageIntegrity(msg, longTermKey(LT_USERNAME, LT_REALM, 'thematrix')), false);
  assert.equal(verifyMessageIntegrity(msg, longTermKey(LT_USERNAME, 'example.com', LT_PASSWORD)), false);
  // The unprepared password gives a different key: SASLprep is the caller's business.
  assert.equal(verifyMessageIntegrity(msg, longTermKey(LT_USERNAME, LT_REALM, 'The\u00adM\u00aatr\u2168')), false);
  assertEveryFlipIsCaught(LONG_TERM_REQUEST, key, false);
});

test('RFC 5769 §2.4 long-term request: StunWriter reproduces it byte for byte', () => {
  const key = longTermKey(LT_USERNAME, LT_REALM, LT_PASSWORD);
  const w = new StunWriter();
  w.start(Method.Binding, StunClass.Request, hex('78 ad 34 33 c6 ad 72 c0 29 da 41 2e'))
    .addString(Attr.Username, LT_USERNAME)
    .addString(Attr.Nonce, LT_NONCE)
    .addString(Attr.Realm, LT_REALM)
    .addMessageIntegrity(key);
  assert.deepEqual(w.toBytes(), LONG_TERM_REQUEST);
});
