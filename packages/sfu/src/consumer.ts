// A producer's track as one subscriber receives it: its own SSRC (and RTX SSRC), payload
// types and header extension ids from the subscriber's negotiation, sequence numbers and
// timestamps rewritten so layer switches and pauses are seamless, a simulcast layer chosen
// for it, and NACKs answered from the producer's packet cache (as RTX when negotiated).
import {
  readVp8Descriptor,
  rtpPayloadType,
  rtpSeq,
  rtpTimestamp,
  rtpHeaderLength,
  remapHeaderExtensionIds,
  setRtpPayloadType,
  setRtpSeq,
  setRtpSsrc,
  setRtpTimestamp,
  writeAbsSendTime,
  writeRtx,
  writeVp8PictureId,
  writeVp8Tl0PicIdx,
} from '@switchboard/rtp';
import type { Vp8Descriptor } from '@switchboard/rtp';
import type { PacketCache } from './packet-cache.js';
import { SeqTsRewriter, Vp8Rewriter } from './rewriter.js';

/**
 * The track a consumer forwards, as the consumer sees it: its codec, the packet cache of each
 * layer (NACK answers), and where keyframe requests go. A Producer is one; the consumer never
 * registers itself with it (the room's Router owns who receives what).
 */
export interface ConsumerSource {
  readonly id: string;
  readonly kind: 'audio' | 'video';
  readonly codec: { readonly name: string; readonly clockRate: number };
  readonly layers: readonly { readonly cache: PacketCache | null }[];
  /** Asks the publisher for a keyframe on a layer (rate-limited by the source). */
  requestKeyframe(layerIndex: number, nowMs: number): void;
}

/** Where a consumer's packets go: the subscriber's transport (or a test double). */
export interface MediaSender {
  /** The buffer beginSend copies into. */
  readonly sendData: Uint8Array;
  /** Copies a packet into sendData; returns its offset, or -1 when it cannot send. */
  beginSend(src: Uint8Array, off: number, len: number): number;
  commitSend(len: number): void;
  send(src: Uint8Array, off: number, len: number): boolean;
}

export interface ConsumerParameters {
  ssrc: number;
  rtxSsrc: number;
  /** Publisher payload type -> subscriber payload type (index by PT, -1 = drop). */
  payloadTypes: Int16Array;
  rtxPayloadType: number;
  /** Publisher extension id -> subscriber id (0 = leave as is). Index 0..255. */
  extensionIds: Uint8Array;
  /** The subscriber's abs-send-time id (stamped with our send time), or -1. */
  absSendTimeId: number;
  /** The abs-send-time id in the publisher's packets, or -1. */
  sourceAbsSendTimeId: number;
}

const SENT_RING = 1024;
/** A NACK makes at most this many retransmissions (a bigger one is an attack or a reset). */
const MAX_RESENDS_PER_NACK = 64;
const RESEND_GAP_MS = 50;
const vp8 = (): Vp8Descriptor => ({ pictureId: -1, pictureIdBits: 0, tl0PicIdx: -1, tid: -1, layerSync: false, keyIdx: -1, headerLength: 0 });
const scratch = new Uint8Array(2048);

export class Consumer {
  readonly rewriter: SeqTsRewriter;
  private readonly vp8Rewriter = new Vp8Rewriter();
  private readonly desc = vp8();
  /** Layer being forwarded (-1: none yet / after a pause). */
  currentLayer = -1;
  /** Layer wanted (set by the allocator). */
  targetLayer = 0;
  /** Highest layer the subscriber's display size needs. */
  maxLayerBySize = 2;
  /** Paused by the subscriber (unsubscribed, disabled) or because the producer is muted. */
  paused = false;
  closed = false;
  packetsSent = 0;
  bytesSent = 0;
  retransmits = 0;
  nacksReceived = 0;
  plisReceived = 0;
  layerSwitches = 0;
  /** For RTX: our own RTX sequence numbers. */
  private rtxSeq = Math.floor(Math.random() * 0x10000);
  // What was sent under each outgoing sequence number (for NACKs): layer, source seq, out ts, vp8 ids.
  private readonly sentOutSeq = new Int32Array(SENT_RING).fill(-1);
  private readonly sentInSeq = new Int32Array(SENT_RING);
  private readonly sentLayer = new Int8Array(SENT_RING);
  private readonly sentTs = new Float64Array(SENT_RING);
  private readonly sentPid = new Int32Array(SENT_RING);
  private readonly sentTl0 = new Int32Array(SENT_RING);
  /** When each ring entry was last retransmitted (a NACK storm resends a packet at most every RESEND_GAP_MS). */
  private readonly resentAt = new Float64Array(SENT_RING);
  /** Whether any extension id needs rewriting (usually not: Chromium's ids are ours). */
  private readonly remapExtensions: boolean;
  /** The source sequence number the current layer was anchored on: older packets of it are dropped. */
  private anchorInSeq = 0;

