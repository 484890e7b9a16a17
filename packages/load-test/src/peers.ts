// node-datachannel peer connections: a publisher sending the pre-encoded VP8 and Opus as raw
// RTP (Track.sendMessageBinary; libdatachannel only encrypts it), and a subscriber counting
// what arrives. Both wait for ICE gathering to finish and put their candidates in the SDP.
import ndc from 'node-datachannel';
import type { PeerConnection, Track } from 'node-datachannel';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { loadMedia, type MediaSet } from './media.js';
import { RtpStream, isRtcp, packetizeOpus, packetizeVp8, parseRtp, readTrailer } from './rtp.js';
import { LatencyHistogram, StreamStats, type StreamCounters } from './stats.js';

export const VP8_PT = 96;
export const OPUS_PT = 111;

/** Wall-clock ms with sub-ms resolution, comparable between processes on this machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

function randomSsrc(): number {
  return randomBytes(4).readUInt32BE(0) || 1;
}

/** Resolves with the local SDP once ICE gathering is complete (candidates included). */
function localSdpWhenGathered(pc: PeerConnection, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const poll = () => {
      const d = pc.localDescription();
      if (d && pc.gatheringState() === 'complete') return resolve(d.sdp);
      if (Date.now() - t0 > timeoutMs) return reject(new Error(`ICE gathering not complete after ${timeoutMs} ms (state ${pc.gatheringState()})`));
      setTimeout(poll, 5);
    };
    poll();
  });
}

export class PublisherPeer {
  readonly pc: PeerConnection;
  readonly video: Track;
  readonly audio: Track;
  readonly videoStream = new RtpStream(randomSsrc(), VP8_PT);
  readonly audioStream = new RtpStream(randomSsrc(), OPUS_PT);
  /** a=msid stream ids (Switchboard: the published tracks' cids). */
  readonly videoCid: string;
  readonly audioCid: string;
  sentPackets = 0;
  sentBytes = 0;
  failedSends = 0;
  private state = 'new';

  constructor(readonly name: string, opts: { bindAddress?: string } = {}) {
    this.pc = new ndc.PeerConnection(name, { iceServers: [], bindAddress: opts.bindAddress });
    this.pc.onStateChange((s) => (this.state = s));
    const tag = randomBytes(4).toString('hex');
    this.videoCid = `lt-v-${tag}`;
    this.audioCid = `lt-a-${tag}`;
    const cname = `lt-${tag}`;
    const audio = new ndc.Audio('0', 'SendOnly');
    audio.addOpusCodec(OPUS_PT);
    audio.addSSRC(this.audioStream.ssrc, cname, this.audioCid, `${this.audioCid}-track`);
    this.audio = this.pc.addTrack(audio);
    const video = new ndc.Video('1', 'SendOnly');
    video.addVP8Codec(VP8_PT);
    video.addSSRC(this.videoStream.ssrc, cname, this.videoCid, `${this.videoCid}-track`);
    this.video = this.pc.addTrack(video);
  }

  get connectionState(): string {
    return this.state;
  }

  async createOffer(): Promise<string> {
    this.pc.setLocalDescription();
    return localSdpWhenGathered(this.pc);
  }

  setAnswer(sdp: string): void {
    this.pc.setRemoteDescription(sdp, 'answer');
  }

  addRemoteCandidate(candidate: string, mid: string): void {
    this.pc.addRemoteCandidate(candidate, mid);
  }

  /** Both tracks open (DTLS-SRTP up). */
  waitOpen(timeoutMs = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const t0 = Date.now();
      const poll = () => {
        if (this.video.isOpen() && this.audio.isOpen()) return resolve();
        if (this.state === 'failed' || this.state === 'closed') return reject(new Error(`publisher ${this.name}: connection ${this.state}`));
        if (Date.now() - t0 > timeoutMs) return reject(new Error(`publisher ${this.name}: tracks not open after ${timeoutMs} ms (connection ${this.state})`));
        setTimeout(poll, 10);
      };
      poll();
    });
  }

  send(track: Track, pkt: Buffer): void {
    if (!track.isOpen()) return;
    let ok = false;
    try {
      ok = track.sendMessageBinary(pkt);
    } catch {
      ok = false;
    }
    if (ok) {
      this.sentPackets++;
      this.sentBytes += pkt.length;
    } else this.failedSends++;
  }

  close(): void {
    try {
      this.pc.close();
    } catch {
      /* closed */
    }
  }
}

/**
 * Sends every publisher's media on one timer: 30 fps video, 20 ms audio, the files looped with
 * continuous sequence numbers and timestamps. Frames that fell due while the timer was late are
 * sent at once (their trailers carry the actual send time).
 */
export class MediaPump {
  private readonly pubs = new Set<PublisherPeer>();
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

  add(p: PublisherPeer): void {
    this.pubs.add(p);
  }

