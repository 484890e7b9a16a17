// The sending side of an association: messages split into DATA chunks with TSNs and stream
// sequence numbers, the congestion window (RFC 9260 §7.2: slow start, congestion avoidance,
// fast retransmit and recovery), SACK processing, the retransmission timer T3 and its RTO
// (§6.3), and partial reliability (RFC 3758: abandoning by retransmit count or lifetime, then
// FORWARD-TSN).
import { DATA_HEADER_LENGTH, encodeData, encodeForwardTsn, ssnAdd, ssnGt, tsnAdd, tsnDiff, tsnGe, tsnGt, tsnLe, tsnLt } from './wire.js';
import type { DataChunk, SackChunk } from './wire.js';
import { LOCAL_RWND, MAX_ASSOC_RETRANS, MAX_PAYLOAD, MTU, RTO_INITIAL, RTO_MAX, RTO_MIN } from './constants.js';
import type { AssociationStats, Timers } from './constants.js';

/** Who a message's unacknowledged bytes count against (its channel's bufferedAmount). */
export interface BufferedOwner {
  _buffered: number;
}

interface OutMessage {
  channel: BufferedOwner | null;
  maxRetransmits: number | null;
  expiry: number | null;
  abandoned: boolean;
  userBytes: number;
  unreleased: number;
  chunks: OutChunk[];
}

interface OutChunk extends DataChunk {
  msg: OutMessage;
  sentCount: number;
  sentAt: number;
  inFlight: boolean;
  acked: boolean;
  abandoned: boolean;
  retransmit: boolean;
  missReports: number;
  released: boolean;
}

export class Outbound {
  /** The next TSN to assign. */
  nextTsn: number;
  /** The peer's cumulative TSN ack. */
  lastCumAck: number;
  rto = RTO_INITIAL;
  peerArwnd = LOCAL_RWND;
  /** The peer supports FORWARD-TSN (so partial reliability applies). */
  peerForwardTsn = false;
  private queue: OutChunk[] = [];
  private advancedPeerAckPoint: number;
  private flightSize = 0;
  private cwnd = Math.min(4 * MTU, Math.max(2 * MTU, 4380));
  private ssthresh = LOCAL_RWND;
  private partialBytesAcked = 0;
  private fastRecovery = false;
  private fastRecoveryExit = 0;
  private fastRtxPending = false;
  private peerRwnd = LOCAL_RWND;
  private srtt: number | null = null;
  private rttvar = 0;
  private errorCount = 0;
  private fwdTsnDue = false;
  private readonly outSsn = new Map<number, number>();

  constructor(
    initialTsn: number,
    private readonly timers: Timers,
    private readonly stats: AssociationStats,
  ) {
    this.nextTsn = initialTsn;
    this.lastCumAck = tsnAdd(initialTsn, -1);
    this.advancedPeerAckPoint = this.lastCumAck;
  }

  /** The peer's INIT or INIT-ACK: its window and whether it does FORWARD-TSN. */
  adoptPeer(arwnd: number, forwardTsn: boolean): void {
    this.peerArwnd = arwnd;
    this.peerRwnd = arwnd;
    this.ssthresh = Math.max(arwnd, 4 * MTU);
    this.peerForwardTsn = forwardTsn;
  }

  get empty(): boolean {
    return this.queue.length === 0;
  }

  /** Streams with chunks still queued (a stream is reset only once they are gone). */
  busyStreams(): Set<number> {
    const busy = new Set<number>();
    for (const c of this.queue) busy.add(c.sid);
    return busy;
  }

  /** A reset outgoing stream starts its sequence numbers again. */
  resetStream(sid: number): void {
    this.outSsn.delete(sid);
  }

