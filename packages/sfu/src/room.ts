// An SFU room: who is in it, which of their tracks are published, and who receives what.
// Everyone subscribes to every other participant's tracks by default (LiveKit's
// autoSubscribe). Periodically it picks each subscriber's simulcast layers (display size
// and bandwidth), asks publishers to pause layers nobody watches, and finds active speakers.
// With a RoomMixer it is an MCU room (see mixer.ts): publishers' packets go to the mixer, and
// each participant receives only its own audio mix and the room's composed video.
import type { Consumer } from './consumer.js';
import { SfuParticipant } from './participant.js';
import type { ParticipantHost } from './participant.js';
import type { Producer } from './producer.js';
import type { UdpMux } from '@switchboard/webrtc';
import { decodeDataFrame, encodeDataFrame, MCU_VIDEO_TRACK_SID, mcuAudioTrackSid } from '@switchboard/protocol';
import { MCU_PUBLISHER_CODECS, syntheticProducer } from './mixer.js';
import type { MixerFactory, RoomMixer } from './mixer.js';
import type { PublisherLimits } from './negotiation.js';
import { ntpNow, rtpTimestamp, writeSenderReport } from '@switchboard/rtp';

const srOut = new Uint8Array(128);

export interface KnownTrack {
  sid: string;
  cid: string;
  kind: 'audio' | 'video' | 'data';
  width?: number;
  height?: number;
  claimed: boolean;
}

export interface RoomHost {
  readonly mux: UdpMux;
  signal(participantSid: string, msg: { type: 'offer' | 'answer'; target: 'publisher' | 'subscriber'; sdp: string }): void;
  activeSpeakers(roomSid: string, speakers: { sid: string; level: number }[]): void;
  layersChanged(participantSid: string, trackSid: string, layers: { rid: string; active: boolean }[]): void;
  log(level: 'info' | 'warn', obj: Record<string, unknown>, msg: string): void;
}

/** After a bandwidth-driven step down, wait this long before trying the higher layer again. */
const UPGRADE_HOLD_MS = 10_000;
const SPEAKER_THRESHOLD = 0.02;

export class SfuRoom implements ParticipantHost {
  readonly participants = new Map<string, SfuParticipant>();
  readonly tracks = new Map<string, KnownTrack[]>(); // by participant sid
  private speakers: string[] = [];
  private readonly downgradedAt = new Map<Consumer, number>();
  readonly publisherLimits: PublisherLimits;
  /** MCU rooms: the media engine, the composed video, and each participant's N-1 audio mix. */
  readonly mixer: RoomMixer | null = null;
  private readonly mixedVideo: Producer | null = null;
  private readonly mixes = new Map<string, Producer>();
  private receiverBps = -1;
  private allocationTicks = 0;
  /** The mixer's streams are made in real time: each one's last RTP timestamp and when it came, for sender reports. */
  private readonly lastMixed = new Map<Producer, { ts: number; atMs: number }>();

  constructor(
    readonly sid: string,
    private readonly host: RoomHost,
    mixerFactory: MixerFactory | null = null,
  ) {
    this.publisherLimits = mixerFactory === null ? { dataChannels: true } : { dataChannels: true, codecs: MCU_PUBLISHER_CODECS, redundancy: false };
    if (mixerFactory !== null) {
      this.mixedVideo = syntheticProducer('video', MCU_VIDEO_TRACK_SID, () => this.mixer?.keyframeRequested());
      this.mixer = mixerFactory(sid, {
        audio: (to, pkt) => {
          const mix = this.mixes.get(to);
          if (mix !== undefined) this.mixedIn(mix, pkt);
        },
        video: (pkt) => this.mixedIn(this.mixedVideo!, pkt),
        requestKeyframe: (from) => {
          const now = Date.now();
          for (const pr of this.participants.get(from)?.producers.values() ?? []) if (pr.kind === 'video') pr.requestKeyframe(0, now);
        },
      });
    }
  }

  get mux(): UdpMux {
    return this.host.mux;
  }

  signal(sid: string, msg: { type: 'offer' | 'answer'; target: 'publisher' | 'subscriber'; sdp: string }): void {
    this.host.signal(sid, msg);
  }

