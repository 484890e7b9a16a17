// One participant of an SFU room: a publisher connection (its tracks come in: PublisherSide)
// and a subscriber connection (everyone else's tracks go out: SubscriberSide), each a
// WebRtcTransport on the shared UDP port, and data channels over the publisher connection
// (DataChannels). This file owns the transports and the lifecycle; the halves own the rest.
import type { TransportState, UdpMux, WebRtcTransport } from '@switchboard/webrtc';
import type { Consumer } from './consumer.js';
import { DataChannels } from './data-channels.js';
import { answerPublisherOffer } from './negotiation.js';
import type { PublisherLimits, LocalIceInfo } from './negotiation.js';
import type { Producer } from './producer.js';
import { PublisherSide } from './publisher-side.js';
import { SubscriberSide } from './subscriber-side.js';

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
  producerClosed(p: SfuParticipant, producer: Producer): void;
  /** The room's Router: who receives each producer. */
  addConsumer(producer: Producer, consumer: Consumer): void;
  removeConsumer(consumer: Consumer): void;
  consumersOf(producer: Producer): readonly Consumer[];
  /** A data channel message from this participant (a data frame); `reliable` = which channel. */
  relayData(from: SfuParticipant, frame: Uint8Array, reliable: boolean): void;
  log(level: 'info' | 'warn', obj: Record<string, unknown>, msg: string): void;
}

export class SfuParticipant {
  publisher: WebRtcTransport | null = null;
  readonly pub: PublisherSide;
  readonly sub: SubscriberSide;
  readonly data = new DataChannels();
  readonly cname: string;
  closed = false;

  constructor(
    readonly sid: string,
    private readonly host: ParticipantHost,
    readonly canSubscribe: boolean,
    readonly canPublishData: boolean = true,
  ) {
    this.cname = `sb-${sid}`;
    this.pub = new PublisherSide({
      sid,
      transport: () => this.publisher,
      claimTrack: (streamId, kind) => host.claimTrack(sid, streamId, kind),
      producerReady: (producer) => host.producerReady(this, producer),
      producerClosed: (producer) => host.producerClosed(this, producer),
      consumersOf: (producer) => host.consumersOf(producer),
    });
    this.sub = new SubscriberSide({
      sid,
      mux: host.mux,
      localInfo: (t) => this.localInfo(t),
      sendOffer: (sdp) => host.signal(sid, { type: 'offer', target: 'subscriber', sdp }),
      addConsumer: (producer, consumer) => host.addConsumer(producer, consumer),
      removeConsumer: (consumer) => host.removeConsumer(consumer),
      onTransportState: (which, s) => this.onTransportState(which, s),
    });
  }

  // ---- what the room and the Sfu read -----------------------------------------------

  get producers(): ReadonlyMap<string, Producer> {
    return this.pub.producers;
  }

  get consumers(): ReadonlyMap<string, Consumer> {
    return this.sub.consumers;
  }

  get subscriber(): WebRtcTransport | null {
    return this.sub.transport;
  }

  /** The subscriber's available bandwidth from REMB (bps), 0 = unknown. */
  get subscriberBps(): number {
    return this.sub.bps;
  }

  get subscriberLossFraction(): number {
    return this.sub.lossFraction;
  }

  private localInfo(t: WebRtcTransport): LocalIceInfo {
    return { ufrag: t.ice.localUfrag, pwd: t.ice.localPwd, fingerprint: t.localFingerprint, candidates: this.host.mux.candidates() };
  }

  // ---- publisher connection ---------------------------------------------------------

  /** The client's offer for its publisher connection; returns our answer (also signalled). */
  handlePublisherOffer(sdp: string): string {
    if (this.publisher === null) {
      this.publisher = this.host.mux.createTransport({
        onRtp: (b, o, l) => this.pub.onRtp(b, o, l),
        onRtcp: (b, o, l) => this.pub.onRtcp(b, o, l),
        onState: (s) => this.onTransportState('publisher', s),
        onAppData: (d) => this.data.sctp?.receive(d),
      });
    }
    const neg = answerPublisherOffer(sdp, this.localInfo(this.publisher), this.host.publisherLimits);
    if (neg.dataMid !== undefined) {
      this.data.start(this.publisher, neg.remoteMaxMessageSize, (frame, reliable) => {
        if (this.canPublishData) this.host.relayData(this, frame, reliable);
      });
    }
    this.publisher.setRemoteParameters({ ufrag: neg.remote.ufrag, fingerprint: neg.remote.fingerprint, setup: neg.remote.setup });
    this.pub.applyOffer(neg.tracks);
    this.host.signal(this.sid, { type: 'answer', target: 'publisher', sdp: neg.answer });
    return neg.answer;
  }

  /** Binds negotiated m-sections to tracks the room knows (publishTrack may come before or after the offer). */
  bindPending(): void {
    this.pub.bindPending();
  }

  closeProducer(producer: Producer): void {
    this.pub.closeProducer(producer);
  }

  producerById(id: string): Producer | undefined {
    return this.pub.producerById(id);
  }

  tickNack(nowMs: number): void {
    this.pub.tickNack(nowMs);
  }

  tickReports(nowMs: number, maxIncomingBps: number): void {
    this.pub.tickReports(nowMs, maxIncomingBps);
  }

  // ---- subscriber connection --------------------------------------------------------

  /** Starts forwarding a producer to this participant (and renegotiates, unless told not to yet). */
  subscribe(producer: Producer, nowMs: number, negotiate = true): Consumer | undefined {
    if (!this.canSubscribe || this.closed) return this.sub.consumers.get(producer.id);
    return this.sub.subscribe(producer, nowMs, negotiate);
  }

  unsubscribe(producerId: string): void {
    this.sub.unsubscribe(producerId);
  }

  handleSubscriberAnswer(sdp: string): void {
    this.sub.handleAnswer(sdp);
  }

  // ---- data ---------------------------------------------------------------------------

  /** Sends a data frame to this participant on its reliable or lossy channel; false if dropped. */
  sendData(frame: Uint8Array, reliable: boolean): boolean {
    return this.data.send(frame, reliable);
  }

  private onTransportState(which: 'publisher' | 'subscriber', s: TransportState): void {
    this.host.log('info', { sid: this.sid, transport: which, state: s }, 'transport state');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sub.close();
    this.pub.close();
    this.data.close();
    this.publisher?.close();
  }
}
