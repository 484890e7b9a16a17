// One participant of an SFU room: a publisher connection (its tracks come in: producers) and a
// subscriber connection (everyone else's tracks go out: consumers). Each is a WebRtcTransport
// on the shared UDP port. The subscriber connection is renegotiated by us, one offer at a time.
import { parseRtcp, rtpSsrc, readStringExtension, readRtx, writeNack, writePli, writeReceiverReport, writeRemb, writeSenderReport } from '@switchboard/rtp';
import type { ReportBlock, RtcpPacket } from '@switchboard/rtp';
import type { TransportState, UdpMux, WebRtcTransport } from '@switchboard/webrtc';
import { codecSpec, EXT, PARKED_EXT_ID, RED_PAYLOAD_TYPE, SUBSCRIBER_EXT_IDS } from './codecs.js';
import { Consumer } from './consumer.js';
import type { MediaSender } from './consumer.js';
import { answerPublisherOffer, buildSubscriberOffer, readSubscriberAnswer } from './negotiation.js';
import type { PublisherLimits, LocalIceInfo, OfferedTrack, SubscriberSlot } from './negotiation.js';
import { InboundLayer, Producer } from './producer.js';
import { SctpAssociation } from '@switchboard/sctp';
import type { DataChannel } from '@switchboard/sctp';

/** What a participant needs from its room. */
export interface ParticipantHost {
  readonly mux: UdpMux;
  /** What publishers may send in this room. */
  readonly publisherLimits: PublisherLimits;
  /** A signaling message to this participant's client. */
  signal(sid: string, msg: { type: 'offer' | 'answer'; target: 'publisher' | 'subscriber'; sdp: string }): void;
  /** The client-side id (cid) and track sid the room knows for a publisher's m-section. */
  claimTrack(sid: string, streamId: string, kind: 'audio' | 'video'): { trackSid: string; cid: string } | undefined;
  producerReady(p: SfuParticipant, producer: Producer): void;
  /** A data channel message from this participant (a data frame); `reliable` = which channel. */
  relayData(from: SfuParticipant, frame: Uint8Array, reliable: boolean): void;
  producerClosed(p: SfuParticipant, producer: Producer): void;
  /** Publisher's data channel message (DTLS application data is not parsed here). */
  log(level: 'info' | 'warn', obj: Record<string, unknown>, msg: string): void;
}

const rtcpOut = new Uint8Array(1500);
const NACK_SEQS = new Int32Array(256);

interface SsrcEntry {
  producer: Producer;
  layer: InboundLayer;
  rtx: boolean;
}

export class SfuParticipant {
  publisher: WebRtcTransport | null = null;
  subscriber: WebRtcTransport | null = null;
  readonly producers = new Map<string, Producer>(); // by mid
  private readonly bySsrc = new Map<number, SsrcEntry>();
  private pendingTracks: OfferedTrack[] = [];
  readonly consumers = new Map<string, Consumer>(); // by producer id
  private readonly consumerBySsrc = new Map<number, Consumer>();
  private readonly slots: SubscriberSlot[] = [];
  private offerVersion = 1;
  private offering = false;
  private needsOffer = false;
  private subscriberAnswered = false;
  private holdTimer: NodeJS.Timeout | null = null;
  /** The subscriber's available bandwidth from REMB (bps), 0 = unknown. */
  subscriberBps = 0;
  subscriberLossFraction = 0;
  private readonly rtxScratch = new Uint8Array(2048);
  readonly cname: string;
  closed = false;
  /** Last RTT to the publisher from its RRs' LSR/DLSR, ms. */
  rttMs = 50;
  /** Data channels over the publisher connection (SCTP over its DTLS). */
  sctp: SctpAssociation | null = null;
  reliable: DataChannel | null = null;
  lossy: DataChannel | null = null;
  dataDropped = 0;
  /** Rate limit on the data this participant sends. */
  readonly dataBudget = new TokenBucket(200, 2 * 1024 * 1024);

  constructor(
    readonly sid: string,
    private readonly host: ParticipantHost,
    readonly canSubscribe: boolean,
    readonly canPublishData: boolean = true,
  ) {
    this.cname = `sb-${sid}`;
  }

  private localInfo(t: WebRtcTransport): LocalIceInfo {
    return { ufrag: t.ice.localUfrag, pwd: t.ice.localPwd, fingerprint: t.localFingerprint, candidates: this.host.mux.candidates() };
  }

  // ---- publisher connection ---------------------------------------------------------

