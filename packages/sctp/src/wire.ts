// SCTP wire format (RFC 9260 §3, RFC 3758 §3.2, RFC 6525 §3-4): packets, chunks, parameters.
// Decoders throw SctpError('SB_ERR_SCTP_MALFORMED') on anything that does not fit.
import { crc32c } from './crc32c.js';
import { SctpError } from './errors.js';

export const ChunkType = {
  DATA: 0,
  INIT: 1,
  INIT_ACK: 2,
  SACK: 3,
  HEARTBEAT: 4,
  HEARTBEAT_ACK: 5,
  ABORT: 6,
  SHUTDOWN: 7,
  SHUTDOWN_ACK: 8,
  ERROR: 9,
  COOKIE_ECHO: 10,
  COOKIE_ACK: 11,
  SHUTDOWN_COMPLETE: 14,
  RECONFIG: 130,
  FORWARD_TSN: 192,
} as const;

export const ParamType = {
  HEARTBEAT_INFO: 1,
  STATE_COOKIE: 7,
  UNRECOGNIZED_PARAM: 8,
  OUTGOING_SSN_RESET: 13,
  INCOMING_SSN_RESET: 14,
  RECONFIG_RESPONSE: 16,
  SUPPORTED_EXTENSIONS: 0x8008,
  FORWARD_TSN_SUPPORTED: 0xc000,
} as const;

/** RE-CONFIG response results (RFC 6525 §4.4). */
export const ReconfigResult = {
  SUCCESS_NOTHING_TO_DO: 0,
  SUCCESS_PERFORMED: 1,
  DENIED: 2,
  ERROR_WRONG_SSN: 3,
  ERROR_REQUEST_ALREADY_IN_PROGRESS: 4,
  ERROR_BAD_SEQUENCE_NUMBER: 5,
  IN_PROGRESS: 6,
} as const;

export const COMMON_HEADER_LENGTH = 12;
export const DATA_HEADER_LENGTH = 16;

export function malformed(what: string): never {
  throw new SctpError('SB_ERR_SCTP_MALFORMED', `malformed SCTP ${what}`);
}

const pad4 = (n: number): number => (n + 3) & ~3;
const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

// ---- serial number arithmetic (RFC 1982) ----
export const tsnAdd = (a: number, n: number): number => (a + n) >>> 0;
export const tsnDiff = (a: number, b: number): number => (a - b) >>> 0; // a - b mod 2^32
export const tsnGt = (a: number, b: number): boolean => a !== b && tsnDiff(a, b) < 0x80000000;
export const tsnGe = (a: number, b: number): boolean => a === b || tsnGt(a, b);
export const tsnLt = (a: number, b: number): boolean => tsnGt(b, a);
export const tsnLe = (a: number, b: number): boolean => tsnGe(b, a);
export const ssnAdd = (a: number, n: number): number => (a + n) & 0xffff;
export const ssnGt = (a: number, b: number): boolean => a !== b && ((a - b) & 0xffff) < 0x8000;
export const ssnGe = (a: number, b: number): boolean => a === b || ssnGt(a, b);

// ---- packets ----
export interface RawChunk {
  type: number;
  flags: number;
  /** The chunk value (without the 4-byte chunk header and padding). */
  value: Uint8Array;
}

export interface Packet {
  srcPort: number;
  dstPort: number;
  vtag: number;
  chunks: RawChunk[];
}

export function verifyChecksum(buf: Uint8Array): boolean {
  if (buf.length < COMMON_HEADER_LENGTH) return false;
  const v = view(buf);
  return v.getUint32(8, true) === crc32c(buf, 8);
}

/** Parses the common header and the chunk list (the checksum is not checked here). */
export function decodePacket(buf: Uint8Array): Packet {
  if (buf.length < COMMON_HEADER_LENGTH) malformed('packet (too short)');
  const v = view(buf);
  const chunks: RawChunk[] = [];
  let off = COMMON_HEADER_LENGTH;
  while (off < buf.length) {
    if (buf.length - off < 4) {
      // Trailing bytes shorter than a chunk header are only allowed as zero padding.
      for (let i = off; i < buf.length; i++) if (buf[i] !== 0) malformed('packet (trailing bytes)');
      break;
    }
    const len = v.getUint16(off + 2);
    if (len < 4 || off + len > buf.length) malformed('chunk length');
    chunks.push({ type: buf[off], flags: buf[off + 1], value: buf.subarray(off + 4, off + len) });
    off += pad4(len);
  }
  return { srcPort: v.getUint16(0), dstPort: v.getUint16(2), vtag: v.getUint32(4), chunks };
}

