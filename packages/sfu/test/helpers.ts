// Test helpers for the SFU forwarding core: RTP packets built byte by byte (independently of
// the code under test), a MediaSender double that records what a consumer sends, producers and
// consumers wired to them, and "recorded" packet sequences of a simulcast VP8 publisher.
import { Consumer } from '../src/consumer.js';
import type { ConsumerParameters, MediaSender } from '../src/consumer.js';
import { Producer } from '../src/producer.js';
import type { ProducerCodec, ProducerExtensions } from '../src/producer.js';
import { EXT } from '../src/codecs.js';
import { Router } from '../src/router.js';

// ---------------------------------------------------------------------------------------------
// Packet building

export interface ExtElem {
  id: number;
  data: number[];
}

export interface RtpSpec {
  marker?: boolean;
  pt: number;
  seq: number;
  ts: number;
  ssrc: number;
  /** One-byte (0xBEDE) header extension elements. */
  ext?: ExtElem[];
  payload: number[];
  /** Padding bytes (count includes the last byte); sets the P bit. */
  padding?: number;
}

function be32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

export function buildRtp(s: RtpSpec): Uint8Array {
  const bytes: number[] = [];
  const hasExt = s.ext !== undefined && s.ext.length > 0;
  bytes.push(0x80 | (s.padding ? 0x20 : 0) | (hasExt ? 0x10 : 0));
  bytes.push((s.marker ? 0x80 : 0) | (s.pt & 0x7f));
  bytes.push((s.seq >> 8) & 0xff, s.seq & 0xff);
  bytes.push(...be32(s.ts >>> 0), ...be32(s.ssrc >>> 0));
  if (hasExt) {
    const data: number[] = [];
    for (const el of s.ext!) data.push((el.id << 4) | (el.data.length - 1), ...el.data);
    while (data.length % 4) data.push(0);
    bytes.push(0xbe, 0xde, (data.length / 4) >> 8, (data.length / 4) & 0xff, ...data);
  }
  bytes.push(...s.payload);
  if (s.padding) {
    for (let i = 0; i < s.padding - 1; i++) bytes.push(0);
    bytes.push(s.padding);
  }
  return Uint8Array.from(bytes);
}

const utf8 = (s: string): number[] => [...new TextEncoder().encode(s)];

/** One-byte extension elements. */
export const extMid = (id: number, mid: string): ExtElem => ({ id, data: utf8(mid) });
export const extRid = (id: number, rid: string): ExtElem => ({ id, data: utf8(rid) });
/** RFC 6464: V bit and level (0..127 -dBov). */
export const extAudioLevel = (id: number, level: number, vad = true): ExtElem => ({ id, data: [(vad ? 0x80 : 0) | (level & 0x7f)] });
export const extAbsSendTime = (id: number, v24: number): ExtElem => ({ id, data: [(v24 >> 16) & 0xff, (v24 >> 8) & 0xff, v24 & 0xff] });

export interface Vp8Spec {
  /** 15-bit picture id (M=1), or undefined for none. */
  pictureId?: number;
  /** TL0PICIDX, or undefined for none. */
  tl0PicIdx?: number;
  /** Temporal layer id (with Y=0), or undefined for none. */
  tid?: number;
  /** Start of a VP8 partition (S bit). */
  start: boolean;
  /** Keyframe: P bit 0 in the VP8 payload header (only meaningful with start). */
  keyframe: boolean;
  /** Bytes of VP8 data after the descriptor (at least 3). */
  size?: number;
  /** Fill byte for the VP8 data, to tell packets apart. */
  fill?: number;
}