  remove(p: PublisherPeer): void {
    this.pubs.delete(p);
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
      const sendTime = nowMs();
      for (const p of this.pubs) p.send(p.audio, packetizeOpus(p.audioStream, frame, this.audioTs, sendTime));
      this.audioTs = (this.audioTs + 960) >>> 0;
      this.nextAudio += 20;
    }
    while (this.nextVideo <= now) {
      const frame = this.media.video.frames[this.videoIndex];
      this.videoIndex = (this.videoIndex + 1) % this.media.video.frames.length;
      const sendTime = nowMs();
      for (const p of this.pubs) for (const pkt of packetizeVp8(p.videoStream, frame.data, this.videoTs, this.pictureId, sendTime)) p.send(p.video, pkt);
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

/** PT -> clock rate from an SDP's a=rtpmap lines. */
export function clockRatesFromSdp(sdp: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of sdp.matchAll(/^a=rtpmap:(\d+) [^/\s]+\/(\d+)/gm)) out.set(Number(m[1]), Number(m[2]));
  return out;
}

export interface SubscriberSnapshot {
  connected: boolean;
  setupMs: number;
  streams: StreamCounters[];
  rtcpPackets: number;
  error?: string;
}

export class SubscriberPeer {
  readonly pc: PeerConnection;
  readonly streams = new Map<number, StreamStats>();
  private clockRates = new Map<number, number>();
  private readonly tracks: Track[] = [];
  rtcpPackets = 0;
  private state = 'new';
  /** performance.now() when the setup started, and when every expected stream had delivered a packet. */
  startedAt = performance.now();
  mediaAt = NaN;
  expectStreams = 2;

  constructor(
    readonly name: string,
    private readonly latency: LatencyHistogram,
    opts: { bindAddress?: string } = {},
  ) {
    this.pc = new ndc.PeerConnection(name, { iceServers: [], bindAddress: opts.bindAddress });
    this.pc.onStateChange((s) => (this.state = s));
    this.pc.onTrack((track) => {
      this.tracks.push(track);
      track.onMessage((buf) => this.onPacket(buf));
    });
  }

  get connectionState(): string {
    return this.state;
  }

  private onPacket(buf: Buffer): void {
    if (isRtcp(buf)) {
      this.rtcpPackets++;
      return;
    }
    const p = parseRtp(buf);
    if (!p) return;
    const arrival = nowMs();
    let s = this.streams.get(p.ssrc);
    if (s === undefined) {
      s = new StreamStats(p.ssrc, p.payloadType, this.clockRates.get(p.payloadType) ?? (p.payloadType === OPUS_PT ? 48_000 : 90_000));
      this.streams.set(p.ssrc, s);
    }
    if (Number.isNaN(this.mediaAt) && s.packets === 0 && this.streams.size >= this.expectStreams && [...this.streams.values()].filter((x) => x.packets > 0 || x === s).length >= this.expectStreams) this.mediaAt = performance.now();
    s.onPacket(p.seq, p.timestamp, buf.length, arrival);
    const sent = readTrailer(buf, p);
    if (sent !== undefined) this.latency.add(arrival - sent);
  }

  /** Applies a remote offer and returns the answer with our candidates. */
  async answer(offerSdp: string): Promise<string> {
    for (const [pt, rate] of clockRatesFromSdp(offerSdp)) this.clockRates.set(pt, rate);
    const before = this.pc.localDescription()?.sdp;
    this.pc.setRemoteDescription(offerSdp, 'offer');
    // auto-negotiation answers by itself; wait for a new local description and complete gathering
    const t0 = Date.now();
    while (Date.now() - t0 < 10_000) {
      const d = this.pc.localDescription();
      if (d && d.type === 'answer' && d.sdp !== before && this.pc.gatheringState() === 'complete') return d.sdp;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`subscriber ${this.name}: no answer (gathering ${this.pc.gatheringState()})`);
  }

  addRemoteCandidate(candidate: string, mid: string): void {
    this.pc.addRemoteCandidate(candidate, mid);
  }

  /** The connection is up (ICE + DTLS). */
  waitConnected(timeoutMs = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const t0 = Date.now();
      const poll = () => {
        if (this.state === 'connected') return resolve();
        if (this.state === 'failed' || this.state === 'closed' || Date.now() - t0 > timeoutMs) return reject(new Error(`subscriber ${this.name}: connection ${this.state} after ${Date.now() - t0} ms (${this.tracks.length} tracks)`));
        setTimeout(poll, 20);
      };
      poll();
    });
  }

  /** Packets of at least `minStreams` SSRCs arrived. */
  waitMedia(minStreams: number, timeoutMs = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const t0 = Date.now();
      const poll = () => {
        let n = 0;
        for (const s of this.streams.values()) if (s.packets > 0) n++;
        if (n >= minStreams) return resolve();
        if (Date.now() - t0 > timeoutMs) return reject(new Error(`subscriber ${this.name}: media from ${n}/${minStreams} streams after ${timeoutMs} ms (connection ${this.state}, ${this.tracks.length} tracks)`));
        setTimeout(poll, 20);
      };
      poll();
    });
  }

  resetWindow(): void {
    for (const s of this.streams.values()) s.resetWindow();
    this.rtcpPackets = 0;
  }

  counters(): StreamCounters[] {
    return [...this.streams.values()].map((s) => s.snapshot());
  }

  close(): void {
    try {
      this.pc.close();
    } catch {
      /* closed */
    }
  }
}
