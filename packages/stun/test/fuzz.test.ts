// Fuzz: random bytes and damaged valid messages. decodeStun returns or throws a StunError (never
// anything else, never hangs); tryDecodeStun and the framing checks never throw; the value
// decoders and checksum checks never throw anything but StunError on whatever decodeStun returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  HEADER_LENGTH,
  MAGIC_COOKIE,
  StunError,
  channelDataLength,
  decodeAddress,
  decodeChannelData,
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
  decodeU64,
  decodeUnknownAttributes,
  decodeXorAddress,
  isChannelData,
  isStunMessage,
  stunMessageLength,
  tryDecodeStun,
  verifyFingerprint,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '../src/index.js';
import type { StunMessage } from '../src/index.js';
import { encodeSpec, specArb } from './arbitraries.js';

const RUNS = 5000;

/** Runs f; passes if it returns or throws a StunError. */
function stunErrorOrValue(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof StunError)) throw e;
    assert.match(e.code, /^STUN_ERR_/);
  }
}

const valueDecoders: ((v: Uint8Array, txid: Uint8Array) => unknown)[] = [
  (v, t) => decodeXorAddress(v, t),
  (v) => decodeAddress(v),
  (v) => decodeErrorCode(v),
  (v) => decodeUnknownAttributes(v),
  (v) => decodeString(v),
  (v) => decodeU32(v),
  (v) => decodeU64(v),
  (v) => decodeChannelNumber(v),
  (v) => decodeRequestedTransport(v),
  (v) => decodeRequestedAddressFamily(v),
  (v) => decodeEvenPort(v),
  (v) => decodePasswordAlgorithms(v),
  (v) => decodePasswordAlgorithm(v),
];

const key = new Uint8Array([1, 2, 3]);

/** Everything a server does with one datagram, none of which may throw anything but StunError. */
function probe(buf: Uint8Array): void {
  isStunMessage(buf);
  const len = stunMessageLength(buf);
  assert.ok(len === -1 || (len >= HEADER_LENGTH && len <= HEADER_LENGTH + 0xffff));
  isChannelData(buf);
  channelDataLength(buf, false);
  channelDataLength(buf, true);
  decodeChannelData(buf);
  const tried = tryDecodeStun(buf);
  let msg: StunMessage | null = null;
  stunErrorOrValue(() => {
    msg = decodeStun(buf);
  });
  assert.equal(tried === null, msg === null);
  if (msg === null) return;
  const m: StunMessage = msg;
  assert.equal(isStunMessage(buf), true, 'whatever decodes passes the demultiplexing check');
  assert.equal(m.raw.length, buf.length);
  assert.equal(m.transactionId.length, 12);
  for (const a of m.attributes) {
    assert.ok(a.offset >= HEADER_LENGTH && a.offset + 4 + a.value.length <= m.raw.length);
    for (const d of valueDecoders) stunErrorOrValue(() => d(a.value, m.transactionId));
  }
  verifyMessageIntegrity(m, key);
  verifyMessageIntegritySha256(m, key);
  verifyFingerprint(m);
}

test('random bytes (0..600) never make the codec throw anything but StunError', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), probe), { numRuns: RUNS });
});

test('random attribute soup behind a valid header never throws anything but StunError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.integer({ min: 0, max: 0x3fff }), (body, txid, type) => {
      const n = body.length & ~3;
      const buf = new Uint8Array(HEADER_LENGTH + n);
      new DataView(buf.buffer).setUint16(0, type);
      new DataView(buf.buffer).setUint16(2, n);
      new DataView(buf.buffer).setUint32(4, MAGIC_COOKIE);
      buf.set(txid, 8);
      buf.set(body.subarray(0, n), HEADER_LENGTH);
      probe(buf);
    }),
    { numRuns: RUNS },
  );
});

test('random values never make the attribute decoders throw anything but StunError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 16 }), (value, txid) => {
      for (const d of valueDecoders) stunErrorOrValue(() => d(value, txid));
    }),
    { numRuns: RUNS },
  );
});

type Mutation =
  | { kind: 'flip'; at: number; mask: number }[]
  | { kind: 'truncate'; at: number }
  | { kind: 'setLength'; length: number }
  | { kind: 'extend'; extra: Uint8Array; fixLength: boolean }
  | { kind: 'attrLength'; attr: number; length: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.array(fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 5 }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('setLength' as const), length: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({ kind: fc.constant('extend' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 64 }), fixLength: fc.boolean() }),
  fc.record({ kind: fc.constant('attrLength' as const), attr: fc.nat(), length: fc.integer({ min: 0, max: 0xffff }) }),
);

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  if (Array.isArray(m)) {
    const out = bytes.slice();
    for (const f of m) out[f.at % out.length] ^= f.mask;
    return out;
  }
  const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (m.kind) {
    case 'truncate':
      return bytes.slice(0, m.at % bytes.length);
    case 'setLength': {
      const out = bytes.slice();
      view(out).setUint16(2, m.length);
      return out;
    }
    case 'extend': {
      const out = new Uint8Array(bytes.length + m.extra.length);
      out.set(bytes);
      out.set(m.extra, bytes.length);
      if (m.fixLength) view(out).setUint16(2, (out.length - HEADER_LENGTH) & 0xffff);
      return out;
    }
    case 'attrLength': {
      const out = bytes.slice();
      // Walk to the attr-th attribute (mod the count) and set its length field.
      const offsets: number[] = [];
      for (let off = HEADER_LENGTH; off + 4 <= out.length; ) {
        offsets.push(off);
        off += 4 + ((view(out).getUint16(off + 2) + 3) & ~3);
      }
      if (offsets.length > 0) view(out).setUint16(offsets[m.attr % offsets.length] + 2, m.length);
      return out;
    }
  }
}

test('damaged valid messages (flips, truncations, wrong lengths, extra bytes) never throw anything but StunError', () => {
  fc.assert(
    fc.property(specArb, mutationArb, (spec, m) => {
      probe(mutate(encodeSpec(spec), m));
    }),
    { numRuns: RUNS },
  );
});

test('truncating a valid message at every length is rejected with a StunError code', () => {
  fc.assert(
    fc.property(specArb.filter((s) => s.items.length > 0), (spec) => {
      const bytes = encodeSpec(spec);
      for (let n = 0; n < bytes.length; n++) {
        assert.throws(
          () => decodeStun(bytes.subarray(0, n)),
          (e: unknown) => e instanceof StunError && (e.code === 'STUN_ERR_TOO_SHORT' || e.code === 'STUN_ERR_BAD_LENGTH'),
        );
        assert.equal(tryDecodeStun(bytes.subarray(0, n)), null);
      }
    }),
    { numRuns: 300 },
  );
});
