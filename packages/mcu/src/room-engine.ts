// One MCU room's media, inside its media process: every 20 ms each participant's Opus is
// decoded (jitter buffer, concealment), mixed N-1 and encoded per participant; at the room's
// frame rate the latest decoded picture of each participant is composed into the room's picture
// (grid, labels, placeholders, the active speaker's border) and encoded once in VP8 for all.
// Clocks are drift-corrected timer loops; a late audio tick is caught up, not skipped, so each
// receiver gets 50 frames a second. Output packets are batched to the server once per turn.
import { rtpHeaderLength, rtpMarker, rtpPayloadLength, rtpSeq, rtpTimestamp } from '@switchboard/rtp';
import { AudioRoom } from './audio/audio-room.js';
import type { EngineOptions, EngineStats } from './ipc.js';
import { layout } from './layout.js';
import { WebmRecorder } from './recorder.js';
import { Compositor } from './video/compositor.js';
import type { CompositorTile } from './video/compositor.js';
import { Vp8Decoder } from './video/vp8-decoder.js';
import { Vp8Depacketizer } from './video/vp8-depacketizer.js';
import { Vp8Encoder } from './video/vp8-encoder.js';
import { Vp8Packetizer } from './video/vp8-packetizer.js';

/** Where the engine's output and requests go (the IPC channel, or a test). */
export interface EngineSink {
  audio(sid: string, pkt: Uint8Array): void;
  video(pkt: Uint8Array): void;
  requestKeyframe(sid: string): void;
  log(level: 'info' | 'warn', msg: string, obj: Record<string, unknown>): void;
}

const AUDIO_TICK_MS = 20;
/** A participant whose picture is older than this shows its placeholder. */
const STALE_VIDEO_MS = 2000;
const PLI_INTERVAL_MS = 1000;
/** Ticks later than this count as late (the mix is not real time any more). */
const LATE_MS = 10;
/**
 * After a stall, up to this many late ticks are run back to back; beyond that the missed ticks
 * are skipped and the mixes' RTP timestamps jump over them. A longer burst would sit in every
 * receiver's jitter buffer as added delay for seconds; a gap is concealed once and forgotten.
 */
const MAX_CATCH_UP = 3;
/** An unchanged picture (no new frames, same tiles) is sent again only this often. */
const STILL_INTERVAL_MS = 1000;

class Member {
  readonly depacketizer = new Vp8Depacketizer();
  decoder: Vp8Decoder | null = null;
  /** The latest decoded picture (I420 at the decode size), or null before the first. */
  picture: Uint8Array | null = null;
  pictureAt = 0;
  videoEnded = false;
  lastPliAt = -Infinity;
  /** RTP state of this participant's mix. */
  readonly ssrc = randomSsrc();
  seq = Math.floor(Math.random() * 0x10000);
  ts = Math.floor(Math.random() * 0x7fffffff);

  constructor(
    readonly sid: string,
    readonly name: string,
  ) {}
}

export class RoomEngine {
  private readonly members = new Map<string, Member>();
  private readonly audioRoom: AudioRoom;
  private readonly compositor: Compositor;
  private encoder: Vp8Encoder | null = null;
  private readonly packetizer: Vp8Packetizer;
  private recorder: WebmRecorder | null = null;
  private recordStartedAt = 0;
  private speaker: string | null = null;
  private readonly decodeW: number;
  private readonly decodeH: number;
  private bitrate: number;
  private readonly t0 = performance.now();
  private audioTimer: NodeJS.Timeout | null = null;
  private videoTimer: NodeJS.Timeout | null = null;
  private audioTicks = 0;
  private videoTicks = 0;
  private closed = false;
  private readonly composeUs: number[] = [];
  private readonly counters = { audioTicksLate: 0, audioTicksSkipped: 0, framesComposed: 0, framesEncoded: 0, keyframes: 0, decodedFrames: 0, decoderRestarts: 0, encoderRestarts: 0 };
  private readonly audioPt: number;
  /** Something in the picture changed since the last composed frame (new frames, tiles, speaker). */
  private dirty = true;
  private lastScene = '';
  private lastEncodeAt = -Infinity;

