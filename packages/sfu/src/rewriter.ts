// Sequence number and timestamp rewriting for one outgoing stream. Whatever the source does
// (switches simulcast layer, pauses, restarts) the subscriber sees one continuous stream:
// at each switch the offsets are chosen so that the next packet follows the last one sent.
// Pure arithmetic on numbers; the consumer applies the results to packet bytes.

export class SeqTsRewriter {
  /** out = (in + offset) mod 2^16 / 2^32 */
  seqOffset = 0;
  tsOffset = 0;
  /** The newest sequence number / timestamp sent, and when. */
  lastSeq: number;
  lastTs: number;
  lastSentMs = 0;
  started = false;

  constructor(
    readonly clockRate: number,
    initialSeq = Math.floor(Math.random() * 0x10000),
    initialTs = Math.floor(Math.random() * 0x100000000),
  ) {
    this.lastSeq = (initialSeq - 1) & 0xffff;
    this.lastTs = initialTs >>> 0;
  }

  /**
   * Re-anchors on a new source packet (the first, or the first after a switch or pause):
   * its sequence number follows the last one sent, and its timestamp is advanced by the
   * time that passed (at least 1 tick).
   */
  anchor(inSeq: number, inTs: number, nowMs: number): void {
    this.seqOffset = (this.lastSeq + 1 - inSeq) & 0xffff;
    let advance = 1;
    if (this.started) advance = Math.max(1, Math.round(((nowMs - this.lastSentMs) * this.clockRate) / 1000));
    this.tsOffset = (this.lastTs + advance - inTs) >>> 0;
    this.started = true;
  }

  seq(inSeq: number): number {
    return (inSeq + this.seqOffset) & 0xffff;
  }

  ts(inTs: number): number {
    return (inTs + this.tsOffset) >>> 0;
  }

  /** Records a sent packet; only a newer one moves lastSeq/lastTs. */
  sent(outSeq: number, outTs: number, nowMs: number): void {
    const d = (outSeq - this.lastSeq) & 0xffff;
    if (d !== 0 && d < 0x8000) {
      this.lastSeq = outSeq;
      this.lastTs = outTs;
      this.lastSentMs = nowMs;
    }
  }
}

/** VP8 picture id / TL0PICIDX continuity across layer switches (RFC 7741 §4.2). */
export class Vp8Rewriter {
  pidOffset = 0;
  tl0Offset = 0;
  lastPid = -1;
  lastTl0 = -1;

  anchor(inPid: number, inTl0: number, pidBits: number): void {
    const pidMask = pidBits === 7 ? 0x7f : 0x7fff;
    if (inPid >= 0 && pidBits > 0) this.pidOffset = this.lastPid < 0 ? 0 : (this.lastPid + 1 - inPid) & pidMask;
    if (inTl0 >= 0) this.tl0Offset = this.lastTl0 < 0 ? 0 : (this.lastTl0 + 1 - inTl0) & 0xff;
  }

  pid(inPid: number, pidBits: number): number {
    const mask = pidBits === 7 ? 0x7f : 0x7fff;
    const out = (inPid + this.pidOffset) & mask;
    // only forward: a reordered older packet must not pull the anchor back
    if (this.lastPid < 0 || ((out - this.lastPid) & mask) < (mask + 1) / 2) this.lastPid = out;
    return out;
  }

  tl0(inTl0: number): number {
    const out = (inTl0 + this.tl0Offset) & 0xff;
    if (this.lastTl0 < 0 || ((out - this.lastTl0) & 0xff) < 128) this.lastTl0 = out;
    return out;
  }
}
