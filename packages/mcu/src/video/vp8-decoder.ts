// VP8 decoder for one participant: an ffmpeg child reading IVF on stdin and writing raw I420 at a
// fixed width x height on stdout (scaled keeping the aspect ratio and padded black, so any input
// size, and size changes mid-stream, give same-size frames for the compositor). Tuned for latency:
// no probing, one thread for the decoder and for the rawvideo "encoder" (frame threads hold a
// frame back each: with ffmpeg's default thread count on the output side, every frame came out
// only when the next one went in), and the output flushed per frame, so a frame comes out as soon
// as it is decoded. No `-fflags nobuffer`: it discards the packets read while probing, that is
// the first keyframe, and the decoder then has nothing to start from.
import { FfmpegProcess } from './ffmpeg-process.js';
import { IVF_FRAME_HEADER, ivfFileHeader, writeIvfFrameHeader } from './ivf.js';
import { McuError } from '../errors.js';
import type { Vp8Frame } from './vp8-depacketizer.js';

export interface Vp8DecoderOptions {
  /** Output frame size (even numbers). */
  width: number;
  height: number;
  /** A decoded frame, I420 (Y, then U, then V; width*height*3/2 bytes). The buffer is reused: use or copy it during the call. */
  onFrame(i420: Uint8Array): void;
  /** ffmpeg died (not after close()). The decoder is dead; make a new one (and ask for a keyframe). */
  onExit(err: Error): void;
}

/** Bytes queued towards ffmpeg beyond which frames are dropped (it is stuck or far too slow). */
const MAX_QUEUED = 4 * 1024 * 1024;

export class Vp8Decoder {
  private readonly proc: FfmpegProcess;
  private readonly out: Uint8Array;
  private outGot = 0;
  private started = false;
  private closed = false;
  /** Dropping until the next keyframe (backlog overflow). */
  private skipping = false;
  private pts = 0;
  private _framesOut = 0;
  /** Frames passed to decode() that were not given to ffmpeg (before the first keyframe, or backlog). */
  framesSkipped = 0;
  /** Frames given to ffmpeg. */
  framesIn = 0;
  /** Set when a frame had to be dropped for backlog: the caller should ask the sender for a keyframe. */
  needsKeyframe = false;

  constructor(private readonly opts: Vp8DecoderOptions) {
    const { width: w, height: h } = opts;
    if (!(w > 0 && h > 0 && w % 2 === 0 && h % 2 === 0)) throw new McuError('SB_ERR_VIDEO_INVALID', `decoder size ${w}x${h} must be even and positive`);
    this.out = new Uint8Array((w * h * 3) / 2);
    const vf = `scale=w=${w}:h=${h}:force_original_aspect_ratio=decrease:force_divisible_by=2,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2:black,format=yuv420p`;
    this.proc = new FfmpegProcess({
      name: 'vp8 decoder',
      args: [
        ...['-probesize', '32', '-analyzeduration', '0', '-flags', 'low_delay', '-threads', '1'],
        ...['-f', 'ivf', '-i', 'pipe:0'],
        ...['-vf', vf, '-fps_mode', 'passthrough', '-threads', '1', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-flush_packets', '1', 'pipe:1'],
      ],
      writeFds: [0],
      onStdout: (chunk) => this.onStdout(chunk),
      onExit: (e) => {
        if (!this.closed && !e.expected) opts.onExit(e.error ?? new McuError('SB_ERR_CODEC_EXITED', 'vp8 decoder: ffmpeg exited'));
        this.closed = true;
      },
    });
  }

  get framesOut(): number {
    return this._framesOut;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Queues a frame for decoding. Nothing is kept of `frame` after the call (its data is copied). */
  decode(frame: Vp8Frame): void {
    if (this.closed) return;
    if (!this.started) {
      if (!frame.keyframe || frame.width === 0 || frame.height === 0) {
        this.framesSkipped++;
        return;
      }
      // the IVF header's size is only the first picture's; the decoder follows later keyframes
      this.proc.write(0, ivfFileHeader('VP80', frame.width, frame.height, 30));
      this.started = true;
    }
    if (this.skipping && !frame.keyframe) {
      this.framesSkipped++;
      return;
    }
    if (this.proc.queued(0) > MAX_QUEUED) {
      this.skipping = true;
      this.needsKeyframe = true;
      this.framesSkipped++;
      return;
    }
    if (frame.keyframe) {
      this.skipping = false;
      this.needsKeyframe = false;
    }
    // one buffer per frame: header and data in one write (the pipe write is asynchronous)
    const n = frame.data.length;
    const buf = Buffer.allocUnsafe(IVF_FRAME_HEADER + n);
    writeIvfFrameHeader(buf, 0, n, this.pts++); // pts: a counter; -fps_mode passthrough ignores timing
    buf.set(frame.data, IVF_FRAME_HEADER);
    this.proc.write(0, buf);
    this.framesIn++;
  }

  /** Stops ffmpeg; no onExit, no more frames. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.proc.close();
  }

  /** Joins stdout chunks into whole frames in the reused output buffer. */
  private onStdout(chunk: Uint8Array): void {
    const out = this.out;
    let p = 0;
    while (p < chunk.length) {
      const k = Math.min(out.length - this.outGot, chunk.length - p);
      out.set(chunk.subarray(p, p + k), this.outGot);
      this.outGot += k;
      p += k;
      if (this.outGot === out.length) {
        this.outGot = 0;
        this._framesOut++;
        if (!this.closed) this.opts.onFrame(out);
      }
    }
  }
}
