// Credentials and the three checksums: MESSAGE-INTEGRITY (RFC 8489 §14.5), MESSAGE-INTEGRITY-SHA256
// (§14.6) and FINGERPRINT (§14.7); keys per §9.1 (short-term) and §9.2 (long-term).
import { Attr, FINGERPRINT_XOR, HEADER_LENGTH } from './constants.js';
import { crc32 } from './crc32.js';
import { hmac, md5, sha256 } from './crypto.js';
import type { HmacAlgorithm } from './crypto.js';
import { findAttribute } from './decode.js';
import type { StunMessage } from './decode.js';

const encoder = new TextEncoder();

/** MD5(username ":" realm ":" password), UTF-8; no SASLprep/OpaqueString processing is applied. */
export function longTermKey(username: string, realm: string, password: string): Uint8Array {
  return md5(encoder.encode(`${username}:${realm}:${password}`));
}

/** SHA-256(username ":" realm ":" password), for PASSWORD-ALGORITHM 0x0002. */
export function longTermKeySha256(username: string, realm: string, password: string): Uint8Array {
  return sha256(encoder.encode(`${username}:${realm}:${password}`));
}

/** The short-term key: the password's UTF-8 bytes. */
export function shortTermKey(password: string): Uint8Array {
  return encoder.encode(password);
}

/** Compares without an early exit, so timing does not leak how many bytes matched. */
function sameBytes(a: Uint8Array, b: Uint8Array, n: number): boolean {
  if (a.length < n || b.length < n) return false;
  let d = 0;
  for (let i = 0; i < n; i++) d |= a[i] ^ b[i];
  return d === 0;
}

const header = new Uint8Array(HEADER_LENGTH);

/**
 * HMAC over raw[0..attrOffset) with the header length field set as if the message ended
 * right after an attribute of `attrValueLength` bytes at attrOffset.
 */
export function integrityHmac(
  algorithm: HmacAlgorithm,
  raw: Uint8Array,
  attrOffset: number,
  attrValueLength: number,
  key: Uint8Array,
): Uint8Array {
  header.set(raw.subarray(0, HEADER_LENGTH));
  const len = attrOffset + 4 + attrValueLength - HEADER_LENGTH;
  header[2] = len >>> 8;
  header[3] = len & 0xff;
  return hmac(algorithm, key, header, raw.subarray(HEADER_LENGTH, attrOffset));
}

/** HMAC-SHA1 check per RFC 8489 §14.5: over the message up to (not including) MESSAGE-INTEGRITY, with the header length adjusted to end at the end of MESSAGE-INTEGRITY. false if absent. */
export function verifyMessageIntegrity(msg: StunMessage, key: Uint8Array): boolean {
  const attr = findAttribute(msg, Attr.MessageIntegrity);
  if (attr === undefined || attr.value.length !== 20) return false;
  const mac = integrityHmac('sha1', msg.raw, attr.offset, 20, key);
  return sameBytes(mac, attr.value, 20);
}

/** Same for MESSAGE-INTEGRITY-SHA256 (§14.6): a 32-byte HMAC, or one truncated to 16..28 bytes in steps of 4. false if absent. */
export function verifyMessageIntegritySha256(msg: StunMessage, key: Uint8Array): boolean {
  const attr = findAttribute(msg, Attr.MessageIntegritySha256);
  if (attr === undefined) return false;
  const n = attr.value.length;
  if (n < 16 || n > 32 || (n & 3) !== 0) return false;
  const mac = integrityHmac('sha256', msg.raw, attr.offset, n, key);
  return sameBytes(mac, attr.value, n);
}

/** CRC-32 of raw[0..end) XOR 0x5354554e: the FINGERPRINT value of a message whose FINGERPRINT starts at end. */
export function fingerprintValue(raw: Uint8Array, end: number): number {
  return (crc32(raw, 0, end) ^ FINGERPRINT_XOR) >>> 0;
}

/** CRC-32 of the message up to FINGERPRINT XOR 0x5354554e, §14.7. false if absent or not last. */
export function verifyFingerprint(msg: StunMessage): boolean {
  const attr = findAttribute(msg, Attr.Fingerprint);
  const raw = msg.raw;
  if (attr === undefined || attr.value.length !== 4 || attr.offset + 8 !== raw.length) return false;
  const v = attr.value;
  const got = ((v[0] << 24) | (v[1] << 16) | (v[2] << 8) | v[3]) >>> 0;
  return got === fingerprintValue(raw, attr.offset);
}