  constructor(
    private readonly opts: EngineOptions,
    private readonly sink: EngineSink,
  ) {
    this.audioPt = opts.audioPayloadType;
    this.decodeW = even(Math.max(160, opts.width / 2));
    this.decodeH = even(Math.max(90, opts.height / 2));
    this.bitrate = opts.videoBitrate;
    this.compositor = new Compositor(opts.width, opts.height);
    this.packetizer = new Vp8Packetizer({ ssrc: randomSsrc(), payloadType: opts.videoPayloadType });
    this.audioRoom = new AudioRoom(
      {
        encoded: (sid, payload) => this.sendAudio(sid, payload),
        roomMix: (pcm) => this.recorder?.audio(pcm),
      },
      { bitrate: opts.audioBitrate },
    );
    this.scheduleAudio();
    this.scheduleVideo();
  }

  // ---- participants and input -----------------------------------------------------

  join(sid: string, name: string): void {
    if (this.members.has(sid)) return;
    this.members.set(sid, new Member(sid, name));
    this.audioRoom.add(sid);
    this.requestKeyframe(); // the newcomer needs one, and the picture changed
  }

  leave(sid: string): void {
    const m = this.members.get(sid);
    if (m === undefined) return;
    m.decoder?.close();
    this.members.delete(sid);
    this.audioRoom.remove(sid);
  }

  /** A publisher's RTP packet (audio: Opus; video: VP8). */
  media(sid: string, kind: number, pkt: Uint8Array): void {
    const m = this.members.get(sid);
    if (m === undefined) return;
    const hl = rtpHeaderLength(pkt, 0, pkt.length);
    const pl = rtpPayloadLength(pkt, 0, pkt.length);
    if (hl < 0 || pl <= 0) return;
    const payload = pkt.subarray(hl, hl + pl);
    const now = performance.now();
    if (kind === 0) {
      this.audioRoom.packet(sid, rtpSeq(pkt, 0), rtpTimestamp(pkt, 0), payload, now);
      return;
    }
    m.videoEnded = false;
    const frame = m.depacketizer.push(rtpSeq(pkt, 0), rtpTimestamp(pkt, 0), rtpMarker(pkt, 0), payload);
    if (m.depacketizer.needsKeyframe) this.askKeyframe(m, now);
    if (frame === null) return;
    if (m.decoder === null) {
      if (!frame.keyframe) {
        this.askKeyframe(m, now);
        return;
      }
      m.decoder = this.startDecoder(m);
    }
    m.decoder.decode(frame);
  }

  private startDecoder(m: Member): Vp8Decoder {
    const size = this.decodeW * this.decodeH * 1.5;
    const d: Vp8Decoder = new Vp8Decoder({
      width: this.decodeW,
      height: this.decodeH,
      onFrame: (i420) => {
        if (m.picture === null) m.picture = new Uint8Array(size);
        m.picture.set(i420.subarray(0, size));
        m.pictureAt = performance.now();
        this.dirty = true;
        this.counters.decodedFrames++;
      },
      onExit: (err) => {
        if (m.decoder !== d) return;
        m.decoder = null;
        this.counters.decoderRestarts++;
        this.sink.log('warn', 'video decoder exited; a new one starts at the next keyframe', { sid: m.sid, err: err.message });
        this.askKeyframe(m, performance.now());
      },
    });
    return d;
  }

  private askKeyframe(m: Member, now: number): void {
    if (now - m.lastPliAt < PLI_INTERVAL_MS) return;
    m.lastPliAt = now;
    this.sink.requestKeyframe(m.sid);
  }

  videoEnded(sid: string): void {
    const m = this.members.get(sid);
    if (m === undefined) return;
    m.videoEnded = true;
    m.decoder?.close();
    m.decoder = null;
    m.picture = null;
  }

  setSpeakers(sids: string[]): void {
    this.speaker = sids[0] ?? null;
  }

  setGain(sid: string, gain: number): void {
    this.audioRoom.setGain(sid, gain);
  }

  setMuted(sid: string, muted: boolean): void {
    this.audioRoom.setMuted(sid, muted);
  }

  /** The lowest receiver estimate: the composed video stays under it (audio needs some too). */
  setReceiverBitrate(bps: number): void {
    const target = bps <= 0 ? this.opts.videoBitrate : Math.max(150_000, Math.min(this.opts.videoBitrate, Math.floor(bps * 0.85) - 64_000));
    if (target === this.bitrate) return;
    this.bitrate = target;
    this.encoder?.setBitrate(target);
  }

  requestKeyframe(): void {
    this.encoder?.requestKeyframe();
    this.dirty = true; // the keyframe goes out with the next tick, not up to a second later
  }

