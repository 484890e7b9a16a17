// Message framing and attribute value decoders. Every value is a view into the input: no copies.
import { Attr, HEADER_LENGTH, MAGIC_COOKIE, classOf, methodOf } from './constants.js';
import type { StunClass } from './constants.js';
import { StunError } from './errors.js';

export interface StunAttribute {
  type: number;
  /** A view into raw, unpadded length. */
  value: Uint8Array;
  /** Offset of this attribute's 4-byte header within raw. */
  offset: number;
}

export interface StunMessage {
  method: number;
  cls: StunClass;
  /** 12 bytes, a view. */
  transactionId: Uint8Array;
  /**
   * In wire order. Attributes the RFC says to ignore are left out: everything after
   * MESSAGE-INTEGRITY except MESSAGE-INTEGRITY-SHA256 and FINGERPRINT, everything after
   * MESSAGE-INTEGRITY-SHA256 except FINGERPRINT, and everything after FINGERPRINT
   * (RFC 8489 §14.5-14.7). They are still checked for framing.
   */
  attributes: StunAttribute[];
  /** The whole message (header + attributes), a view over the input. */
  raw: Uint8Array;
}

function readU16(b: Uint8Array, i: number): number {
  return (b[i] << 8) | b[i + 1];
}

function readU32(b: Uint8Array, i: number): number {
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}

function hasCookie(b: Uint8Array): boolean {
  return readU32(b, 4) === MAGIC_COOKIE;
}

/** Cheap check used to demultiplex: first two bits 0, magic cookie present, length multiple of 4, buf.length >= 20 + length. */
export function isStunMessage(buf: Uint8Array): boolean {
  if (buf.length < HEADER_LENGTH || (buf[0] & 0xc0) !== 0 || !hasCookie(buf)) return false;
  const len = readU16(buf, 2);
  return (len & 3) === 0 && buf.length >= HEADER_LENGTH + len;
}

/** For stream framing: total message length (20 + header length) if buf holds at least a header, else -1. */
export function stunMessageLength(buf: Uint8Array): number {
  if (buf.length < HEADER_LENGTH) return -1;
  return HEADER_LENGTH + readU16(buf, 2);
}

const STATE_OPEN = 0; // any attribute is taken
const STATE_AFTER_MI = 1; // only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are taken
const STATE_AFTER_MI256 = 2; // only FINGERPRINT is taken
const STATE_DONE = 3; // nothing more is taken

/** Parses one message occupying exactly buf (header length must equal buf.length - 20). Throws StunError. */
export function decodeStun(buf: Uint8Array): StunMessage {
  const n = buf.length;
  if (n < HEADER_LENGTH) throw new StunError('STUN_ERR_TOO_SHORT', `${n} bytes is shorter than a STUN header`);
  if ((buf[0] & 0xc0) !== 0) throw new StunError('STUN_ERR_NOT_STUN', 'first two bits are not zero');
  if (!hasCookie(buf)) throw new StunError('STUN_ERR_BAD_COOKIE', 'no magic cookie');
  const len = readU16(buf, 2);
  if ((len & 3) !== 0) throw new StunError('STUN_ERR_BAD_LENGTH', `length ${len} is not a multiple of 4`);
  if (len !== n - HEADER_LENGTH) {
    throw new StunError('STUN_ERR_BAD_LENGTH', `length ${len} does not match the ${n - HEADER_LENGTH} bytes after the header`);
  }
  const raw = new Uint8Array(buf.buffer, buf.byteOffset, n);
  const type = readU16(raw, 0);
  const attributes: StunAttribute[] = [];
  let state = STATE_OPEN;
  let off = HEADER_LENGTH;
  while (off < n) {
    // off and n are both multiples of 4 here, so a 4-byte attribute header always fits.
    const attrType = readU16(raw, off);
    const attrLen = readU16(raw, off + 2);
    const valueStart = off + 4;
    const next = valueStart + ((attrLen + 3) & ~3);
    if (next > n) {
      throw new StunError('STUN_ERR_ATTR_OVERRUN', `attribute 0x${attrType.toString(16)} of ${attrLen} bytes at ${off} runs past the end`);
    }
    let take: boolean;
    if (state === STATE_OPEN) take = true;
    else if (state === STATE_AFTER_MI) take = attrType === Attr.MessageIntegritySha256 || attrType === Attr.Fingerprint;
    else if (state === STATE_AFTER_MI256) take = attrType === Attr.Fingerprint;
    else take = false;
    if (take) {
      attributes.push({ type: attrType, value: raw.subarray(valueStart, valueStart + attrLen), offset: off });
      if (attrType === Attr.Fingerprint) state = STATE_DONE;
      else if (attrType === Attr.MessageIntegritySha256) state = STATE_AFTER_MI256;
      else if (attrType === Attr.MessageIntegrity) state = STATE_AFTER_MI;
    }
    off = next;
  }
  return {
    method: methodOf(type),
    cls: classOf(type),
    transactionId: raw.subarray(8, HEADER_LENGTH),
    attributes,
    raw,
  };
}

/** Like decodeStun but returns null instead of throwing. */
export function tryDecodeStun(buf: Uint8Array): StunMessage | null {
  try {
    return decodeStun(buf);
  } catch {
    return null;
  }
}

/** The value of the first attribute of that type, or undefined. */
export function getAttribute(msg: StunMessage, type: number): Uint8Array | undefined {
  return findAttribute(msg, type)?.value;
}