  /** Splits a message into chunks and queues them; `channel`'s bufferedAmount grows by userBytes. */
  queueMessage(
    channel: BufferedOwner | null,
    sid: number,
    ppid: number,
    data: Uint8Array,
    ordered: boolean,
    maxRetransmits: number | null,
    lifetime: number | null,
    userBytes = 0,
  ): void {
    const pr = this.peerForwardTsn;
    const msg: OutMessage = {
      channel,
      maxRetransmits: pr ? maxRetransmits : null,
      expiry: pr && lifetime !== null ? this.timers.now() + lifetime : null,
      abandoned: false,
      userBytes,
      unreleased: 0,
      chunks: [],
    };
    let ssn = 0;
    if (ordered) {
      ssn = this.outSsn.get(sid) ?? 0;
      this.outSsn.set(sid, ssnAdd(ssn, 1));
    }
    for (let off = 0; off < data.length; off += MAX_PAYLOAD) {
      const end = Math.min(data.length, off + MAX_PAYLOAD);
      const c: OutChunk = {
        tsn: this.nextTsn,
        sid,
        ssn,
        ppid,
        unordered: !ordered,
        beginning: off === 0,
        ending: end === data.length,
        immediate: false,
        data: data.subarray(off, end),
        msg,
        sentCount: 0,
        sentAt: 0,
        inFlight: false,
        acked: false,
        abandoned: false,
        retransmit: false,
        missReports: 0,
        released: false,
      };
      this.nextTsn = tsnAdd(this.nextTsn, 1);
      msg.chunks.push(c);
      this.queue.push(c);
    }
    msg.unreleased = msg.chunks.length;
    if (channel) channel._buffered += userBytes;
  }

  private release(c: OutChunk): void {
    if (c.released) return;
    c.released = true;
    if (--c.msg.unreleased === 0 && c.msg.channel) {
      c.msg.channel._buffered = Math.max(0, c.msg.channel._buffered - c.msg.userBytes);
    }
  }

  private takeOutOfFlight(c: OutChunk): void {
    if (c.inFlight) {
      c.inFlight = false;
      this.flightSize = Math.max(0, this.flightSize - c.data.length);
    }
  }

  private shouldAbandon(c: OutChunk, now: number): boolean {
    const m = c.msg;
    if (m.abandoned) return true;
    if ((m.maxRetransmits !== null && c.sentCount > m.maxRetransmits) || (m.expiry !== null && now >= m.expiry)) {
      m.abandoned = true;
      for (const x of m.chunks) {
        if (x.acked) continue;
        x.abandoned = true;
        x.retransmit = false;
        this.takeOutOfFlight(x);
        this.release(x);
      }
      this.updateAdvancedPeerAckPoint();
      return true;
    }
    return false;
  }

  private updateAdvancedPeerAckPoint(): void {
    let ap = tsnLt(this.advancedPeerAckPoint, this.lastCumAck) ? this.lastCumAck : this.advancedPeerAckPoint;
    for (const c of this.queue) {
      if (tsnLe(c.tsn, ap)) continue;
      if (c.tsn === tsnAdd(ap, 1) && c.abandoned) ap = c.tsn;
      else break;
    }
    if (tsnGt(ap, this.advancedPeerAckPoint)) {
      this.advancedPeerAckPoint = ap;
      if (tsnGt(ap, this.lastCumAck)) this.fwdTsnDue = true;
    }
  }

  /** A FORWARD-TSN chunk, if one is due (abandoned chunks past the cumulative ack); arms T3 for it. */
  takeForwardTsn(): Uint8Array | null {
    const due = this.fwdTsnDue && tsnGt(this.advancedPeerAckPoint, this.lastCumAck);
    this.fwdTsnDue = false;
    if (!due) return null;
    const streams = new Map<number, number>();
    for (const c of this.queue) {
      if (tsnGt(c.tsn, this.advancedPeerAckPoint)) break;
      if (c.unordered || !c.abandoned) continue;
      const prev = streams.get(c.sid);
      if (prev === undefined || ssnGt(c.ssn, prev)) streams.set(c.sid, c.ssn);
    }
    if (!this.timers.isSet('t3')) this.timers.set('t3', this.rto);
    return encodeForwardTsn({ newCumTsn: this.advancedPeerAckPoint, streams: [...streams].map(([sid, ssn]) => ({ sid, ssn })) });
  }

