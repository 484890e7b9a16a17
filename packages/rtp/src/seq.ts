// Sequence-number and timestamp arithmetic (RFC 1982 style, as in RFC 3550 Appendix A.1).

/** Signed distance a - b mod 2^16, in (-32768, 32768]. */
export function seqDiff(a: number, b: number): number {
  const d = (a - b) & 0xffff;
  return d > 0x8000 ? d - 0x10000 : d;
}

/** a is after b mod 2^16. Exactly half-way apart (32768), the numerically larger one is newer (as libwebrtc). */
export function seqNewer(a: number, b: number): boolean {
  const d = (a - b) & 0xffff;
  if (d === 0x8000) return (a & 0xffff) > (b & 0xffff);
  return d !== 0 && d < 0x8000;
}

/** a is after b mod 2^32 (same rule as seqNewer). */
export function tsNewer(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  if (d === 0x80000000) return a >>> 0 > b >>> 0;
  return d !== 0 && d < 0x80000000;
}

/**
 * Unwraps 16-bit sequence numbers into an extended number that keeps counting across wraps.
 * The first value is returned as is; each later one is placed nearest to the previous value (so a
 * reordered packet from before a wrap maps below it; values before the first one may be negative).
 * One instance per stream, no allocation per call.
 */
export class SeqUnwrapper {
  private last = 0;
  private started = false;

  unwrap(seq: number): number {
    seq &= 0xffff;
    if (!this.started) {
      this.started = true;
      this.last = seq;
      return seq;
    }
    const lastSeq = this.last & 0xffff; // & works on the low bits of negative numbers too
    let d = (seq - lastSeq) & 0xffff;
    if (d >= 0x8000) d -= 0x10000;
    this.last += d;
    return this.last;
  }

  /** Forgets the stream (next unwrap starts over). */
  reset(): void {
    this.started = false;
    this.last = 0;
  }
}