  // ---- audio ----------------------------------------------------------------------

  private scheduleAudio(): void {
    if (this.closed) return;
    const due = this.t0 + (this.audioTicks + 1) * AUDIO_TICK_MS;
    this.audioTimer = setTimeout(() => this.onAudioTimer(), Math.max(0, due - performance.now()));
  }

  private onAudioTimer(): void {
    let now = performance.now();
    let due = this.t0 + (this.audioTicks + 1) * AUDIO_TICK_MS;
    if (now - due > LATE_MS) this.counters.audioTicksLate++;
    // catch up on ticks a busy moment delayed; after a long stall, start the schedule again
    let n = 0;
    while (due <= now && n < MAX_CATCH_UP) {
      this.audioRoom.tick(now);
      this.audioTicks++;
      n++;
      due += AUDIO_TICK_MS;
      now = performance.now();
    }
    if (due <= now) {
      // a stall longer than the catch-up: those frames are skipped
      const at = Math.floor((now - this.t0) / AUDIO_TICK_MS);
      const skipped = at - this.audioTicks;
      this.counters.audioTicksSkipped += skipped;
      this.audioTicks = at;
      for (const m of this.members.values()) m.ts = (m.ts + skipped * 960) >>> 0;
    }
    this.scheduleAudio();
  }

  private sendAudio(sid: string, payload: Uint8Array): void {
    const m = this.members.get(sid);
    if (m === undefined) return;
    const pkt = new Uint8Array(12 + payload.length);
    pkt[0] = 0x80;
    pkt[1] = this.audioPt & 0x7f;
    m.seq = (m.seq + 1) & 0xffff;
    m.ts = (m.ts + 960) >>> 0;
    writeRtpHeader(pkt, m.seq, m.ts, m.ssrc);
    pkt.set(payload, 12);
    this.sink.audio(sid, pkt);
  }

  // ---- video ----------------------------------------------------------------------

  private scheduleVideo(): void {
    if (this.closed) return;
    const due = this.t0 + (this.videoTicks + 1) * (1000 / this.opts.fps);
    this.videoTimer = setTimeout(() => this.onVideoTimer(), Math.max(0, due - performance.now()));
  }

  private onVideoTimer(): void {
    const now = performance.now();
    this.videoTicks = Math.max(this.videoTicks + 1, Math.floor(((now - this.t0) * this.opts.fps) / 1000));
    if (this.members.size > 0) this.composeAndEncode(now);
    this.scheduleVideo();
  }

  private composeAndEncode(now: number): void {
    const members = [...this.members.values()];
    // a still picture (audio-only rooms, frozen cameras) is not composed and encoded 30 times a second
    let scene = this.speaker ?? '';
    for (const m of members) scene += `|${m.sid}:${m.picture !== null && !m.videoEnded && now - m.pictureAt < STALE_VIDEO_MS ? 1 : 0}`;
    if (scene !== this.lastScene) {
      this.lastScene = scene;
      this.dirty = true;
    }
    if (!this.dirty && now - this.lastEncodeAt < STILL_INTERVAL_MS) return;
    this.dirty = false;
    this.lastEncodeAt = now;
    const rects = layout(members.length, this.opts.width, this.opts.height);
    const tiles: CompositorTile[] = members.map((m, i) => {
      const live = m.picture !== null && !m.videoEnded && now - m.pictureAt < STALE_VIDEO_MS;
      return { rect: rects[i], source: live ? m.picture : null, sourceWidth: this.decodeW, sourceHeight: this.decodeH, label: m.name, speaking: m.sid === this.speaker && members.length > 1 };
    });
    const t = performance.now();
    const frame = this.compositor.render(tiles);
    pushSample(this.composeUs, (performance.now() - t) * 1000);
    this.counters.framesComposed++;
    if (this.encoder === null) this.encoder = this.startEncoder();
    this.encoder.encode(frame, Math.round(now - this.t0));
  }