  /** The client's offer for its publisher connection; returns our answer (also signalled). */
  handlePublisherOffer(sdp: string): string {
    if (this.publisher === null) {
      this.publisher = this.host.mux.createTransport({
        onRtp: (b, o, l) => this.onPublisherRtp(b, o, l),
        onRtcp: (b, o, l) => this.onPublisherRtcp(b, o, l),
        onState: (s) => this.onTransportState('publisher', s),
        onAppData: (d) => this.sctp?.receive(d),
      });
    }
    const neg = answerPublisherOffer(sdp, this.localInfo(this.publisher), this.host.publisherLimits);
    if (neg.dataMid !== undefined && this.sctp === null) this.startSctp(neg.remoteMaxMessageSize);
    this.publisher.setRemoteParameters({ ufrag: neg.remote.ufrag, fingerprint: neg.remote.fingerprint, setup: neg.remote.setup });
    // m-sections that stopped sending close their producers
    const sending = new Set(neg.tracks.map((t) => t.mid));
    for (const [mid, producer] of this.producers) {
      if (!sending.has(mid)) this.closeProducer(producer);
    }
    this.pendingTracks = neg.tracks.filter((t) => !this.producers.has(t.mid));
    this.bindPending();
    this.host.signal(this.sid, { type: 'answer', target: 'publisher', sdp: neg.answer });
    return neg.answer;
  }

  private startSctp(remoteMaxMessageSize: number | undefined): void {
    const t = this.publisher!;
    const assoc = new SctpAssociation({
      role: t.dtlsRole,
      send: (packet) => t.sendAppData(packet),
      remoteMaxMessageSize: remoteMaxMessageSize ?? 65536,
    });
    assoc.onchannel = (ch) => {
      if (ch.label === '_reliable') this.reliable = ch;
      else if (ch.label === '_lossy') this.lossy = ch;
      else return;
      const reliable = ch.label === '_reliable';
      ch.onmessage = (m) => {
        if (typeof m === 'string' || !this.canPublishData) return;
        this.host.relayData(this, m, reliable);
      };
    };
    assoc.start();
    this.sctp = assoc;
  }

  /** Sends a data frame to this participant on its reliable or lossy channel; false if dropped. */
  sendData(frame: Uint8Array, reliable: boolean): boolean {
    const ch = reliable ? this.reliable : this.lossy;
    // a receiver that does not keep up loses lossy data first, then reliable data past 4 MiB queued
    if (ch === null || ch.readyState !== 'open' || ch.bufferedAmount > (reliable ? 4 << 20 : 256 << 10)) {
      this.dataDropped++;
      return false;
    }
    ch.send(frame);
    return true;
  }

  /** Binds negotiated m-sections to tracks the room knows (publishTrack may come before or after the offer). */
  bindPending(): void {
    const still: OfferedTrack[] = [];
    for (const t of this.pendingTracks) {
      const claim = this.host.claimTrack(this.sid, t.streamId, t.kind);
      if (claim === undefined) {
        still.push(t);
        continue;
      }
      const producer = new Producer(claim.trackSid, this.sid, t.mid, claim.cid, t.codec, t.extensions, t.rids, {
        sendPli: (ssrc) => this.sendPli(ssrc),
      });
      this.producers.set(t.mid, producer);
      if (t.ssrc !== 0) this.bySsrc.set(t.ssrc, { producer, layer: producer.layers[0], rtx: false });
      if (t.rtxSsrc !== 0) this.bySsrc.set(t.rtxSsrc, { producer, layer: producer.layers[0], rtx: true });
      producer.layers[0].ssrc = t.ssrc;
      producer.layers[0].rtxSsrc = t.rtxSsrc;
      this.host.producerReady(this, producer);
    }
    this.pendingTracks = still;
  }

  closeProducer(producer: Producer): void {
    if (this.producers.get(producer.mid) !== producer) return;
    this.producers.delete(producer.mid);
    for (const [ssrc, e] of this.bySsrc) if (e.producer === producer) this.bySsrc.delete(ssrc);
    producer.close();
    this.host.producerClosed(this, producer);
  }

  producerById(id: string): Producer | undefined {
    for (const p of this.producers.values()) if (p.id === id) return p;
    return undefined;
  }

