// The receiving side of an association: which TSNs arrived (the cumulative TSN and the ones
// above it, for SACK gap blocks and duplicate reports), fragments reassembled into messages,
// ordered delivery per stream by stream sequence number, FORWARD-TSN skipping what the peer
// abandoned (RFC 3758), and the SACK chunk itself (RFC 9260 §6.2, §3.3.4).
import { concat, decodeForwardTsn, encodeSack, ssnAdd, ssnGe, ssnGt, tsnAdd, tsnDiff, tsnLe } from './wire.js';
import type { DataChunk, RawChunk, SackChunk } from './wire.js';
import { LOCAL_RWND, MAX_DUPS, MAX_GAP_BLOCKS } from './constants.js';

interface InStream {
  expected: number;
  ready: Map<number, { ppid: number; data: Uint8Array }>;
}

export class Reassembly {
  /** The highest TSN up to which everything arrived. */
  cumTsn = 0;
  /** A SACK should go out with the next packet. */
  sackRequested = false;
  packetsSinceSack = 0;
  private readonly above = new Set<number>();
  private readonly fragments = new Map<number, DataChunk>();
  private readonly streams = new Map<number, InStream>();
  private dups: number[] = [];
  private buffered = 0;

  constructor(
    /** Reassembled messages larger than this are dropped (0 = no limit). */
    private readonly maxMessageSize: number,
    /** A whole message, in order for ordered streams. */
    private readonly deliver: (sid: number, ppid: number, data: Uint8Array) => void,
  ) {}

  /** The peer's initial TSN (from its INIT or INIT-ACK). */
  start(peerInitialTsn: number): void {
    this.cumTsn = tsnAdd(peerInitialTsn, -1);
  }

  /** Whether TSNs above the cumulative one arrived (a SACK with gap blocks is due). */
  get hasGaps(): boolean {
    return this.above.size > 0;
  }

  data(d: DataChunk): void {
    if (d.immediate) this.sackRequested = true;
    const off = tsnDiff(d.tsn, this.cumTsn);
    if (off === 0 || off >= 0x80000000 || this.above.has(d.tsn)) {
      if (this.dups.length < MAX_DUPS) this.dups.push(d.tsn);
      this.sackRequested = true;
      return;
    }
    if (off > 0xffff || d.data.length === 0) return; // beyond any window we could report / no user data
    if (off !== 1 && this.buffered + d.data.length > LOCAL_RWND) {
      this.sackRequested = true; // out of window: drop it, the peer will retransmit
      return;
    }
    if (off === 1) {
      this.cumTsn = d.tsn;
      this.advanceCum();
    } else {
      this.above.add(d.tsn);
    }
    const data = d.data.slice();
    if (d.beginning && d.ending) {
      this.complete(d.sid, d.ssn, d.ppid, d.unordered, data);
    } else {
      this.fragments.set(d.tsn, { ...d, data });
      this.buffered += data.length;
      this.tryAssemble(d.tsn);
    }
  }

  private advanceCum(): void {
    for (;;) {
      const next = tsnAdd(this.cumTsn, 1);
      if (!this.above.delete(next)) break;
      this.cumTsn = next;
    }
  }

  private tryAssemble(tsn: number): void {
    const c0 = this.fragments.get(tsn)!;
    const same = (p: DataChunk): boolean => p.sid === c0.sid && p.unordered === c0.unordered && (p.unordered || p.ssn === c0.ssn);
    let start = tsn;
    let cur = c0;
    while (!cur.beginning) {
      const prev = this.fragments.get(tsnAdd(start, -1));
      if (!prev || prev.ending || !same(prev)) return;
      start = tsnAdd(start, -1);
      cur = prev;
    }
    const parts = [cur];
    let t = start;
    while (!cur.ending) {
      const next = this.fragments.get(tsnAdd(t, 1));
      if (!next || next.beginning || !same(next)) return;
      t = tsnAdd(t, 1);
      parts.push(next);
      cur = next;
    }
    let size = 0;
    for (const p of parts) {
      this.fragments.delete(p.tsn);
      this.buffered -= p.data.length;
      size += p.data.length;
    }
    if (size > this.maxMessageSize && this.maxMessageSize > 0) return; // larger than we advertised: drop
    this.complete(c0.sid, parts[0].ssn, parts[0].ppid, c0.unordered, concat(parts.map((p) => p.data)));
  }

