// Receive statistics for MCU participants: the cadence of the audio mix ("frames on time"), the
// composed video's frame rate, and the CPU of a server's whole process tree (/proc).
//
// Audio frames on time, precisely (AudioCadence):
//   The mix is one RTP stream with one Opus frame (20 ms) per packet and consecutive sequence
//   numbers. Within the measurement window, let the first packet that arrives have extended
//   sequence number S0 and arrival time A0 (this process' monotonic clock). The frame with
//   extended sequence number S0 + k has its slot at A0 + 20·k ms and is ON TIME if a packet with
//   that sequence number arrived no later than its slot + 60 ms. The frames counted are every k
//   whose deadline (slot + 60 ms) lies inside the window (k = 0 .. floor((end - 60 - A0) / 20)), so
//   a sequence number that never arrives is a frame that is not on time (lost), as is one that
//   arrived after its deadline (late), and a server that sends fewer than 50 packets a second falls
//   behind the cadence and its frames turn late. Packets older than S0 (reordered before it) and
//   duplicates do not count twice. on-time % = on-time frames / counted frames.
//   Anchoring at the first packet is lenient when that packet was itself late (every other packet
//   then looks early); `anchorLateMs` shows by how much: A0 minus the earliest cadence any packet
//   of the window implies (E = min over packets of arrival - 20·k). The lateness figures
//   (lateP99Ms, lateMaxMs) are taken against that earliest cadence, E + 20·k, so they are >= 0 and
//   do not depend on the first packet.
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export const AUDIO_FRAME_MS = 20;
export const ON_TIME_SLACK_MS = 60;
/** At most this many frames of arrivals are kept per window (1 hour of 20 ms frames). */
const MAX_SLOTS = 180_000;

/** Extends 16-bit RTP sequence numbers (the first one is placed at 2^16 so reordering before it stays positive). */
export class SeqExtender {
  private max = -1;
  extend(seq: number): number {
    if (this.max < 0) {
      this.max = 0x10000 + seq;
      return this.max;
    }
    let delta = (seq - (this.max & 0xffff)) & 0xffff;
    if (delta >= 0x8000) delta -= 0x10000;
    const ext = this.max + delta;
    if (ext > this.max) this.max = ext;
    return ext;
  }
}

export interface AudioCadenceResult {
  /** Packets received in the window (duplicates included). */
  packets: number;
  /** Frames whose deadline fell inside the window (see above). */
  frames: number;
  onTime: number;
  /** Arrived, but after slot + 60 ms. */
  late: number;
  /** Never arrived. */
  missing: number;
  /** 100 · onTime / frames (NaN without frames). */
  onTimePct: number;
  /** Sequence-number loss over the window: (highest - lowest + 1 - distinct received) / that, percent. */
  lossPct: number;
  /** 99th percentile and maximum, over the frames that arrived, of how late each was against the earliest cadence of the window (arrival - (E + 20·k)), ms. */
  lateP99Ms: number;
  lateMaxMs: number;
  /** Largest gap between two consecutive arrivals, ms. */
  maxGapMs: number;
  /** Window end minus the last arrival, ms: a stream that stopped shows here, not in maxGapMs. */
  silentAtEndMs: number;
  /** How late the first packet (the anchor) was against the earliest cadence of the window, ms (>= 0). */
  anchorLateMs: number;
}

/** Arrival times of one audio stream's frames in the current window; see the header for the definition. */
export class AudioCadence {
  private ext = new SeqExtender();
  private base = NaN;
  private anchor = NaN;
  private arrivals = new Float64Array(1024);
  private highestK = -1;
  private lowestK = 0;
  private distinct = 0;
  private before = 0;
  private packets = 0;
  private lastArrival = NaN;
  private maxGap = 0;

  constructor(
    readonly frameMs = AUDIO_FRAME_MS,
    readonly slackMs = ON_TIME_SLACK_MS,
  ) {
    this.arrivals.fill(NaN);
  }

  /** A packet with RTP sequence number `seq` arrived at `arrivalMs` (monotonic ms). */
  onPacket(seq: number, arrivalMs: number): void {
    const e = this.ext.extend(seq);
    this.packets++;
    if (!Number.isNaN(this.lastArrival)) this.maxGap = Math.max(this.maxGap, arrivalMs - this.lastArrival);
    this.lastArrival = arrivalMs;
    if (Number.isNaN(this.base)) {
      this.base = e;
      this.anchor = arrivalMs;
    }
    const k = e - this.base;
    if (k < 0) {
      // older than the anchor: a reordered packet from before the window's first; counts for loss only
      if (k < this.lowestK) this.lowestK = k;
      this.before++;
      return;
    }
    if (k >= MAX_SLOTS) return;
    if (k >= this.arrivals.length) {
      const next = new Float64Array(Math.min(MAX_SLOTS, Math.max(k + 1, this.arrivals.length * 2)));
      next.fill(NaN);
      next.set(this.arrivals);
      this.arrivals = next;
    }
    if (Number.isNaN(this.arrivals[k])) {
      this.arrivals[k] = arrivalMs;
      this.distinct++;
    }
    if (k > this.highestK) this.highestK = k;
  }

  get received(): number {
    return this.packets;
  }

  /** Starts a new window: the next packet becomes the anchor. */
  reset(): void {
    this.ext = new SeqExtender();
    this.base = NaN;
    this.anchor = NaN;
    this.arrivals.fill(NaN);
    this.highestK = -1;
    this.lowestK = 0;
    this.distinct = 0;
    this.before = 0;
    this.packets = 0;
    this.lastArrival = NaN;
    this.maxGap = 0;
  }