  private onPublisherRtp(buf: Uint8Array, off: number, len: number): void {
    const ssrc = rtpSsrc(buf, off);
    let e = this.bySsrc.get(ssrc);
    if (e === undefined) {
      e = this.learnSsrc(buf, off, len, ssrc);
      if (e === undefined) return;
    }
    const now = Date.now();
    if (e.rtx) {
      // RTX (RFC 4588): back to the original packet, then as if it had arrived in time
      const producer = e.producer;
      const n = readRtx(buf, off, len, this.rtxScratch, 0, producer.codec.payloadType, e.layer.ssrc);
      if (n <= 0 || e.layer.ssrc === 0) return;
      producer.receive(this.rtxScratch, 0, n, e.layer, now);
      return;
    }
    e.producer.receive(buf, off, len, e.layer, now);
  }

  /** An SSRC not in the SDP (simulcast): the mid and rid header extensions say where it belongs. */
  private learnSsrc(buf: Uint8Array, off: number, len: number, ssrc: number): SsrcEntry | undefined {
    for (const producer of this.producers.values()) {
      const x = producer.extensions;
      if (x.mid < 0) continue;
      const mid = readStringExtension(buf, off, len, x.mid);
      if (mid !== producer.mid) continue;
      let rid = x.rid >= 0 ? readStringExtension(buf, off, len, x.rid) : undefined;
      let rtx = false;
      if (rid === undefined && x.repairedRid >= 0) {
        rid = readStringExtension(buf, off, len, x.repairedRid);
        rtx = rid !== undefined;
      }
      const layer = rid === undefined ? producer.layers[0] : producer.layers.find((l) => l.rid === rid);
      if (layer === undefined) return undefined;
      // a layer has one SSRC (and one RTX SSRC): a new one replaces the old mapping, so the map stays bounded
      const old = rtx ? layer.rtxSsrc : layer.ssrc;
      if (old !== 0) this.bySsrc.delete(old);
      if (rtx) layer.rtxSsrc = ssrc;
      else layer.ssrc = ssrc;
      const e = { producer, layer, rtx };
      this.bySsrc.set(ssrc, e);
      return e;
    }
    return undefined;
  }

  private onPublisherRtcp(buf: Uint8Array, off: number, len: number): void {
    const packets = tryParseRtcp(buf, off, len);
    const now = Date.now();
    for (const p of packets) {
      if (p.type === 'sr') {
        const e = this.bySsrc.get(p.ssrc);
        if (e === undefined || e.rtx) continue;
        e.layer.stats.lastSrNtpMiddle = ((p.ntpSec & 0xffff) * 65536 + (p.ntpFrac >>> 16)) >>> 0;
        e.layer.stats.lastSrAtMs = now;
        // Translate the publisher's SR for each consumer on this layer (lip sync survives rewriting).
        for (const c of e.producer.consumers) {
          if (c.currentLayer !== e.layer.index || c.paused) continue;
          const n = writeSenderReport(rtcpOut, 0, {
            ssrc: c.params.ssrc,
            ntpSec: p.ntpSec,
            ntpFrac: p.ntpFrac,
            rtpTimestamp: c.outTimestamp(p.rtpTimestamp),
            packetCount: c.packetsSent >>> 0,
            octetCount: c.bytesSent >>> 0,
          });
          c.sender.send(rtcpOut, 0, n);
        }
      }
    }
  }

  private sendPli(ssrc: number): void {
    if (this.publisher === null) return;
    const n = writePli(rtcpOut, 0, 1, ssrc);
    this.publisher.send(rtcpOut, 0, n);
  }

  /** Every ~20 ms: NACKs for what is missing from the publisher. */
  tickNack(nowMs: number): void {
    if (this.publisher === null || this.publisher.state !== 'connected') return;
    for (const producer of this.producers.values()) {
      for (const layer of producer.layers) {
        if (layer.nack === null || layer.nack.pending === 0 || layer.ssrc === 0) continue;
        const n = layer.nack.due(nowMs, this.rttMs);
        if (n === 0) continue;
        for (let i = 0; i < n; i++) NACK_SEQS[i] = layer.nack.out[i];
        const len = writeNack(rtcpOut, 0, 1, layer.ssrc, NACK_SEQS, n);
        this.publisher.send(rtcpOut, 0, len);
      }
    }
  }

  /** Every second: receiver reports and a bandwidth estimate (REMB) to the publisher. */
  tickReports(nowMs: number, maxIncomingBps: number): void {
    if (this.publisher === null || this.publisher.state !== 'connected') return;
    const reports: ReportBlock[] = [];
    const ssrcs: number[] = [];
    for (const producer of this.producers.values()) {
      for (const layer of producer.layers) {
        if (layer.ssrc === 0) continue;
        reports.push(layer.stats.reportBlock(layer.ssrc, nowMs));
        ssrcs.push(layer.ssrc);
        const bps = layer.stats.bitrate.bps(nowMs);
        if (bps > 0) layer.lastBps = bps;
      }
    }
    if (reports.length === 0) return;
    let n = 0;
    for (let i = 0; i < reports.length; i += 31) {
      n += writeReceiverReport(rtcpOut, n, { ssrc: 1, reports: reports.slice(i, i + 31) });
    }
    n += writeRemb(rtcpOut, n, 1, maxIncomingBps, ssrcs);
    this.publisher.send(rtcpOut, 0, n);
  }