export function encodePacket(srcPort: number, dstPort: number, vtag: number, chunks: Uint8Array[]): Uint8Array {
  let len = COMMON_HEADER_LENGTH;
  for (const c of chunks) len += c.length;
  const out = new Uint8Array(len);
  const v = view(out);
  v.setUint16(0, srcPort);
  v.setUint16(2, dstPort);
  v.setUint32(4, vtag >>> 0);
  let off = COMMON_HEADER_LENGTH;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  v.setUint32(8, crc32c(out, 8), true);
  return out;
}

/** A chunk with its header, padded to a multiple of 4. */
export function encodeChunk(type: number, flags: number, value: Uint8Array = new Uint8Array(0)): Uint8Array {
  const len = 4 + value.length;
  if (len > 0xffff) throw new RangeError('chunk too long');
  const out = new Uint8Array(pad4(len));
  out[0] = type;
  out[1] = flags;
  out[2] = len >> 8;
  out[3] = len & 0xff;
  out.set(value, 4);
  return out;
}

// ---- parameters (TLV inside INIT, INIT-ACK, HEARTBEAT, RE-CONFIG) ----
export interface Param {
  type: number;
  value: Uint8Array;
}

export function encodeParam(type: number, value: Uint8Array): Uint8Array {
  const len = 4 + value.length;
  const out = new Uint8Array(pad4(len));
  out[0] = type >> 8;
  out[1] = type & 0xff;
  out[2] = len >> 8;
  out[3] = len & 0xff;
  out.set(value, 4);
  return out;
}

export function decodeParams(buf: Uint8Array): Param[] {
  const v = view(buf);
  const out: Param[] = [];
  let off = 0;
  while (off + 4 <= buf.length) {
    const type = v.getUint16(off);
    const len = v.getUint16(off + 2);
    if (len < 4 || off + len > buf.length) malformed('parameter length');
    out.push({ type, value: buf.subarray(off + 4, off + len) });
    off += pad4(len);
  }
  return out;
}

const concat = (parts: Uint8Array[]): Uint8Array => {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
};

// ---- DATA ----
export interface DataChunk {
  tsn: number;
  sid: number;
  ssn: number;
  ppid: number;
  unordered: boolean;
  beginning: boolean;
  ending: boolean;
  immediate: boolean;
  data: Uint8Array;
}

export const DataFlag = { E: 1, B: 2, U: 4, I: 8 } as const;

export function decodeData(c: RawChunk): DataChunk {
  if (c.value.length < 12) malformed('DATA chunk');
  const v = view(c.value);
  return {
    tsn: v.getUint32(0),
    sid: v.getUint16(4),
    ssn: v.getUint16(6),
    ppid: v.getUint32(8),
    unordered: (c.flags & DataFlag.U) !== 0,
    beginning: (c.flags & DataFlag.B) !== 0,
    ending: (c.flags & DataFlag.E) !== 0,
    immediate: (c.flags & DataFlag.I) !== 0,
    data: c.value.subarray(12),
  };
}

export function encodeData(d: DataChunk): Uint8Array {
  const value = new Uint8Array(12 + d.data.length);
  const v = view(value);
  v.setUint32(0, d.tsn);
  v.setUint16(4, d.sid);
  v.setUint16(6, d.ssn);
  v.setUint32(8, d.ppid);
  value.set(d.data, 12);
  const flags =
    (d.unordered ? DataFlag.U : 0) | (d.beginning ? DataFlag.B : 0) | (d.ending ? DataFlag.E : 0) | (d.immediate ? DataFlag.I : 0);
  return encodeChunk(ChunkType.DATA, flags, value);
}

