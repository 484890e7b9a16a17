// A published track as the SFU receives it: one inbound stream per simulcast layer (one for
// audio and non-simulcast video), each with reception stats, and for video a packet cache
// (for subscribers' NACKs) and a NACK generator (for what we lost from the publisher).
// Every packet goes to the PacketSink the room's Router gave it; nothing is decoded.
import {
  av1IsKeyframe,
  h264IsKeyframe,
  readAudioLevel,
  rtpHeaderLength,
  rtpPayloadLength,
  rtpSeq,
  rtpTimestamp,
  vp8IsKeyframe,
  vp9IsKeyframe,
} from '@switchboard/rtp';
import { NackGenerator } from './nack-generator.js';
import { PacketCache } from './packet-cache.js';
import { ReceiveStats } from './receive-stats.js';

export type MediaKind = 'audio' | 'video';

/** The codec a producer sends, with the publisher's payload types. */
export interface ProducerCodec {
  kind: MediaKind;
  /** Lower-case: opus, vp8, vp9, h264, av1. */
  name: string;
  payloadType: number;
  clockRate: number;
  channels?: number;
  fmtp?: string;
  rtcpFb: { type: string; parameter?: string }[];
  /** The publisher's RTX payload type, or -1. */
  rtxPayloadType: number;
  /** Audio: the publisher's RED payload type, or -1. */
  redPayloadType: number;
}

/** Extension ids as the publisher negotiated them (-1 when absent). */
export interface ProducerExtensions {
  mid: number;
  rid: number;
  repairedRid: number;
  audioLevel: number;
  absSendTime: number;
  transportCc: number;
  /** Every negotiated id with its URI, for rewriting toward subscribers. */
  all: { id: number; uri: string }[];
}

/** Where a producer's packets go (the room's Router fans them out to consumers and taps). Buffers are valid only during the call. */
export interface PacketSink {
  forward(buf: Uint8Array, off: number, len: number, layer: number, keyframe: boolean, nowMs: number): void;
}

/** What a producer needs from the participant that publishes it. */
export interface ProducerOwner {
  /** Sends a PLI for the publisher's SSRC. */
  sendPli(ssrc: number): void;
}

export class InboundLayer {
  ssrc = 0;
  rtxSsrc = 0;
  readonly stats: ReceiveStats;
  readonly cache: PacketCache | null;
  readonly nack: NackGenerator | null;
  lastKeyframeMs = 0;
  lastPliMs = -Infinity;
  lastPacketMs = 0;
  /** Last known bitrate while the layer was active (kept when it pauses). */
  lastBps = 0;

  constructor(
    readonly index: number,
    readonly rid: string | undefined,
    kind: MediaKind,
    clockRate: number,
  ) {
    this.stats = new ReceiveStats(clockRate);
    this.cache = kind === 'video' ? new PacketCache() : null;
    this.nack = kind === 'video' ? new NackGenerator() : null;
  }

  active(nowMs: number): boolean {
    return this.lastPacketMs > 0 && nowMs - this.lastPacketMs < 1500;
  }
}

const KEYFRAME_REQUEST_INTERVAL_MS = 500;

export class Producer {
  readonly layers: InboundLayer[];
  /** Set by the Router while the producer is routed. */
  sink: PacketSink | null = null;
  /** Smoothed audio level, 0 (silence) .. 1 (loud). */
  level = 0;
  private levelSum = 0;
  private levelCount = 0;
  closed = false;
  /** Layers the publisher was asked to send (all, at first). */
  readonly layerEnabled: boolean[];

  constructor(
    readonly id: string,
    readonly participantSid: string,
    readonly mid: string,
    readonly cid: string,
    readonly codec: ProducerCodec,
    readonly extensions: ProducerExtensions,
    rids: string[],
    private readonly owner: ProducerOwner,
  ) {
    const n = Math.max(1, rids.length);
    this.layers = [];
    for (let i = 0; i < n; i++) this.layers.push(new InboundLayer(i, rids[i], codec.kind, codec.clockRate));
    this.layerEnabled = this.layers.map(() => true);
  }

  get kind(): MediaKind {
    return this.codec.kind;
  }

  get simulcast(): boolean {
    return this.layers.length > 1;
  }

  layerBySsrc(ssrc: number): InboundLayer | undefined {
    for (const l of this.layers) if (l.ssrc === ssrc) return l;
    return undefined;
  }

  /** An RTP packet of `layer` (already decrypted, original or repaired from RTX). */
  receive(buf: Uint8Array, off: number, len: number, layer: InboundLayer, nowMs: number): void {
    const hl = rtpHeaderLength(buf, off, len);
    const pl = rtpPayloadLength(buf, off, len);
    if (hl < 0 || pl < 0) return;
    const seq = rtpSeq(buf, off);
    layer.stats.onPacket(seq, rtpTimestamp(buf, off), len, nowMs);
    layer.lastPacketMs = nowMs;
    if (pl === 0) return; // padding only (bandwidth probing): nothing to forward
    let keyframe = true;
    if (this.codec.kind === 'video') {
      layer.nack!.received(seq, nowMs);
      layer.cache!.store(buf, off, len, seq, nowMs);
      keyframe = this.isKeyframe(buf, off + hl, pl);
      if (keyframe) layer.lastKeyframeMs = nowMs;
    } else if (this.extensions.audioLevel >= 0) {
      const v = readAudioLevel(buf, off, len, this.extensions.audioLevel);
      if (v >= 0) {
        // dBov 0 (loud) .. 127 (silence) -> 0..1 on a log-ish scale
        const dbov = v & 0x7f;
        this.levelSum += dbov >= 127 ? 0 : Math.pow(10, -dbov / 20);
        this.levelCount++;
      }
    }
    if (this.sink !== null) this.sink.forward(buf, off, len, layer.index, keyframe, nowMs);
  }

  private isKeyframe(buf: Uint8Array, payloadOff: number, payloadLen: number): boolean {
    switch (this.codec.name) {
      case 'vp8':
        return vp8IsKeyframe(buf, payloadOff, payloadLen);
      case 'vp9':
        return vp9IsKeyframe(buf, payloadOff, payloadLen);
      case 'h264':
        return h264IsKeyframe(buf, payloadOff, payloadLen);
      case 'av1':
        return av1IsKeyframe(buf, payloadOff, payloadLen);
      default:
        return false;
    }
  }

  /** Asks the publisher for a keyframe on a layer, at most every 500 ms. */
  requestKeyframe(layerIndex: number, nowMs: number): void {
    if (this.codec.kind !== 'video') return;
    const layer = this.layers[layerIndex];
    if (layer === undefined || layer.ssrc === 0) return;
    if (nowMs - layer.lastPliMs < KEYFRAME_REQUEST_INTERVAL_MS) return;
    layer.lastPliMs = nowMs;
    this.owner.sendPli(layer.ssrc);
  }

  /** The audio level averaged since the last call, 0..1. */
  takeLevel(): number {
    const avg = this.levelCount === 0 ? 0 : this.levelSum / this.levelCount;
    this.levelSum = 0;
    this.levelCount = 0;
    this.level = this.level * 0.5 + avg * 0.5;
    return this.level;
  }

  /** Receives nothing more; the Router, which owns its consumers, closes them. */
  close(): void {
    this.closed = true;
    this.sink = null;
  }
}