  private stream(sid: number): InStream {
    let s = this.streams.get(sid);
    if (!s) {
      s = { expected: 0, ready: new Map() };
      this.streams.set(sid, s);
    }
    return s;
  }

  private complete(sid: number, ssn: number, ppid: number, unordered: boolean, data: Uint8Array): void {
    if (unordered) {
      this.deliver(sid, ppid, data);
      return;
    }
    const s = this.stream(sid);
    if (ssnGt(s.expected, ssn)) return; // already delivered or skipped
    if (ssn !== s.expected) {
      if (!s.ready.has(ssn)) {
        s.ready.set(ssn, { ppid, data });
        this.buffered += data.length;
      }
      return;
    }
    this.deliver(sid, ppid, data);
    s.expected = ssnAdd(s.expected, 1);
    this.drainReady(sid, s);
  }

  private drainReady(sid: number, s: InStream): void {
    for (;;) {
      const m = s.ready.get(s.expected);
      if (!m) return;
      s.ready.delete(s.expected);
      this.buffered -= m.data.length;
      s.expected = ssnAdd(s.expected, 1);
      this.deliver(sid, m.ppid, m.data);
    }
  }

  /** FORWARD-TSN: the peer abandoned everything up to newCumTsn; skip it and deliver what it unblocks. */
  forwardTsn(c: RawChunk): void {
    const f = decodeForwardTsn(c);
    this.sackRequested = true;
    if (tsnLe(f.newCumTsn, this.cumTsn)) return;
    if (tsnDiff(f.newCumTsn, this.cumTsn) > 0x7fffffff) return;
    this.cumTsn = f.newCumTsn;
    for (const t of this.above) if (tsnLe(t, this.cumTsn)) this.above.delete(t);
    this.advanceCum();
    for (const [t, frag] of this.fragments) {
      if (tsnLe(t, this.cumTsn)) {
        this.fragments.delete(t);
        this.buffered -= frag.data.length;
      }
    }
    for (const { sid, ssn } of f.streams) {
      const s = this.stream(sid);
      if (!ssnGe(ssn, s.expected)) continue;
      for (const [k, m] of s.ready) {
        if (ssnGe(ssn, k)) {
          s.ready.delete(k);
          this.buffered -= m.data.length;
        }
      }
      s.expected = ssnAdd(ssn, 1);
      this.drainReady(sid, s);
    }
  }

  /** A SACK for what arrived; resets the duplicate list and the SACK request. */
  buildSack(): Uint8Array {
    const offs = [...this.above].map((t) => tsnDiff(t, this.cumTsn)).sort((a, b) => a - b);
    const gaps: [number, number][] = [];
    for (const o of offs) {
      const last = gaps[gaps.length - 1];
      if (last && o === last[1] + 1) last[1] = o;
      else if (gaps.length < MAX_GAP_BLOCKS) gaps.push([o, o]);
      else break;
    }
    const sack: SackChunk = { cumTsn: this.cumTsn, arwnd: Math.max(0, LOCAL_RWND - this.buffered), gaps, dups: this.dups };
    this.dups = [];
    this.packetsSinceSack = 0;
    this.sackRequested = false;
    return encodeSack(sack);
  }

  /** A reset incoming stream starts its sequence numbers again. */
  resetStream(sid: number): void {
    this.streams.delete(sid);
  }

  /** Drops everything held (teardown). */
  clear(): void {
    this.fragments.clear();
    this.streams.clear();
  }
}
