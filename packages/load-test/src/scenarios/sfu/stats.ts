// Receive statistics per incoming SSRC (RFC 3550 A.1 and A.8): packets, bytes, sequence gaps
// with reordering, interarrival jitter; and a latency histogram fed from the payload trailers.

export const LATENCY_BIN_MS = 0.05;
export const LATENCY_BINS = 40_000; // up to 2 s; later packets land in the last bin

export class LatencyHistogram {
  readonly bins: Uint32Array;
  count = 0;
  constructor(bins?: Uint32Array) {
    this.bins = bins ?? new Uint32Array(LATENCY_BINS);
    if (bins) for (const b of bins) this.count += b;
  }
  add(ms: number): void {
    let i = Math.floor(ms / LATENCY_BIN_MS);
    if (i < 0) i = 0;
    else if (i >= LATENCY_BINS) i = LATENCY_BINS - 1;
    this.bins[i]++;
    this.count++;
  }
  merge(other: LatencyHistogram | Uint32Array): void {
    const b = other instanceof LatencyHistogram ? other.bins : other;
    for (let i = 0; i < b.length; i++) {
      if (b[i] !== 0) {
        this.bins[i] += b[i];
        this.count += b[i];
      }
    }
  }
  /** q in 0..1; the upper edge of the bin holding that quantile. NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const target = Math.max(1, Math.ceil(q * this.count));
    let acc = 0;
    for (let i = 0; i < this.bins.length; i++) {
      acc += this.bins[i];
      if (acc >= target) return (i + 1) * LATENCY_BIN_MS;
    }
    return LATENCY_BINS * LATENCY_BIN_MS;
  }
  reset(): void {
    this.bins.fill(0);
    this.count = 0;
  }
}

export interface StreamCounters {
  ssrc: number;
  payloadType: number;
  packets: number;
  bytes: number;
  expected: number;
  lost: number;
  jitterMs: number;
}

/** One incoming RTP stream. */
export class StreamStats {
  packets = 0;
  bytes = 0;
  private baseSeq = -1;
  private maxSeq = 0;
  private cycles = 0;
  private transit = NaN;
  /** RFC 3550 jitter in timestamp units (scaled as in A.8, without the integer shift). */
  private jitter = 0;

  constructor(
    readonly ssrc: number,
    readonly payloadType: number,
    readonly clockRate: number,
  ) {}

  /** arrivalMs: local clock in ms. Returns nothing; counters are read with snapshot(). */
  onPacket(seq: number, timestamp: number, size: number, arrivalMs: number): void {
    this.packets++;
    this.bytes += size;
    if (this.baseSeq < 0) {
      this.baseSeq = seq;
      this.maxSeq = seq;
    } else {
      const delta = (seq - this.maxSeq) & 0xffff;
      if (delta !== 0 && delta < 0x8000) {
        if (seq < this.maxSeq) this.cycles += 0x10000;
        this.maxSeq = seq;
      } else if (delta === 0) {
        // duplicate of the highest: counted in packets, not expected
      }
      // else: reordered/late packet, already counted as expected
    }
    const arrival = arrivalMs * (this.clockRate / 1000);
    const transit = arrival - timestamp;
    if (!Number.isNaN(this.transit)) {
      let d = transit - this.transit;
      // timestamps wrap at 2^32
      if (d > 2 ** 31) d -= 2 ** 32;
      else if (d < -(2 ** 31)) d += 2 ** 32;
      if (d < 0) d = -d;
      this.jitter += (d - this.jitter) / 16;
    }
    this.transit = transit;
  }

  get expected(): number {
    return this.baseSeq < 0 ? 0 : this.cycles + this.maxSeq - this.baseSeq + 1;
  }

  snapshot(): StreamCounters {
    const expected = this.expected;
    return { ssrc: this.ssrc, payloadType: this.payloadType, packets: this.packets, bytes: this.bytes, expected, lost: Math.max(0, expected - this.packets), jitterMs: (this.jitter / this.clockRate) * 1000 };
  }

  /** Starts a new measurement window: counters restart from the next packet (jitter carries on). */
  resetWindow(): void {
    this.packets = 0;
    this.bytes = 0;
    this.baseSeq = -1;
    this.cycles = 0;
  }
}