  private startEncoder(): Vp8Encoder {
    const e: Vp8Encoder = new Vp8Encoder({
      width: this.opts.width,
      height: this.opts.height,
      fps: this.opts.fps,
      bitrate: this.bitrate,
      onFrame: (data, keyframe, ptsMs) => {
        this.counters.framesEncoded++;
        if (keyframe) this.counters.keyframes++;
        const ts = (ptsMs * 90) >>> 0;
        for (const p of this.packetizer.packetize(data, keyframe, ts)) this.sink.video(p);
        this.recorder?.video(data, keyframe, ptsMs);
      },
      onExit: (err) => {
        if (this.encoder !== e) return;
        this.encoder = null; // the next frame starts another
        this.counters.encoderRestarts++;
        this.sink.log('warn', 'video encoder exited; starting another', { err: err.message });
      },
    });
    return e;
  }

  // ---- recording ------------------------------------------------------------------

  startRecording(path: string): { path: string } {
    if (this.recorder !== null) throw Object.assign(new Error('already recording'), { code: 'SB_ERR_MCU_RECORDING' });
    this.recorder = new WebmRecorder({
      path,
      width: this.opts.width,
      height: this.opts.height,
      onExit: (err) => this.sink.log('warn', 'recorder exited', { err: err.message }),
    });
    this.recordStartedAt = performance.now();
    this.audioRoom.recording = true;
    this.requestKeyframe();
    return { path };
  }

  async stopRecording(): Promise<{ path: string; bytes: number; durationMs: number }> {
    const r = this.recorder;
    if (r === null) throw Object.assign(new Error('not recording'), { code: 'SB_ERR_MCU_NOT_RECORDING' });
    this.recorder = null;
    this.audioRoom.recording = false;
    const durationMs = Math.round(performance.now() - this.recordStartedAt);
    const out = await r.stop();
    return { ...out, durationMs };
  }

  stats(): EngineStats {
    const a = this.audioRoom.stats();
    const cpu = process.cpuUsage();
    return {
      participants: this.members.size,
      audio: { framesDecoded: a.framesDecoded, framesConcealed: a.framesConcealed, framesSilent: a.framesSilent, decodeErrors: a.decodeErrors, lateDropped: a.lateDropped, tickUs: a.tickUs },
      audioTicksLate: this.counters.audioTicksLate,
      audioTicksSkipped: this.counters.audioTicksSkipped,
      audioTicks: this.audioTicks,
      video: {
        framesComposed: this.counters.framesComposed,
        framesEncoded: this.counters.framesEncoded,
        keyframes: this.counters.keyframes,
        framesDropped: this.encoder?.dropped ?? 0,
        decodedFrames: this.counters.decodedFrames,
        composeUs: quantiles(this.composeUs),
        bitrate: this.bitrate,
        decoderRestarts: this.counters.decoderRestarts,
        encoderRestarts: this.counters.encoderRestarts,
      },
      recording: this.recorder !== null,
      cpuUs: cpu.user + cpu.system,
    };
  }

  /** Stops the clocks and the codecs; a recording in progress is finished first. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.audioTimer !== null) clearTimeout(this.audioTimer);
    if (this.videoTimer !== null) clearTimeout(this.videoTimer);
    if (this.recorder !== null) await this.stopRecording().catch(() => undefined);
    for (const m of this.members.values()) m.decoder?.close();
    this.members.clear();
    this.encoder?.close();
    this.encoder = null;
    this.audioRoom.close();
  }
}

function writeRtpHeader(pkt: Uint8Array, seq: number, ts: number, ssrc: number): void {
  pkt[2] = seq >>> 8;
  pkt[3] = seq & 0xff;
  pkt[4] = ts >>> 24;
  pkt[5] = (ts >>> 16) & 0xff;
  pkt[6] = (ts >>> 8) & 0xff;
  pkt[7] = ts & 0xff;
  pkt[8] = ssrc >>> 24;
  pkt[9] = (ssrc >>> 16) & 0xff;
  pkt[10] = (ssrc >>> 8) & 0xff;
  pkt[11] = ssrc & 0xff;
}

function randomSsrc(): number {
  return (Math.floor(Math.random() * 0xfffffff0) + 1) >>> 0;
}

function even(v: number): number {
  return Math.floor(v / 2) * 2;
}

/** Keeps the last 500 samples. */
function pushSample(arr: number[], v: number): void {
  arr.push(v);
  if (arr.length > 500) arr.shift();
}

function quantiles(arr: number[]): { p50: number; p99: number } {
  if (arr.length === 0) return { p50: 0, p99: 0 };
  const s = [...arr].sort((a, b) => a - b);
  return { p50: Math.round(s[Math.floor(s.length * 0.5)]), p99: Math.round(s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]) };
}