  log(level: 'info' | 'warn', obj: Record<string, unknown>, msg: string): void {
    this.host.log(level, { room: this.sid, ...obj }, msg);
  }

  private mixedIn(producer: Producer, pkt: Uint8Array): void {
    const now = Date.now();
    if (pkt.length >= 12) this.lastMixed.set(producer, { ts: rtpTimestamp(pkt, 0), atMs: now });
    producer.receive(pkt, 0, pkt.length, producer.layers[0], now);
  }

  /**
   * MCU rooms: sender reports for the mixed streams (there is no publisher SR to translate), so
   * receivers can sync the room's audio and video: the last packet's timestamp at its wall-clock time.
   */
  sendMixSenderReports(): void {
    for (const [producer, last] of this.lastMixed) {
      if (producer.closed) {
        this.lastMixed.delete(producer);
        continue;
      }
      const ntp = ntpNow(last.atMs);
      for (const c of producer.consumers) {
        if (c.paused || c.packetsSent === 0) continue;
        const n = writeSenderReport(srOut, 0, { ssrc: c.params.ssrc, ntpSec: ntp.sec, ntpFrac: ntp.frac, rtpTimestamp: c.outTimestamp(last.ts), packetCount: c.packetsSent >>> 0, octetCount: c.bytesSent >>> 0 });
        c.sender.send(srOut, 0, n);
      }
    }
  }

  join(sid: string, canSubscribe: boolean, canPublishData = true, name = sid): SfuParticipant {
    let p = this.participants.get(sid);
    if (p !== undefined) return p;
    p = new SfuParticipant(sid, this, canSubscribe, canPublishData);
    this.participants.set(sid, p);
    const now = Date.now();
    if (this.mixer !== null) {
      // one audio track (everyone but p) and one video track (the room), whatever the room size
      const mix = syntheticProducer('audio', mcuAudioTrackSid(sid), () => undefined);
      this.mixes.set(sid, mix);
      this.mixer.participantJoined(sid, name);
      p.subscribe(mix, now, false); // one offer with both
      p.subscribe(this.mixedVideo!, now);
      return p;
    }
    for (const other of this.participants.values()) {
      if (other === p) continue;
      for (const producer of other.producers.values()) p.subscribe(producer, now);
    }
    return p;
  }

  leave(sid: string): void {
    const p = this.participants.get(sid);
    if (p === undefined) return;
    this.participants.delete(sid);
    this.tracks.delete(sid);
    p.close();
    if (this.mixer !== null) {
      this.mixer.participantLeft(sid);
      const mix = this.mixes.get(sid);
      mix?.close();
      if (mix !== undefined) this.lastMixed.delete(mix);
      this.mixes.delete(sid);
    }
  }

  trackPublished(participantSid: string, t: Omit<KnownTrack, 'claimed'>): void {
    const list = this.tracks.get(participantSid) ?? [];
    if (!list.some((x) => x.sid === t.sid)) list.push({ ...t, claimed: false });
    this.tracks.set(participantSid, list);
    this.participants.get(participantSid)?.bindPending();
  }

  trackUnpublished(participantSid: string, trackSid: string): void {
    const list = this.tracks.get(participantSid);
    if (list !== undefined) this.tracks.set(participantSid, list.filter((x) => x.sid !== trackSid));
    const p = this.participants.get(participantSid);
    const producer = p?.producerById(trackSid);
    if (p !== undefined && producer !== undefined) p.closeProducer(producer);
  }

  claimTrack(sid: string, streamId: string, kind: 'audio' | 'video'): { trackSid: string; cid: string } | undefined {
    const t = this.tracks.get(sid)?.find((x) => !x.claimed && x.cid === streamId && x.kind === kind);
    if (t === undefined) return undefined;
    t.claimed = true;
    return { trackSid: t.sid, cid: t.cid };
  }

  producerReady(owner: SfuParticipant, producer: Producer): void {
    const mixer = this.mixer;
    if (mixer !== null) {
      const kind = producer.kind;
      producer.tap = (buf, off, len) => mixer.media(owner.sid, kind, buf, off, len);
      if (kind === 'video') producer.requestKeyframe(0, Date.now());
      return;
    }
    const now = Date.now();
    for (const p of this.participants.values()) if (p !== owner) p.subscribe(producer, now);
  }

