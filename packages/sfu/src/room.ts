// An SFU room: who is in it, which of their tracks are published, the Router that says who
// receives each published track, and the data relay. How media flows is the strategy the room
// holds (strategy.ts): forwarding (SFU) or mixing (MCU). Periodically the strategy picks
// layers (forwarding) or reports to the mixer (mixing), and the room finds active speakers.
import type { UdpMux } from '@switchboard/webrtc';
import { decodeDataFrame, encodeDataFrame } from '@switchboard/protocol';
import type { Consumer } from './consumer.js';
import { forwarding } from './forwarding.js';
import { SfuParticipant } from './participant.js';
import type { ParticipantHost } from './participant.js';
import type { Producer } from './producer.js';
import type { PublisherLimits } from './negotiation.js';
import { Router } from './router.js';
import type { MediaStrategy, StrategyFactory, StrategyRoom } from './strategy.js';

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

const SPEAKER_THRESHOLD = 0.02;

export class SfuRoom implements ParticipantHost, StrategyRoom {
  readonly participants = new Map<string, SfuParticipant>();
  readonly tracks = new Map<string, KnownTrack[]>(); // by participant sid
  readonly router = new Router();
  readonly strategy: MediaStrategy;
  private speakers: string[] = [];

  constructor(
    readonly sid: string,
    private readonly host: RoomHost,
    strategy: StrategyFactory = forwarding,
  ) {
    this.strategy = strategy(this);
  }

  get mux(): UdpMux {
    return this.host.mux;
  }

  get publisherLimits(): PublisherLimits {
    return this.strategy.publisherLimits;
  }

  signal(sid: string, msg: { type: 'offer' | 'answer'; target: 'publisher' | 'subscriber'; sdp: string }): void {
    this.host.signal(sid, msg);
  }

  layersChanged(participantSid: string, trackSid: string, layers: { rid: string; active: boolean }[]): void {
    this.host.layersChanged(participantSid, trackSid, layers);
  }

  log(level: 'info' | 'warn', obj: Record<string, unknown>, msg: string): void {
    this.host.log(level, { room: this.sid, ...obj }, msg);
  }

  // ---- the Router, for participants ---------------------------------------------------

  addConsumer(producer: Producer, consumer: Consumer): void {
    this.router.addConsumer(producer, consumer);
  }

  removeConsumer(consumer: Consumer): void {
    this.router.removeConsumer(consumer);
  }

  consumersOf(producer: Producer): readonly Consumer[] {
    return this.router.consumersOf(producer);
  }

  // ---- participants and tracks ----------------------------------------------------------

  join(sid: string, canSubscribe: boolean, canPublishData = true, name = sid): SfuParticipant {
    let p = this.participants.get(sid);
    if (p !== undefined) return p;
    p = new SfuParticipant(sid, this, canSubscribe, canPublishData);
    this.participants.set(sid, p);
    this.strategy.joined(p, name, Date.now());
    return p;
  }

  leave(sid: string): void {
    const p = this.participants.get(sid);
    if (p === undefined) return;
    this.participants.delete(sid);
    this.tracks.delete(sid);
    p.close();
    this.strategy.left(sid);
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
    this.router.addProducer(producer);
    this.strategy.producerReady(owner, producer, Date.now());
  }

  producerClosed(owner: SfuParticipant, producer: Producer): void {
    this.strategy.producerClosed(owner, producer);
    for (const p of this.participants.values()) if (p !== owner) p.unsubscribe(producer.id);
    this.router.removeProducer(producer);
    const t = this.tracks.get(owner.sid)?.find((x) => x.sid === producer.id);
    if (t !== undefined) t.claimed = false;
  }

  /**
   * Data from one participant's channel to the others (or the `to` in its frame), re-framed
   * with the sender's sid, within the sender's rate limit (DataChannels).
   */
  relayData(from: SfuParticipant, frame: Uint8Array, reliable: boolean): void {
    if (!from.data.admit(frame.length, Date.now())) return;
    const f = decodeDataFrame(frame);
    if (f === null) return;
    const out = encodeDataFrame({ from: from.sid, ...(f.header.topic !== undefined ? { topic: f.header.topic } : {}) }, f.payload);
    const to = f.header.to ? new Set(f.header.to) : null;
    for (const p of this.participants.values()) {
      if (p !== from && (to === null || to.has(p.sid))) p.sendData(out, reliable);
    }
  }

  /** Full-size dimensions of a producer's track, as published. */
  trackSize(producer: Producer): { width: number; height: number } | undefined {
    const t = this.tracks.get(producer.participantSid)?.find((x) => x.sid === producer.id);
    return t?.width && t.height ? { width: t.width, height: t.height } : undefined;
  }

  // ---- what subscribers ask for -------------------------------------------------------

  /** The subscriber's wishes for one track: pause, display size, or a quality cap. */
  trackSettings(subscriberSid: string, trackSid: string, s: { disabled?: boolean; width?: number; height?: number; quality?: 'low' | 'medium' | 'high' }): void {
    const p = this.participants.get(subscriberSid);
    const c = p?.consumers.get(trackSid);
    const producer = c === undefined ? undefined : this.router.producerOf(c);
    if (p === undefined || c === undefined || producer === undefined) return;
    const now = Date.now();
    if (s.disabled !== undefined) c.setPaused(s.disabled, now);
    const top = producer.layers.length - 1;
    let layer = top;
    if (s.quality !== undefined) layer = Math.min(top, s.quality === 'low' ? 0 : s.quality === 'medium' ? 1 : 2);
    if (s.width !== undefined || s.height !== undefined) {
      const size = this.trackSize(producer);
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
    this.strategy.subscriberChanged(p, now);
  }

  setSubscribed(subscriberSid: string, trackSid: string, subscribe: boolean): void {
    const p = this.participants.get(subscriberSid);
    if (p === undefined) return;
    if (subscribe) this.strategy.resubscribe(p, trackSid, Date.now());
    else p.unsubscribe(trackSid);
  }

  // ---- timers -------------------------------------------------------------------------

  tickAllocation(nowMs: number): void {
    this.strategy.tick(nowMs);
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
      this.strategy.activeSpeakers(sids);
    }
  }

  close(): void {
    for (const p of this.participants.values()) p.close();
    this.participants.clear();
    this.tracks.clear();
    this.strategy.close();
    this.router.close();
  }
}
