// fast-check generators shared by the property and fuzz tests (not a test file itself).
import fc from 'fast-check';
import { Attr, StunWriter, formatIPv4, formatIPv6 } from '../src/index.js';
import type { StunClass, TransportAddress } from '../src/index.js';

export const txidArb = fc.uint8Array({ minLength: 12, maxLength: 12 });
export const methodArb = fc.integer({ min: 0, max: 0xfff });
export const classArb = fc.constantFrom<StunClass>(0, 1, 2, 3);
export const portArb = fc.integer({ min: 0, max: 0xffff });

export const ipv4Arb = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => formatIPv4(b));

/** 16 bytes as 8 words, biased towards zero words so `::` compression and mapped forms show up. */
export const ipv6BytesArb = fc
  .array(fc.oneof(fc.constant(0), fc.constant(0xffff), fc.integer({ min: 0, max: 0xffff })), {
    minLength: 8,
    maxLength: 8,
  })
  .map((words) => {
    const b = new Uint8Array(16);
    words.forEach((w, i) => {
      b[2 * i] = w >> 8;
      b[2 * i + 1] = w & 0xff;
    });
    return b;
  });
export const ipv6Arb = ipv6BytesArb.map((b) => formatIPv6(b));

// Mapped to plain objects: fc.record may build null-prototype ones, which deepStrictEqual tells apart.
export const addressArb: fc.Arbitrary<TransportAddress> = fc
  .oneof(
    fc.record({ family: fc.constant(4 as const), address: ipv4Arb, port: portArb }),
    fc.record({ family: fc.constant(6 as const), address: ipv6Arb, port: portArb }),
  )
  .map((a): TransportAddress => ({ family: a.family, address: a.address, port: a.port }));

/** Attribute types for free-form values: anything but the three that end what the decoder takes. */
export const freeTypeArb = fc
  .integer({ min: 0, max: 0xffff })
  .filter((t) => t !== Attr.MessageIntegrity && t !== Attr.MessageIntegritySha256 && t !== Attr.Fingerprint);

/** Any Unicode text that survives UTF-8 (no lone surrogates). */
export const stringArb = fc
  .string({ unit: 'binary', maxLength: 60 })
  .filter((s) => new TextDecoder().decode(new TextEncoder().encode(s)) === s);

export type Item =
  | { kind: 'xor'; type: number; addr: TransportAddress }
  | { kind: 'addr'; type: number; addr: TransportAddress }
  | { kind: 'string'; type: number; value: string }
  | { kind: 'u32'; type: number; value: number }
  | { kind: 'error'; code: number; reason: string }
  | { kind: 'unknown'; types: number[] }
  | { kind: 'bytes'; type: number; value: Uint8Array }
  | { kind: 'flag'; type: number }
  | { kind: 'channel'; channel: number }
  | { kind: 'transport'; protocol: number }
  | { kind: 'family'; family: 4 | 6 };

export const itemArb: fc.Arbitrary<Item> = fc.oneof(
  fc.record({
    kind: fc.constant('xor' as const),
    type: fc.constantFrom(Attr.XorMappedAddress, Attr.XorPeerAddress, Attr.XorRelayedAddress),
    addr: addressArb,
  }),
  fc.record({
    kind: fc.constant('addr' as const),
    type: fc.constantFrom(Attr.MappedAddress, Attr.AlternateServer),
    addr: addressArb,
  }),
  fc.record({
    kind: fc.constant('string' as const),
    type: fc.constantFrom(Attr.Username, Attr.Realm, Attr.Nonce, Attr.Software),
    value: stringArb,
  }),
  fc.record({
    kind: fc.constant('u32' as const),
    type: fc.constantFrom(Attr.Lifetime, Attr.Priority),
    value: fc.integer({ min: 0, max: 0xffffffff }),
  }),
  fc.record({ kind: fc.constant('error' as const), code: fc.integer({ min: 300, max: 699 }), reason: stringArb }),
  fc.record({
    kind: fc.constant('unknown' as const),
    types: fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 9 }),
  }),
  fc.record({ kind: fc.constant('bytes' as const), type: freeTypeArb, value: fc.uint8Array({ maxLength: 300 }) }),
  fc.record({ kind: fc.constant('flag' as const), type: fc.constantFrom(Attr.DontFragment, Attr.UseCandidate) }),
  fc.record({ kind: fc.constant('channel' as const), channel: fc.integer({ min: 0x4000, max: 0x4fff }) }),
  fc.record({ kind: fc.constant('transport' as const), protocol: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('family' as const), family: fc.constantFrom<4 | 6>(4, 6) }),
);

export interface MessageSpec {
  method: number;
  cls: StunClass;
  txid: Uint8Array;
  items: Item[];
  mi: Uint8Array | null;
  mi256: Uint8Array | null;
  fingerprint: boolean;
}

export const keyArb = fc.uint8Array({ minLength: 0, maxLength: 40 });

export const specArb: fc.Arbitrary<MessageSpec> = fc.record({
  method: methodArb,
  cls: classArb,
  txid: txidArb,
  items: fc.array(itemArb, { maxLength: 12 }),
  mi: fc.option(keyArb, { nil: null }),
  mi256: fc.option(keyArb, { nil: null }),
  fingerprint: fc.boolean(),
});

export function addItem(w: StunWriter, it: Item): void {
  switch (it.kind) {
    case 'xor':
      w.addXorAddress(it.type, it.addr);
      break;
    case 'addr':
      w.addAddress(it.type, it.addr);
      break;
    case 'string':
      w.addString(it.type, it.value);
      break;
    case 'u32':
      w.addU32(it.type, it.value);
      break;
    case 'error':
      w.addErrorCode(it.code, it.reason);
      break;
    case 'unknown':
      w.addUnknownAttributes(it.types);
      break;
    case 'bytes':
      w.addBytes(it.type, it.value);
      break;
    case 'flag':
      w.addFlag(it.type);
      break;
    case 'channel':
      w.addChannelNumber(it.channel);
      break;
    case 'transport':
      w.addRequestedTransport(it.protocol);
      break;
    case 'family':
      w.addRequestedAddressFamily(it.family);
      break;
  }
}

/** Writes the spec with w (or a fresh writer) and returns a copy of the bytes. */
export function encodeSpec(spec: MessageSpec, w: StunWriter = new StunWriter()): Uint8Array {
  w.start(spec.method, spec.cls, spec.txid);
  for (const it of spec.items) addItem(w, it);
  if (spec.mi) w.addMessageIntegrity(spec.mi);
  if (spec.mi256) w.addMessageIntegritySha256(spec.mi256);
  if (spec.fingerprint) w.addFingerprint();
  return w.toBytes();
}