  producerClosed(owner: SfuParticipant, producer: Producer): void {
    if (this.mixer !== null && producer.kind === 'video') this.mixer.videoEnded(owner.sid);
    for (const p of this.participants.values()) if (p !== owner) p.unsubscribe(producer.id);
    const list = this.tracks.get(owner.sid);
    const t = list?.find((x) => x.sid === producer.id);
    if (t !== undefined) t.claimed = false;
  }

  /**
   * Data from one participant's channel to the others (or the `to` in its frame), re-framed
   * with the sender's sid. Each sender may send DATA_RATE_MESSAGES messages and DATA_RATE_BYTES
   * bytes per second; beyond that messages are dropped and counted.
   */
  relayData(from: SfuParticipant, frame: Uint8Array, reliable: boolean): void {
    const now = Date.now();
    if (!from.dataBudget.take(frame.length, now)) {
      from.dataDropped++;
      return;
    }
    const f = decodeDataFrame(frame);
    if (f === null) return;
    const out = encodeDataFrame({ from: from.sid, ...(f.header.topic !== undefined ? { topic: f.header.topic } : {}) }, f.payload);
    const to = f.header.to ? new Set(f.header.to) : null;
    for (const p of this.participants.values()) {
      if (p !== from && (to === null || to.has(p.sid))) p.sendData(out, reliable);
    }
  }

  /** Full-size dimensions of a producer's track, as published. */
  private trackSize(producer: Producer): { width: number; height: number } | undefined {
    const t = this.tracks.get(producer.participantSid)?.find((x) => x.sid === producer.id);
    return t?.width && t.height ? { width: t.width, height: t.height } : undefined;
  }

  /** The subscriber's wishes for one track: pause, display size, or a quality cap. */
  trackSettings(subscriberSid: string, trackSid: string, s: { disabled?: boolean; width?: number; height?: number; quality?: 'low' | 'medium' | 'high' }): void {
    const p = this.participants.get(subscriberSid);
    const c = p?.consumers.get(trackSid);
    if (c === undefined) return;
    const now = Date.now();
    if (s.disabled !== undefined) c.setPaused(s.disabled, now);
    const top = c.producer.layers.length - 1;
    let layer = top;
    if (s.quality !== undefined) layer = Math.min(top, s.quality === 'low' ? 0 : s.quality === 'medium' ? 1 : 2);
    if (s.width !== undefined || s.height !== undefined) {
      const size = this.trackSize(c.producer);
      const w = s.width ?? 0;
      const h = s.height ?? 0;
      if (size !== undefined && top > 0) {
        // smallest layer at least as large as the display (layers halve in size going down)
        let chosen = top;
        for (let i = 0; i <= top; i++) {
          const scale = 2 ** (top - i);
          if (size.width / scale >= w * 0.9 && size.height / scale >= h * 0.9) {
            chosen = i;
            break;
          }
        }
        layer = Math.min(layer, chosen);
      }
    }
    c.maxLayerBySize = layer;
    this.allocate(p!, now);
  }

  setSubscribed(subscriberSid: string, trackSid: string, subscribe: boolean): void {
    const p = this.participants.get(subscriberSid);
    if (p === undefined) return;
    if (!subscribe) {
      p.unsubscribe(trackSid);
      return;
    }
    if (this.mixer !== null) {
      // MCU: only the mixed tracks can be (re)subscribed
      const mixed = trackSid === this.mixedVideo!.id ? this.mixedVideo! : this.mixes.get(subscriberSid);
      if (mixed !== undefined && mixed.id === trackSid) p.subscribe(mixed, Date.now());
      return;
    }
    for (const owner of this.participants.values()) {
      if (owner === p) continue;
      const producer = owner.producerById(trackSid);
      if (producer !== undefined) p.subscribe(producer, Date.now());
    }
  }

