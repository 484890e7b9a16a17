// VP8 encoder for the composed picture: an ffmpeg child (libvpx, realtime, no lag, error
// resilient) reading raw I420 in IVF on stdin and writing VP8 in IVF on stdout.
//
// Keyframes on request: the ffmpeg CLI has no command for it, but `-force_key_frames expr:` is
// evaluated on every frame and sees its timestamp. Timestamps are ours (IVF with fourcc I420 gives
// each raw frame a pts), so they count half-milliseconds and the lowest bit says "make this a
// keyframe": pts = 2*ms + flag. The encoder time base is the input's (-enc_time_base -1) and
// frames pass through as they are (-fps_mode passthrough), so the flag reaches the expression.
//
// Bitrate changes: libvpx through the CLI cannot change its target at run time, so setBitrate
// starts a second ffmpeg at the new rate (make-before-break), feeds it the same frames, and
// switches the output to it at its first keyframe newer than the last frame sent out; then the
// old child is killed. If that first keyframe is already stale (the old child got further in the
// meantime), the new child is asked for a keyframe on the next frame, and the old child's output
// stops just before that frame, so the switch happens there whichever child is faster.
import { FfmpegProcess } from './ffmpeg-process.js';
import type { FfmpegExit } from './ffmpeg-process.js';
import { IVF_FRAME_HEADER, IvfReader, ivfFileHeader, writeIvfFrameHeader } from './ivf.js';
import { McuError } from '../errors.js';

export interface Vp8EncoderOptions {
  width: number;
  height: number;
  fps: number;
  /** Target bitrate, bps. */
  bitrate: number;
  /** An encoded frame; `data` belongs to the receiver (not reused). ptsMs is encode()'s, rounded to 1 ms. */
  onFrame(data: Uint8Array, keyframe: boolean, ptsMs: number): void;
  /** ffmpeg died (not after close()). The encoder is dead; make a new one. */
  onExit(err: Error): void;
}

/** Frames not yet taken by the child beyond which encode() drops (the encoder is behind). */
const MAX_PENDING = 3;
/** Forced keyframes at most this often (a burst of PLIs from many viewers gives one). */
const KEYFRAME_MIN_INTERVAL_MS = 500;
/** Bitrate swaps at most this often, and only for changes over BITRATE_STEP. */
const BITRATE_MIN_INTERVAL_MS = 3000;
const BITRATE_STEP = 0.2;
/** A new child that has not taken over by then is given up (the current one keeps going). */
const SWAP_TIMEOUT_MS = 5000;

interface Child {
  proc: FfmpegProcess;
  bitrate: number;
  /** Frames written to the pipe whose write has not completed. */
  unwritten: number;
  /** Frames given to this child. */
  written: number;
  /** Flag the next frame given to this child as a keyframe. */
  wantKey: boolean;
  startedAt: number;
}

/** A pooled input frame, shared by both children during a swap. */
interface Slot {
  buf: Buffer;
  refs: number;
}

export class Vp8Encoder {
  private readonly frameSize: number;
  private cur: Child;
  private next: Child | null = null;
  private closed = false;
  private readonly free: Slot[] = [];
  /** The first frame's ptsMs: timestamps to ffmpeg count from it. */
  private base = NaN;
  private lastUnits = -2;
  private lastEmittedMs = -Infinity;
  /** During a swap: the frame the new child makes a keyframe of; the current child's output stops before it. */
  private switchAtMs = Infinity;
  /** After a failed swap held frames back: nothing goes out until the current child's next keyframe. */
  private holdUntilKey = false;
  private keyWanted = false;
  private lastForcedKeyAt = -Infinity;
  private wantBitrate: number;
  private lastBitrateSwapAt = -Infinity;
  private _keyframes = 0;
  private _framesOut = 0;
  /** Frames dropped by encode() because the child was backlogged. */
  dropped = 0;
  /** Bitrate swaps completed. */
  swaps = 0;
  /** Keyframes forced on request (in-band, without a swap). */
  forcedKeyframes = 0;