/** The first attribute of that type (with its offset), or undefined. */
export function findAttribute(msg: StunMessage, type: number): StunAttribute | undefined {
  const attrs = msg.attributes;
  for (let i = 0; i < attrs.length; i++) if (attrs[i].type === type) return attrs[i];
  return undefined;
}

/** Types of the comprehension-required attributes (0x0000-0x7fff) not in `known`, for a 420 response. */
export function unknownComprehensionRequired(msg: StunMessage, known: ReadonlySet<number>): number[] {
  const out: number[] = [];
  for (const a of msg.attributes) if (a.type <= 0x7fff && !known.has(a.type) && !out.includes(a.type)) out.push(a.type);
  return out;
}

function bad(message: string): StunError {
  return new StunError('STUN_ERR_BAD_ATTRIBUTE', message);
}

function expectLength(value: Uint8Array, n: number, what: string): void {
  if (value.length !== n) throw bad(`${what} must be ${n} bytes, got ${value.length}`);
}

/** ERROR-CODE (RFC 8489 §14.8): class 3-6, number 0-99, UTF-8 reason. */
export function decodeErrorCode(value: Uint8Array): { code: number; reason: string } {
  if (value.length < 4) throw bad(`ERROR-CODE of ${value.length} bytes`);
  const cls = value[2] & 0x07;
  const num = value[3];
  if (cls < 3 || cls > 6 || num > 99) throw bad(`ERROR-CODE class ${cls} number ${num}`);
  return { code: cls * 100 + num, reason: decodeString(value.subarray(4)) };
}

/** UNKNOWN-ATTRIBUTES (RFC 8489 §14.9): a list of 16-bit types. */
export function decodeUnknownAttributes(value: Uint8Array): number[] {
  if ((value.length & 1) !== 0) throw bad(`UNKNOWN-ATTRIBUTES of odd length ${value.length}`);
  const out: number[] = [];
  for (let i = 0; i < value.length; i += 2) out.push(readU16(value, i));
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** USERNAME, REALM, NONCE, SOFTWARE...: UTF-8. Throws STUN_ERR_BAD_ATTRIBUTE on invalid UTF-8. */
export function decodeString(value: Uint8Array): string {
  try {
    return utf8.decode(value);
  } catch {
    throw bad('invalid UTF-8');
  }
}

/** A 4-byte unsigned value: LIFETIME, PRIORITY. */
export function decodeU32(value: Uint8Array): number {
  expectLength(value, 4, 'a 32-bit attribute');
  return readU32(value, 0);
}

/** An 8-byte value as a bigint: ICE-CONTROLLED, ICE-CONTROLLING, RESERVATION-TOKEN. */
export function decodeU64(value: Uint8Array): bigint {
  expectLength(value, 8, 'a 64-bit attribute');
  return (BigInt(readU32(value, 0)) << 32n) | BigInt(readU32(value, 4));
}

/** CHANNEL-NUMBER (RFC 8656 §18.1): the first 2 of its 4 bytes. The 0x4000-0x4FFF range is not checked here. */
export function decodeChannelNumber(value: Uint8Array): number {
  expectLength(value, 4, 'CHANNEL-NUMBER');
  return readU16(value, 0);
}

/** REQUESTED-TRANSPORT (RFC 8656 §18.7): the protocol byte (17 = UDP). */
export function decodeRequestedTransport(value: Uint8Array): number {
  expectLength(value, 4, 'REQUESTED-TRANSPORT');
  return value[0];
}

/** REQUESTED-ADDRESS-FAMILY / ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §18.8, §18.11): 0x01 -> 4, 0x02 -> 6. */
export function decodeRequestedAddressFamily(value: Uint8Array): 4 | 6 {
  expectLength(value, 4, 'REQUESTED-ADDRESS-FAMILY');
  if (value[0] === 0x01) return 4;
  if (value[0] === 0x02) return 6;
  throw bad(`unknown address family 0x${value[0].toString(16)}`);
}

/** EVEN-PORT (RFC 8656 §18.6): the R bit. */
export function decodeEvenPort(value: Uint8Array): boolean {
  if (value.length < 1) throw bad('EVEN-PORT is empty');
  return (value[0] & 0x80) !== 0;
}

/** PASSWORD-ALGORITHMS (RFC 8489 §14.11): algorithm, parameter length, parameters padded to 4. */
export function decodePasswordAlgorithms(value: Uint8Array): { algorithm: number; params: Uint8Array }[] {
  const out: { algorithm: number; params: Uint8Array }[] = [];
  let i = 0;
  while (i < value.length) {
    if (i + 4 > value.length) throw bad('truncated PASSWORD-ALGORITHMS entry');
    const algorithm = readU16(value, i);
    const len = readU16(value, i + 2);
    const end = i + 4 + len;
    if (end > value.length) throw bad('PASSWORD-ALGORITHMS parameters run past the value');
    out.push({ algorithm, params: value.subarray(i + 4, end) });
    i = Math.min(i + 4 + ((len + 3) & ~3), value.length);
  }
  return out;
}

/** PASSWORD-ALGORITHM (RFC 8489 §14.12): one algorithm and its parameters. */
export function decodePasswordAlgorithm(value: Uint8Array): { algorithm: number; params: Uint8Array } {
  if (value.length < 4) throw bad(`PASSWORD-ALGORITHM of ${value.length} bytes`);
  const len = readU16(value, 2);
  if (4 + len > value.length) throw bad('PASSWORD-ALGORITHM parameters run past the value');
  return { algorithm: readU16(value, 0), params: value.subarray(4, 4 + len) };
}