  // ---- subscriber connection --------------------------------------------------------

  private ensureSubscriber(): WebRtcTransport {
    if (this.subscriber === null) {
      this.subscriber = this.host.mux.createTransport({
        onRtp: () => {},
        onRtcp: (b, o, l) => this.onSubscriberRtcp(b, o, l),
        onState: (s) => this.onTransportState('subscriber', s),
      });
    }
    return this.subscriber;
  }

  /** Starts forwarding a producer to this participant (and renegotiates, unless told not to yet). */
  subscribe(producer: Producer, nowMs: number, negotiate = true): Consumer | undefined {
    if (!this.canSubscribe || this.closed || this.consumers.has(producer.id) || producer.closed) return this.consumers.get(producer.id);
    const t = this.ensureSubscriber();
    const mid = String(this.slots.length);
    const spec = codecSpec(producer.codec.name)!;
    const ssrc = randomSsrc();
    const rtxSsrc = producer.kind === 'video' ? randomSsrc() : 0;
    const payloadTypes = new Int16Array(128).fill(-1);
    payloadTypes[producer.codec.payloadType] = spec.payloadType;
    const red = producer.codec.redPayloadType >= 0 && producer.codec.payloadType === spec.payloadType;
    if (red) payloadTypes[producer.codec.redPayloadType] = RED_PAYLOAD_TYPE;
    const extensionIds = new Uint8Array(256);
    for (const e of producer.extensions.all) {
      const want = e.uri === EXT.audioLevel ? SUBSCRIBER_EXT_IDS.audioLevel : e.uri === EXT.absSendTime ? SUBSCRIBER_EXT_IDS.absSendTime : -1;
      if (want > 0 && want !== e.id) extensionIds[e.id] = want;
      else if (want < 0 && (e.id === SUBSCRIBER_EXT_IDS.audioLevel || e.id === SUBSCRIBER_EXT_IDS.absSendTime)) extensionIds[e.id] = PARKED_EXT_ID;
    }
    const sender: MediaSender = {
      get sendData() {
        return t.mux.sendData;
      },
      beginSend: (s, o, l) => t.beginSend(s, o, l),
      commitSend: (l) => t.commitSend(l),
      send: (s, o, l) => t.send(s, o, l),
    };
    const consumer = new Consumer(
      `${this.sid}:${producer.id}`,
      producer,
      this.sid,
      {
        ssrc,
        rtxSsrc,
        payloadTypes,
        rtxPayloadType: spec.rtxPayloadType,
        extensionIds,
        absSendTimeId: producer.extensions.absSendTime >= 0 ? SUBSCRIBER_EXT_IDS.absSendTime : -1,
        sourceAbsSendTimeId: producer.extensions.absSendTime,
      },
      sender,
      mid,
    );
    this.consumers.set(producer.id, consumer);
    this.consumerBySsrc.set(ssrc, consumer);
    if (rtxSsrc !== 0) this.consumerBySsrc.set(rtxSsrc, consumer);
    this.slots.push({
      mid,
      kind: producer.kind,
      track: { codec: producer.codec, ssrc, rtxSsrc, streamId: producer.cid, trackId: producer.id, cname: `sb-${producer.participantSid}`, red },
    });
    // media flows once the subscriber has answered and DTLS is up; until then beginSend fails
    producer.addConsumer(consumer);
    producer.requestKeyframe(consumer.targetLayer, nowMs);
    if (negotiate) this.renegotiate();
    return consumer;
  }

  unsubscribe(producerId: string): void {
    const c = this.consumers.get(producerId);
    if (c === undefined) return;
    this.consumers.delete(producerId);
    for (const [ssrc, x] of this.consumerBySsrc) if (x === c) this.consumerBySsrc.delete(ssrc);
    c.close();
    const slot = this.slots.find((s) => s.mid === c.mid);
    if (slot !== undefined) slot.track = undefined;
    this.renegotiate();
  }

