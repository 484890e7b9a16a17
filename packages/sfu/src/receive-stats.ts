// Reception statistics of one inbound RTP stream (RFC 3550 §6.4.1, appendix A.3 and A.8):
// extended highest sequence number, loss, interarrival jitter, and what a receiver report
// block says about them. Plus a bitrate meter. Numbers only.
import type { ReportBlock } from '@switchboard/rtp';

export class ReceiveStats {
  packets = 0;
  bytes = 0;
  private baseSeq = -1;
  private maxSeq = 0;
  private cycles = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private transit = 0;
  private hasTransit = false;
  /** Interarrival jitter in RTP timestamp units. */
  jitter = 0;
  /** Middle 32 bits of the NTP time in the last SR, and when it arrived. */
  lastSrNtpMiddle = 0;
  lastSrAtMs = 0;
  readonly bitrate = new BitrateMeter();

  constructor(readonly clockRate: number) {}

  onPacket(seq: number, rtpTs: number, len: number, nowMs: number): void {
    this.packets++;
    this.bytes += len;
    this.bitrate.add(len, nowMs);
    if (this.baseSeq < 0) {
      this.baseSeq = seq;
      this.maxSeq = seq;
    } else {
      const delta = (seq - this.maxSeq) & 0xffff;
      if (delta > 0 && delta < 0x8000) {
        if (seq < this.maxSeq) this.cycles += 0x10000;
        this.maxSeq = seq;
      }
    }
    const arrival = (nowMs * this.clockRate) / 1000;
    const transit = arrival - rtpTs;
    if (this.hasTransit) {
      let d = transit - this.transit;
      if (d < 0) d = -d;
      // a timestamp wrap or stream restart shows as a huge d: skip it
      if (d < this.clockRate * 10) this.jitter += (d - this.jitter) / 16;
    }
    this.transit = transit;
    this.hasTransit = true;
  }

  get extendedHighest(): number {
    return this.cycles + this.maxSeq;
  }

  get cumulativeLost(): number {
    if (this.baseSeq < 0) return 0;
    return Math.max(0, this.extendedHighest - this.baseSeq + 1 - this.packets);
  }

  /** A report block for this stream, and the interval counters reset (call once per RR). */
  reportBlock(ssrc: number, nowMs: number): ReportBlock {
    const expected = this.baseSeq < 0 ? 0 : this.extendedHighest - this.baseSeq + 1;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.packets - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.packets;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost = expectedInterval <= 0 || lostInterval <= 0 ? 0 : Math.min(255, Math.floor((lostInterval << 8) / expectedInterval));
    const dlsr = this.lastSrAtMs === 0 ? 0 : Math.floor(((nowMs - this.lastSrAtMs) * 65536) / 1000);
    return {
      ssrc,
      fractionLost,
      cumulativeLost: Math.min(this.cumulativeLost, 0x7fffff),
      highestSeq: this.extendedHighest >>> 0,
      jitter: Math.floor(this.jitter) >>> 0,
      lsr: this.lastSrNtpMiddle >>> 0,
      dlsr: dlsr >>> 0,
    };
  }
}

/** Bits per second over the last second, in 100 ms buckets. */
export class BitrateMeter {
  private readonly buckets = new Float64Array(10);
  private bucketStart = 0;
  private index = 0;

  add(bytes: number, nowMs: number): void {
    this.advance(nowMs);
    this.buckets[this.index] += bytes;
  }

  private advance(nowMs: number): void {
    if (this.bucketStart === 0) this.bucketStart = nowMs;
    let steps = Math.floor((nowMs - this.bucketStart) / 100);
    if (steps <= 0) return;
    if (steps > 10) steps = 10;
    for (let i = 0; i < steps; i++) {
      this.index = (this.index + 1) % 10;
      this.buckets[this.index] = 0;
    }
    this.bucketStart += Math.floor((nowMs - this.bucketStart) / 100) * 100;
  }

  bps(nowMs: number): number {
    this.advance(nowMs);
    let sum = 0;
    for (let i = 0; i < 10; i++) sum += this.buckets[i];
    return sum * 8;
  }
}