/** RFC 7741 §4.2 payload descriptor + §4.3 payload header (frame tag) + data. */
export function vp8Payload(v: Vp8Spec): number[] {
  const out: number[] = [];
  const hasPid = v.pictureId !== undefined;
  const hasTl0 = v.tl0PicIdx !== undefined;
  const hasTid = v.tid !== undefined;
  const x = hasPid || hasTl0 || hasTid;
  out.push((x ? 0x80 : 0) | (v.start ? 0x10 : 0)); // X R N S R PID(3)=0
  if (x) {
    out.push((hasPid ? 0x80 : 0) | (hasTl0 ? 0x40 : 0) | (hasTid ? 0x20 : 0));
    if (hasPid) out.push(0x80 | ((v.pictureId! >> 8) & 0x7f), v.pictureId! & 0xff);
    if (hasTl0) out.push(v.tl0PicIdx! & 0xff);
    if (hasTid) out.push((v.tid! & 3) << 6);
  }
  const size = Math.max(3, v.size ?? 20);
  const fill = v.fill ?? 0xaa;
  if (v.start) {
    // frame tag: size0(3) show_frame(1) version(3) P(1); P = 0 for a keyframe
    out.push((v.keyframe ? 0x00 : 0x01) | 0x10, 0x02, 0x00);
    if (v.keyframe) out.push(0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01); // start code, 640x480
    const rest = size - (v.keyframe ? 10 : 3);
    for (let i = 0; i < rest; i++) out.push(fill);
  } else {
    for (let i = 0; i < size; i++) out.push(fill);
  }
  return out;
}

/** An Opus payload: TOC byte (config 31 = CELT FB 20 ms, mono, 1 frame) + data. */
export function opusPayload(size = 40, fill = 0x55): number[] {
  const out = [0xf8];
  for (let i = 1; i < size; i++) out.push(fill);
  return out;
}

// ---------------------------------------------------------------------------------------------
// MediaSender double

export interface SentPacket {
  bytes: Uint8Array;
  /** beginSend/commitSend (true) or send (false). */
  viaCommit: boolean;
}

/** A MediaSender that copies out every packet sent. */
export class FakeSender implements MediaSender {
  readonly sendData = new Uint8Array(64 * 1024);
  readonly sent: SentPacket[] = [];
  /** When false, beginSend fails (-1) and send returns false: the transport is not up. */
  up = true;
  private at = -1;
  private readonly base: number;

  constructor(base = 100) {
    // a non-zero offset so that code ignoring the returned offset is caught
    this.base = base;
  }

  beginSend(src: Uint8Array, off: number, len: number): number {
    if (!this.up) return -1;
    if (this.at >= 0) throw new Error('beginSend twice without commitSend');
    this.sendData.set(src.subarray(off, off + len), this.base);
    this.sendData.fill(0xee, this.base + len, this.base + len + 16); // junk after the copy
    this.at = this.base;
    return this.base;
  }

  commitSend(len: number): void {
    if (this.at < 0) throw new Error('commitSend without beginSend');
    this.sent.push({ bytes: this.sendData.slice(this.at, this.at + len), viaCommit: true });
    this.at = -1;
  }

  send(src: Uint8Array, off: number, len: number): boolean {
    if (!this.up) return false;
    this.sent.push({ bytes: src.slice(off, off + len), viaCommit: false });
    return true;
  }

