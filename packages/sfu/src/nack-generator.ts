// Which packets of an inbound stream are missing, and when to ask for them again (RFC 4585
// generic NACK). A gap in sequence numbers records the missing ones; each is asked for at most
// MAX_TRIES times, RETRY_MS apart, and forgotten after MAX_AGE_MS or when it arrives. Fixed
// arrays, no allocation per packet.

const CAPACITY = 256;
const MAX_TRIES = 10;
const RETRY_MS = 40;
const MAX_AGE_MS = 1000;
/** A jump larger than this is a restart of the stream, not loss. */
const MAX_GAP = 200;

export class NackGenerator {
  private readonly seqs = new Int32Array(CAPACITY);
  private readonly firstMs = new Float64Array(CAPACITY);
  private readonly lastAskMs = new Float64Array(CAPACITY);
  private readonly tries = new Uint8Array(CAPACITY);
  private count = 0;
  private highest = -1;
  /** Sequence numbers to NACK now, filled by due(). */
  readonly out = new Int32Array(CAPACITY);
  /** How many packets arrived after being NACKed. */
  recovered = 0;

  /** Records an arrival; returns true if it filled a gap. */
  received(seq: number, nowMs: number): boolean {
    if (this.highest < 0) {
      this.highest = seq;
      return false;
    }
    const diff = ((seq - this.highest + 0x8000) & 0xffff) - 0x8000;
    if (diff > 0) {
      if (diff > MAX_GAP) {
        this.count = 0;
      } else {
        for (let s = 1; s < diff; s++) this.add((this.highest + s) & 0xffff, nowMs);
      }
      this.highest = seq;
      return false;
    }
    // Older than the highest: a retransmission or reordering fills a gap.
    for (let i = 0; i < this.count; i++) {
      if (this.seqs[i] === seq) {
        this.removeAt(i);
        this.recovered++;
        return true;
      }
    }
    return false;
  }

  private add(seq: number, nowMs: number): void {
    if (this.count === CAPACITY) this.removeAt(0);
    const i = this.count++;
    this.seqs[i] = seq;
    this.firstMs[i] = nowMs;
    this.lastAskMs[i] = 0;
    this.tries[i] = 0;
  }

  private removeAt(i: number): void {
    const last = --this.count;
    if (i === last) return;
    // keep order (oldest first) for the NACK packing
    this.seqs.copyWithin(i, i + 1, last + 1);
    this.firstMs.copyWithin(i, i + 1, last + 1);
    this.lastAskMs.copyWithin(i, i + 1, last + 1);
    this.tries.copyWithin(i, i + 1, last + 1);
  }

  /** Fills `out` with the sequence numbers to ask for now and returns how many. */
  due(nowMs: number, rttMs: number): number {
    const retry = Math.max(RETRY_MS, rttMs);
    let n = 0;
    for (let i = 0; i < this.count; ) {
      if (nowMs - this.firstMs[i] > MAX_AGE_MS || this.tries[i] >= MAX_TRIES) {
        this.removeAt(i);
        continue;
      }
      if (nowMs - this.lastAskMs[i] >= retry) {
        this.out[n++] = this.seqs[i];
        this.lastAskMs[i] = nowMs;
        this.tries[i]++;
      }
      i++;
    }
    return n;
  }

  get pending(): number {
    return this.count;
  }

  reset(): void {
    this.count = 0;
    this.highest = -1;
  }
}
