import { getAttributes } from './attributes.js';
import { SdpError } from './errors.js';
import type { MediaDescription } from './types.js';
import { isToken, parseUint, quote, tokens } from './util.js';

export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';
export type TcpType = 'active' | 'passive' | 'so';

/** An ICE candidate (RFC 8839 §5.1). */
export interface Candidate {
  foundation: string;
  component: number;
  /** Lower-cased: 'udp' | 'tcp'. */
  transport: string;
  priority: number;
  address: string;
  port: number;
  type: CandidateType;
  relatedAddress?: string;
  relatedPort?: number;
  tcpType?: TcpType;
  /** generation, ufrag, network-id, network-cost... in order. */
  extensions: { name: string; value: string }[];
}

const TYPES: readonly string[] = ['host', 'srflx', 'prflx', 'relay'];
const TCP_TYPES: readonly string[] = ['active', 'passive', 'so'];
const RESERVED = new Set(['typ', 'raddr', 'rport', 'tcptype']);

/** Parses "candidate:..." with or without the leading "a=" and "candidate:". */
export function parseCandidate(text: string): Candidate {
  if (typeof text !== 'string') throw new SdpError('candidate must be a string');
  let s = text.trim();
  if (s.startsWith('a=')) s = s.slice(2);
  if (s.slice(0, 10).toLowerCase() === 'candidate:') s = s.slice(10);
  const t = tokens(s);
  if (t.length < 8 || t[6]!.toLowerCase() !== 'typ') {
    throw new SdpError(`candidate needs "foundation component transport priority address port typ type": ${quote(text)}`);
  }
  const type = t[7]!.toLowerCase();
  if (!TYPES.includes(type)) throw new SdpError(`candidate type must be host, srflx, prflx or relay, got ${quote(t[7])}`);
  const c: Candidate = {
    foundation: t[0]!,
    component: parseUint(t[1], 'candidate component', 256, 1),
    transport: t[2]!.toLowerCase(),
    priority: parseUint(t[3], 'candidate priority', 0xffffffff),
    address: t[4]!,
    port: parseUint(t[5], 'candidate port', 65535),
    type: type as CandidateType,
    extensions: [],
  };
  if ((t.length - 8) % 2 !== 0) throw new SdpError(`candidate has a name without a value: ${quote(text)}`);
  for (let i = 8; i < t.length; i += 2) {
    const name = t[i]!;
    const value = t[i + 1]!;
    switch (name) {
      case 'raddr':
        if (c.relatedAddress !== undefined) throw new SdpError(`candidate repeats raddr: ${quote(text)}`);
        c.relatedAddress = value;
        break;
      case 'rport':
        if (c.relatedPort !== undefined) throw new SdpError(`candidate repeats rport: ${quote(text)}`);
        c.relatedPort = parseUint(value, 'candidate rport', 65535);
        break;
      case 'tcptype': {
        if (c.tcpType !== undefined) throw new SdpError(`candidate repeats tcptype: ${quote(text)}`);
        const tt = value.toLowerCase();
        if (!TCP_TYPES.includes(tt)) throw new SdpError(`candidate tcptype must be active, passive or so, got ${quote(value)}`);
        c.tcpType = tt as TcpType;
        break;
      }
      case 'typ':
        throw new SdpError(`candidate repeats typ: ${quote(text)}`);
      default:
        c.extensions.push({ name, value });
    }
  }
  return c;
}

function token(s: unknown, what: string): string {
  if (!isToken(s)) throw new SdpError(`${what} must be a non-empty string without whitespace, got ${quote(String(s))}`);
  return s;
}

function uint(n: unknown, what: string, max: number, min = 0): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new SdpError(`${what} must be an integer in [${min}, ${max}], got ${String(n)}`);
  }
  return n;
}

/** Writes "candidate:..." (no "a=", no line ending). Throws SdpError on a value that would not read back. */
export function writeCandidate(c: Candidate): string {
  const transport = token(c.transport, 'candidate transport');
  if (transport !== transport.toLowerCase()) throw new SdpError(`candidate transport must be lower-case, got ${quote(transport)}`);
  if (!TYPES.includes(c.type)) throw new SdpError(`candidate type must be host, srflx, prflx or relay, got ${quote(String(c.type))}`);
  let out =
    `candidate:${token(c.foundation, 'candidate foundation')} ${uint(c.component, 'candidate component', 256, 1)} ${transport}` +
    ` ${uint(c.priority, 'candidate priority', 0xffffffff)} ${token(c.address, 'candidate address')}` +
    ` ${uint(c.port, 'candidate port', 65535)} typ ${c.type}`;
  if (c.relatedAddress !== undefined) out += ` raddr ${token(c.relatedAddress, 'candidate raddr')}`;
  if (c.relatedPort !== undefined) out += ` rport ${uint(c.relatedPort, 'candidate rport', 65535)}`;
  if (c.tcpType !== undefined) {
    if (!TCP_TYPES.includes(c.tcpType)) throw new SdpError(`candidate tcptype must be active, passive or so, got ${quote(String(c.tcpType))}`);
    out += ` tcptype ${c.tcpType}`;
  }
  for (const e of c.extensions) {
    const name = token(e.name, 'candidate extension name');
    if (RESERVED.has(name)) throw new SdpError(`candidate extension cannot be named ${name}`);
    out += ` ${name} ${token(e.value, `candidate ${name}`)}`;
  }
  return out;
}

/** Every a=candidate of a media section, parsed, in order. */
export function getCandidates(m: MediaDescription): Candidate[] {
  return getAttributes(m, 'candidate').map((v) => parseCandidate(v));
}
