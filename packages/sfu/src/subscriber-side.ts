// The sending half of a participant: one consumer per track it receives, one m-section each on
// its subscriber connection, which we renegotiate one offer at a time; and the feedback its
// client sends about them (NACK, PLI/FIR, REMB, receiver reports).
import type { UdpMux, WebRtcTransport } from '@switchboard/webrtc';
import { Consumer } from './consumer.js';
import { buildSubscriberOffer, readSubscriberAnswer, subscriberMaps } from './negotiation.js';
import type { LocalIceInfo, SubscriberSlot } from './negotiation.js';
import type { Producer } from './producer.js';
import { tryParseRtcp } from './publisher-side.js';
import type { TransportState } from '@switchboard/webrtc';

/** What the subscribing side needs from its participant and room. */
export interface SubscriberHost {
  readonly sid: string;
  readonly mux: UdpMux;
  localInfo(t: WebRtcTransport): LocalIceInfo;
  /** Our offer for the subscriber connection, to the client. */
  sendOffer(sdp: string): void;
  /** The room's Router: who receives what. */
  addConsumer(producer: Producer, consumer: Consumer): void;
  removeConsumer(consumer: Consumer): void;
  onTransportState(which: 'subscriber', s: TransportState): void;
}

/** While the connection from the first answer comes up, a re-offer waits at most this long. */
const SETTLE_HOLD_MS = 3000;

export class SubscriberSide {
  transport: WebRtcTransport | null = null;
  readonly consumers = new Map<string, Consumer>(); // by producer id
  private readonly consumerBySsrc = new Map<number, Consumer>();
  private readonly slots: SubscriberSlot[] = [];
  private offerVersion = 1;
  private offering = false;
  private needsOffer = false;
  private answered = false;
  private holdTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** The subscriber's available bandwidth from REMB (bps), 0 = unknown. */
  bps = 0;
  lossFraction = 0;

  constructor(private readonly host: SubscriberHost) {}

  private ensureTransport(): WebRtcTransport {
    if (this.transport === null) {
      this.transport = this.host.mux.createTransport({
        onRtp: () => {},
        onRtcp: (b, o, l) => this.onRtcp(b, o, l),
        onState: (s) => {
          this.host.onTransportState('subscriber', s);
          if (s === 'connected' && this.needsOffer) this.renegotiate();
        },
      });
    }
    return this.transport;
  }

  /** Starts forwarding a producer to this participant (and renegotiates, unless told not to yet). */
  subscribe(producer: Producer, nowMs: number, negotiate = true): Consumer | undefined {
    if (this.closed || this.consumers.has(producer.id) || producer.closed) return this.consumers.get(producer.id);
    const t = this.ensureTransport();
    const mid = String(this.slots.length);
    const maps = subscriberMaps(producer.codec, producer.extensions);
    const ssrc = randomSsrc();
    const rtxSsrc = producer.kind === 'video' ? randomSsrc() : 0;
    const consumer = new Consumer(
      `${this.host.sid}:${producer.id}`,
      producer,
      this.host.sid,
      {
        ssrc,
        rtxSsrc,
        payloadTypes: maps.payloadTypes,
        rtxPayloadType: maps.rtxPayloadType,
        extensionIds: maps.extensionIds,
        absSendTimeId: maps.absSendTimeId,
        sourceAbsSendTimeId: producer.extensions.absSendTime,
      },
      t,
      mid,
    );
    this.consumers.set(producer.id, consumer);
    this.consumerBySsrc.set(ssrc, consumer);
    if (rtxSsrc !== 0) this.consumerBySsrc.set(rtxSsrc, consumer);
    this.slots.push({
      mid,
      kind: producer.kind,
      track: { codec: producer.codec, ssrc, rtxSsrc, streamId: producer.cid, trackId: producer.id, cname: `sb-${producer.participantSid}`, red: maps.red },
    });
    // media flows once the subscriber has answered and DTLS is up; until then beginSend fails
    this.host.addConsumer(producer, consumer);
    producer.requestKeyframe(consumer.targetLayer, nowMs);
    if (negotiate) this.renegotiate();
    return consumer;
  }

  unsubscribe(producerId: string): void {
    const c = this.consumers.get(producerId);
    if (c === undefined) return;
    this.dropConsumer(c);
    const slot = this.slots.find((s) => s.mid === c.mid);
    if (slot !== undefined) slot.track = undefined;
    this.renegotiate();
  }

  private dropConsumer(c: Consumer): void {
    this.consumers.delete(c.producer.id);
    for (const [ssrc, x] of this.consumerBySsrc) if (x === c) this.consumerBySsrc.delete(ssrc);
    this.host.removeConsumer(c);
    c.close();
  }

  /**
   * Sends a new subscriber offer, or remembers to: while one is unanswered, and while the
   * connection from the first answer is still coming up (a re-offer in the middle of the
   * DTLS handshake made some clients (libdatachannel) never finish it). A timer sends it
   * anyway if the connection takes long.
   */
  renegotiate(): void {
    if (this.closed || this.transport === null) return;
    const settling = this.answered && this.transport.state !== 'connected';
    if (this.offering || settling) {
      this.needsOffer = true;
      if (settling && this.holdTimer === null) {
        this.holdTimer = setTimeout(() => {
          this.holdTimer = null;
          if (this.needsOffer && !this.offering) this.sendOffer();
        }, SETTLE_HOLD_MS);
        this.holdTimer.unref();
      }
      return;
    }
    this.sendOffer();
  }

  private sendOffer(): void {
    if (this.closed || this.transport === null) return;
    if (this.holdTimer !== null) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    this.offering = true;
    this.needsOffer = false;
    this.host.sendOffer(buildSubscriberOffer(this.slots, this.host.localInfo(this.transport), ++this.offerVersion));
  }

  handleAnswer(sdp: string): void {
    if (this.transport === null || !this.offering) return;
    const { remote } = readSubscriberAnswer(sdp);
    this.transport.setRemoteParameters({ ufrag: remote.ufrag, fingerprint: remote.fingerprint, setup: remote.setup });
    this.offering = false;
    this.answered = true;
    const now = Date.now();
    for (const c of this.consumers.values()) c.producer.requestKeyframe(c.targetLayer, now);
    if (this.needsOffer) this.renegotiate();
  }

  private onRtcp(buf: Uint8Array, off: number, len: number): void {
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
          this.bps = p.bitrate;
          break;
        case 'rr':
        case 'sr':
          for (const r of p.reports) {
            if (this.consumerBySsrc.has(r.ssrc)) this.lossFraction = r.fractionLost / 256;
          }
          break;
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.holdTimer !== null) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    for (const c of [...this.consumers.values()]) this.dropConsumer(c);
    this.transport?.close();
  }
}

function randomSsrc(): number {
  return (Math.floor(Math.random() * 0xfffffff0) + 1) >>> 0;
}
