// The SFU service: one UDP port (UdpMux) shared by every transport, rooms of participants,
// and the timers that drive NACKs, receiver reports, layer allocation and active speakers.
// It reports upward through SfuListener and never imports signaling.
import { UdpMux } from '@switchboard/webrtc';
import type { UdpMuxStats } from '@switchboard/webrtc';
import { SfuRoom } from './room.js';
import type { KnownTrack, RoomHost } from './room.js';
import type { SfuParticipant } from './participant.js';
import type { MixerFactory } from './mixer.js';
import { forwarding } from './forwarding.js';
import { mixing } from './mixing.js';
import type { StrategyFactory } from './strategy.js';

export interface SfuOptions {
  /** IPv4 address to bind the media port on. */
  ip: string;
  /** UDP port for all WebRTC media (0 picks one). */
  port: number;
  /** Public address put in ICE candidates when behind NAT. */
  announcedIp?: string;
  /** The bandwidth estimate (REMB) sent to each publisher, bps. Default 5 Mbit/s. */
  maxIncomingBitrate?: number;
  /** Encrypt and send on a native thread of its own. Default true. */
  sendThread?: boolean;
  /** Makes the media engine of a mixing (MCU) room; without it mixing rooms are refused. */
  mixer?: MixerFactory;
}

export interface SfuListener {
  signal(participantSid: string, msg: { type: 'offer' | 'answer'; target: 'publisher' | 'subscriber'; sdp: string }): void;
  activeSpeakers(roomSid: string, speakers: { sid: string; level: number }[]): void;
  layersChanged(participantSid: string, trackSid: string, layers: { rid: string; active: boolean }[]): void;
  log?(level: 'info' | 'warn', obj: Record<string, unknown>, msg: string): void;
}

export interface ConsumerStats {
  trackSid: string;
  kind: 'audio' | 'video';
  ssrc: number;
  currentLayer: number;
  targetLayer: number;
  paused: boolean;
  packetsSent: number;
  bytesSent: number;
  retransmits: number;
  nacks: number;
  plis: number;
  layerSwitches: number;
}

export interface ProducerStats {
  trackSid: string;
  kind: 'audio' | 'video';
  codec: string;
  layers: { rid: string | null; ssrc: number; packets: number; bytes: number; lost: number; jitter: number; bitrate: number; nacksRecovered: number }[];
}

export interface ParticipantMediaStats {
  sid: string;
  publisher: ReturnType<NonNullable<SfuParticipant['publisher']>['stats']> | null;
  subscriber: ReturnType<NonNullable<SfuParticipant['subscriber']>['stats']> | null;
  producers: ProducerStats[];
  consumers: ConsumerStats[];
  subscriberBitrateEstimate: number;
  /** The data channel association (SCTP), if the client opened one. */
  data: { state: string; messagesSent: number; messagesReceived: number; bytesSent: number; bytesReceived: number; retransmissions: number; dropped: number } | null;
}

export interface SfuCounters extends UdpMuxStats {
  rooms: number;
  participants: number;
  transports: number;
  producers: number;
  consumers: number;
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  retransmits: number;
  nacksReceived: number;
  plisReceived: number;
  layerSwitches: number;
}

const NACK_TICK_MS = 20;

export class Sfu implements RoomHost {
  readonly mux: UdpMux;
  private readonly rooms = new Map<string, SfuRoom>();
  /** participant sid -> room */
  private readonly roomOf = new Map<string, SfuRoom>();
  private timer: NodeJS.Timeout | null = null;
  private ticks = 0;
  /** Totals of participants that left, so the counters never go down. */
  private readonly retired = { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, retransmits: 0, nacksReceived: 0, plisReceived: 0, layerSwitches: 0 };
  private readonly maxIncomingBitrate: number;
  private readonly mixing: StrategyFactory | null;

  constructor(
    opts: SfuOptions,
    private readonly listener: SfuListener,
  ) {
    this.mux = new UdpMux({ ip: opts.ip, port: opts.port, announcedIp: opts.announcedIp, sendThread: opts.sendThread });
    this.maxIncomingBitrate = opts.maxIncomingBitrate ?? 5_000_000;
    this.mixing = opts.mixer === undefined ? null : mixing(opts.mixer);
  }

  /** Binds the media port (UDP, and TCP for ICE-TCP); returns it. */
  async listen(): Promise<number> {
    const port = this.mux.listen();
    await this.mux.listenTcp();
    this.timer = setInterval(() => this.tick(), NACK_TICK_MS);
    this.timer.unref();
    return port;
  }

  get port(): number {
    return this.mux.port;
  }

