// The sans-IO audio core of one MCU room: Opus RTP payloads in, one Opus frame per participant
// out every 20 ms. Per participant: an AudioJitterBuffer, an OpusDecoder and an OpusEncoder
// (created on add, freed on remove). Each tick, every jitter buffer gives a frame (decoded), a
// loss (concealed: libopus PLC, fading to silence, see opus.ts) or nothing (silence); the
// AudioMixer makes each participant's N-1 mix (gain, mute, saturation), which is encoded and
// handed to `listener.encoded`. Everyone gets a frame every tick, also a participant that has
// sent nothing and one alone in the room (encoded silence: no DTX, the stream keeps flowing).
//
// Buffers: `encoded`'s payload and `roomMix`'s pcm are reused: use or copy them during the call.
// Steady-state allocation left: the jitter buffer copies each payload on push (which is what
// packet() needs) and returns a small result object per pop; everything else is reused.

import { AudioJitterBuffer } from '../jitter-buffer.js';
import { AudioMixer, type MixerInput } from '../mixer.js';
import { McuError } from '../errors.js';
import { FRAME_SAMPLES, OpusDecoder, OpusEncoder } from './opus.js';

export interface AudioRoomListener {
  /** The 20 ms Opus frame of the N-1 mix for one participant. */
  encoded(sid: string, payload: Uint8Array): void;
  /** The full mix (everyone, saturated), 960 samples, when recording is on. */
  roomMix?(pcm: Int16Array): void;
}

export interface AudioRoomOptions {
  /** Bit/s of each participant's encoded mix, default 32000. */
  bitrate?: number;
}

/** speakers() lists participants louder than this, in -dBov (RFC 6464): 50 dBov = level 0.0032. */
export const SPEAKER_THRESHOLD_DBOV = 50;
const TICK_WINDOW = 512; // ticks kept for the timing percentiles (~10 s)

interface Participant {
  readonly sid: string;
  readonly jitter: AudioJitterBuffer;
  readonly decoder: OpusDecoder;
  readonly encoder: OpusEncoder;
  readonly input: MixerInput;
}

export class AudioRoom {
  /** When true, listener.roomMix gets the full mix every tick. */
  recording = false;
  private readonly participants = new Map<string, Participant>();
  private readonly mixer = new AudioMixer({ channels: 1 });
  private readonly bitrate: number;
  private readonly sum = new Int32Array(FRAME_SAMPLES);
  private readonly full = new Int16Array(FRAME_SAMPLES);
  private readonly tickTimes = new Float64Array(TICK_WINDOW);
  private ticks = 0;
  private closed = false;
  private framesDecoded = 0;
  private framesConcealed = 0;
  private framesSilent = 0;
  /** Counters of participants already removed. */
  private goneErrors = 0;
  private goneLate = 0;
  private readonly onMix = (sid: string, mix: Int16Array): void => {
    const p = this.participants.get(sid);
    if (p !== undefined) this.listener.encoded(sid, p.encoder.encode(mix));
  };

  constructor(
    private readonly listener: AudioRoomListener,
    opts: AudioRoomOptions = {},
  ) {
    this.bitrate = opts.bitrate ?? 32_000;
    new OpusEncoder({ bitrate: this.bitrate }).free(); // a bad bitrate fails here, not on the first add()
  }

  /** Adds a participant (no-op if present). */
  add(sid: string): void {
    if (this.closed) throw new McuError('SB_ERR_AUDIO_CLOSED', 'the audio room is closed');
    if (this.participants.has(sid)) return;
    const decoder = new OpusDecoder();
    let encoder: OpusEncoder;
    try {
      encoder = new OpusEncoder({ bitrate: this.bitrate });
    } catch (err) {
      decoder.free();
      throw err;
    }
    this.participants.set(sid, { sid, jitter: new AudioJitterBuffer(), decoder, encoder, input: this.mixer.add(sid) });
  }

