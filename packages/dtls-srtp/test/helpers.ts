// Shared test helpers: hex, RTP/RTCP packet builders, in-memory DTLS pumps, werift adapters.
import { DtlsSession } from '../src/index.js';

export function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/[\s:]/g, ''), 'hex'));
}
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** An RTP packet (version 2, payload type 96 unless given) with `payload` bytes after a 12-byte header. */
export function rtp(seq: number, ssrc: number, payload: Uint8Array | number, opts: { pt?: number; ts?: number; csrcs?: number[]; ext?: Uint8Array } = {}): Uint8Array {
  const body = typeof payload === 'number' ? new Uint8Array(payload).map((_, i) => (i * 7 + seq) & 0xff) : payload;
  const csrcs = opts.csrcs ?? [];
  const extLen = opts.ext ? 4 + opts.ext.length : 0;
  const hl = 12 + 4 * csrcs.length + extLen;
  const p = new Uint8Array(hl + body.length);
  const dv = new DataView(p.buffer);
  p[0] = 0x80 | csrcs.length | (opts.ext ? 0x10 : 0);
  p[1] = opts.pt ?? 96;
  dv.setUint16(2, seq & 0xffff);
  dv.setUint32(4, (opts.ts ?? seq * 3000) >>> 0);
  dv.setUint32(8, ssrc >>> 0);
  csrcs.forEach((c, i) => dv.setUint32(12 + 4 * i, c >>> 0));
  if (opts.ext) {
    const o = 12 + 4 * csrcs.length;
    dv.setUint16(o, 0xbede);
    dv.setUint16(o + 2, opts.ext.length / 4);
    p.set(opts.ext, o + 4);
  }
  p.set(body, hl);
  return p;
}

/** An RTCP sender report (PT 200) from `ssrc` with `extra` bytes of trailing data. */
export function rtcpSr(ssrc: number, extra = 0): Uint8Array {
  const len = 28 + extra;
  const p = new Uint8Array(len);
  const dv = new DataView(p.buffer);
  p[0] = 0x80;
  p[1] = 200;
  dv.setUint16(2, len / 4 - 1);
  dv.setUint32(4, ssrc >>> 0);
  for (let i = 8; i < len; i++) p[i] = (i * 13) & 0xff;
  return p;
}

/** Copies `pkt` into a buffer with `room` spare bytes. */
export function withRoom(pkt: Uint8Array, room = 32): Uint8Array {
  const b = new Uint8Array(pkt.length + room);
  b.set(pkt);
  return b;
}

/** Moves datagrams between two of our sessions until neither has anything to send. */
export function pump(a: DtlsSession, b: DtlsSession, drop?: (fromA: boolean, d: Uint8Array, n: number) => boolean): number {
  let n = 0;
  for (let round = 0; round < 50; round++) {
    const fa = a.takeOutgoing();
    const fb = b.takeOutgoing();
    if (fa.length === 0 && fb.length === 0) break;
    for (const d of fa) if (!drop?.(true, d, n++)) b.receive(d);
    for (const d of fb) if (!drop?.(false, d, n++)) a.receive(d);
  }
  return n;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