  /** Chooses each video consumer's layer for one subscriber. */
  allocate(p: SfuParticipant, nowMs: number): void {
    const video: Consumer[] = [];
    for (const c of p.consumers.values()) if (c.kind === 'video' && !c.paused && c.producer.simulcast) video.push(c);
    if (video.length === 0) return;
    let forwarding = 0;
    for (const c of video) forwarding += c.currentLayer >= 0 ? c.producer.layers[c.currentLayer].lastBps : 0;
    // REMB can only say "less": without probing it never rises far above what we send.
    const congested = p.subscriberLossFraction > 0.1 || (p.subscriberBps > 0 && forwarding > 0 && p.subscriberBps < forwarding * 0.85);
    let budget = congested ? p.subscriberBps : Infinity;
    for (const c of video) {
      const layers = c.producer.layers;
      let want = Math.min(c.maxLayerBySize, layers.length - 1);
      const downAt = this.downgradedAt.get(c);
      if (!congested && downAt !== undefined && nowMs - downAt < UPGRADE_HOLD_MS) want = Math.min(want, Math.max(c.targetLayer, 0));
      // highest layer that is flowing, fits the budget, and is not above what is wanted
      let chosen = -1;
      for (let i = want; i >= 0; i--) {
        const l = layers[i];
        if (!l.active(nowMs) && c.producer.layerEnabled[i]) continue;
        if (l.lastBps > budget && i > 0) continue;
        chosen = i;
        break;
      }
      if (chosen < 0) chosen = 0;
      if (chosen < c.targetLayer && congested) this.downgradedAt.set(c, nowMs);
      budget -= layers[chosen].lastBps;
      c.setTargetLayer(chosen, nowMs);
    }
  }

  /** Per producer: the highest layer any subscriber wants; higher layers are paused at the publisher. */
  private updateLayerDemand(): void {
    for (const owner of this.participants.values()) {
      for (const producer of owner.producers.values()) {
        if (!producer.simulcast) continue;
        let top = 0;
        for (const c of producer.consumers) if (!c.paused) top = Math.max(top, c.maxLayerBySize);
        let changed = false;
        for (let i = 0; i < producer.layers.length; i++) {
          const on = i <= top;
          if (producer.layerEnabled[i] !== on) {
            producer.layerEnabled[i] = on;
            changed = true;
          }
        }
        if (changed) {
          this.host.layersChanged(
            owner.sid,
            producer.id,
            producer.layers.map((l, i) => ({ rid: l.rid ?? String(i), active: producer.layerEnabled[i] })),
          );
        }
      }
    }
  }

  tickAllocation(nowMs: number): void {
    if (this.mixer !== null) {
      // the composed video goes to everyone: its bitrate follows the weakest receiver
      let bps = 0;
      for (const p of this.participants.values()) if (p.subscriberBps > 0 && (bps === 0 || p.subscriberBps < bps)) bps = p.subscriberBps;
      if (bps !== this.receiverBps) {
        this.receiverBps = bps;
        this.mixer.receiverBitrate(bps);
      }
      if (++this.allocationTicks % 2 === 0) this.sendMixSenderReports(); // every second
      return;
    }
    for (const p of this.participants.values()) this.allocate(p, nowMs);
    this.updateLayerDemand();
    for (const c of this.downgradedAt.keys()) if (c.closed) this.downgradedAt.delete(c);
  }

  tickSpeakers(): void {
    const levels: { sid: string; level: number }[] = [];
    for (const p of this.participants.values()) {
      let best = 0;
      for (const producer of p.producers.values()) if (producer.kind === 'audio') best = Math.max(best, producer.takeLevel());
      if (best > SPEAKER_THRESHOLD) levels.push({ sid: p.sid, level: Math.min(1, best) });
    }
    levels.sort((a, b) => b.level - a.level);
    const sids = levels.map((l) => l.sid);
    if (sids.join(',') !== this.speakers.join(',')) {
      this.speakers = sids;
      this.host.activeSpeakers(this.sid, levels);
      this.mixer?.activeSpeakers(sids);
    }
  }

  close(): void {
    for (const p of this.participants.values()) p.close();
    this.participants.clear();
    this.tracks.clear();
    this.mixer?.close();
    this.mixedVideo?.close();
    for (const m of this.mixes.values()) m.close();
    this.mixes.clear();
    this.lastMixed.clear();
  }
}