  clear(): void {
    this.sent.length = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Producers and consumers

/** Publisher-side numbers (as Chromium negotiates them). */
export const PUB = {
  vp8Pt: 96,
  vp8RtxPt: 97,
  opusPt: 111,
  redPt: 63,
  ext: { audioLevel: 1, absSendTime: 2, mid: 4, rid: 10, repairedRid: 11 },
} as const;

/** Subscriber-side numbers (the SFU's canonical ones, see codecs.ts), chosen apart from the publisher's. */
export const SUB = {
  ssrc: 0x5ab5ab01,
  rtxSsrc: 0x5ab5ab02,
  vp8Pt: 100,
  rtxPt: 101,
  opusPt: 109,
} as const;

export function vp8Codec(): ProducerCodec {
  return {
    kind: 'video',
    name: 'vp8',
    payloadType: PUB.vp8Pt,
    clockRate: 90000,
    rtcpFb: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
    rtxPayloadType: PUB.vp8RtxPt,
    redPayloadType: -1,
  };
}

export function opusCodec(): ProducerCodec {
  return {
    kind: 'audio',
    name: 'opus',
    payloadType: PUB.opusPt,
    clockRate: 48000,
    channels: 2,
    fmtp: 'minptime=10;useinbandfec=1',
    rtcpFb: [],
    rtxPayloadType: -1,
    redPayloadType: -1,
  };
}

export function videoExtensions(): ProducerExtensions {
  const e = PUB.ext;
  return {
    mid: e.mid,
    rid: e.rid,
    repairedRid: e.repairedRid,
    audioLevel: -1,
    absSendTime: -1,
    transportCc: -1,
    all: [
      { id: e.mid, uri: EXT.mid },
      { id: e.rid, uri: EXT.rid },
      { id: e.repairedRid, uri: EXT.repairedRid },
    ],
  };
}

export function audioExtensions(ids: { audioLevel: number; absSendTime?: number; mid?: number } = { audioLevel: PUB.ext.audioLevel }): ProducerExtensions {
  const all: { id: number; uri: string }[] = [{ id: ids.audioLevel, uri: EXT.audioLevel }];
  if (ids.absSendTime !== undefined) all.push({ id: ids.absSendTime, uri: EXT.absSendTime });
  if (ids.mid !== undefined) all.push({ id: ids.mid, uri: EXT.mid });
  return { mid: ids.mid ?? -1, rid: -1, repairedRid: -1, audioLevel: ids.audioLevel, absSendTime: ids.absSendTime ?? -1, transportCc: -1, all };
}

/** Records the PLIs a producer asks its owner to send. */
export class FakeOwner {
  readonly plis: { ssrc: number }[] = [];
  sendPli(ssrc: number): void {
    this.plis.push({ ssrc });
  }
  clear(): void {
    this.plis.length = 0;
  }
}

export const LAYER_SSRCS = [0x1000_0001, 0x2000_0002, 0x3000_0003] as const;
export const RIDS = ['q', 'h', 'f'] as const;

export function makeVideoProducer(layers = 3): { producer: Producer; owner: FakeOwner } {
  const owner = new FakeOwner();
  const rids = layers > 1 ? RIDS.slice(0, layers).map(String) : [];
  const producer = new Producer('TR_video', 'PA_pub', '1', 'cid-video', vp8Codec(), videoExtensions(), rids, owner);
  producer.layers.forEach((l, i) => {
    l.ssrc = LAYER_SSRCS[i];
    l.rtxSsrc = LAYER_SSRCS[i] + 0x100;
  });
  return { producer, owner };
}

export function makeAudioProducer(ext = audioExtensions()): { producer: Producer; owner: FakeOwner } {
  const owner = new FakeOwner();
  const producer = new Producer('TR_audio', 'PA_pub', '0', 'cid-audio', opusCodec(), ext, [], owner);
  producer.layers[0].ssrc = 0x0a0d_1001;
  return { producer, owner };
}

export interface ParamOptions {
  rtx?: boolean;
  extensionIds?: Record<number, number>;
  absSendTimeId?: number;
}

export function consumerParams(kind: 'audio' | 'video', o: ParamOptions = {}): ConsumerParameters {
  const payloadTypes = new Int16Array(128).fill(-1);
  if (kind === 'video') payloadTypes[PUB.vp8Pt] = SUB.vp8Pt;
  else payloadTypes[PUB.opusPt] = SUB.opusPt;
  const extensionIds = new Uint8Array(256);
  for (const [from, to] of Object.entries(o.extensionIds ?? {})) extensionIds[Number(from)] = to;
  const rtx = kind === 'video' && (o.rtx ?? true);
  return {
    ssrc: SUB.ssrc,
    rtxSsrc: rtx ? SUB.rtxSsrc : 0,
    payloadTypes,
    rtxPayloadType: rtx ? SUB.rtxPt : -1,
    extensionIds,
    absSendTimeId: o.absSendTimeId ?? -1,
    sourceAbsSendTimeId: -1,
  };
}

const routers = new WeakMap<Producer, Router>();

/** The Router a test producer's consumers are wired through (as a room's would be). */
export function routerOf(producer: Producer): Router {
  let r = routers.get(producer);
  if (r === undefined) {
    r = new Router();
    r.addProducer(producer);
    routers.set(producer, r);
  }
  return r;
}

export function makeConsumer(producer: Producer, o: ParamOptions = {}): { consumer: Consumer; sender: FakeSender } {
  const sender = new FakeSender();
  const consumer = new Consumer('PA_sub:' + producer.id, producer, 'PA_sub', consumerParams(producer.kind, o), sender, '0');
  routerOf(producer).addConsumer(producer, consumer);
  return { consumer, sender };
}

// ---------------------------------------------------------------------------------------------
// Recorded sequences

/** One packet as the publisher sent it, with what the test knows about it. */
export interface RecordedPacket {
  layer: number;
  bytes: Uint8Array;
  /** Arrival time at the SFU. */
  atMs: number;
  seq: number;
  ts: number;
  pictureId: number;
  tl0PicIdx: number;
  /** Frame number (shared by all layers: the same captured picture). */
  frame: number;
  /** First packet of a keyframe (the one the SFU detects). */
  keyframe: boolean;
  /** First packet of its frame. */
  frameStart: boolean;
  marker: boolean;
}

export interface SimulcastOptions {
  frames: number;
  /** Time of frame 0. */
  startMs?: number;
  fps?: number;
  /** A keyframe every N frames, per layer (offset per layer so they do not coincide), or explicit lists. */
  keyframeEvery?: number;
  keyframeFrames?: number[][];
  /** Packets per frame per layer. */
  packetsPerFrame?: number[];
  /** Initial sequence number / timestamp / picture id / tl0 per layer. */
  seq0?: number[];
  ts0?: number[];
  pid0?: number[];
  tl00?: number[];
  layers?: number;
  ext?: boolean;
}

/**
 * A simulcast VP8 publisher: 3 layers with their own SSRCs and independent sequence numbers,
 * timestamps (90 kHz), picture ids and TL0PICIDX; 30 fps; a keyframe every N frames (each
 * layer at its own phase). Packets are interleaved frame by frame as a browser sends them.
 */
export function recordSimulcast(o: SimulcastOptions): RecordedPacket[] {
  const layers = o.layers ?? 3;
  const fps = o.fps ?? 30;
  const startMs = o.startMs ?? 1_000_000;
  const every = o.keyframeEvery ?? 30;
  const ppf = o.packetsPerFrame ?? [1, 2, 3];
  const seq0 = o.seq0 ?? [1000, 20000, 40000];
  const ts0 = o.ts0 ?? [3_000_000, 1_500_000_000, 4_000_000_000];
  const pid0 = o.pid0 ?? [100, 9000, 30000];
  const tl00 = o.tl00 ?? [10, 100, 250];
  const ext = o.ext ?? true;
  const seq = seq0.slice();
  const pid = pid0.slice();
  const tl0 = tl00.slice();
  const out: RecordedPacket[] = [];
  for (let f = 0; f < o.frames; f++) {
    const frameMs = startMs + (f * 1000) / fps;
    for (let l = 0; l < layers; l++) {
      const key = o.keyframeFrames !== undefined ? o.keyframeFrames[l].includes(f) : (f + l * 7) % every === 0;
      const ts = (ts0[l] + Math.round((f * 90000) / fps)) >>> 0;
      const n = ppf[l] ?? 1;
      for (let k = 0; k < n; k++) {
        const s = seq[l];
        seq[l] = (seq[l] + 1) & 0xffff;
        const marker = k === n - 1;
        const elems: ExtElem[] = ext ? [extMid(PUB.ext.mid, '1'), extRid(PUB.ext.rid, RIDS[l])] : [];
        const bytes = buildRtp({
          pt: PUB.vp8Pt,
          seq: s,
          ts,
          ssrc: LAYER_SSRCS[l],
          marker,
          ext: elems,
          payload: vp8Payload({ pictureId: pid[l], tl0PicIdx: tl0[l], tid: 0, start: k === 0, keyframe: key, size: 30 + k, fill: (f * 7 + l * 3 + k) & 0xff }),
        });
        out.push({
          layer: l,
          bytes,
          atMs: frameMs + l * 0.5 + k * 0.1,
          seq: s,
          ts,
          pictureId: pid[l],
          tl0PicIdx: tl0[l],
          frame: f,
          keyframe: key && k === 0,
          frameStart: k === 0,
          marker,
        });
      }
      pid[l] = (pid[l] + 1) & 0x7fff;
      tl0[l] = (tl0[l] + 1) & 0xff; // every frame is on TL0 here
    }
  }
  return out;
}

/** Delivers recorded packets to a producer (each through its layer), in the given order. */
export function play(producer: Producer, packets: readonly RecordedPacket[], before?: (p: RecordedPacket, i: number) => void): void {
  packets.forEach((p, i) => {
    before?.(p, i);
    // a fresh copy each time, as a receive buffer would be; at an offset
    const buf = new Uint8Array(p.bytes.length + 32);
    buf.set(p.bytes, 16);
    producer.receive(buf, 16, p.bytes.length, producer.layers[p.layer], p.atMs);
  });
}

// ---------------------------------------------------------------------------------------------
// Reading what was sent

export function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}
export function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}
export const seqOf = (b: Uint8Array): number => u16(b, 2);
export const tsOf = (b: Uint8Array): number => u32(b, 4);
export const ssrcOf = (b: Uint8Array): number => u32(b, 8);
export const ptOf = (b: Uint8Array): number => b[1] & 0x7f;
export const markerOf = (b: Uint8Array): boolean => (b[1] & 0x80) !== 0;

