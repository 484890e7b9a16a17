// IP text <-> bytes, and the (XOR-)MAPPED-ADDRESS value format (RFC 8489 §14.1, §14.2).
import { MAGIC_COOKIE, TRANSACTION_ID_LENGTH } from './constants.js';
import { StunError } from './errors.js';

/**
 * A transport address. `address` is dotted IPv4 text, or IPv6 text in the canonical compressed
 * lowercase form Node's `net` prints (`::1`, `2001:db8::1`, `::ffff:192.0.2.1`).
 */
export interface TransportAddress {
  family: 4 | 6;
  address: string;
  port: number;
}

const FAMILY_V4 = 0x01;
const FAMILY_V6 = 0x02;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30; // 0-9
  if (c >= 0x61 && c <= 0x66) return c - 0x57; // a-f
  if (c >= 0x41 && c <= 0x46) return c - 0x37; // A-F
  return -1;
}

/** Parses dotted-quad s[start..end) into out[off..off+4). No leading zeros, like inet_pton. */
function parseIPv4Range(s: string, start: number, end: number, out: Uint8Array, off: number): boolean {
  let part = 0;
  let i = start;
  while (part < 4) {
    const first = i;
    let v = 0;
    while (i < end) {
      const d = s.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      i++;
      if (i - first > 3) return false;
    }
    const digits = i - first;
    if (digits === 0 || v > 255 || (digits > 1 && s.charCodeAt(first) === 0x30)) return false;
    out[off + part] = v;
    part++;
    if (part < 4) {
      if (i >= end || s.charCodeAt(i) !== 0x2e /* . */) return false;
      i++;
    }
  }
  return i === end;
}

/** Parses dotted IPv4 text into out[off..off+4); false (out untouched or partly written) if malformed. */
export function parseIPv4Into(s: string, out: Uint8Array, off = 0): boolean {
  return parseIPv4Range(s, 0, s.length, out, off);
}

const words = new Uint16Array(8);
const v4tail = new Uint8Array(4);

/**
 * Parses IPv6 text into out[off..off+16): hex groups, one `::`, an optional dotted IPv4 tail
 * (`::ffff:192.0.2.1`) and an optional zone (`fe80::1%eth0`, ignored).
 */
export function parseIPv6Into(s: string, out: Uint8Array, off = 0): boolean {
  let end = s.length;
  const pct = s.indexOf('%');
  if (pct >= 0) {
    if (pct === end - 1) return false;
    end = pct;
  }
  let n = 0;
  let gap = -1;
  let i = 0;
  if (end === 0) return false;
  if (s.charCodeAt(0) === 0x3a /* : */) {
    if (end < 2 || s.charCodeAt(1) !== 0x3a) return false;
    gap = 0;
    i = 2;
  }
  while (i < end) {
    if (n >= 8) return false;
    let j = i;
    let v = 0;
    while (j < end) {
      const h = hexValue(s.charCodeAt(j));
      if (h < 0) break;
      v = (v << 4) | h;
      j++;
      if (j - i > 4) break;
    }
    if (j < end && s.charCodeAt(j) === 0x2e /* . */) {
      if (n > 6 || !parseIPv4Range(s, i, end, v4tail, 0)) return false;
      words[n++] = (v4tail[0] << 8) | v4tail[1];
      words[n++] = (v4tail[2] << 8) | v4tail[3];
      i = end;
      break;
    }
    if (j === i || j - i > 4) return false;
    words[n++] = v;
    if (j === end) {
      i = j;
      break;
    }
    if (s.charCodeAt(j) !== 0x3a) return false;
    j++;
    if (j < end && s.charCodeAt(j) === 0x3a) {
      if (gap >= 0) return false;
      gap = n;
      j++;
    } else if (j === end) {
      return false; // a single trailing ':'
    }
    i = j;
  }
  if (gap < 0) {
    if (n !== 8) return false;
  } else {
    if (n > 7) return false;
    const tail = n - gap;
    for (let k = 0; k < tail; k++) words[7 - k] = words[n - 1 - k];
    for (let k = gap; k < 8 - tail; k++) words[k] = 0;
  }
  for (let k = 0; k < 8; k++) {
    out[off + 2 * k] = words[k] >> 8;
    out[off + 2 * k + 1] = words[k] & 0xff;
  }
  return true;
}

/** Dotted IPv4 text to 4 bytes, or null. */
export function parseIPv4(s: string): Uint8Array | null {
  const out = new Uint8Array(4);
  return parseIPv4Into(s, out, 0) ? out : null;
}

/** IPv6 text to 16 bytes, or null. */
export function parseIPv6(s: string): Uint8Array | null {
  const out = new Uint8Array(16);
  return parseIPv6Into(s, out, 0) ? out : null;
}

/** Dotted text of bytes[off..off+4). */
export function formatIPv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/**
 * Text of the IPv6 address in bytes[off..off+16), exactly as Node (libuv's inet_ntop) prints it:
 * lowercase, no leading zeros, the longest run of two or more zero groups (the first, on a tie)
 * as `::`, and `::a.b.c.d` / `::ffff:a.b.c.d` for IPv4-compatible and IPv4-mapped addresses.
 */