  constructor(private readonly opts: Vp8EncoderOptions) {
    const { width: w, height: h, fps, bitrate } = opts;
    if (!(w > 0 && h > 0 && w % 2 === 0 && h % 2 === 0)) throw new McuError('SB_ERR_VIDEO_INVALID', `encoder size ${w}x${h} must be even and positive`);
    if (!(fps > 0) || !(bitrate > 0)) throw new McuError('SB_ERR_VIDEO_INVALID', `fps ${fps} and bitrate ${bitrate} must be positive`);
    this.frameSize = (w * h * 3) / 2;
    this.wantBitrate = bitrate;
    this.cur = this.spawn(bitrate);
  }

  get keyframes(): number {
    return this._keyframes;
  }

  get framesOut(): number {
    return this._framesOut;
  }

  /** Frames handed to the current child and not yet taken by it. */
  get pendingFrames(): number {
    return this.cur.unwritten;
  }

  /** The bitrate the current child encodes at. */
  get bitrate(): number {
    return this.cur.bitrate;
  }

  /** The current child's pid (tests kill it). */
  get pid(): number | undefined {
    return this.cur.proc.pid;
  }

  /** Encodes one I420 frame (copied before returning). ptsMs must increase; it comes back in onFrame. */
  encode(i420: Uint8Array, ptsMs: number): void {
    if (this.closed) return;
    if (i420.length !== this.frameSize) throw new McuError('SB_ERR_VIDEO_INVALID', `encode: ${i420.length} bytes, expected ${this.frameSize}`);
    const now = Date.now();
    this.maybeSwap(now);
    const cur = this.cur;
    if (cur.unwritten > MAX_PENDING) {
      this.dropped++;
      return;
    }
    const ms = Math.round(ptsMs);
    if (Number.isNaN(this.base)) this.base = ms;
    let units = 2 * (ms - this.base);
    if (units <= this.lastUnits) units = this.lastUnits + 2;
    this.lastUnits = units;
    if (cur.written === 0) this.keyWanted = false; // the first frame is a keyframe anyway
    // a swap in progress will deliver a keyframe anyway
    if (this.keyWanted && this.next === null && now - this.lastForcedKeyAt >= KEYFRAME_MIN_INTERVAL_MS && cur.written > 0) {
      this.keyWanted = false;
      this.lastForcedKeyAt = now;
      this.forcedKeyframes++;
      cur.wantKey = true;
    }
    const slot = this.free.pop() ?? { buf: Buffer.allocUnsafeSlow(this.frameSize), refs: 0 };
    slot.buf.set(i420);
    this.feed(cur, slot, units);
    const next = this.next;
    if (next !== null && next.unwritten <= MAX_PENDING) this.feed(next, slot, units);
  }

  /** Asks for a keyframe soon (at most one per 500 ms; later requests wait, they are not lost). */
  requestKeyframe(): void {
    this.keyWanted = true;
  }

  /** A new target; applied by a swap if it differs by more than 20% and 3 s have passed since the last one. */
  setBitrate(bps: number): void {
    if (!(bps > 0)) return;
    this.wantBitrate = bps;
    this.maybeSwap(Date.now());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cur.proc.close();
    this.next?.proc.close();
    this.next = null;
  }

  private spawn(bitrate: number): Child {
    const { width: w, height: h, fps } = this.opts;
    const b = String(Math.round(bitrate));
    const child: Child = { proc: null as unknown as FfmpegProcess, bitrate, unwritten: 0, written: 0, wantKey: false, startedAt: Date.now() };
    const reader = new IvfReader((data, pts) => this.onOutput(child, data, pts));
    child.proc = new FfmpegProcess({
      name: 'vp8 encoder',
      args: [
        ...['-probesize', '32', '-analyzeduration', '0', '-f', 'ivf', '-i', 'pipe:0'],
        ...['-copyts', '-fps_mode', 'passthrough', '-enc_time_base', '-1', '-force_key_frames', 'expr:eq(mod(floor(t*2000+0.5),2),1)'],
        ...['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-lag-in-frames', '0', '-error-resilient', '1', '-auto-alt-ref', '0', '-threads', '2'],
        ...['-b:v', b, '-minrate', b, '-maxrate', b, '-bufsize', b, '-qmin', '4', '-qmax', '56', '-g', String(Math.max(1, Math.round(fps * 10)))],
        ...['-flush_packets', '1', '-f', 'ivf', 'pipe:1'],
      ],
      writeFds: [0],
      onStdout: (chunk) => {
        try {
          reader.push(chunk);
        } catch {
          child.proc.signal('SIGKILL'); // corrupt output: treat it as a crash
        }
      },
      onExit: (e) => this.onChildExit(child, e),
    });
    child.proc.write(0, ivfFileHeader('I420', w, h, 2000));
    return child;
  }