// ---- INIT / INIT-ACK ----
export interface InitChunk {
  initiateTag: number;
  arwnd: number;
  outboundStreams: number;
  inboundStreams: number;
  initialTsn: number;
  forwardTsn: boolean;
  reconfig: boolean;
  cookie?: Uint8Array;
  /** Unrecognized parameters whose type asks to be reported. */
  unrecognized: Uint8Array[];
}

export function decodeInit(c: RawChunk): InitChunk {
  if (c.value.length < 16) malformed('INIT chunk');
  const v = view(c.value);
  const init: InitChunk = {
    initiateTag: v.getUint32(0),
    arwnd: v.getUint32(4),
    outboundStreams: v.getUint16(8),
    inboundStreams: v.getUint16(10),
    initialTsn: v.getUint32(12),
    forwardTsn: false,
    reconfig: false,
    unrecognized: [],
  };
  for (const p of decodeParams(c.value.subarray(16))) {
    if (p.type === ParamType.FORWARD_TSN_SUPPORTED) init.forwardTsn = true;
    else if (p.type === ParamType.SUPPORTED_EXTENSIONS) {
      for (const t of p.value) {
        if (t === ChunkType.FORWARD_TSN) init.forwardTsn = true;
        if (t === ChunkType.RECONFIG) init.reconfig = true;
      }
    } else if (p.type === ParamType.STATE_COOKIE) init.cookie = p.value;
    else {
      // Known-but-unused parameters (addresses, host name, ECN, AUTH, ...) and unknown ones.
      const known = [5, 6, 9, 11, 12, 0x8000, 0x8001, 0x8002, 0x8003, 0x8004, 0xc006];
      if (known.includes(p.type)) continue;
      const action = p.type >> 14; // RFC 9260 §3.2.1
      if (action === 1 || action === 3) init.unrecognized.push(encodeParam(p.type, p.value));
      if (action === 0 || action === 1) break;
    }
  }
  return init;
}

export function encodeInit(type: number, init: Omit<InitChunk, 'unrecognized'> & { unrecognized?: Uint8Array[] }): Uint8Array {
  const fixed = new Uint8Array(16);
  const v = view(fixed);
  v.setUint32(0, init.initiateTag);
  v.setUint32(4, init.arwnd);
  v.setUint16(8, init.outboundStreams);
  v.setUint16(10, init.inboundStreams);
  v.setUint32(12, init.initialTsn);
  const parts: Uint8Array[] = [fixed];
  if (init.cookie) parts.push(encodeParam(ParamType.STATE_COOKIE, init.cookie));
  const ext: number[] = [];
  if (init.forwardTsn) ext.push(ChunkType.FORWARD_TSN);
  if (init.reconfig) ext.push(ChunkType.RECONFIG);
  if (ext.length) parts.push(encodeParam(ParamType.SUPPORTED_EXTENSIONS, Uint8Array.from(ext)));
  if (init.forwardTsn) parts.push(encodeParam(ParamType.FORWARD_TSN_SUPPORTED, new Uint8Array(0)));
  for (const u of init.unrecognized ?? []) parts.push(encodeParam(ParamType.UNRECOGNIZED_PARAM, u));
  return encodeChunk(type, 0, concat(parts));
}

// ---- SACK ----
export interface SackChunk {
  cumTsn: number;
  arwnd: number;
  /** Gap ack blocks as offsets from cumTsn, inclusive. */
  gaps: [number, number][];
  dups: number[];
}

export function decodeSack(c: RawChunk): SackChunk {
  if (c.value.length < 12) malformed('SACK chunk');
  const v = view(c.value);
  const nGaps = v.getUint16(8);
  const nDups = v.getUint16(10);
  if (c.value.length < 12 + nGaps * 4 + nDups * 4) malformed('SACK chunk');
  const gaps: [number, number][] = [];
  for (let i = 0; i < nGaps; i++) gaps.push([v.getUint16(12 + i * 4), v.getUint16(14 + i * 4)]);
  const dups: number[] = [];
  for (let i = 0; i < nDups; i++) dups.push(v.getUint32(12 + nGaps * 4 + i * 4));
  return { cumTsn: v.getUint32(0), arwnd: v.getUint32(4), gaps, dups };
}