  /** The window's figures; `endMs` is the window's end on the same clock as the arrivals. */
  result(endMs: number): AudioCadenceResult {
    const empty: AudioCadenceResult = { packets: this.packets, frames: 0, onTime: 0, late: 0, missing: 0, onTimePct: NaN, lossPct: NaN, lateP99Ms: NaN, lateMaxMs: NaN, maxGapMs: this.maxGap, silentAtEndMs: NaN, anchorLateMs: NaN };
    if (Number.isNaN(this.anchor)) return empty;
    const lastK = Math.min(this.arrivals.length - 1, Math.floor((endMs - this.slackMs - this.anchor) / this.frameMs));
    let onTime = 0;
    let late = 0;
    let missing = 0;
    let earliest = Infinity;
    const top = Math.min(this.arrivals.length - 1, Math.max(lastK, this.highestK));
    for (let k = 0; k <= top; k++) {
      const a = this.arrivals[k];
      if (!Number.isNaN(a)) earliest = Math.min(earliest, a - k * this.frameMs);
    }
    const lateness: number[] = [];
    for (let k = 0; k <= lastK; k++) {
      const a = this.arrivals[k];
      if (Number.isNaN(a)) {
        missing++;
        continue;
      }
      if (a - (this.anchor + k * this.frameMs) <= this.slackMs) onTime++;
      else late++;
      lateness.push(a - (earliest + k * this.frameMs));
    }
    const frames = Math.max(0, lastK + 1);
    lateness.sort((x, y) => x - y);
    const span = this.highestK - this.lowestK + 1;
    const distinctAll = this.distinct + this.before;
    return {
      packets: this.packets,
      frames,
      onTime,
      late,
      missing,
      onTimePct: frames > 0 ? (100 * onTime) / frames : NaN,
      lossPct: span > 0 ? Math.max(0, (100 * (span - Math.min(span, distinctAll))) / span) : NaN,
      lateP99Ms: lateness.length ? lateness[Math.min(lateness.length - 1, Math.floor(lateness.length * 0.99))] : NaN,
      lateMaxMs: lateness.length ? lateness[lateness.length - 1] : NaN,
      maxGapMs: this.maxGap,
      silentAtEndMs: Math.max(0, endMs - this.lastArrival),
      anchorLateMs: Number.isFinite(earliest) ? Math.max(0, this.anchor - earliest) : NaN,
    };
  }
}

export interface VideoFramesResult {
  packets: number;
  /** Packets with the RTP marker bit (the last packet of a frame). */
  markerFrames: number;
  /** Distinct RTP timestamps seen. */
  timestamps: number;
  /** Sequence-number loss, percent. */
  lossPct: number;
}

/** Frames of one video stream in the current window: marker bits and distinct timestamps. */
export class VideoFrames {
  private ext = new SeqExtender();
  private lo = Infinity;
  private hi = -Infinity;
  private readonly seen = new Set<number>();
  private readonly stamps = new Set<number>();
  private packets = 0;
  private markers = 0;

  onPacket(seq: number, timestamp: number, marker: boolean): void {
    const e = this.ext.extend(seq);
    this.packets++;
    if (marker) this.markers++;
    if (e < this.lo) this.lo = e;
    if (e > this.hi) this.hi = e;
    this.seen.add(e);
    this.stamps.add(timestamp);
  }

  reset(): void {
    this.ext = new SeqExtender();
    this.lo = Infinity;
    this.hi = -Infinity;
    this.seen.clear();
    this.stamps.clear();
    this.packets = 0;
    this.markers = 0;
  }

  result(): VideoFramesResult {
    const span = this.hi - this.lo + 1;
    return { packets: this.packets, markerFrames: this.markers, timestamps: this.stamps.size, lossPct: span > 0 ? (100 * Math.max(0, span - this.seen.size)) / span : NaN };
  }
}

// ---- CPU of a process tree ------------------------------------------------------------------

let clkTck = 0;
/** USER_HZ (clock ticks per second of /proc CPU times). */
export function clockTicksPerSecond(): number {
  if (clkTck) return clkTck;
  try {
    clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    clkTck = 100;
  }
  return clkTck;
}

/** utime + stime + cutime + cstime of one process (ticks), or NaN when it is gone. */
function ownAndReapedTicks(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): utime 14, stime 15, cutime 16, cstime 17
    return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  } catch {
    return NaN;
  }
}

/** The live descendants of `pid` (children of every thread, recursively), pid included. */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  const seen = new Set<number>();
  while (queue.length > 0) {
    const p = queue.shift()!;
    if (seen.has(p)) continue;
    seen.add(p);
    out.push(p);
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        for (const c of readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) if (c) queue.push(Number(c));
      } catch {
        // thread or process ended
      }
    }
  }
  return out;
}

/**
 * CPU time (µs) of a process and every descendant: each live process' utime + stime (all its
 * threads) plus cutime + cstime (children it has already reaped, e.g. an ffmpeg that exited), so a
 * child that ends between two samples is still counted. NaN when `pid` itself is gone.
 */
export function processTreeCpuUs(pid: number): number {
  const hz = clockTicksPerSecond();
  let ticks = 0;
  let rootOk = false;
  for (const p of processTree(pid)) {
    const t = ownAndReapedTicks(p);
    if (Number.isNaN(t)) continue;
    if (p === pid) rootOk = true;
    ticks += t;
  }
  return rootOk ? (ticks / hz) * 1e6 : NaN;
}

/** Quantile of an unsorted list (q in 0..1), NaN when empty. */
export function quantile(values: number[], q: number): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))];
}