  /** Forgets that a FORWARD-TSN was due (nothing may be sent now). */
  dropForwardTsn(): void {
    this.fwdTsnDue = false;
  }

  hasOutstanding(): boolean {
    if (tsnGt(this.advancedPeerAckPoint, this.lastCumAck)) return true;
    for (const c of this.queue) if (c.sentCount > 0 && !c.acked && !c.abandoned) return true;
    return false;
  }

  /** A SACK (or the cumulative ack a SHUTDOWN carries). */
  handleSack(s: SackChunk): void {
    const cumAck = s.cumTsn;
    if (tsnLt(cumAck, this.lastCumAck)) return; // stale
    if (tsnGe(cumAck, this.nextTsn)) return; // acks something never sent
    const now = this.timers.now();
    const cumAdvanced = tsnGt(cumAck, this.lastCumAck);
    let bytesAcked = 0;
    let rtt: number | null = null;
    let highestNewlyAcked: number | null = null;
    const flightBefore = this.flightSize;
    let n = 0;
    while (n < this.queue.length && tsnLe(this.queue[n].tsn, cumAck)) {
      const c = this.queue[n++];
      if (!c.acked && !c.abandoned) {
        bytesAcked += c.data.length;
        if (c.sentCount === 1 && rtt === null) rtt = now - c.sentAt;
        highestNewlyAcked = c.tsn;
      }
      this.takeOutOfFlight(c);
      c.acked = true;
      c.retransmit = false;
      this.release(c);
    }
    if (n > 0) this.queue = this.queue.slice(n);
    this.lastCumAck = cumAck;
    if (tsnLt(this.advancedPeerAckPoint, cumAck)) this.advancedPeerAckPoint = cumAck;

    // Gap ack blocks.
    let highestGap: number | null = null;
    if (s.gaps.length) {
      for (const c of this.queue) {
        const off = tsnDiff(c.tsn, cumAck);
        let inGap = false;
        for (const [a, b] of s.gaps) {
          if (off >= a && off <= b) {
            inGap = true;
            break;
          }
        }
        if (inGap) {
          highestGap = c.tsn;
          if (!c.acked && !c.abandoned) {
            bytesAcked += c.data.length;
            c.acked = true;
            c.retransmit = false;
            this.takeOutOfFlight(c);
            this.release(c);
            highestNewlyAcked = c.tsn;
          }
        }
      }
    }

    // Missing reports -> fast retransmit (RFC 9260 §7.2.4).
    let fastRtx = false;
    if (highestNewlyAcked !== null && highestGap !== null) {
      for (const c of this.queue) {
        if (!tsnLt(c.tsn, highestNewlyAcked)) break;
        if (c.acked || c.abandoned || c.retransmit || c.sentCount === 0) continue;
        if (++c.missReports >= 3) {
          c.retransmit = true;
          c.missReports = 0;
          this.takeOutOfFlight(c);
          fastRtx = true;
        }
      }
    }
    if (fastRtx) {
      this.fastRtxPending = true;
      if (!this.fastRecovery) {
        this.fastRecovery = true;
        this.fastRecoveryExit = tsnAdd(this.nextTsn, -1);
        this.ssthresh = Math.max(Math.floor(this.cwnd / 2), 4 * MTU);
        this.cwnd = this.ssthresh;
        this.partialBytesAcked = 0;
      }
    }

    // Congestion window (RFC 9260 §7.2.1-7.2.2).
    if (this.fastRecovery && tsnGe(cumAck, this.fastRecoveryExit)) this.fastRecovery = false;
    if (cumAdvanced && !this.fastRecovery && bytesAcked > 0) {
      if (this.cwnd <= this.ssthresh) {
        if (flightBefore >= this.cwnd - MTU) this.cwnd += Math.min(bytesAcked, MTU);
      } else {
        this.partialBytesAcked += bytesAcked;
        if (this.partialBytesAcked >= this.cwnd && flightBefore >= this.cwnd - MTU) {
          this.partialBytesAcked -= this.cwnd;
          this.cwnd += MTU;
        }
      }
    }
    this.peerArwnd = s.arwnd;
    this.peerRwnd = Math.max(0, s.arwnd - this.flightSize);

    if (rtt !== null && rtt >= 0) this.updateRto(rtt);
    if (cumAdvanced) this.errorCount = 0;

    // Partial reliability: abandon what policy says, then advance the peer ack point.
    if (this.peerForwardTsn) {
      for (const c of this.queue) if (c.retransmit && !c.abandoned) this.shouldAbandon(c, now);
      this.updateAdvancedPeerAckPoint();
      if (tsnGt(this.advancedPeerAckPoint, cumAck) && cumAdvanced) this.fwdTsnDue = true;
    }

    if (this.hasOutstanding()) {
      if (cumAdvanced || !this.timers.isSet('t3')) this.timers.set('t3', this.rto);
    } else {
      this.timers.clear('t3');
    }
  }