  /**
   * Sends a new subscriber offer, or remembers to: while one is unanswered, and while the
   * connection from the first answer is still coming up (a re-offer in the middle of the
   * DTLS handshake made some clients (libdatachannel) never finish it). A timer sends it
   * anyway if the connection takes long.
   */
  renegotiate(): void {
    if (this.closed || this.subscriber === null) return;
    const settling = this.subscriberAnswered && this.subscriber.state !== 'connected';
    if (this.offering || settling) {
      this.needsOffer = true;
      if (settling && this.holdTimer === null) {
        this.holdTimer = setTimeout(() => {
          this.holdTimer = null;
          if (this.needsOffer && !this.offering) this.sendOffer();
        }, 3000);
        this.holdTimer.unref();
      }
      return;
    }
    this.sendOffer();
  }

  private sendOffer(): void {
    if (this.closed || this.subscriber === null) return;
    if (this.holdTimer !== null) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    this.offering = true;
    this.needsOffer = false;
    const sdp = buildSubscriberOffer(this.slots, this.localInfo(this.subscriber), ++this.offerVersion);
    this.host.signal(this.sid, { type: 'offer', target: 'subscriber', sdp });
  }

  handleSubscriberAnswer(sdp: string): void {
    if (this.subscriber === null || !this.offering) return;
    const { remote } = readSubscriberAnswer(sdp);
    this.subscriber.setRemoteParameters({ ufrag: remote.ufrag, fingerprint: remote.fingerprint, setup: remote.setup });
    this.offering = false;
    this.subscriberAnswered = true;
    const now = Date.now();
    for (const c of this.consumers.values()) c.producer.requestKeyframe(c.targetLayer, now);
    if (this.needsOffer) this.renegotiate();
  }

  private onSubscriberRtcp(buf: Uint8Array, off: number, len: number): void {
    const packets = tryParseRtcp(buf, off, len);
    const now = Date.now();
    for (const p of packets) {
      switch (p.type) {
        case 'nack':
          this.consumerBySsrc.get(p.mediaSsrc)?.onNack(p.seqs, now);
          break;
        case 'pli':
          this.consumerBySsrc.get(p.mediaSsrc)?.onKeyframeRequest(now);
          break;
        case 'fir':
          for (const e of p.entries) this.consumerBySsrc.get(e.ssrc)?.onKeyframeRequest(now);
          break;
        case 'remb':
          this.subscriberBps = p.bitrate;
          break;
        case 'rr':
        case 'sr':
          for (const r of p.reports) {
            if (this.consumerBySsrc.has(r.ssrc)) this.subscriberLossFraction = r.fractionLost / 256;
          }
          break;
      }
    }
  }

  private onTransportState(which: 'publisher' | 'subscriber', s: TransportState): void {
    this.host.log('info', { sid: this.sid, transport: which, state: s }, 'transport state');
    if (which === 'subscriber' && s === 'connected' && this.needsOffer) this.renegotiate();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.holdTimer !== null) clearTimeout(this.holdTimer);
    for (const c of this.consumers.values()) c.close();
    this.consumers.clear();
    this.consumerBySsrc.clear();
    for (const p of [...this.producers.values()]) this.closeProducer(p);
    this.sctp?.close();
    this.sctp = null;
    this.publisher?.close();
    this.subscriber?.close();
  }
}

/** A compound RTCP packet's parts; malformed ones (authenticated, so a buggy peer) are ignored. */
function tryParseRtcp(buf: Uint8Array, off: number, len: number): RtcpPacket[] {
  try {
    return parseRtcp(buf, off, len);
  } catch {
    return [];
  }
}

/** Messages and bytes per second, with a one-second burst. */
class TokenBucket {
  private messages: number;
  private bytes: number;
  private at = 0;

  constructor(
    private readonly messagesPerSecond: number,
    private readonly bytesPerSecond: number,
  ) {
    this.messages = messagesPerSecond;
    this.bytes = bytesPerSecond;
  }

  take(bytes: number, nowMs: number): boolean {
    if (this.at !== 0) {
      const dt = (nowMs - this.at) / 1000;
      this.messages = Math.min(this.messagesPerSecond, this.messages + dt * this.messagesPerSecond);
      this.bytes = Math.min(this.bytesPerSecond, this.bytes + dt * this.bytesPerSecond);
    }
    this.at = nowMs;
    if (this.messages < 1 || this.bytes < bytes) return false;
    this.messages -= 1;
    this.bytes -= bytes;
    return true;
  }
}

function randomSsrc(): number {
  return (Math.floor(Math.random() * 0xfffffff0) + 1) >>> 0;
}

