// The receiving half of a participant: the tracks it publishes (producers), bound to the tracks
// the room knows; SSRCs learned from the mid/rid/repaired-rid header extensions (simulcast);
// RTX turned back into the original packets; its sender reports translated for each consumer
// (lip sync survives our rewriting); and the feedback we send it: NACKs every 20 ms, receiver
// reports and a bandwidth estimate (REMB) every second, PLIs when someone needs a keyframe.
import { parseRtcp, rtpSsrc, readStringExtension, readRtx, writeNack, writePli, writeReceiverReport, writeRemb, writeSenderReport } from '@switchboard/rtp';
import type { ReportBlock, RtcpPacket } from '@switchboard/rtp';
import type { WebRtcTransport } from '@switchboard/webrtc';
import type { Consumer } from './consumer.js';
import type { OfferedTrack } from './negotiation.js';
import { InboundLayer, Producer } from './producer.js';

/** What the publishing side needs from its participant and room. */
export interface PublisherHost {
  readonly sid: string;
  /** The publisher connection (null until the client offered). */
  transport(): WebRtcTransport | null;
  /** The client-side id (cid) and track sid the room knows for a publisher's m-section. */
  claimTrack(streamId: string, kind: 'audio' | 'video'): { trackSid: string; cid: string } | undefined;
  producerReady(producer: Producer): void;
  producerClosed(producer: Producer): void;
  /** Who receives a producer (for translating its sender reports). */
  consumersOf(producer: Producer): readonly Consumer[];
}

interface SsrcEntry {
  producer: Producer;
  layer: InboundLayer;
  rtx: boolean;
}

const rtcpOut = new Uint8Array(1500);
const NACK_SEQS = new Int32Array(256);

export class PublisherSide {
  readonly producers = new Map<string, Producer>(); // by mid
  private readonly bySsrc = new Map<number, SsrcEntry>();
  private pendingTracks: OfferedTrack[] = [];
  private readonly rtxScratch = new Uint8Array(2048);
  /** Last RTT to the publisher from its RRs' LSR/DLSR, ms. */
  rttMs = 50;

  constructor(private readonly host: PublisherHost) {}

  /** The tracks of a (re)negotiated publisher offer: m-sections that stopped sending close their producers, new ones wait for their tracks. */
  applyOffer(tracks: OfferedTrack[]): void {
    const sending = new Set(tracks.map((t) => t.mid));
    for (const [mid, producer] of this.producers) {
      if (!sending.has(mid)) this.closeProducer(producer);
    }
    this.pendingTracks = tracks.filter((t) => !this.producers.has(t.mid));
    this.bindPending();
  }

  /** Binds negotiated m-sections to tracks the room knows (publishTrack may come before or after the offer). */
  bindPending(): void {
    const still: OfferedTrack[] = [];
    for (const t of this.pendingTracks) {
      const claim = this.host.claimTrack(t.streamId, t.kind);
      if (claim === undefined) {
        still.push(t);
        continue;
      }
      const producer = new Producer(claim.trackSid, this.host.sid, t.mid, claim.cid, t.codec, t.extensions, t.rids, {
        sendPli: (ssrc) => this.sendPli(ssrc),
      });
      this.producers.set(t.mid, producer);
      if (t.ssrc !== 0) this.bySsrc.set(t.ssrc, { producer, layer: producer.layers[0], rtx: false });
      if (t.rtxSsrc !== 0) this.bySsrc.set(t.rtxSsrc, { producer, layer: producer.layers[0], rtx: true });
      producer.layers[0].ssrc = t.ssrc;
      producer.layers[0].rtxSsrc = t.rtxSsrc;
      this.host.producerReady(producer);
    }
    this.pendingTracks = still;
  }

  closeProducer(producer: Producer): void {
    if (this.producers.get(producer.mid) !== producer) return;
    this.producers.delete(producer.mid);
    for (const [ssrc, e] of this.bySsrc) if (e.producer === producer) this.bySsrc.delete(ssrc);
    producer.close();
    this.host.producerClosed(producer);
  }

  producerById(id: string): Producer | undefined {
    for (const p of this.producers.values()) if (p.id === id) return p;
    return undefined;
  }

  onRtp(buf: Uint8Array, off: number, len: number): void {
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

  onRtcp(buf: Uint8Array, off: number, len: number): void {
    const packets = tryParseRtcp(buf, off, len);
    const now = Date.now();
    for (const p of packets) {
      if (p.type !== 'sr') continue;
      const e = this.bySsrc.get(p.ssrc);
      if (e === undefined || e.rtx) continue;
      e.layer.stats.lastSrNtpMiddle = ((p.ntpSec & 0xffff) * 65536 + (p.ntpFrac >>> 16)) >>> 0;
      e.layer.stats.lastSrAtMs = now;
      // Translate the publisher's SR for each consumer on this layer (lip sync survives rewriting).
      for (const c of this.host.consumersOf(e.producer)) {
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

  private sendPli(ssrc: number): void {
    const t = this.host.transport();
    if (t === null) return;
    const n = writePli(rtcpOut, 0, 1, ssrc);
    t.send(rtcpOut, 0, n);
  }

  /** Every ~20 ms: NACKs for what is missing from the publisher. */
  tickNack(nowMs: number): void {
    const t = this.host.transport();
    if (t === null || t.state !== 'connected') return;
    for (const producer of this.producers.values()) {
      for (const layer of producer.layers) {
        if (layer.nack === null || layer.nack.pending === 0 || layer.ssrc === 0) continue;
        const n = layer.nack.due(nowMs, this.rttMs);
        if (n === 0) continue;
        for (let i = 0; i < n; i++) NACK_SEQS[i] = layer.nack.out[i];
        const len = writeNack(rtcpOut, 0, 1, layer.ssrc, NACK_SEQS, n);
        t.send(rtcpOut, 0, len);
      }
    }
  }

  /** Every second: receiver reports and a bandwidth estimate (REMB) to the publisher. */
  tickReports(nowMs: number, maxIncomingBps: number): void {
    const t = this.host.transport();
    if (t === null || t.state !== 'connected') return;
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
    t.send(rtcpOut, 0, n);
  }

  close(): void {
    for (const p of [...this.producers.values()]) this.closeProducer(p);
    this.pendingTracks = [];
  }
}

/** A compound RTCP packet's parts; malformed ones (authenticated, so a buggy peer) are ignored. */
export function tryParseRtcp(buf: Uint8Array, off: number, len: number): RtcpPacket[] {
  try {
    return parseRtcp(buf, off, len);
  } catch {
    return [];
  }
}