  signal(participantSid: string, msg: { type: 'offer' | 'answer'; target: 'publisher' | 'subscriber'; sdp: string }): void {
    this.listener.signal(participantSid, msg);
  }

  activeSpeakers(roomSid: string, speakers: { sid: string; level: number }[]): void {
    this.listener.activeSpeakers(roomSid, speakers);
  }

  layersChanged(participantSid: string, trackSid: string, layers: { rid: string; active: boolean }[]): void {
    this.listener.layersChanged(participantSid, trackSid, layers);
  }

  log(level: 'info' | 'warn', obj: Record<string, unknown>, msg: string): void {
    this.listener.log?.(level, obj, msg);
  }

  /** Whether mixing (MCU) rooms can be served (a mixer factory was given). */
  get mixes(): boolean {
    return this.mixing !== null;
  }

  /** A room's strategy is chosen when its first participant joins. */
  private room(roomSid: string, strategy: 'forwarding' | 'mixing'): SfuRoom {
    let r = this.rooms.get(roomSid);
    if (r === undefined) {
      if (strategy === 'mixing' && this.mixing === null) throw Object.assign(new Error('MCU rooms need a media engine'), { code: 'SB_ERR_TOPOLOGY_UNAVAILABLE' });
      r = new SfuRoom(roomSid, this, strategy === 'mixing' ? this.mixing! : forwarding);
      this.rooms.set(roomSid, r);
    }
    return r;
  }

  join(roomSid: string, participantSid: string, opts: { canSubscribe: boolean; canPublishData?: boolean; strategy?: 'forwarding' | 'mixing'; name?: string }): void {
    const room = this.room(roomSid, opts.strategy ?? 'forwarding');
    room.join(participantSid, opts.canSubscribe, opts.canPublishData ?? true, opts.name ?? participantSid);
    this.roomOf.set(participantSid, room);
  }

  /** Adds a leaving participant's counts to the retired totals. */
  private retire(p: SfuParticipant | undefined): void {
    if (p !== undefined) addTraffic(this.retired, p);
  }

  leave(participantSid: string): void {
    const room = this.roomOf.get(participantSid);
    if (room === undefined) return;
    this.retire(room.participants.get(participantSid));
    this.roomOf.delete(participantSid);
    room.leave(participantSid);
    if (room.participants.size === 0) {
      room.close();
      this.rooms.delete(room.sid);
    }
  }

  closeRoom(roomSid: string): void {
    const room = this.rooms.get(roomSid);
    if (room === undefined) return;
    for (const [sid, p] of room.participants) {
      this.retire(p);
      this.roomOf.delete(sid);
    }
    room.close();
    this.rooms.delete(roomSid);
  }

  private participant(sid: string): SfuParticipant {
    const p = this.roomOf.get(sid)?.participants.get(sid);
    if (p === undefined) throw Object.assign(new Error('not in an SFU room'), { code: 'SB_ERR_NOT_JOINED' });
    return p;
  }

  trackPublished(participantSid: string, track: Omit<KnownTrack, 'claimed'>): void {
    this.roomOf.get(participantSid)?.trackPublished(participantSid, track);
  }

  trackUnpublished(participantSid: string, trackSid: string): void {
    this.roomOf.get(participantSid)?.trackUnpublished(participantSid, trackSid);
  }

  /** The client's publisher offer; the answer is signalled back (and returned). Throws SdpError/NegotiationError. */
  publisherOffer(participantSid: string, sdp: string): string {
    return this.participant(participantSid).handlePublisherOffer(sdp);
  }

  subscriberAnswer(participantSid: string, sdp: string): void {
    this.participant(participantSid).handleSubscriberAnswer(sdp);
  }

  setSubscribed(participantSid: string, trackSids: string[], subscribe: boolean): void {
    const room = this.roomOf.get(participantSid);
    for (const t of trackSids) room?.setSubscribed(participantSid, t, subscribe);
  }

  trackSettings(participantSid: string, trackSids: string[], s: { disabled?: boolean; width?: number; height?: number; quality?: 'low' | 'medium' | 'high' }): void {
    const room = this.roomOf.get(participantSid);
    for (const t of trackSids) room?.trackSettings(participantSid, t, s);
  }

  private tick(): void {
    const now = Date.now();
    this.ticks++;
    for (const room of this.rooms.values()) {
      for (const p of room.participants.values()) p.tickNack(now);
      if (this.ticks % 15 === 0) room.tickSpeakers();
      if (this.ticks % 25 === 0) room.tickAllocation(now);
      if (this.ticks % 50 === 0) for (const p of room.participants.values()) p.tickReports(now, this.maxIncomingBitrate);
    }
  }