  private feed(c: Child, slot: Slot, units: number): void {
    let flag = 0;
    if (c.wantKey && c.written > 0) {
      // never on a child's first frame: the expression's t counts from it, parity must hold
      c.wantKey = false;
      flag = 1;
      if (c === this.next && this.switchAtMs === Infinity) this.switchAtMs = units / 2 + this.base;
    }
    const head = Buffer.allocUnsafe(IVF_FRAME_HEADER); // from Node's small-buffer pool
    writeIvfFrameHeader(head, 0, this.frameSize, units + flag);
    c.proc.write(0, head);
    slot.refs++;
    c.unwritten++;
    c.written++;
    c.proc.write(0, slot.buf, () => {
      c.unwritten--;
      if (--slot.refs === 0 && this.free.length < 2 * MAX_PENDING + 2) this.free.push(slot);
    });
  }

  private onOutput(c: Child, data: Uint8Array, pts: number): void {
    if (this.closed || data.length === 0) return;
    const key = (data[0] & 0x01) === 0; // VP8 frame tag: 0 = keyframe
    const ptsMs = Math.floor(pts / 2) + this.base;
    if (c === this.cur) {
      if (this.holdUntilKey && !key) return;
      this.holdUntilKey = false;
      if (ptsMs > this.lastEmittedMs && ptsMs < this.switchAtMs) this.emit(data, key, ptsMs);
      return;
    }
    if (c !== this.next || !key) return; // the new child's frames count from its keyframe on
    if (ptsMs <= this.lastEmittedMs) {
      // its keyframe is older than what went out: ask it for a fresh one (once)
      if (this.switchAtMs === Infinity) c.wantKey = true;
      return;
    }
    const old = this.cur;
    this.cur = c;
    this.next = null;
    this.switchAtMs = Infinity;
    old.proc.close();
    this.swaps++;
    this.keyWanted = false; // satisfied by this keyframe
    this.lastForcedKeyAt = Date.now();
    this.emit(data, key, ptsMs);
  }

  private emit(data: Uint8Array, key: boolean, ptsMs: number): void {
    this.lastEmittedMs = ptsMs;
    this._framesOut++;
    if (key) this._keyframes++;
    this.opts.onFrame(data, key, ptsMs);
  }

  private maybeSwap(now: number): void {
    if (this.closed) return;
    const next = this.next;
    if (next !== null) {
      if (now - next.startedAt > SWAP_TIMEOUT_MS) {
        next.proc.close();
        this.swapFailed();
      }
      return;
    }
    const cur = this.cur.bitrate;
    if (Math.abs(this.wantBitrate - cur) <= BITRATE_STEP * cur) return;
    if (now - this.lastBitrateSwapAt < BITRATE_MIN_INTERVAL_MS) return;
    this.lastBitrateSwapAt = now;
    this.next = this.spawn(this.wantBitrate);
  }

  private swapFailed(): void {
    this.next = null;
    if (this.switchAtMs !== Infinity) {
      // some of the current child's frames were held back: receivers need a keyframe to go on
      this.switchAtMs = Infinity;
      this.holdUntilKey = true;
      this.keyWanted = true;
      this.lastForcedKeyAt = -Infinity;
    }
  }

  private onChildExit(c: Child, e: FfmpegExit): void {
    if (c === this.next) {
      this.swapFailed(); // the current child keeps going; the swap is retried after the interval
      return;
    }
    if (c !== this.cur || this.closed || e.expected) return;
    this.closed = true;
    this.next?.proc.close();
    this.next = null;
    this.opts.onExit(e.error ?? new McuError('SB_ERR_CODEC_EXITED', 'vp8 encoder: ffmpeg exited'));
  }
}