  constructor(
    readonly id: string,
    readonly producer: ConsumerSource,
    readonly subscriberSid: string,
    readonly params: ConsumerParameters,
    public sender: MediaSender,
    readonly mid: string,
  ) {
    this.rewriter = new SeqTsRewriter(producer.codec.clockRate);
    this.remapExtensions = params.extensionIds.some((x) => x !== 0);
    this.maxLayerBySize = producer.layers.length - 1;
    this.targetLayer = producer.layers.length - 1;
  }

  get kind(): 'audio' | 'video' {
    return this.producer.kind;
  }

  /** A packet from the producer's layer `layer`; forwards it if this consumer wants it. */
  forward(buf: Uint8Array, off: number, len: number, layer: number, keyframe: boolean, nowMs: number): void {
    if (this.paused || this.closed) return;
    const inSeq = rtpSeq(buf, off);
    const inTs = rtpTimestamp(buf, off);
    const isVp8 = this.producer.codec.name === 'vp8';
    if (layer !== this.currentLayer) {
      if (layer !== this.targetLayer) return;
      if (!keyframe) {
        this.producer.requestKeyframe(layer, nowMs);
        return;
      }
      if (this.currentLayer >= 0) this.layerSwitches++;
      this.currentLayer = layer;
      this.anchorInSeq = inSeq;
      this.rewriter.anchor(inSeq, inTs, nowMs);
      if (isVp8) this.anchorVp8(buf, off, len);
    } else if ((((inSeq - this.anchorInSeq) << 16) >> 16) < 0) {
      // older than the packet we re-anchored on: its number was used before the switch
      return;
    }
    const o = this.sender.beginSend(buf, off, len);
    if (o < 0) return;
    const d = this.sender.sendData;
    const outSeq = this.rewriter.seq(inSeq);
    const outTs = this.rewriter.ts(inTs);
    this.rewriteHeader(d, o, len, outSeq, outTs, nowMs);
    let pid = -1;
    let tl0 = -1;
    if (isVp8) {
      const hl = rtpHeaderLength(d, o, len);
      if (hl > 0 && readVp8Descriptor(d, o + hl, len - hl, this.desc)) {
        if (this.desc.pictureIdBits > 0) {
          pid = this.vp8Rewriter.pid(this.desc.pictureId, this.desc.pictureIdBits);
          writeVp8PictureId(d, o + hl, pid);
        }
        if (this.desc.tl0PicIdx >= 0) {
          tl0 = this.vp8Rewriter.tl0(this.desc.tl0PicIdx);
          writeVp8Tl0PicIdx(d, o + hl, tl0);
        }
      }
    }
    this.sender.commitSend(len);
    this.packetsSent++;
    this.bytesSent += len;
    this.rewriter.sent(outSeq, outTs, nowMs);
    const r = outSeq & (SENT_RING - 1);
    this.sentOutSeq[r] = outSeq;
    this.resentAt[r] = 0;
    this.sentInSeq[r] = inSeq;
    this.sentLayer[r] = layer;
    this.sentTs[r] = outTs;
    this.sentPid[r] = pid;
    this.sentTl0[r] = tl0;
  }

  private anchorVp8(buf: Uint8Array, off: number, len: number): void {
    const hl = rtpHeaderLength(buf, off, len);
    if (hl > 0 && readVp8Descriptor(buf, off + hl, len - hl, this.desc)) {
      this.vp8Rewriter.anchor(this.desc.pictureIdBits > 0 ? this.desc.pictureId : -1, this.desc.tl0PicIdx, this.desc.pictureIdBits);
    }
  }