  /** Removes a participant and frees its codecs (no-op if absent). */
  remove(sid: string): void {
    const p = this.participants.get(sid);
    if (p === undefined) return;
    this.goneErrors += p.decoder.errors;
    this.goneLate += p.jitter.late;
    p.decoder.free();
    p.encoder.free();
    this.mixer.remove(sid);
    this.participants.delete(sid);
  }

  /** An Opus RTP payload from a participant (the jitter buffer copies it; unknown sids are ignored). */
  packet(sid: string, seq: number, rtpTimestamp: number, payload: Uint8Array, nowMs: number): void {
    this.participants.get(sid)?.jitter.push(seq, rtpTimestamp, payload, nowMs);
  }

  /** One 20 ms round: decode/conceal/silence per participant, mix N-1, encode one frame each. */
  tick(_nowMs: number): void {
    if (this.closed) return;
    const t0 = performance.now();
    const mixer = this.mixer;
    for (const p of this.participants.values()) {
      const r = p.jitter.pop();
      if (r.kind === 'frame') {
        const concealed = p.decoder.concealed;
        mixer.push(p.sid, p.decoder.decode(r.payload));
        if (p.decoder.concealed === concealed) this.framesDecoded++;
        else this.framesConcealed++; // undecodable: concealed instead
      } else if (r.kind === 'lost') {
        mixer.push(p.sid, p.decoder.conceal());
        this.framesConcealed++;
      } else {
        this.framesSilent++; // not pushed: the mixer counts it as silence
      }
    }
    mixer.mix(this.onMix);
    if (this.recording && this.listener.roomMix !== undefined) this.listener.roomMix(this.fullMix());
    this.tickTimes[this.ticks++ % TICK_WINDOW] = performance.now() - t0;
  }

  setGain(sid: string, gain: number): void {
    if (!(gain >= 0 && gain <= 16)) throw new McuError('SB_ERR_AUDIO_GAIN', `gain must be 0..16, not ${gain}`);
    this.mixer.setGain(sid, gain);
  }

  setMuted(sid: string, muted: boolean): void {
    this.mixer.setMuted(sid, muted);
  }

  /** Levels of what each participant sent in the last tick (0..1 linear, 1 = 0 dBov), loudest first. */
  speakers(): { sid: string; level: number }[] {
    return this.mixer.speakers(SPEAKER_THRESHOLD_DBOV).map((s) => ({ sid: s.id, level: 10 ** (-s.level / 20) }));
  }

  stats(): {
    participants: number;
    framesDecoded: number;
    framesConcealed: number;
    framesSilent: number;
    decodeErrors: number;
    lateDropped: number;
    tickUs: { p50: number; p99: number };
  } {
    let decodeErrors = this.goneErrors;
    let lateDropped = this.goneLate;
    for (const p of this.participants.values()) {
      decodeErrors += p.decoder.errors;
      lateDropped += p.jitter.late;
    }
    const n = Math.min(this.ticks, TICK_WINDOW);
    const sorted = this.tickTimes.slice(0, n).sort();
    const pct = (q: number) => (n === 0 ? 0 : Math.round(sorted[Math.min(n - 1, Math.floor(q * n))] * 1000));
    return {
      participants: this.participants.size,
      framesDecoded: this.framesDecoded,
      framesConcealed: this.framesConcealed,
      framesSilent: this.framesSilent,
      decodeErrors,
      lateDropped,
      tickUs: { p50: pct(0.5), p99: pct(0.99) },
    };
  }

  /** Frees every participant's codecs; the room ignores ticks and packets afterwards. */
  close(): void {
    for (const sid of [...this.participants.keys()]) this.remove(sid);
    this.closed = true;
  }

  /** Everyone's contribution (after gain/mute) summed and saturated. */
  private fullMix(): Int16Array {
    const sum = this.sum.fill(0);
    for (const p of this.participants.values()) {
      const c = p.input.contribution;
      for (let i = 0; i < FRAME_SAMPLES; i++) sum[i] += c[i];
    }
    const full = this.full;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const v = sum[i];
      full[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    return full;
  }
}
