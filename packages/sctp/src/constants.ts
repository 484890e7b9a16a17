// The association's fixed numbers (RFC 9260 §16 suggests most of them) and the WebRTC payload
// protocol ids (RFC 8831 §8).
import { COMMON_HEADER_LENGTH, DATA_HEADER_LENGTH } from './wire.js';

/** Whole SCTP packet budget (fits one DTLS record over a 1280-byte IPv6 path). */
export const MTU = 1200;
/** User data per DATA chunk. */
export const MAX_PAYLOAD = MTU - COMMON_HEADER_LENGTH - DATA_HEADER_LENGTH;
/** At most this much of an unrecognized chunk (or of unrecognized INIT parameters) is echoed back. */
export const UNRECOGNIZED_REPORT_MAX = 256;
export const RTO_INITIAL = 1000;
export const RTO_MIN = 200;
export const RTO_MAX = 10_000;
export const MAX_INIT_RETRANS = 8;
export const MAX_ASSOC_RETRANS = 10;
/** Our receive window, bytes. */
export const LOCAL_RWND = 1 << 20;
export const SACK_DELAY = 200;
export const MAX_STREAMS = 65535;
export const MAX_GAP_BLOCKS = 64;
export const MAX_DUPS = 16;

export const PPID = {
  DCEP: 50,
  STRING: 51,
  BINARY_PARTIAL: 52,
  BINARY: 53,
  STRING_PARTIAL: 54,
  STRING_EMPTY: 56,
  BINARY_EMPTY: 57,
} as const;

export interface AssociationStats {
  messagesSent: number;
  messagesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  retransmissions: number;
}

export type TimerName = 't1' | 't2' | 't3' | 'sack' | 'reconfig';
export const TIMERS: readonly TimerName[] = ['t1', 't2', 't3', 'sack', 'reconfig'];

/** The association's timers, as its parts see them. */
export interface Timers {
  now(): number;
  set(t: TimerName, delayMs: number): void;
  clear(t: TimerName): void;
  isSet(t: TimerName): boolean;
}

export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0);
  return b;
}
