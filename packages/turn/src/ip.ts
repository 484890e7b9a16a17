// IP address text <-> bytes and range matching, for the peer address policy.
// IPv4 is 4 bytes, IPv6 16; an IPv4-mapped IPv6 address is judged as the IPv4 it carries.

import { parseIPv4, parseIPv6 } from '@switchboard/stun';
import { TurnError } from './errors.js';

/** Bytes of an IP address (4 or 16), or null if the text is not one. */
export function parseIp(text: string): Uint8Array | null {
  const t = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  return parseIPv4(t) ?? parseIPv6(t);
}

/** The IPv4 address inside ::ffff:a.b.c.d, else the input. */
export function unmapIPv4(bytes: Uint8Array): Uint8Array {
  if (bytes.length !== 16) return bytes;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return bytes;
  if (bytes[10] !== 0xff || bytes[11] !== 0xff) return bytes;
  return bytes.subarray(12);
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** An inclusive range of addresses of one family. */
export interface IpRange {
  readonly text: string;
  readonly first: Uint8Array;
  readonly last: Uint8Array;
}

/**
 * Parses a range as coturn writes it (`denied-peer-ip=10.0.0.0-10.255.255.255`), as a CIDR
 * (`10.0.0.0/8`) or as one address.
 */
export function parseIpRange(text: string): IpRange {
  const t = text.trim();
  const bad = () => new TurnError('TURN_ERR_BAD_IP_RANGE', `not an IP address range: ${JSON.stringify(text)}`);
  const slash = t.indexOf('/');
  if (slash >= 0) {
    const base = parseIp(t.slice(0, slash));
    const bitsText = t.slice(slash + 1);
    if (!base || !/^\d{1,3}$/.test(bitsText)) throw bad();
    const bits = Number(bitsText);
    if (bits > base.length * 8) throw bad();
    const first = new Uint8Array(base);
    const last = new Uint8Array(base);
    for (let i = 0; i < base.length; i++) {
      const keep = Math.max(0, Math.min(8, bits - i * 8));
      const mask = keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
      first[i] = base[i] & mask;
      last[i] = (base[i] & mask) | (~mask & 0xff);
    }
    return { text: t, first, last };
  }
  const dash = t.indexOf('-');
  if (dash >= 0) {
    const first = parseIp(t.slice(0, dash).trim());
    const last = parseIp(t.slice(dash + 1).trim());
    if (!first || !last || first.length !== last.length || compare(first, last) > 0) throw bad();
    return { text: t, first, last };
  }
  const one = parseIp(t);
  if (!one) throw bad();
  return { text: t, first: one, last: one };
}

export function inRange(ip: Uint8Array, range: IpRange): boolean {
  return ip.length === range.first.length && compare(ip, range.first) >= 0 && compare(ip, range.last) <= 0;
}

/** Loopback, private, link-local, multicast, unspecified and other non-routable ranges. */
export const RESTRICTED_RANGES: readonly IpRange[] = [
  '0.0.0.0/8', // "this network", unspecified
  '10.0.0.0/8', // RFC 1918
  '100.64.0.0/10', // carrier-grade NAT (RFC 6598)
  '127.0.0.0/8', // loopback
  '169.254.0.0/16', // link-local
  '172.16.0.0/12', // RFC 1918
  '192.0.0.0/24', // IETF protocol assignments
  '192.168.0.0/16', // RFC 1918
  '198.18.0.0/15', // benchmarking
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, and broadcast
  '::/128', // unspecified
  '::1/128', // loopback
  '64:ff9b:1::/48', // local-use NAT64
  'fc00::/7', // unique local (ULA)
  'fe80::/10', // link-local
  'ff00::/8', // multicast
].map(parseIpRange);

export const LOOPBACK_RANGES: readonly IpRange[] = ['127.0.0.0/8', '::1/128'].map(parseIpRange);