export function headerLength(b: Uint8Array): number {
  let h = 12 + 4 * (b[0] & 0x0f);
  if (b[0] & 0x10) h += 4 + 4 * u16(b, h + 2);
  return h;
}

/** One-byte extension elements of a packet, in order (padding skipped). */
export function extensionsOf(b: Uint8Array): ExtElem[] {
  if ((b[0] & 0x10) === 0) return [];
  const h0 = 12 + 4 * (b[0] & 0x0f);
  if (u16(b, h0) !== 0xbede) throw new Error('not a one-byte extension block');
  const end = h0 + 4 + 4 * u16(b, h0 + 2);
  const out: ExtElem[] = [];
  let p = h0 + 4;
  while (p < end) {
    if (b[p] === 0) {
      p++;
      continue;
    }
    const id = b[p] >> 4;
    const l = (b[p] & 0x0f) + 1;
    out.push({ id, data: [...b.subarray(p + 1, p + 1 + l)] });
    p += 1 + l;
  }
  return out;
}

/** VP8 picture id (15-bit form) and TL0PICIDX as written by vp8Payload. */
export function vp8Ids(b: Uint8Array): { pictureId: number; tl0PicIdx: number; start: boolean; keyframe: boolean } {
  const p = headerLength(b);
  const x = b[p + 1];
  let q = p + 2;
  let pictureId = -1;
  if (x & 0x80) {
    pictureId = ((b[q] & 0x7f) << 8) | b[q + 1];
    q += 2;
  }
  let tl0PicIdx = -1;
  if (x & 0x40) tl0PicIdx = b[q++];
  if (x & 0x20) q++;
  const start = (b[p] & 0x10) !== 0;
  return { pictureId, tl0PicIdx, start, keyframe: start && (b[q] & 1) === 0 };
}

/** The packet bytes after the RTP header (payload incl. descriptor). */
export function payloadOf(b: Uint8Array): Uint8Array {
  return b.subarray(headerLength(b));
}

export const seqDiff = (a: number, b: number): number => ((a - b + 0x8000) & 0xffff) - 0x8000;
export const tsDiff = (a: number, b: number): number => ((a - b) | 0);
