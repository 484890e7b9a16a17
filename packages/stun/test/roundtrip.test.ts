// Property tests: whatever StunWriter writes, decodeStun reads back as the same values, and the
// checksums it adds verify (and stop verifying when any byte changes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  Attr,
  HEADER_LENGTH,
  StunWriter,
  decodeAddress,
  decodeChannelNumber,
  decodeErrorCode,
  decodeRequestedAddressFamily,
  decodeRequestedTransport,
  decodeStun,
  decodeString,
  decodeU32,
  decodeUnknownAttributes,
  decodeXorAddress,
  isStunMessage,
  stunMessageLength,
  tryDecodeStun,
  verifyFingerprint,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '../src/index.js';
import type { StunAttribute } from '../src/index.js';
import { encodeSpec, keyArb, specArb } from './arbitraries.js';
import type { Item } from './arbitraries.js';

const RUNS = 1000;

function checkItem(it: Item, a: StunAttribute, txid: Uint8Array): void {
  switch (it.kind) {
    case 'xor':
      assert.equal(a.type, it.type);
      assert.deepEqual(decodeXorAddress(a.value, txid), it.addr);
      break;
    case 'addr':
      assert.equal(a.type, it.type);
      assert.deepEqual(decodeAddress(a.value), it.addr);
      break;
    case 'string':
      assert.equal(a.type, it.type);
      assert.equal(decodeString(a.value), it.value);
      break;
    case 'u32':
      assert.equal(a.type, it.type);
      assert.equal(decodeU32(a.value), it.value);
      break;
    case 'error':
      assert.equal(a.type, Attr.ErrorCode);
      assert.deepEqual(decodeErrorCode(a.value), { code: it.code, reason: it.reason });
      break;
    case 'unknown':
      assert.equal(a.type, Attr.UnknownAttributes);
      assert.deepEqual(decodeUnknownAttributes(a.value), it.types);
      break;
    case 'bytes':
      assert.equal(a.type, it.type);
      assert.deepEqual(a.value, it.value);
      break;
    case 'flag':
      assert.equal(a.type, it.type);
      assert.equal(a.value.length, 0);
      break;
    case 'channel':
      assert.equal(a.type, Attr.ChannelNumber);
      assert.equal(decodeChannelNumber(a.value), it.channel);
      break;
    case 'transport':
      assert.equal(a.type, Attr.RequestedTransport);
      assert.equal(decodeRequestedTransport(a.value), it.protocol);
      break;
    case 'family':
      assert.equal(a.type, Attr.RequestedAddressFamily);
      assert.equal(decodeRequestedAddressFamily(a.value), it.family);
      break;
  }
}

test('encode -> decode gives back method, class, transaction id and every attribute value', () => {
  const w = new StunWriter(128); // reused across runs, and small enough to grow
  fc.assert(
    fc.property(specArb, (spec) => {
      const bytes = encodeSpec({ ...spec, mi: null, mi256: null, fingerprint: false }, w);
      assert.equal(bytes.length % 4, 0);
      assert.equal(isStunMessage(bytes), true);
      assert.equal(stunMessageLength(bytes), bytes.length);
      const msg = decodeStun(bytes);
      assert.equal(msg.method, spec.method);
      assert.equal(msg.cls, spec.cls);
      assert.deepEqual(msg.transactionId, spec.txid);
      assert.equal(msg.attributes.length, spec.items.length);
      let expectedOffset = HEADER_LENGTH;
      spec.items.forEach((it, i) => {
        const a = msg.attributes[i];
        assert.equal(a.offset, expectedOffset);
        // The value is a view into raw at offset + 4.
        assert.equal(a.value.buffer, msg.raw.buffer);
        assert.equal(a.value.byteOffset, msg.raw.byteOffset + a.offset + 4);
        checkItem(it, a, msg.transactionId);
        // Padding is zeros.
        for (let p = a.offset + 4 + a.value.length; p % 4 !== 0; p++) assert.equal(bytes[p], 0);
        expectedOffset += 4 + ((a.value.length + 3) & ~3);
      });
      assert.equal(expectedOffset, bytes.length);
      assert.equal(verifyMessageIntegrity(msg, new Uint8Array(0)), false, 'absent MI does not verify');
      assert.equal(verifyMessageIntegritySha256(msg, new Uint8Array(0)), false);
      assert.equal(verifyFingerprint(msg), false, 'absent FINGERPRINT does not verify');
    }),
    { numRuns: RUNS },
  );
});

