import { decodeDataFrame, encodeDataFrame } from '@switchboard/protocol';
import type { EngineHost, EngineSignal, LocalTrackEntry, MediaEngine } from './engine.js';

/** Simulcast layers for camera video, low to high (the server picks one per subscriber). */
const SIMULCAST_ENCODINGS: RTCRtpEncodingParameters[] = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

/**
 * SFU rooms: two connections with the server. The publisher connection carries our tracks up
 * (we offer, the server answers); the subscriber connection carries everyone else's down (the
 * server offers, we answer). The server is ICE-lite and lists its candidates in its SDP.
 */
export class SfuEngine implements MediaEngine {
  private readonly pub: RTCPeerConnection;
  private sub: RTCPeerConnection | null = null;
  private readonly senders = new Map<MediaStreamTrack, { sender: RTCRtpSender; entry: LocalTrackEntry }>();
  private negotiating = false;
  private negotiateAgain = false;
  private answerWaiter: ((sdp: string) => void) | null = null;
  private subQueue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly config: RTCConfiguration,
    private readonly host: EngineHost,
    private readonly opts: { simulcast: boolean; videoCodec?: string },
  ) {
    this.pub = new RTCPeerConnection(config);
    this.pub.onnegotiationneeded = () => void this.negotiate();
    // Data goes through the server on two channels of the publisher connection (both ways).
    this.reliable = this.pub.createDataChannel('_reliable', { ordered: true });
    this.lossy = this.pub.createDataChannel('_lossy', { ordered: false, maxRetransmits: 0 });
    for (const ch of [this.reliable, this.lossy]) {
      ch.binaryType = 'arraybuffer';
      ch.onmessage = (ev) => {
        if (!(ev.data instanceof ArrayBuffer)) return;
        const f = decodeDataFrame(new Uint8Array(ev.data));
        if (f) this.host.onData?.(f.payload, f.header.from, f.header.topic);
      };
    }
  }

  private readonly reliable: RTCDataChannel;
  private readonly lossy: RTCDataChannel;

  publishData(data: Uint8Array, opts: { reliable?: boolean; topic?: string; destinationSids?: string[] }): boolean {
    const ch = opts.reliable === false ? this.lossy : this.reliable;
    if (ch.readyState !== 'open') return false;
    const frame = encodeDataFrame({ ...(opts.topic !== undefined ? { topic: opts.topic } : {}), ...(opts.destinationSids ? { to: opts.destinationSids } : {}) }, data);
    ch.send(frame as Uint8Array<ArrayBuffer>);
    return true;
  }

  addLocalTrack(entry: LocalTrackEntry): void {
    if (this.senders.has(entry.track)) return;
    const video = entry.track.kind === 'video';
    const init: RTCRtpTransceiverInit = { direction: 'sendonly', streams: [entry.stream] };
    if (video && this.opts.simulcast && entry.simulcast !== false) init.sendEncodings = SIMULCAST_ENCODINGS.map((e) => ({ ...e }));
    const t = this.pub.addTransceiver(entry.track, init);
    if (video && this.opts.videoCodec) preferCodec(t, this.opts.videoCodec);
    this.senders.set(entry.track, { sender: t.sender, entry });
  }

  removeLocalTrack(entry: LocalTrackEntry): void {
    const s = this.senders.get(entry.track);
    if (!s) return;
    this.senders.delete(entry.track);
    try {
      this.pub.removeTrack(s.sender);
    } catch {
      /* closed */
    }
  }

  /** One publisher negotiation at a time; changes during one trigger another. */
  private async negotiate(): Promise<void> {
    if (this.closed) return;
    if (this.negotiating) {
      this.negotiateAgain = true;
      return;
    }
    this.negotiating = true;
    try {
      do {
        this.negotiateAgain = false;
        const offer = await this.pub.createOffer();
        await this.pub.setLocalDescription(offer);
        const answer = new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.answerWaiter = null;
            reject(new Error('no answer from the server within 10 s'));
          }, 10_000);
          this.answerWaiter = (sdp) => {
            clearTimeout(timer);
            resolve(sdp);
          };
        });
        this.host.send({ type: 'offer', target: 'publisher', sdp: this.pub.localDescription!.sdp });
        const sdp = await answer;
        if (this.closed) return;
        await this.pub.setRemoteDescription({ type: 'answer', sdp });
        for (const [sid, layers] of this.wantedLayers) await this.applyLayers(sid, layers);
      } while (this.negotiateAgain && !this.closed);
    } catch (err) {
      this.host.log('sfu: publisher negotiation failed', err);
    } finally {
      this.negotiating = false;
    }
  }

  onSignal(msg: EngineSignal): void {
    if (this.closed) return;
    if (msg.type === 'answer' && msg.target !== 'subscriber') {
      const w = this.answerWaiter;
      this.answerWaiter = null;
      w?.(msg.sdp);
      return;
    }
    if (msg.type === 'offer' && msg.target === 'subscriber') {
      const sdp = msg.sdp;
      this.subQueue = this.subQueue.then(() => this.answerSubscriber(sdp)).catch((err) => this.host.log('sfu: subscriber negotiation failed', err));
    }
    // candidates: the server is ICE-lite and puts its candidates in its SDP; ours are not needed
  }

  private async answerSubscriber(sdp: string): Promise<void> {
    if (!this.sub) {
      const pc = new RTCPeerConnection(this.config);
      pc.ontrack = (ev) => {
        const stream = ev.streams[0];
        if (stream) this.host.onRemoteTrack('', ev.track, stream.id);
      };
      this.sub = pc;
    }
    await this.sub.setRemoteDescription({ type: 'offer', sdp });
    const answer = await this.sub.createAnswer();
    await this.sub.setLocalDescription(answer);
    this.host.send({ type: 'answer', target: 'subscriber', sdp: this.sub.localDescription!.sdp });
  }

  /** The server asks to pause or resume simulcast layers nobody watches. */
  async onTrackLayers(trackSid: string, layers: { rid: string; active: boolean }[]): Promise<void> {
    this.wantedLayers.set(trackSid, layers);
    await this.applyLayers(trackSid, layers);
  }

  /** Layer wishes are re-applied after each negotiation (applying an answer resets encodings). */
  private readonly wantedLayers = new Map<string, { rid: string; active: boolean }[]>();

  private async applyLayers(trackSid: string, layers: { rid: string; active: boolean }[]): Promise<void> {
    for (const { sender, entry } of this.senders.values()) {
      if (entry.sid !== trackSid) continue;
      const params = sender.getParameters();
      let changed = false;
      for (const enc of params.encodings) {
        const want = layers.find((l) => l.rid === enc.rid);
        if (want && enc.active !== want.active) {
          enc.active = want.active;
          changed = true;
        }
      }
      if (changed) await sender.setParameters(params).catch((err) => this.host.log('sfu: setParameters failed', err));
    }
  }

  onReconnected(): void {
    // media connections are independent of the signaling socket; nothing to redo
  }

  close(): void {
    this.closed = true;
    this.answerWaiter = null;
    this.pub.close();
    this.sub?.close();
  }

  async getStats(): Promise<Map<string, RTCStatsReport>> {
    const out = new Map<string, RTCStatsReport>();
    out.set('publisher', await this.pub.getStats());
    if (this.sub) out.set('subscriber', await this.sub.getStats());
    return out;
  }
}

/** Puts a video codec (vp8, vp9, h264, av1) first in the transceiver's preferences, if the browser has it. */
function preferCodec(t: RTCRtpTransceiver, name: string): void {
  const caps = typeof RTCRtpReceiver !== 'undefined' && RTCRtpReceiver.getCapabilities ? RTCRtpReceiver.getCapabilities('video') : null;
  if (!caps || typeof t.setCodecPreferences !== 'function') return;
  const mime = `video/${name}`.toLowerCase();
  const first = caps.codecs.filter((c) => c.mimeType.toLowerCase() === mime);
  if (first.length === 0) return;
  const rest = caps.codecs.filter((c) => c.mimeType.toLowerCase() !== mime);
  t.setCodecPreferences([...first, ...rest]);
}