  participantStats(participantSid: string): ParticipantMediaStats | undefined {
    const p = this.roomOf.get(participantSid)?.participants.get(participantSid);
    if (p === undefined) return undefined;
    const now = Date.now();
    return {
      sid: p.sid,
      publisher: p.publisher?.stats() ?? null,
      subscriber: p.subscriber?.stats() ?? null,
      producers: [...p.producers.values()].map((pr) => ({
        trackSid: pr.id,
        kind: pr.kind,
        codec: pr.codec.name,
        layers: pr.layers.map((l) => ({
          rid: l.rid ?? null,
          ssrc: l.ssrc,
          packets: l.stats.packets,
          bytes: l.stats.bytes,
          lost: l.stats.cumulativeLost,
          jitter: l.stats.jitter / (pr.codec.clockRate / 1000),
          bitrate: l.stats.bitrate.bps(now),
          nacksRecovered: l.nack?.recovered ?? 0,
        })),
      })),
      consumers: [...p.consumers.values()].map((c) => ({
        trackSid: c.producer.id,
        kind: c.kind,
        ssrc: c.params.ssrc,
        currentLayer: c.currentLayer,
        targetLayer: c.targetLayer,
        paused: c.paused,
        packetsSent: c.packetsSent,
        bytesSent: c.bytesSent,
        retransmits: c.retransmits,
        nacks: c.nacksReceived,
        plis: c.plisReceived,
        layerSwitches: c.layerSwitches,
      })),
      subscriberBitrateEstimate: p.subscriberBps,
      data: p.data.stats(),
    };
  }

  roomStats(roomSid: string): ParticipantMediaStats[] {
    const room = this.rooms.get(roomSid);
    if (room === undefined) return [];
    return [...room.participants.keys()].map((sid) => this.participantStats(sid)!).filter((x) => x !== undefined);
  }

  /** Totals for metrics (walks every room: call at scrape rate, not per packet). */
  counters(): SfuCounters {
    const c: SfuCounters = { ...this.mux.stats(), rooms: this.rooms.size, participants: this.roomOf.size, transports: 0, producers: 0, consumers: 0, ...this.retired };
    for (const room of this.rooms.values()) {
      for (const p of room.participants.values()) {
        c.transports += (p.publisher === null ? 0 : 1) + (p.subscriber === null ? 0 : 1);
        c.producers += p.producers.size;
        c.consumers += p.consumers.size;
        addTraffic(c, p);
      }
    }
    return c;
  }

  /** p50/p99 forwarding latency inside the server, µs (upper bucket edges, so rounded up to a power of 2). */
  forwardingLatency(): { processing: { p50: number; p99: number }; send: { p50: number; p99: number } | null } {
    const h = this.mux.latencyHistograms();
    return { processing: quantiles(h.processingUs), send: h.sendUs === null ? null : quantiles(h.sendUs) };
  }

  stats(): UdpMuxStats & { rooms: number; participants: number } {
    return { ...this.mux.stats(), rooms: this.rooms.size, participants: this.roomOf.size };
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    for (const r of this.rooms.values()) r.close();
    this.rooms.clear();
    this.roomOf.clear();
    this.mux.close();
  }
}

/** p50 and p99 of a log2-µs histogram, as the upper edge of the bucket they fall in. */
function quantiles(buckets: number[]): { p50: number; p99: number } {
  const total = buckets.reduce((a, b) => a + b, 0);
  const at = (q: number): number => {
    if (total === 0) return 0;
    let seen = 0;
    for (let i = 0; i < buckets.length; i++) {
      seen += buckets[i];
      if (seen >= q * total) return 2 ** (i + 1);
    }
    return 2 ** buckets.length;
  };
  return { p50: at(0.5), p99: at(0.99) };
}

type TrafficTotals = Pick<SfuCounters, 'packetsIn' | 'bytesIn' | 'packetsOut' | 'bytesOut' | 'retransmits' | 'nacksReceived' | 'plisReceived' | 'layerSwitches'>;

/** Adds a participant's transport traffic and consumer feedback counts to `t`. */
function addTraffic(t: TrafficTotals, p: SfuParticipant): void {
  for (const x of [p.publisher, p.subscriber]) {
    if (x === null) continue;
    t.packetsIn += x.packetsIn;
    t.bytesIn += x.bytesIn;
    t.packetsOut += x.packetsOut;
    t.bytesOut += x.bytesOut;
  }
  for (const k of p.consumers.values()) {
    t.retransmits += k.retransmits;
    t.nacksReceived += k.nacksReceived;
    t.plisReceived += k.plisReceived;
    t.layerSwitches += k.layerSwitches;
  }
}