  private updateRto(r: number): void {
    if (this.srtt === null) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rto = Math.min(RTO_MAX, Math.max(RTO_MIN, this.srtt + 4 * this.rttvar));
  }

  /** T3 expired: everything outstanding is marked for retransmission. 'failed' when the association has retransmitted too often. */
  onT3(): 'failed' | void {
    if (!this.hasOutstanding()) return;
    if (++this.errorCount > MAX_ASSOC_RETRANS) return 'failed';
    this.rto = Math.min(this.rto * 2, RTO_MAX);
    this.ssthresh = Math.max(Math.floor(this.cwnd / 2), 4 * MTU);
    this.cwnd = MTU;
    this.partialBytesAcked = 0;
    this.fastRecovery = false;
    const now = this.timers.now();
    for (const c of this.queue) {
      if (c.sentCount === 0 || c.acked || c.abandoned) continue;
      if (this.peerForwardTsn && this.shouldAbandon(c, now)) continue;
      c.retransmit = true;
      this.takeOutOfFlight(c);
    }
    this.flightSize = 0;
    for (const c of this.queue) c.inFlight = false;
    if (tsnGt(this.advancedPeerAckPoint, this.lastCumAck)) this.fwdTsnDue = true;
    this.timers.set('t3', this.rto);
  }

  /** Appends the DATA chunks the windows allow: retransmissions first, then new chunks. */
  collectData(out: Uint8Array[]): void {
    const now = this.timers.now();
    let overCwnd = this.fastRtxPending ? MTU : 0;
    this.fastRtxPending = false;
    let sent = false;
    for (const c of this.queue) {
      if (!c.retransmit || c.acked || c.abandoned) continue;
      if (this.peerForwardTsn && this.shouldAbandon(c, now)) continue;
      if (overCwnd > 0) overCwnd -= c.data.length + DATA_HEADER_LENGTH;
      else if (this.flightSize >= this.cwnd) break;
      this.transmitChunk(c, now, out);
      this.stats.retransmissions++;
      sent = true;
    }
    for (const c of this.queue) {
      if (c.sentCount > 0 || c.abandoned || c.acked) continue;
      if (this.peerForwardTsn && this.shouldAbandon(c, now)) continue;
      if (this.flightSize >= this.cwnd) break;
      if (this.flightSize > 0 && this.peerRwnd < c.data.length) break;
      this.transmitChunk(c, now, out);
      sent = true;
    }
    if (sent && !this.timers.isSet('t3')) this.timers.set('t3', this.rto);
  }

  private transmitChunk(c: OutChunk, now: number, out: Uint8Array[]): void {
    c.sentCount++;
    c.retransmit = false;
    c.missReports = 0;
    c.sentAt = now;
    if (!c.inFlight) {
      c.inFlight = true;
      this.flightSize += c.data.length;
    }
    this.peerRwnd = Math.max(0, this.peerRwnd - c.data.length);
    out.push(encodeData(c));
  }

  /** Drops everything queued (teardown). */
  clear(): void {
    this.queue = [];
  }
}
