// node-datachannel peer connections: a publisher sending the pre-encoded VP8 and Opus as raw
// RTP (Track.sendMessageBinary; libdatachannel only encrypts it), and a subscriber counting
// what arrives. Both wait for ICE gathering to finish and put their candidates in the SDP.
import ndc from 'node-datachannel';
import type { PeerConnection, Track } from 'node-datachannel';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { RtpStream, isRtcp, packetizeOpus, packetizeVp8, parseRtp, readTrailer } from '../../rtp.js';
import { clockRatesFromSdp, localSdpWhenGathered, nowMs, randomSsrc } from '../../peer-util.js';
import type { PacedSender } from '../../pacer.js';
import { LatencyHistogram, StreamStats, type StreamCounters } from './stats.js';

export { clockRatesFromSdp };

export const VP8_PT = 96;
export const OPUS_PT = 111;

/** Sends the pacer's frames with a send-time trailer in every payload (the SFU forwards it untouched). */
export class PublisherPeer implements PacedSender {
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

  sendAudio(frame: Buffer, timestamp: number): void {
    this.send(this.audio, packetizeOpus(this.audioStream, frame, timestamp, nowMs()));
  }

  sendVideo(frame: Buffer, timestamp: number, pictureId: number): void {
    for (const pkt of packetizeVp8(this.videoStream, frame, timestamp, pictureId, nowMs())) this.send(this.video, pkt);
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
