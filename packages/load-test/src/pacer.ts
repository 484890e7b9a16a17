// One timer for every sender of a process: an Opus frame every 20 ms and a VP8 frame at the
// file's rate, the files looped with continuous timestamps and picture ids (each sender keeps
// its own SSRCs and sequence numbers). Frames that fell due while the timer was late go out at
// once. What a sender does with a frame (append a send-time trailer for the SFU scenario, or
// not for the MCU one) is its own business.
import { performance } from 'node:perf_hooks';
import { loadMedia, type MediaSet } from './media.js';

/** Something the pacer feeds frames to. */
export interface PacedSender {
  /** One Opus frame (20 ms) with its RTP timestamp. */
  sendAudio(frame: Buffer, timestamp: number): void;
  /** One VP8 frame with its RTP timestamp and 15-bit picture id. */
  sendVideo(frame: Buffer, timestamp: number, pictureId: number): void;
}

export class Pacer {
  private readonly senders = new Set<PacedSender>();
  private timer: NodeJS.Timeout | null = null;
  private readonly media: MediaSet;
  private videoIndex = 0;
  private audioIndex = 0;
  private videoTs = Math.floor(Math.random() * 2 ** 31);
  private audioTs = Math.floor(Math.random() * 2 ** 31);
  private pictureId = Math.floor(Math.random() * 0x8000);
  private nextVideo = 0;
  private nextAudio = 0;
  readonly frameMs: number;
  readonly videoTsStep: number;

  constructor(media: MediaSet = loadMedia()) {
    this.media = media;
    const fps = media.video.rateNum / media.video.rateDen || 30;
    this.frameMs = 1000 / fps;
    this.videoTsStep = Math.round(90_000 / fps);
  }

  add(s: PacedSender): void {
    this.senders.add(s);
  }

  remove(s: PacedSender): void {
    this.senders.delete(s);
  }

  start(): void {
    if (this.timer) return;
    const t = performance.now();
    this.nextVideo = t;
    this.nextAudio = t;
    this.tick();
  }

  private tick = (): void => {
    const now = performance.now();
    while (this.nextAudio <= now) {
      const frame = this.media.audio[this.audioIndex];
      this.audioIndex = (this.audioIndex + 1) % this.media.audio.length;
      for (const s of this.senders) s.sendAudio(frame, this.audioTs);
      this.audioTs = (this.audioTs + 960) >>> 0;
      this.nextAudio += 20;
    }
    while (this.nextVideo <= now) {
      const frame = this.media.video.frames[this.videoIndex];
      this.videoIndex = (this.videoIndex + 1) % this.media.video.frames.length;
      for (const s of this.senders) s.sendVideo(frame.data, this.videoTs, this.pictureId);
      this.pictureId = (this.pictureId + 1) & 0x7fff;
      this.videoTs = (this.videoTs + this.videoTsStep) >>> 0;
      this.nextVideo += this.frameMs;
    }
    const wait = Math.max(1, Math.min(this.nextAudio, this.nextVideo) - performance.now());
    this.timer = setTimeout(this.tick, wait);
  };

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
