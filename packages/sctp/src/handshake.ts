// The four-way handshake (RFC 9260 §5.1) as far as it needs no association state: our tag and
// initial TSN, our INIT, the INIT-ACK answering a peer's INIT (stateless: all it needs to
// remember goes into the state cookie, cookie.ts), the COOKIE-ECHO answering an INIT-ACK, and
// what the T1 timer retransmits, with its backoff.
import { randomBytes } from 'node:crypto';
import { ChunkType, decodeInit, encodeChunk, encodeInit } from './wire.js';
import type { InitChunk, RawChunk } from './wire.js';
import { LOCAL_RWND, MAX_INIT_RETRANS, MAX_STREAMS, RTO_INITIAL, RTO_MAX, UNRECOGNIZED_REPORT_MAX } from './constants.js';
import { makeCookie, openCookie } from './cookie.js';

const randomU32 = (nonZero: boolean): number => {
  for (;;) {
    const v = randomBytes(4).readUInt32BE(0);
    if (v !== 0 || !nonZero) return v;
  }
};

/** The leading items whose total length stays within max bytes. */
function capTotal(items: Uint8Array[], max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let total = 0;
  for (const it of items) {
    if (total + it.length > max) break;
    out.push(it);
    total += it.length;
  }
  return out;
}

export class Handshake {
  readonly localTag = randomU32(true);
  readonly localInitialTsn = randomU32(false);
  private readonly cookieKey = randomBytes(32);
  /** What T1 retransmits: our INIT (cookie-wait) or our COOKIE-ECHO (cookie-echoed). */
  private pending: Uint8Array | null = null;
  private failures = 0;
  /** T1's current timeout. */
  rto = RTO_INITIAL;

  constructor(private readonly now: () => number) {}

  private parameters(): Parameters<typeof encodeInit>[1] {
    return {
      initiateTag: this.localTag,
      arwnd: LOCAL_RWND,
      outboundStreams: MAX_STREAMS,
      inboundStreams: MAX_STREAMS,
      initialTsn: this.localInitialTsn,
      forwardTsn: true,
      reconfig: true,
    };
  }

  /** Our INIT (we start the association). */
  init(): Uint8Array {
    this.pending = encodeInit(ChunkType.INIT, this.parameters());
    return this.pending;
  }

  /** The INIT-ACK for a peer's INIT and the tag to send it with, or null for an invalid INIT. */
  answerInit(c: RawChunk): { vtag: number; chunk: Uint8Array } | null {
    let init: InitChunk;
    try {
      init = decodeInit(c);
    } catch {
      return null;
    }
    if (init.initiateTag === 0 || init.outboundStreams === 0 || init.inboundStreams === 0) return null;
    const chunk = encodeInit(ChunkType.INIT_ACK, {
      ...this.parameters(),
      cookie: makeCookie(this.cookieKey, this.localTag, this.localInitialTsn, init, this.now()),
      // reported unrecognized parameters are capped so the INIT-ACK still fits one packet
      unrecognized: capTotal(init.unrecognized, UNRECOGNIZED_REPORT_MAX),
    });
    return { vtag: init.initiateTag, chunk };
  }

  /** A valid INIT-ACK: the peer's parameters and our COOKIE-ECHO (T1 starts over for it). Throws on a malformed chunk. */
  onInitAck(c: RawChunk): { peer: InitChunk; echo: Uint8Array } | null {
    const ack = decodeInit(c);
    if (!ack.cookie || ack.initiateTag === 0 || ack.outboundStreams === 0 || ack.inboundStreams === 0) return null;
    this.pending = encodeChunk(ChunkType.COOKIE_ECHO, 0, ack.cookie);
    this.failures = 0;
    this.rto = RTO_INITIAL;
    return { peer: ack, echo: this.pending };
  }

  /** The peer's INIT from a COOKIE-ECHO we made, or null. */
  openCookie(value: Uint8Array): InitChunk | null {
    return openCookie(this.cookieKey, this.localTag, value, this.now());
  }

  /** T1 expired: the chunk to send again (T1 backs off), or 'failed' after too many tries. */
  retransmit(): Uint8Array | null | 'failed' {
    if (++this.failures > MAX_INIT_RETRANS) return 'failed';
    this.rto = Math.min(this.rto * 2, RTO_MAX);
    return this.pending;
  }

  /** Established: nothing more to retransmit. */
  done(): void {
    this.pending = null;
  }
}
