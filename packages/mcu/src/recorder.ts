// Records the composed room to a WebM file with one ffmpeg child: the encoder's VP8 frames go in
// as IVF on pipe fd 3 and are copied as they are (no second encode), the room's mix goes in as
// s16le 48 kHz mono on fd 4 and is encoded with libopus. Video is skipped until the first
// keyframe, and audio until then too, so both streams start at the same moment (audio has no
// timestamps of its own: it is placed by sample count, so call audio() every 20 ms, silence
// included). Video timestamps are the caller's clock minus its first value.
import { statSync } from 'node:fs';
import { FfmpegProcess } from './video/ffmpeg-process.js';
import { IVF_FRAME_HEADER, ivfFileHeader, writeIvfFrameHeader } from './video/ivf.js';
import { McuError } from './errors.js';

export interface WebmRecorderOptions {
  path: string;
  width: number;
  height: number;
  /** ffmpeg died before stop(). The recording is over (what was written may be unreadable). */
  onExit?(err: Error): void;
}

const VIDEO_FD = 3;
const AUDIO_FD = 4;
/** stop() gives ffmpeg this long to finish the file before killing it. */
const STOP_TIMEOUT_MS = 10_000;
/** Bytes queued towards ffmpeg beyond which input is dropped (it is stuck). */
const MAX_QUEUED = 16 * 1024 * 1024;

export class WebmRecorder {
  private readonly proc: FfmpegProcess;
  private started = false;
  private firstPtsMs = 0;
  private lastPts = -1;
  private stopping: Promise<{ path: string; bytes: number }> | null = null;
  private dead = false;
  /** Frames and audio blocks written. */
  videoFrames = 0;
  audioFrames = 0;
  /** Input dropped because ffmpeg fell behind. */
  dropped = 0;

  constructor(private readonly opts: WebmRecorderOptions) {
    this.proc = new FfmpegProcess({
      name: 'recorder',
      args: [
        // no long probing: the inputs describe themselves (IVF header; raw audio parameters here)
        ...['-probesize', '32', '-analyzeduration', '0', '-f', 'ivf', '-i', `pipe:${VIDEO_FD}`],
        ...['-probesize', '32', '-analyzeduration', '0', '-f', 's16le', '-ar', '48000', '-ac', '1', '-i', `pipe:${AUDIO_FD}`],
        ...['-map', '0:v', '-map', '1:a', '-c:v', 'copy', '-c:a', 'libopus', '-b:a', '64k', '-f', 'webm', '-y', opts.path],
      ],
      writeFds: [VIDEO_FD, AUDIO_FD],
      onExit: (e) => {
        this.dead = true;
        if (!e.expected && e.error !== null) opts.onExit?.(e.error);
      },
    });
    // millisecond timestamps
    this.proc.write(VIDEO_FD, ivfFileHeader('VP80', opts.width, opts.height, 1000));
  }

  /** The ffmpeg child's pid. */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** One encoded VP8 frame (copied). ptsMs on the caller's clock, increasing. */
  video(data: Uint8Array, keyframe: boolean, ptsMs: number): void {
    if (this.stopping !== null || this.dead || data.length === 0) return;
    if (!this.started) {
      if (!keyframe) return;
      this.started = true;
      this.firstPtsMs = ptsMs;
    }
    if (this.proc.queued(VIDEO_FD) > MAX_QUEUED) {
      this.dropped++;
      return;
    }
    let pts = Math.max(0, Math.round(ptsMs - this.firstPtsMs));
    if (pts <= this.lastPts) pts = this.lastPts + 1; // the muxer wants increasing timestamps
    this.lastPts = pts;
    const buf = Buffer.allocUnsafe(IVF_FRAME_HEADER + data.length);
    writeIvfFrameHeader(buf, 0, data.length, pts);
    buf.set(data, IVF_FRAME_HEADER);
    this.proc.write(VIDEO_FD, buf);
    this.videoFrames++;
  }

  /** 20 ms of the mix: 960 samples, 48 kHz mono (copied). Dropped before the first video keyframe. */
  audio(pcm: Int16Array): void {
    if (this.stopping !== null || this.dead || !this.started) return;
    if (this.proc.queued(AUDIO_FD) > MAX_QUEUED) {
      this.dropped++;
      return;
    }
    // s16le: Int16Array is little-endian on every platform Node runs on
    this.proc.write(AUDIO_FD, Buffer.from(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength)));
    this.audioFrames++;
  }

  /** Ends the input and resolves when ffmpeg has finished the file. */
  stop(): Promise<{ path: string; bytes: number }> {
    if (this.stopping === null) this.stopping = this.finish();
    return this.stopping;
  }

  private async finish(): Promise<{ path: string; bytes: number }> {
    const path = this.opts.path;
    if (this.dead) throw new McuError('SB_ERR_RECORDER_FAILED', `recorder: ffmpeg had already exited; ${path} may be incomplete`);
    const exit = await this.proc.finish(STOP_TIMEOUT_MS);
    if (exit.code !== 0) {
      const why = exit.signal !== null ? `killed (${exit.signal})` : `exit code ${exit.code}`;
      const tail = this.proc.stderrTail();
      throw new McuError('SB_ERR_RECORDER_FAILED', `recorder: ffmpeg ${why}${tail ? `: ${tail}` : ''}${this.started ? '' : ' (no keyframe was recorded)'}`);
    }
    return { path, bytes: statSync(path).size };
  }
}