export function formatIPv6(b: Uint8Array, off = 0): string {
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  for (let k = 0; k < 8; k++) {
    const zero = b[off + 2 * k] === 0 && b[off + 2 * k + 1] === 0;
    if (zero) {
      if (curBase < 0) curBase = k;
      const len = k - curBase + 1;
      if (len > bestLen) {
        bestLen = len;
        bestBase = curBase;
      }
    } else {
      curBase = -1;
    }
  }
  if (bestLen < 2) bestBase = -1;
  if (bestBase === 0) {
    if (bestLen === 6) return `::${formatIPv4(b, off + 12)}`;
    if (bestLen === 5 && b[off + 10] === 0xff && b[off + 11] === 0xff) return `::ffff:${formatIPv4(b, off + 12)}`;
  }
  let s = '';
  for (let k = 0; k < 8; k++) {
    if (k === bestBase) {
      s += '::';
      k += bestLen - 1;
      continue;
    }
    if (s.length > 0 && !s.endsWith(':')) s += ':';
    s += ((b[off + 2 * k] << 8) | b[off + 2 * k + 1]).toString(16);
  }
  return s;
}

function bad(message: string): StunError {
  return new StunError('STUN_ERR_BAD_ATTRIBUTE', message);
}

function decodeAddressValue(value: Uint8Array, mask: Uint8Array | null): TransportAddress {
  if (value.length < 4) throw bad(`address attribute of ${value.length} bytes`);
  const family = value[1];
  const m = (i: number): number => (mask === null ? 0 : mask[i]);
  const port = (((value[2] ^ m(0)) << 8) | (value[3] ^ m(1))) >>> 0;
  if (family === FAMILY_V4) {
    if (value.length !== 8) throw bad(`IPv4 address attribute of ${value.length} bytes`);
    return {
      family: 4,
      address: `${value[4] ^ m(0)}.${value[5] ^ m(1)}.${value[6] ^ m(2)}.${value[7] ^ m(3)}`,
      port,
    };
  }
  if (family === FAMILY_V6) {
    if (value.length !== 20) throw bad(`IPv6 address attribute of ${value.length} bytes`);
    let bytes = value.subarray(4, 20);
    if (mask !== null) {
      bytes = new Uint8Array(16);
      for (let i = 0; i < 16; i++) bytes[i] = value[4 + i] ^ mask[i];
    }
    return { family: 6, address: formatIPv6(bytes, 0), port };
  }
  throw bad(`unknown address family 0x${family.toString(16)}`);
}

const cookieMask = new Uint8Array(16);

function xorMask(transactionId: Uint8Array): Uint8Array {
  if (transactionId.length !== TRANSACTION_ID_LENGTH) throw bad('transaction id must be 12 bytes');
  cookieMask[0] = MAGIC_COOKIE >>> 24;
  cookieMask[1] = (MAGIC_COOKIE >>> 16) & 0xff;
  cookieMask[2] = (MAGIC_COOKIE >>> 8) & 0xff;
  cookieMask[3] = MAGIC_COOKIE & 0xff;
  cookieMask.set(transactionId, 4);
  return cookieMask;
}

/** MAPPED-ADDRESS, ALTERNATE-SERVER. Throws StunError STUN_ERR_BAD_ATTRIBUTE. */
export function decodeAddress(value: Uint8Array): TransportAddress {
  return decodeAddressValue(value, null);
}

/** XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS. Throws StunError STUN_ERR_BAD_ATTRIBUTE. */
export function decodeXorAddress(value: Uint8Array, transactionId: Uint8Array): TransportAddress {
  return decodeAddressValue(value, xorMask(transactionId));
}

function invalid(message: string): StunError {
  return new StunError('STUN_ERR_INVALID_ARGUMENT', message);
}

/** Bytes an address value takes: 8 (IPv4) or 20 (IPv6). */
export function addressValueLength(addr: TransportAddress): number {
  return addr.family === 6 ? 20 : 8;
}

/**
 * Writes an address value into out[off..), XORed with mask (bytes 4..20 of a STUN header: the
 * cookie then the transaction id) if mask is given. Returns the bytes written. Throws
 * StunError STUN_ERR_INVALID_ARGUMENT on a bad family, port or address text.
 */
export function writeAddressValue(
  out: Uint8Array,
  off: number,
  addr: TransportAddress,
  mask: Uint8Array | null,
  maskOff = 0,
): number {
  const { family, port } = addr;
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw invalid(`bad port ${port}`);
  const len = family === 6 ? 16 : 4;
  if (family === 4) {
    if (!parseIPv4Into(addr.address, out, off + 4)) throw invalid(`bad IPv4 address "${addr.address}"`);
  } else if (family === 6) {
    if (!parseIPv6Into(addr.address, out, off + 4)) throw invalid(`bad IPv6 address "${addr.address}"`);
  } else {
    throw invalid(`bad address family ${String(family)}`);
  }
  out[off] = 0;
  out[off + 1] = family === 6 ? FAMILY_V6 : FAMILY_V4;
  out[off + 2] = port >>> 8;
  out[off + 3] = port & 0xff;
  if (mask !== null) {
    out[off + 2] ^= mask[maskOff];
    out[off + 3] ^= mask[maskOff + 1];
    for (let i = 0; i < len; i++) out[off + 4 + i] ^= mask[maskOff + i];
  }
  return 4 + len;
}