test('MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT verify; wrong keys do not', () => {
  fc.assert(
    fc.property(specArb, keyArb, (spec, otherKey) => {
      const bytes = encodeSpec(spec);
      const msg = decodeStun(bytes);
      assert.equal(msg.attributes.length, spec.items.length + (spec.mi ? 1 : 0) + (spec.mi256 ? 1 : 0) + (spec.fingerprint ? 1 : 0));
      spec.items.forEach((it, i) => checkItem(it, msg.attributes[i], msg.transactionId));
      if (spec.mi) {
        assert.equal(verifyMessageIntegrity(msg, spec.mi), true);
        if (!sameKey(otherKey, spec.mi)) assert.equal(verifyMessageIntegrity(msg, otherKey), false);
      } else {
        assert.equal(verifyMessageIntegrity(msg, otherKey), false);
      }
      if (spec.mi256) {
        assert.equal(verifyMessageIntegritySha256(msg, spec.mi256), true);
        if (!sameKey(otherKey, spec.mi256)) assert.equal(verifyMessageIntegritySha256(msg, otherKey), false);
      } else {
        assert.equal(verifyMessageIntegritySha256(msg, otherKey), false);
      }
      assert.equal(verifyFingerprint(msg), spec.fingerprint);
    }),
    { numRuns: RUNS },
  );
});

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  // HMAC pads short keys with zeros, so keys that differ only by trailing zeros are the same key.
  const trim = (k: Uint8Array) => {
    let n = k.length;
    while (n > 0 && k[n - 1] === 0) n--;
    return Array.from(k.subarray(0, n)).join(',');
  };
  return trim(a) === trim(b);
}

test('changing any byte of a message with FINGERPRINT makes it fail to decode or fail verification', () => {
  fc.assert(
    fc.property(
      specArb.map((s) => ({ ...s, fingerprint: true })),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (spec, at, mask) => {
        const bytes = encodeSpec(spec);
        const i = at % bytes.length;
        bytes[i] ^= mask;
        const msg = tryDecodeStun(bytes);
        if (msg !== null) assert.equal(verifyFingerprint(msg), false, `change at ${i} of ${bytes.length}`);
      },
    ),
    { numRuns: 3000 },
  );
});

test('changing any byte of a message with MESSAGE-INTEGRITY(-SHA256) as its last attribute breaks it', () => {
  fc.assert(
    fc.property(
      specArb.map((s) => ({ ...s, fingerprint: false })).filter((s) => s.mi !== null || s.mi256 !== null),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (spec, at, mask) => {
        const bytes = encodeSpec(spec);
        const i = at % bytes.length;
        bytes[i] ^= mask;
        const msg = tryDecodeStun(bytes);
        if (msg === null) return;
        // The last integrity attribute covers every byte (its own value included, as the MAC
        // no longer matches), so at least one present check must fail.
        const miOk = spec.mi === null || verifyMessageIntegrity(msg, spec.mi);
        const mi256Ok = spec.mi256 === null || verifyMessageIntegritySha256(msg, spec.mi256);
        assert.equal(miOk && mi256Ok, false, `change at ${i} of ${bytes.length}`);
      },
    ),
    { numRuns: 2000 },
  );
});

test('a reused writer gives the same bytes as a fresh one', () => {
  const w = new StunWriter(32);
  fc.assert(
    fc.property(specArb, specArb, (a, b) => {
      encodeSpec(a, w);
      assert.deepEqual(encodeSpec(b, w), encodeSpec(b));
      assert.deepEqual(w.view(), encodeSpec(b));
    }),
    { numRuns: 300 },
  );
});
