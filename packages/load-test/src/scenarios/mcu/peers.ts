// The media side of an MCU participant: what it sends (the committed Opus, and VP8 when video is
// on, as raw RTP on node-datachannel tracks) and what it receives (the server's audio mix and
// composed video, counted by McuReceiver).
//
// Unlike the SFU load (peers.ts), nothing is appended to the payloads: an MCU decodes what it
// receives, so the Opus and VP8 frames go out exactly as they are in the files.
import type { Track } from 'node-datachannel';
import { performance } from 'node:perf_hooks';
import { RTP_HEADER_BYTES, MAX_RTP_PACKET, RtpStream, VP8_DESCRIPTOR_BYTES, isRtcp, parseRtp, writeRtpHeader } from '../../rtp.js';
import { randomSsrc } from '../../peer-util.js';
import type { PacedSender } from '../../pacer.js';
import { AudioCadence, VideoFrames, type AudioCadenceResult, type VideoFramesResult } from './stats.js';

export const MCU_OPUS_PT = 111;
export const MCU_VP8_PT = 96;

/** One Opus frame in one RTP packet (RFC 7587), nothing appended. */
export function packetizeOpusPlain(stream: RtpStream, frame: Buffer, timestamp: number): Buffer {
  const pkt = Buffer.allocUnsafe(RTP_HEADER_BYTES + frame.length);
  writeRtpHeader(pkt, { payloadType: stream.payloadType, seq: stream.nextSeq(), timestamp, ssrc: stream.ssrc, marker: false });
  frame.copy(pkt, RTP_HEADER_BYTES);
  return pkt;
}

/** One VP8 frame (RFC 7741: X=1, I=1, 15-bit picture id, S on the first packet, marker on the last), nothing appended. */
export function packetizeVp8Plain(stream: RtpStream, frame: Buffer, timestamp: number, pictureId: number, maxPacket = MAX_RTP_PACKET): Buffer[] {
  const room = maxPacket - RTP_HEADER_BYTES - VP8_DESCRIPTOR_BYTES;
  const count = Math.max(1, Math.ceil(frame.length / room));
  const per = Math.ceil(frame.length / count);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const chunk = frame.subarray(i * per, Math.min(frame.length, (i + 1) * per));
    const pkt = Buffer.allocUnsafe(RTP_HEADER_BYTES + VP8_DESCRIPTOR_BYTES + chunk.length);
    writeRtpHeader(pkt, { payloadType: stream.payloadType, seq: stream.nextSeq(), timestamp, ssrc: stream.ssrc, marker: i === count - 1 });
    let o = RTP_HEADER_BYTES;
    pkt[o++] = 0x80 | (i === 0 ? 0x10 : 0);
    pkt[o++] = 0x80;
    pkt[o++] = 0x80 | ((pictureId >> 8) & 0x7f);
    pkt[o++] = pictureId & 0xff;
    chunk.copy(pkt, o);
    out.push(pkt);
  }
  return out;
}

/** What a participant sends: an Opus track and, with video, a VP8 track (open once DTLS is up); the pacer's frames go out as they are. */
export class McuSender implements PacedSender {
  readonly audioStream = new RtpStream(randomSsrc(), MCU_OPUS_PT);
  readonly videoStream = new RtpStream(randomSsrc(), MCU_VP8_PT);
  audio: Track | null = null;
  video: Track | null = null;
  sentAudio = 0;
  sentVideo = 0;
  failedSends = 0;

  sendAudio(frame: Buffer, timestamp: number): void {
    this.send(this.audio, packetizeOpusPlain(this.audioStream, frame, timestamp), 'audio');
  }

  sendVideo(frame: Buffer, timestamp: number, pictureId: number): void {
    if (!this.video) return;
    for (const p of packetizeVp8Plain(this.videoStream, frame, timestamp, pictureId)) this.send(this.video, p, 'video');
  }

  send(track: Track | null, pkt: Buffer, kind: 'audio' | 'video'): void {
    if (!track || !track.isOpen()) return;
    let ok = false;
    try {
      ok = track.sendMessageBinary(pkt);
    } catch {
      ok = false;
    }
    if (!ok) this.failedSends++;
    else if (kind === 'audio') this.sentAudio++;
    else this.sentVideo++;
  }
}

export interface McuReceiveResult {
  /** Audio SSRCs and video SSRCs seen in the window (an MCU sends one of each). */
  audioSsrcs: number;
  videoSsrcs: number;
  /** The audio stream with the most packets in the window. */
  audio: AudioCadenceResult | null;
  /** The video stream with the most packets in the window. */
  video: VideoFramesResult | null;
  rtcpPackets: number;
  /** Window length on this process' clock, s. */
  windowSec: number;
}

/**
 * Counts what a participant receives, per SSRC: audio (cadence, loss) and video (frames, loss).
 * `kind` comes from the track (node-datachannel's Track.type()), else from the payload type's
 * clock rate in the offer.
 */
export class McuReceiver {
  private readonly audio = new Map<number, AudioCadence>();
  private readonly video = new Map<number, VideoFrames>();
  /** performance.now() of the first audio / video packet ever (not reset by the window). */
  firstAudioAt = NaN;
  firstVideoAt = NaN;
  rtcpPackets = 0;
  private windowStart = performance.now();
  /** PT -> clock rate, from the SDP (for packets whose track kind is unknown). */
  clockRates = new Map<number, number>();

  onPacket(buf: Buffer, kind?: string): void {
    if (isRtcp(buf)) {
      this.rtcpPackets++;
      return;
    }
    const p = parseRtp(buf);
    if (!p) return;
    const now = performance.now();
    const k = kind === 'audio' || kind === 'video' ? kind : (this.clockRates.get(p.payloadType) ?? (p.payloadType === MCU_OPUS_PT ? 48_000 : 90_000)) === 90_000 ? 'video' : 'audio';
    if (k === 'audio') {
      let c = this.audio.get(p.ssrc);
      if (!c) this.audio.set(p.ssrc, (c = new AudioCadence()));
      c.onPacket(p.seq, now);
      if (Number.isNaN(this.firstAudioAt)) this.firstAudioAt = now;
    } else {
      let v = this.video.get(p.ssrc);
      if (!v) this.video.set(p.ssrc, (v = new VideoFrames()));
      v.onPacket(p.seq, p.timestamp, p.marker);
      if (Number.isNaN(this.firstVideoAt)) this.firstVideoAt = now;
    }
  }

  resetWindow(): void {
    for (const c of this.audio.values()) c.reset();
    for (const v of this.video.values()) v.reset();
    this.rtcpPackets = 0;
    this.windowStart = performance.now();
  }

  result(): McuReceiveResult {
    const end = performance.now();
    let audio: AudioCadenceResult | null = null;
    let audioSsrcs = 0;
    for (const c of this.audio.values()) {
      if (c.received === 0) continue;
      audioSsrcs++;
      const r = c.result(end);
      if (!audio || r.packets > audio.packets) audio = r;
    }
    let video: VideoFramesResult | null = null;
    let videoSsrcs = 0;
    for (const v of this.video.values()) {
      const r = v.result();
      if (r.packets === 0) continue;
      videoSsrcs++;
      if (!video || r.packets > video.packets) video = r;
    }
    return { audioSsrcs, videoSsrcs, audio, video, rtcpPackets: this.rtcpPackets, windowSec: (end - this.windowStart) / 1000 };
  }
}
