// A jitter buffer for one participant's audio (20 ms Opus frames), driven by the mixer's clock:
// packets go in as they arrive (any order, duplicates, gaps), and every 20 ms `pop()` says what
// to play: the next frame, "lost" (decode with packet-loss concealment), or nothing yet.
// Playout starts once `targetFrames` are buffered; the target follows the measured jitter
// (RFC 3550 estimator) between minFrames and maxFrames. Frames that come after their turn are
// dropped and counted. Sans-IO: no timers, the caller brings the clock.

export type PopResult = { kind: 'frame'; payload: Uint8Array; seq: number } | { kind: 'lost'; seq: number } | { kind: 'empty' };

export interface JitterBufferOptions {
  /** Frame duration in ms. Default 20. */
  frameMs?: number;
  /** RTP clock rate. Default 48000. */
  clockRate?: number;
  minFrames?: number;
  maxFrames?: number;
  /** Frames held at most; beyond that the oldest go. Default 50 (1 s). */
  capacity?: number;
}

export class AudioJitterBuffer {
  private readonly frameMs: number;
  private readonly clockRate: number;
  private readonly minFrames: number;
  private readonly maxFrames: number;
  private readonly capacity: number;
  /** Extended sequence number -> payload. */
  private readonly frames = new Map<number, Uint8Array>();
  private highest = -1;
  /** Next extended sequence number to play, -1 before playout starts. */
  private next = -1;
  private transit = NaN;
  /** RFC 3550 interarrival jitter, ms. */
  jitterMs = 0;
  targetFrames: number;
  late = 0;
  duplicates = 0;
  concealed = 0;
  played = 0;
  overflowed = 0;

  constructor(opts: JitterBufferOptions = {}) {
    this.frameMs = opts.frameMs ?? 20;
    this.clockRate = opts.clockRate ?? 48_000;
    this.minFrames = opts.minFrames ?? 2;
    this.maxFrames = opts.maxFrames ?? 10;
    this.capacity = opts.capacity ?? 50;
    this.targetFrames = this.minFrames;
  }

  /** The extended form of a 16-bit sequence number, near the highest seen. */
  private extend(seq: number): number {
    if (this.highest < 0) return seq + 0x10000; // room below for reordering at the start
    const base = this.highest & ~0xffff;
    let ext = base | seq;
    if (ext - this.highest > 0x8000) ext -= 0x10000;
    else if (this.highest - ext > 0x8000) ext += 0x10000;
    return ext;
  }

  push(seq: number, rtpTs: number, payload: Uint8Array, arrivalMs: number): void {
    const ext = this.extend(seq & 0xffff);
    if (this.next >= 0 && ext < this.next) {
      this.late++;
      return;
    }
    if (this.frames.has(ext)) {
      this.duplicates++;
      return;
    }
    // jitter (RFC 3550 A.8), in ms
    const transit = arrivalMs - (rtpTs / this.clockRate) * 1000;
    if (!Number.isNaN(this.transit)) {
      let d = Math.abs(transit - this.transit);
      if (d > 10_000) d = 0; // a timestamp jump, not jitter
      this.jitterMs += (d - this.jitterMs) / 16;
    }
    this.transit = transit;
    this.frames.set(ext, payload.slice());
    if (ext > this.highest) this.highest = ext;
    while (this.frames.size > this.capacity) {
      const oldest = Math.min(...this.frames.keys());
      this.frames.delete(oldest);
      this.overflowed++;
      if (this.next >= 0 && this.next <= oldest) this.next = oldest + 1;
    }
    this.targetFrames = Math.max(this.minFrames, Math.min(this.maxFrames, Math.ceil((2 * this.jitterMs) / this.frameMs) + 1));
  }

  /** Frames buffered from the playout point on. */
  get buffered(): number {
    return this.frames.size;
  }

  /** What to play for this 20 ms tick. */
  pop(): PopResult {
    if (this.next < 0) {
      if (this.frames.size < this.targetFrames) return { kind: 'empty' };
      this.next = Math.min(...this.frames.keys());
    }
    if (this.frames.size === 0) {
      // underrun: conceal while something may still come; restart playout after a long gap
      if (this.highest - this.next > this.capacity || this.concealedRun > this.maxFrames * 5) {
        this.next = -1;
        this.concealedRun = 0;
        return { kind: 'empty' };
      }
    }
    const seq = this.next++;
    const f = this.frames.get(seq);
    if (f === undefined) {
      this.concealed++;
      this.concealedRun++;
      return { kind: 'lost', seq: seq & 0xffff };
    }
    this.frames.delete(seq);
    this.played++;
    this.concealedRun = 0;
    // too far behind (the buffer grew past its target): skip a frame to catch up
    if (this.frames.size > this.targetFrames + 3) {
      const skip = Math.min(...this.frames.keys());
      this.frames.delete(skip);
      if (this.next <= skip) this.next = skip + 1;
    }
    return { kind: 'frame', payload: f, seq: seq & 0xffff };
  }

  private concealedRun = 0;
}