  private rewriteHeader(d: Uint8Array, o: number, len: number, outSeq: number, outTs: number, nowMs: number): void {
    const p = this.params;
    setRtpSsrc(d, o, p.ssrc);
    setRtpSeq(d, o, outSeq);
    setRtpTimestamp(d, o, outTs);
    const pt = p.payloadTypes[rtpPayloadType(d, o)];
    if (pt >= 0) setRtpPayloadType(d, o, pt);
    if ((d[o] & 0x10) !== 0) {
      if (this.remapExtensions) remapHeaderExtensionIds(d, o, len, p.extensionIds);
      if (p.absSendTimeId >= 0) writeAbsSendTime(d, o, len, p.absSendTimeId, absSendTime(nowMs));
    }
  }

  /** A NACK from the subscriber for our sequence numbers: resend what the cache still holds. */
  onNack(seqs: readonly number[], nowMs: number): void {
    this.nacksReceived++;
    const cache = this.producer.layers;
    let budget = MAX_RESENDS_PER_NACK;
    for (const outSeq of seqs) {
      const r = outSeq & (SENT_RING - 1);
      if (this.sentOutSeq[r] !== outSeq) continue;
      if (nowMs - this.resentAt[r] < RESEND_GAP_MS) continue;
      const layer = cache[this.sentLayer[r]];
      if (layer === undefined || layer.cache === null) continue;
      const at = layer.cache.find(this.sentInSeq[r], nowMs);
      if (at < 0) continue;
      const len = layer.cache.lengthAt(at);
      if (budget-- <= 0) break;
      this.resentAt[r] = nowMs;
      this.resend(layer.cache.data, at, len, outSeq, this.sentTs[r], this.sentPid[r], this.sentTl0[r], nowMs);
    }
  }

  private resend(src: Uint8Array, at: number, len: number, outSeq: number, outTs: number, pid: number, tl0: number, nowMs: number): void {
    // Rebuild the packet as it was sent, in scratch, then send it (as RTX when negotiated).
    scratch.set(src.subarray(at, at + len), 0);
    this.rewriteHeader(scratch, 0, len, outSeq, outTs, nowMs);
    if (this.producer.codec.name === 'vp8' && (pid >= 0 || tl0 >= 0)) {
      const hl = rtpHeaderLength(scratch, 0, len);
      if (hl > 0 && readVp8Descriptor(scratch, hl, len - hl, this.desc)) {
        if (pid >= 0) writeVp8PictureId(scratch, hl, pid);
        if (tl0 >= 0) writeVp8Tl0PicIdx(scratch, hl, tl0);
      }
    }
    this.retransmits++;
    if (this.params.rtxPayloadType >= 0 && this.params.rtxSsrc !== 0) {
      this.rtxSeq = (this.rtxSeq + 1) & 0xffff;
      const o = this.sender.beginSend(scratch, 0, len + 2);
      if (o < 0) return;
      const n = writeRtx(scratch, 0, len, this.sender.sendData, o, this.params.rtxPayloadType, this.params.rtxSsrc, this.rtxSeq);
      this.sender.commitSend(n);
    } else {
      this.sender.send(scratch, 0, len);
    }
  }

  /** A PLI or FIR from the subscriber. */
  onKeyframeRequest(nowMs: number): void {
    this.plisReceived++;
    this.producer.requestKeyframe(this.currentLayer >= 0 ? this.currentLayer : this.targetLayer, nowMs);
  }

  setTargetLayer(layer: number, nowMs: number): void {
    const max = this.producer.layers.length - 1;
    const l = Math.max(0, Math.min(max, layer));
    if (l === this.targetLayer) return;
    this.targetLayer = l;
    if (l !== this.currentLayer && !this.paused) this.producer.requestKeyframe(l, nowMs);
  }

  setPaused(paused: boolean, nowMs: number): void {
    if (paused === this.paused) return;
    this.paused = paused;
    if (!paused) {
      // resume on the next keyframe, continuing our sequence numbers
      this.currentLayer = -1;
      this.producer.requestKeyframe(this.targetLayer, nowMs);
    }
  }

  /** For the SR we send on this stream: our RTP timestamp for a source timestamp of the current layer. */
  outTimestamp(inTs: number): number {
    return this.rewriter.ts(inTs);
  }

  /** Stops forwarding for good; whoever owns the consumer also takes it out of the Router. */
  close(): void {
    this.closed = true;
  }
}

/** abs-send-time: seconds in 6.18 fixed point, 24 bits. */
function absSendTime(nowMs: number): number {
  return Math.floor((nowMs * 262.144)) & 0xffffff;
}