export function encodeSack(s: SackChunk): Uint8Array {
  const value = new Uint8Array(12 + s.gaps.length * 4 + s.dups.length * 4);
  const v = view(value);
  v.setUint32(0, s.cumTsn);
  v.setUint32(4, s.arwnd);
  v.setUint16(8, s.gaps.length);
  v.setUint16(10, s.dups.length);
  s.gaps.forEach(([a, b], i) => {
    v.setUint16(12 + i * 4, a);
    v.setUint16(14 + i * 4, b);
  });
  s.dups.forEach((d, i) => v.setUint32(12 + s.gaps.length * 4 + i * 4, d));
  return encodeChunk(ChunkType.SACK, 0, value);
}

// ---- FORWARD-TSN ----
export interface ForwardTsnChunk {
  newCumTsn: number;
  streams: { sid: number; ssn: number }[];
}

export function decodeForwardTsn(c: RawChunk): ForwardTsnChunk {
  if (c.value.length < 4) malformed('FORWARD-TSN chunk');
  const v = view(c.value);
  const streams: { sid: number; ssn: number }[] = [];
  for (let off = 4; off + 4 <= c.value.length; off += 4) streams.push({ sid: v.getUint16(off), ssn: v.getUint16(off + 2) });
  return { newCumTsn: v.getUint32(0), streams };
}

export function encodeForwardTsn(f: ForwardTsnChunk): Uint8Array {
  const value = new Uint8Array(4 + f.streams.length * 4);
  const v = view(value);
  v.setUint32(0, f.newCumTsn);
  f.streams.forEach((s, i) => {
    v.setUint16(4 + i * 4, s.sid);
    v.setUint16(6 + i * 4, s.ssn);
  });
  return encodeChunk(ChunkType.FORWARD_TSN, 0, value);
}

// ---- RE-CONFIG parameters ----
export interface OutgoingResetRequest {
  reqSeq: number;
  respSeq: number;
  lastTsn: number;
  streams: number[];
}

export function decodeOutgoingReset(p: Param): OutgoingResetRequest {
  if (p.value.length < 12) malformed('Outgoing SSN Reset Request');
  const v = view(p.value);
  const streams: number[] = [];
  for (let off = 12; off + 2 <= p.value.length; off += 2) streams.push(v.getUint16(off));
  return { reqSeq: v.getUint32(0), respSeq: v.getUint32(4), lastTsn: v.getUint32(8), streams };
}

export function encodeOutgoingReset(r: OutgoingResetRequest): Uint8Array {
  const value = new Uint8Array(12 + r.streams.length * 2);
  const v = view(value);
  v.setUint32(0, r.reqSeq);
  v.setUint32(4, r.respSeq);
  v.setUint32(8, r.lastTsn);
  r.streams.forEach((s, i) => v.setUint16(12 + i * 2, s));
  return encodeParam(ParamType.OUTGOING_SSN_RESET, value);
}

export function decodeIncomingReset(p: Param): { reqSeq: number; streams: number[] } {
  if (p.value.length < 4) malformed('Incoming SSN Reset Request');
  const v = view(p.value);
  const streams: number[] = [];
  for (let off = 4; off + 2 <= p.value.length; off += 2) streams.push(v.getUint16(off));
  return { reqSeq: v.getUint32(0), streams };
}

export function decodeReconfigResponse(p: Param): { respSeq: number; result: number } {
  if (p.value.length < 8) malformed('Re-configuration Response');
  const v = view(p.value);
  return { respSeq: v.getUint32(0), result: v.getUint32(4) };
}

export function encodeReconfigResponse(respSeq: number, result: number): Uint8Array {
  const value = new Uint8Array(8);
  const v = view(value);
  v.setUint32(0, respSeq);
  v.setUint32(4, result);
  return encodeParam(ParamType.RECONFIG_RESPONSE, value);
}

/** An error cause (RFC 9260 §3.3.10). */
export function encodeCause(code: number, info: Uint8Array = new Uint8Array(0)): Uint8Array {
  return encodeParam(code, info);
}

export { concat };
