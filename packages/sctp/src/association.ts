// A sans-IO SCTP association (RFC 9260 subset) with partial reliability (RFC 3758), stream
// reset (RFC 6525) and WebRTC data channels (RFC 8831, DCEP RFC 8832).
//
// Packets go in through receive() and out through opts.send(); every timer is a deadline on
// opts.now(), fired by handleTimeout() - either from our own unref'd setTimeout ('auto') or by
// the caller ('manual', see nextTimeout()).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SctpError } from './errors.js';
import {
  COMMON_HEADER_LENGTH,
  ChunkType,
  DATA_HEADER_LENGTH,
  ParamType,
  ReconfigResult,
  concat,
  decodeData,
  decodeForwardTsn,
  decodeIncomingReset,
  decodeInit,
  decodeOutgoingReset,
  decodePacket,
  decodeParams,
  decodeReconfigResponse,
  decodeSack,
  encodeCause,
  encodeChunk,
  encodeData,
  encodeForwardTsn,
  encodeInit,
  encodeOutgoingReset,
  encodePacket,
  encodeReconfigResponse,
  encodeSack,
  ssnAdd,
  ssnGe,
  ssnGt,
  tsnAdd,
  tsnDiff,
  tsnGe,
  tsnGt,
  tsnLe,
  tsnLt,
  verifyChecksum,
} from './wire.js';
import type { DataChunk, InitChunk, Packet, RawChunk, SackChunk } from './wire.js';

// ---- constants ----
/** Whole SCTP packet budget (fits one DTLS record over a 1280-byte IPv6 path). */
export const MTU = 1200;
/** At most this much of an unrecognized chunk is echoed back in an ERROR chunk. */
const UNRECOGNIZED_REPORT_MAX = 256;

/** The leading items whose total length stays within max bytes. */
function capTotal(items: Uint8Array[], max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let total = 0;
  for (const it of items) {
    if (total + it.length > max) break;
    out.push(it);
    total += it.length;
  }
  return out;
}
const MAX_PAYLOAD = MTU - COMMON_HEADER_LENGTH - DATA_HEADER_LENGTH;
const RTO_INITIAL = 1000;
const RTO_MIN = 200;
const RTO_MAX = 10_000;
const MAX_INIT_RETRANS = 8;
const MAX_ASSOC_RETRANS = 10;
const LOCAL_RWND = 1 << 20;
const SACK_DELAY = 200;
const COOKIE_LIFETIME = 60_000;
const MAX_STREAMS = 65535;
const MAX_GAP_BLOCKS = 64;
const MAX_DUPS = 16;
const COOKIE_BODY = 34;
const COOKIE_LENGTH = COOKIE_BODY + 32;

export const PPID = {
  DCEP: 50,
  STRING: 51,
  BINARY_PARTIAL: 52,
  BINARY: 53,
  STRING_PARTIAL: 54,
  STRING_EMPTY: 56,
  BINARY_EMPTY: 57,
} as const;

const DCEP_OPEN = 0x03;
const DCEP_ACK = 0x02;

export type AssociationState = 'closed' | 'cookie-wait' | 'cookie-echoed' | 'established' | 'shutdown' | 'failed';
export type DataChannelState = 'connecting' | 'open' | 'closing' | 'closed';

export interface AssociationOptions {
  /** DTLS role: DCEP stream ids are even for the DTLS client, odd for the server (RFC 8832 §6). */
  role: 'client' | 'server';
  localPort?: number;
  remotePort?: number;
  /** What we put in a=max-message-size (default 262144). Larger incoming messages are dropped. */
  maxMessageSize?: number;
  /** The peer's a=max-message-size (default 65536, RFC 8841 §6.1 when absent; 0 = unlimited). */
  remoteMaxMessageSize?: number;
  send(packet: Uint8Array): void;
  now?(): number;
  /** 'auto' (default): our own unref'd setTimeout calls handleTimeout(); 'manual': you do. */
  timers?: 'auto' | 'manual';
}

export interface DataChannelOptions {
  ordered?: boolean;
  maxRetransmits?: number;
  maxPacketLifeTime?: number;
  protocol?: string;
  negotiated?: boolean;
  id?: number;
  priority?: number;
}

export interface AssociationStats {
  messagesSent: number;
  messagesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  retransmissions: number;
}

interface OutMessage {
  channel: DataChannel | null;
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

interface InStream {
  expected: number;
  ready: Map<number, { ppid: number; data: Uint8Array }>;
}

type TimerName = 't1' | 't2' | 't3' | 'sack' | 'reconfig';
const TIMERS: TimerName[] = ['t1', 't2', 't3', 'sack', 'reconfig'];
type ShutdownPhase = 'none' | 'pending' | 'sent' | 'received' | 'ack-sent';

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

const randomU32 = (nonZero: boolean): number => {
  for (;;) {
    const v = randomBytes(4).readUInt32BE(0);
    if (v !== 0 || !nonZero) return v;
  }
};

function reportError(err: unknown): void {
  queueMicrotask(() => {
    throw err;
  });
}

export class DataChannel {
  readonly id: number;
  readonly label: string;
  readonly protocol: string;
  readonly ordered: boolean;
  readonly maxRetransmits: number | null;
  readonly maxPacketLifeTime: number | null;
  readonly negotiated: boolean;
  readonly priority: number;
  onopen?: () => void;
  onclose?: () => void;
  onmessage?: (data: string | Uint8Array) => void;
  /** @internal */ _state: DataChannelState = 'connecting';
  /** @internal */ _buffered = 0;
  /** @internal */ _outReset = false;
  /** @internal */ _inReset = false;
  /** @internal */ readonly _assoc: SctpAssociation;

  /** @internal */
  constructor(
    assoc: SctpAssociation,
    id: number,
    label: string,
    o: { ordered: boolean; maxRetransmits: number | null; maxPacketLifeTime: number | null; protocol: string; negotiated: boolean; priority: number },
  ) {
    this._assoc = assoc;
    this.id = id;
    this.label = label;
    this.protocol = o.protocol;
    this.ordered = o.ordered;
    this.maxRetransmits = o.maxRetransmits;
    this.maxPacketLifeTime = o.maxPacketLifeTime;
    this.negotiated = o.negotiated;
    this.priority = o.priority;
  }

  get readyState(): DataChannelState {
    return this._state;
  }

  /** Bytes of user data handed to send() and not yet acknowledged (or abandoned). */
  get bufferedAmount(): number {
    return this._buffered;
  }

  send(data: string | Uint8Array): void {
    if (this._state !== 'open') throw new SctpError('SB_ERR_SCTP_NOT_OPEN', `data channel ${this.id} is ${this._state}`);
    let bytes: Uint8Array;
    let ppid: number;
    if (typeof data === 'string') {
      bytes = utf8.encode(data);
      ppid = bytes.length ? PPID.STRING : PPID.STRING_EMPTY;
    } else if (data instanceof Uint8Array) {
      bytes = data.slice();
      ppid = bytes.length ? PPID.BINARY : PPID.BINARY_EMPTY;
    } else {
      throw new TypeError('data must be a string or a Uint8Array');
    }
    const max = this._assoc.remoteMaxMessageSize;
    if (max > 0 && bytes.length > max) {
      throw new SctpError('SB_ERR_SCTP_MESSAGE_TOO_LARGE', `message of ${bytes.length} bytes exceeds the peer's max message size ${max}`);
    }
    this._assoc._sendUser(this, ppid, bytes);
  }

  close(): void {
    this._assoc._closeChannel(this);
  }
}

export class SctpAssociation {
  onestablished?: () => void;
  onchannel?: (ch: DataChannel) => void;
  onclose?: () => void;

  readonly role: 'client' | 'server';
  readonly localPort: number;
  readonly remotePort: number;
  readonly maxMessageSize: number;
  /** The peer's max message size (from its SDP); send() refuses larger messages. 0 = no limit. */
  remoteMaxMessageSize: number;

  private _state: AssociationState = 'closed';
  private readonly sendFn: (p: Uint8Array) => void;
  private readonly now: () => number;
  private readonly manualTimers: boolean;
  private readonly cookieKey = randomBytes(32);
  private started = false;
  private finished = false;

  // handshake
  private readonly localTag = randomU32(true);
  private readonly localInitialTsn = randomU32(false);
  private peerTag = 0;
  private peerInitialTsn = 0;
  private initChunk: Uint8Array | null = null;
  private cookieEchoChunk: Uint8Array | null = null;
  private t1Failures = 0;
  private t1Rto = RTO_INITIAL;
  private peerForwardTsn = false;
  private peerReconfig = false;
  private outStreamCount = MAX_STREAMS;

  // receive side
  private cumTsnRecv = 0;
  private readonly recvAbove = new Set<number>();
  private readonly fragments = new Map<number, DataChunk>();
  private readonly inStreams = new Map<number, InStream>();
  private dups: number[] = [];
  private bufferedRecv = 0;
  private packetsSinceSack = 0;
  private sackRequested = false;

  // send side
  private nextTsn: number;
  private outQueue: OutChunk[] = [];
  private lastCumAck: number;
  private advancedPeerAckPoint: number;
  private flightSize = 0;
  private cwnd = Math.min(4 * MTU, Math.max(2 * MTU, 4380));
  private ssthresh = LOCAL_RWND;
  private partialBytesAcked = 0;
  private fastRecovery = false;
  private fastRecoveryExit = 0;
  private fastRtxPending = false;
  private peerArwnd = LOCAL_RWND;
  private peerRwnd = LOCAL_RWND;
  private rto = RTO_INITIAL;
  private srtt: number | null = null;
  private rttvar = 0;
  private errorCount = 0;
  private fwdTsnDue = false;
  private readonly outSsn = new Map<number, number>();
  private control: Uint8Array[] = [];
  private outbox: Uint8Array[] = [];

  // stream reset
  private reconfigReqSeq: number;
  private peerReqSeqExpected = 0;
  private lastPeerResponse: { seq: number; result: number } | null = null;
  private readonly resetQueue = new Set<number>();
  private pendingReconfig: { seq: number; streams: number[]; chunk: Uint8Array } | null = null;

  // shutdown
  private shutdownPhase: ShutdownPhase = 'none';
  private t2Failures = 0;

  // channels
  private readonly channels = new Map<number, DataChannel>();

  // timers and re-entrancy
  private readonly deadlines: Record<TimerName, number | null> = { t1: null, t2: null, t3: null, sack: null, reconfig: null };
  private timerHandle: ReturnType<typeof setTimeout> | null = null;
  private timerAt = Infinity;
  private depth = 0;
  private dirty = false;
  private flushScheduled = false;

  private readonly _stats: AssociationStats = { messagesSent: 0, messagesReceived: 0, bytesSent: 0, bytesReceived: 0, retransmissions: 0 };

  constructor(opts: AssociationOptions) {
    if (opts.role !== 'client' && opts.role !== 'server') throw new SctpError('SB_ERR_SCTP_INVALID_OPTIONS', 'role must be client or server');
    if (typeof opts.send !== 'function') throw new SctpError('SB_ERR_SCTP_INVALID_OPTIONS', 'send is required');
    this.role = opts.role;
    this.localPort = opts.localPort ?? 5000;
    this.remotePort = opts.remotePort ?? 5000;
    this.maxMessageSize = opts.maxMessageSize ?? 262144;
    this.remoteMaxMessageSize = opts.remoteMaxMessageSize ?? 65536;
    this.sendFn = opts.send;
    this.now = opts.now ?? Date.now;
    this.manualTimers = opts.timers === 'manual';
    this.nextTsn = this.localInitialTsn;
    this.lastCumAck = tsnAdd(this.localInitialTsn, -1);
    this.advancedPeerAckPoint = this.lastCumAck;
    this.reconfigReqSeq = this.localInitialTsn;
  }

  get state(): AssociationState {
    return this._state;
  }

  stats(): AssociationStats {
    return { ...this._stats };
  }

  /** The earliest pending timer deadline (on opts.now's clock), or null. */
  nextTimeout(): number | null {
    let min: number | null = null;
    for (const t of TIMERS) {
      const d = this.deadlines[t];
      if (d !== null && (min === null || d < min)) min = d;
    }
    return min;
  }

  /** Fires every timer whose deadline has passed. Safe to call at any time. */
  handleTimeout(): void {
    if (this.finished) return;
    this.enter(() => {
      for (let round = 0; round < 8; round++) {
        const now = this.now();
        let fired = false;
        for (const t of TIMERS) {
          const d = this.deadlines[t];
          if (d !== null && d <= now) {
            this.deadlines[t] = null;
            fired = true;
            this.fire(t);
            if (this.finished) return;
          }
        }
        if (!fired) break;
      }
    });
  }

  start(): void {
    if (this.started || this.finished) return;
    this.started = true;
    if (this.role === 'client') {
      this.enter(() => {
        this._state = 'cookie-wait';
        this.initChunk = encodeInit(ChunkType.INIT, {
          initiateTag: this.localTag,
          arwnd: LOCAL_RWND,
          outboundStreams: MAX_STREAMS,
          inboundStreams: MAX_STREAMS,
          initialTsn: this.localInitialTsn,
          forwardTsn: true,
          reconfig: true,
        });
        this.transmitRaw(0, [this.initChunk]);
        this.setTimer('t1', this.t1Rto);
      });
    }
  }

  receive(packet: Uint8Array): void {
    if (!this.started || this.finished || !(packet instanceof Uint8Array)) return;
    if (!verifyChecksum(packet)) return;
    let pkt: Packet;
    try {
      pkt = decodePacket(packet);
    } catch (e) {
      if (e instanceof SctpError) return;
      throw e;
    }
    if (pkt.dstPort !== this.localPort || pkt.srcPort !== this.remotePort || pkt.chunks.length === 0) return;
    this.enter(() => this.processPacket(pkt));
  }

  createDataChannel(label: string, opts: DataChannelOptions = {}): DataChannel {
    if (this.finished || this._state === 'failed') throw new SctpError('SB_ERR_SCTP_CLOSED', 'association is closed');
    if (opts.maxRetransmits != null && opts.maxPacketLifeTime != null) {
      throw new SctpError('SB_ERR_SCTP_INVALID_OPTIONS', 'maxRetransmits and maxPacketLifeTime are mutually exclusive');
    }
    const protocol = opts.protocol ?? '';
    if (utf8.encode(label).length > 0xffff || utf8.encode(protocol).length > 0xffff) {
      throw new SctpError('SB_ERR_SCTP_INVALID_OPTIONS', 'label or protocol too long');
    }
    const negotiated = opts.negotiated ?? false;
    let id: number;
    if (opts.id != null) {
      id = opts.id;
    } else if (negotiated) {
      throw new SctpError('SB_ERR_SCTP_INVALID_OPTIONS', 'negotiated channels need an id');
    } else {
      id = -1;
      for (let i = this.role === 'client' ? 0 : 1; i < Math.min(MAX_STREAMS, this.outStreamCount); i += 2) {
        if (!this.channels.has(i)) {
          id = i;
          break;
        }
      }
      if (id < 0) throw new SctpError('SB_ERR_SCTP_NO_STREAM', 'no free stream id');
    }
    if (!Number.isInteger(id) || id < 0 || id >= MAX_STREAMS || id >= this.outStreamCount) {
      throw new SctpError('SB_ERR_SCTP_NO_STREAM', `stream id ${id} is out of range`);
    }
    if (this.channels.has(id)) throw new SctpError('SB_ERR_SCTP_STREAM_IN_USE', `stream id ${id} is in use`);
    const ch = new DataChannel(this, id, label, {
      ordered: opts.ordered ?? true,
      maxRetransmits: opts.maxRetransmits ?? null,
      maxPacketLifeTime: opts.maxPacketLifeTime ?? null,
      protocol,
      negotiated,
      priority: opts.priority ?? 256,
    });
    this.channels.set(id, ch);
    if (this._state === 'established') {
      this.enter(() => {
        if (negotiated) {
          ch._state = 'open';
          queueMicrotask(() => {
            if (ch._state === 'open') this.emit(() => ch.onopen?.());
          });
        } else {
          this.sendOpen(ch);
        }
      });
    }
    return ch;
  }

  /** Sends ABORT (if the association got anywhere) and tears everything down. */
  close(): void {
    if (this.finished) return;
    this.enter(() => {
      if (this.peerTag !== 0 && (this._state === 'established' || this._state === 'shutdown' || this._state === 'cookie-echoed')) {
        this.transmitRaw(this.peerTag, [encodeChunk(ChunkType.ABORT, 0, encodeCause(12))]);
      }
      this.teardown('closed');
    });
  }

  /** Graceful SHUTDOWN (RFC 9260 §9.2): queued data is delivered first. */
  shutdown(): void {
    if (this._state !== 'established') return;
    this.enter(() => {
      this._state = 'shutdown';
      this.shutdownPhase = 'pending';
    });
  }

  // ------------------------------------------------------------------ internals

  private enter(fn: () => void): void {
    this.depth++;
    try {
      fn();
    } finally {
      this.depth--;
      if (this.depth > 0) this.dirty = true;
    }
    if (this.depth !== 0) return;
    this.depth++;
    try {
      for (let i = 0; i < 64; i++) {
        this.dirty = false;
        this.progress();
        this.transmitPending();
        if (!this.dirty) break;
      }
    } finally {
      this.depth--;
    }
    const out = this.outbox;
    this.outbox = [];
    for (const p of out) {
      try {
        this.sendFn(p);
      } catch (e) {
        reportError(e);
      }
    }
    this.armTimer();
  }

  private emit(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      reportError(e);
    }
  }

  private setTimer(t: TimerName, delay: number): void {
    this.deadlines[t] = this.now() + delay;
  }

  private clearTimer(t: TimerName): void {
    this.deadlines[t] = null;
  }

  private armTimer(): void {
    if (this.manualTimers) return;
    const next = this.finished ? null : this.nextTimeout();
    if (next === null) {
      if (this.timerHandle) clearTimeout(this.timerHandle);
      this.timerHandle = null;
      this.timerAt = Infinity;
      return;
    }
    if (this.timerHandle && this.timerAt === next) return;
    if (this.timerHandle) clearTimeout(this.timerHandle);
    this.timerAt = next;
    this.timerHandle = setTimeout(
      () => {
        this.timerHandle = null;
        this.timerAt = Infinity;
        this.handleTimeout();
        if (!this.timerHandle) this.armTimer();
      },
      Math.max(0, next - this.now()),
    );
    this.timerHandle.unref?.();
  }

  private transmitRaw(vtag: number, chunks: Uint8Array[]): void {
    this.outbox.push(encodePacket(this.localPort, this.remotePort, vtag, chunks));
  }

  private teardown(state: 'closed' | 'failed'): void {
    if (this.finished) return;
    this.finished = true;
    this._state = state;
    for (const t of TIMERS) this.deadlines[t] = null;
    if (this.timerHandle) clearTimeout(this.timerHandle);
    this.timerHandle = null;
    this.outQueue = [];
    this.control = [];
    this.fragments.clear();
    this.inStreams.clear();
    const chans = [...this.channels.values()];
    this.channels.clear();
    for (const ch of chans) {
      ch._state = 'closed';
      ch._buffered = 0;
      this.emit(() => ch.onclose?.());
    }
    this.emit(() => this.onclose?.());
  }

  private fire(t: TimerName): void {
    switch (t) {
      case 't1':
        if (this._state !== 'cookie-wait' && this._state !== 'cookie-echoed') return;
        if (++this.t1Failures > MAX_INIT_RETRANS) {
          this.teardown('failed');
          return;
        }
        this.t1Rto = Math.min(this.t1Rto * 2, RTO_MAX);
        if (this._state === 'cookie-wait' && this.initChunk) this.transmitRaw(0, [this.initChunk]);
        else if (this.cookieEchoChunk) this.transmitRaw(this.peerTag, [this.cookieEchoChunk]);
        this.setTimer('t1', this.t1Rto);
        return;
      case 't3':
        this.onT3();
        return;
      case 'sack':
        this.sackRequested = true;
        return;
      case 'reconfig':
        if (this.pendingReconfig && this._state === 'established') {
          this.control.push(this.pendingReconfig.chunk);
          this.setTimer('reconfig', this.rto);
        }
        return;
      case 't2':
        if (this._state !== 'shutdown') return;
        if (++this.t2Failures > MAX_ASSOC_RETRANS) {
          this.teardown('failed');
          return;
        }
        if (this.shutdownPhase === 'sent') this.control.push(encodeChunk(ChunkType.SHUTDOWN, 0, u32(this.cumTsnRecv)));
        else if (this.shutdownPhase === 'ack-sent') this.control.push(encodeChunk(ChunkType.SHUTDOWN_ACK, 0));
        this.setTimer('t2', Math.min(this.rto * 2 ** this.t2Failures, RTO_MAX));
        return;
    }
  }

  // ---- incoming ----

  private processPacket(pkt: Packet): void {
    const first = pkt.chunks[0];
    if (first.type === ChunkType.INIT) {
      if (pkt.vtag === 0 && pkt.chunks.length === 1) this.handleInit(first);
      return;
    }
    let gotData = false;
    for (const c of pkt.chunks) {
      if (this.finished) return;
      if (c.type === ChunkType.ABORT || c.type === ChunkType.SHUTDOWN_COMPLETE) {
        const reflected = (c.flags & 1) !== 0;
        if (reflected ? this.peerTag === 0 || pkt.vtag !== this.peerTag : pkt.vtag !== this.localTag) return;
      } else if (c.type === ChunkType.INIT) {
        return; // INIT must be alone in its packet
      } else if (pkt.vtag !== this.localTag) {
        return;
      }
      try {
        if (c.type === ChunkType.DATA) gotData = true;
        if (this.handleChunk(c) === 'stop') break;
      } catch (e) {
        if (e instanceof SctpError) break; // malformed chunk: stop processing this packet
        throw e;
      }
    }
    if (gotData && !this.finished) {
      this.packetsSinceSack++;
      if (this.sackRequested || this.packetsSinceSack >= 2 || this.recvAbove.size > 0 || this._state === 'shutdown') {
        this.sackRequested = true;
      } else if (this.deadlines.sack === null) {
        this.setTimer('sack', SACK_DELAY);
      }
    }
  }

  private handleChunk(c: RawChunk): 'stop' | void {
    switch (c.type) {
      case ChunkType.DATA:
        this.handleData(decodeData(c));
        return;
      case ChunkType.INIT_ACK:
        this.handleInitAck(c);
        return;
      case ChunkType.COOKIE_ECHO:
        this.handleCookieEcho(c.value);
        return;
      case ChunkType.COOKIE_ACK:
        if (this._state === 'cookie-echoed') this.establish();
        return;
      case ChunkType.SACK:
        if (this._state === 'established' || this._state === 'shutdown') this.handleSack(decodeSack(c));
        return;
      case ChunkType.HEARTBEAT:
        if (this.peerTag !== 0) this.control.push(encodeChunk(ChunkType.HEARTBEAT_ACK, 0, c.value));
        return;
      case ChunkType.HEARTBEAT_ACK:
      case ChunkType.ERROR:
        return;
      case ChunkType.ABORT:
        this.teardown('closed');
        return 'stop';
      case ChunkType.SHUTDOWN:
        this.handleShutdown(c);
        return;
      case ChunkType.SHUTDOWN_ACK:
        if (this._state === 'shutdown' && (this.shutdownPhase === 'sent' || this.shutdownPhase === 'pending')) {
          this.transmitRaw(this.peerTag, [encodeChunk(ChunkType.SHUTDOWN_COMPLETE, 0)]);
          this.teardown('closed');
          return 'stop';
        }
        return;
      case ChunkType.SHUTDOWN_COMPLETE:
        if (this._state === 'shutdown' && this.shutdownPhase === 'ack-sent') {
          this.teardown('closed');
          return 'stop';
        }
        return;
      case ChunkType.FORWARD_TSN:
        if (this._state === 'established' || this._state === 'shutdown') this.handleForwardTsn(c);
        return;
      case ChunkType.RECONFIG:
        if (this._state === 'established' || this._state === 'shutdown') this.handleReconfig(c);
        return;
      default: {
        // RFC 9260 §3.2: the upper two bits of an unknown chunk type say what to do.
        const action = c.type >> 6;
        if ((action === 1 || action === 3) && this.peerTag !== 0) {
          const raw = encodeChunk(c.type, c.flags, c.value);
          // the chunk is reported (cause 6), cut so that the ERROR chunk fits a packet with others
          const report = Math.min(4 + c.value.length, UNRECOGNIZED_REPORT_MAX);
          this.control.push(encodeChunk(ChunkType.ERROR, 0, encodeCause(6, raw.subarray(0, report))));
        }
        if (action === 0 || action === 1) return 'stop';
        return;
      }
    }
  }

  private handleInit(c: RawChunk): void {
    let init: InitChunk;
    try {
      init = decodeInit(c);
    } catch {
      return;
    }
    if (init.initiateTag === 0 || init.outboundStreams === 0 || init.inboundStreams === 0) return;
    // Established: a restart or a late duplicate; restarts are not supported, so ignore it.
    if (this._state !== 'closed' && this._state !== 'cookie-wait' && this._state !== 'cookie-echoed') return;
    const cookie = this.makeCookie(init);
    const ack = encodeInit(ChunkType.INIT_ACK, {
      initiateTag: this.localTag,
      arwnd: LOCAL_RWND,
      outboundStreams: MAX_STREAMS,
      inboundStreams: MAX_STREAMS,
      initialTsn: this.localInitialTsn,
      forwardTsn: true,
      reconfig: true,
      cookie,
      // reported unrecognized parameters are capped so the INIT-ACK still fits one packet
      unrecognized: capTotal(init.unrecognized, UNRECOGNIZED_REPORT_MAX),
    });
    this.transmitRaw(init.initiateTag, [ack]);
  }

  private handleInitAck(c: RawChunk): void {
    if (this._state !== 'cookie-wait') return;
    const ack = decodeInit(c);
    if (!ack.cookie || ack.initiateTag === 0 || ack.outboundStreams === 0 || ack.inboundStreams === 0) return;
    this.adoptPeer(ack);
    this.cookieEchoChunk = encodeChunk(ChunkType.COOKIE_ECHO, 0, ack.cookie);
    this._state = 'cookie-echoed';
    this.t1Failures = 0;
    this.t1Rto = RTO_INITIAL;
    this.transmitRaw(this.peerTag, [this.cookieEchoChunk]);
    this.setTimer('t1', this.t1Rto);
  }

  private makeCookie(init: InitChunk): Uint8Array {
    const b = Buffer.alloc(COOKIE_LENGTH);
    b[0] = 1;
    b.writeUInt32BE(this.localTag, 1);
    b.writeUInt32BE(this.localInitialTsn, 5);
    b.writeUInt32BE(init.initiateTag, 9);
    b.writeUInt32BE(init.initialTsn, 13);
    b.writeUInt32BE(init.arwnd, 17);
    b.writeUInt16BE(init.outboundStreams, 21);
    b.writeUInt16BE(init.inboundStreams, 23);
    b[25] = (init.forwardTsn ? 1 : 0) | (init.reconfig ? 2 : 0);
    b.writeDoubleBE(this.now(), 26);
    createHmac('sha256', this.cookieKey).update(b.subarray(0, COOKIE_BODY)).digest().copy(b, COOKIE_BODY);
    return new Uint8Array(b.buffer, b.byteOffset, b.length);
  }

  private handleCookieEcho(value: Uint8Array): void {
    if (value.length !== COOKIE_LENGTH || value[0] !== 1) return;
    const b = Buffer.from(value.buffer, value.byteOffset, value.length);
    const mac = createHmac('sha256', this.cookieKey).update(b.subarray(0, COOKIE_BODY)).digest();
    if (!timingSafeEqual(mac, b.subarray(COOKIE_BODY))) return;
    if (b.readUInt32BE(1) !== this.localTag) return;
    const age = this.now() - b.readDoubleBE(26);
    if (!(age <= COOKIE_LIFETIME && age >= -COOKIE_LIFETIME)) return;
    const peer: InitChunk = {
      initiateTag: b.readUInt32BE(9),
      initialTsn: b.readUInt32BE(13),
      arwnd: b.readUInt32BE(17),
      outboundStreams: b.readUInt16BE(21),
      inboundStreams: b.readUInt16BE(23),
      forwardTsn: (b[25] & 1) !== 0,
      reconfig: (b[25] & 2) !== 0,
      unrecognized: [],
    };
    if (this._state === 'established' || this._state === 'shutdown') {
      // A retransmitted COOKIE-ECHO of this association: just acknowledge it again.
      if (peer.initiateTag === this.peerTag) this.control.push(encodeChunk(ChunkType.COOKIE_ACK, 0));
      return;
    }
    if (this._state === 'cookie-echoed' && peer.initiateTag !== this.peerTag) return;
    this.adoptPeer(peer);
    this.control.push(encodeChunk(ChunkType.COOKIE_ACK, 0));
    this.establish();
  }

  private adoptPeer(p: InitChunk): void {
    this.peerTag = p.initiateTag;
    this.peerInitialTsn = p.initialTsn;
    this.cumTsnRecv = tsnAdd(p.initialTsn, -1);
    this.peerReqSeqExpected = p.initialTsn;
    this.peerArwnd = p.arwnd;
    this.peerRwnd = p.arwnd;
    this.ssthresh = Math.max(p.arwnd, 4 * MTU);
    this.peerForwardTsn = p.forwardTsn;
    this.peerReconfig = p.reconfig;
    this.outStreamCount = Math.min(MAX_STREAMS, p.inboundStreams);
  }

  private establish(): void {
    this._state = 'established';
    this.clearTimer('t1');
    this.initChunk = null;
    this.cookieEchoChunk = null;
    this.emit(() => this.onestablished?.());
    for (const ch of [...this.channels.values()]) {
      if (ch._state !== 'connecting' || this.finished) continue;
      if (ch.id >= this.outStreamCount) {
        this.channels.delete(ch.id);
        ch._state = 'closed';
        this.emit(() => ch.onclose?.());
      } else if (ch.negotiated) {
        ch._state = 'open';
        this.emit(() => ch.onopen?.());
      } else {
        this.sendOpen(ch);
      }
    }
  }

  // ---- receiving data ----

  private handleData(d: DataChunk): void {
    if (this._state !== 'established' && !(this._state === 'shutdown' && (this.shutdownPhase === 'pending' || this.shutdownPhase === 'sent'))) return;
    if (d.immediate) this.sackRequested = true;
    const off = tsnDiff(d.tsn, this.cumTsnRecv);
    if (off === 0 || off >= 0x80000000 || this.recvAbove.has(d.tsn)) {
      if (this.dups.length < MAX_DUPS) this.dups.push(d.tsn);
      this.sackRequested = true;
      return;
    }
    if (off > 0xffff || d.data.length === 0) return; // beyond any window we could report / no user data
    if (off !== 1 && this.bufferedRecv + d.data.length > LOCAL_RWND) {
      this.sackRequested = true; // out of window: drop it, the peer will retransmit
      return;
    }
    if (off === 1) {
      this.cumTsnRecv = d.tsn;
      this.advanceCum();
    } else {
      this.recvAbove.add(d.tsn);
    }
    const data = d.data.slice();
    if (d.beginning && d.ending) {
      this.complete(d.sid, d.ssn, d.ppid, d.unordered, data);
    } else {
      this.fragments.set(d.tsn, { ...d, data });
      this.bufferedRecv += data.length;
      this.tryAssemble(d.tsn);
    }
  }

  private advanceCum(): void {
    for (;;) {
      const next = tsnAdd(this.cumTsnRecv, 1);
      if (!this.recvAbove.delete(next)) break;
      this.cumTsnRecv = next;
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
      this.bufferedRecv -= p.data.length;
      size += p.data.length;
    }
    if (size > this.maxMessageSize && this.maxMessageSize > 0) return; // larger than we advertised: drop
    this.complete(c0.sid, parts[0].ssn, parts[0].ppid, c0.unordered, concat(parts.map((p) => p.data)));
  }

  private inStream(sid: number): InStream {
    let s = this.inStreams.get(sid);
    if (!s) {
      s = { expected: 0, ready: new Map() };
      this.inStreams.set(sid, s);
    }
    return s;
  }

  private complete(sid: number, ssn: number, ppid: number, unordered: boolean, data: Uint8Array): void {
    if (unordered) {
      this.deliver(sid, ppid, data);
      return;
    }
    const s = this.inStream(sid);
    if (ssnGt(s.expected, ssn)) return; // already delivered or skipped
    if (ssn !== s.expected) {
      if (!s.ready.has(ssn)) {
        s.ready.set(ssn, { ppid, data });
        this.bufferedRecv += data.length;
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
      this.bufferedRecv -= m.data.length;
      s.expected = ssnAdd(s.expected, 1);
      this.deliver(sid, m.ppid, m.data);
    }
  }

  private deliver(sid: number, ppid: number, data: Uint8Array): void {
    if (this.finished) return;
    if (ppid === PPID.DCEP) {
      this.handleDcep(sid, data);
      return;
    }
    const ch = this.channels.get(sid);
    if (!ch || ch._state === 'closed' || ch._inReset) return;
    if (ch._state === 'connecting') {
      // RFC 8832 §6: data before the DATA_CHANNEL_ACK implies the ACK.
      ch._state = 'open';
      this.emit(() => ch.onopen?.());
    }
    let msg: string | Uint8Array;
    switch (ppid) {
      case PPID.STRING:
      case PPID.STRING_PARTIAL:
        msg = utf8d.decode(data);
        break;
      case PPID.STRING_EMPTY:
        msg = '';
        data = new Uint8Array(0);
        break;
      case PPID.BINARY_EMPTY:
        msg = new Uint8Array(0);
        data = msg;
        break;
      default:
        msg = data;
    }
    this._stats.messagesReceived++;
    this._stats.bytesReceived += data.length;
    this.emit(() => ch.onmessage?.(msg));
  }

  private handleDcep(sid: number, data: Uint8Array): void {
    if (data.length < 1) return;
    if (data[0] === DCEP_OPEN) {
      if (data.length < 12) return;
      const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
      const type = data[1];
      const priority = v.getUint16(2);
      const rel = v.getUint32(4);
      const labelLen = v.getUint16(8);
      const protoLen = v.getUint16(10);
      if (12 + labelLen + protoLen > data.length) return;
      const label = utf8d.decode(data.subarray(12, 12 + labelLen));
      const protocol = utf8d.decode(data.subarray(12 + labelLen, 12 + labelLen + protoLen));
      if (this.channels.has(sid)) return; // collision or a negotiated channel: ignore
      const base = type & 0x7f;
      const ch = new DataChannel(this, sid, label, {
        ordered: (type & 0x80) === 0,
        maxRetransmits: base === 0x01 ? rel : null,
        maxPacketLifeTime: base === 0x02 ? rel : null,
        protocol,
        negotiated: false,
        priority,
      });
      ch._state = 'open';
      this.channels.set(sid, ch);
      this.queueMessage(null, sid, PPID.DCEP, Uint8Array.of(DCEP_ACK), true, null, null);
      this.emit(() => this.onchannel?.(ch));
      if (ch._state === 'open') this.emit(() => ch.onopen?.());
    } else if (data[0] === DCEP_ACK) {
      const ch = this.channels.get(sid);
      if (ch && ch._state === 'connecting') {
        ch._state = 'open';
        this.emit(() => ch.onopen?.());
      }
    }
  }

  private handleForwardTsn(c: RawChunk): void {
    const f = decodeForwardTsn(c);
    this.sackRequested = true;
    if (tsnLe(f.newCumTsn, this.cumTsnRecv)) return;
    if (tsnDiff(f.newCumTsn, this.cumTsnRecv) > 0x7fffffff) return;
    this.cumTsnRecv = f.newCumTsn;
    for (const t of this.recvAbove) if (tsnLe(t, this.cumTsnRecv)) this.recvAbove.delete(t);
    this.advanceCum();
    for (const [t, frag] of this.fragments) {
      if (tsnLe(t, this.cumTsnRecv)) {
        this.fragments.delete(t);
        this.bufferedRecv -= frag.data.length;
      }
    }
    for (const { sid, ssn } of f.streams) {
      const s = this.inStream(sid);
      if (!ssnGe(ssn, s.expected)) continue;
      for (const [k, m] of s.ready) {
        if (ssnGe(ssn, k)) {
          s.ready.delete(k);
          this.bufferedRecv -= m.data.length;
        }
      }
      s.expected = ssnAdd(ssn, 1);
      this.drainReady(sid, s);
    }
  }

  private buildSack(): Uint8Array {
    const offs = [...this.recvAbove].map((t) => tsnDiff(t, this.cumTsnRecv)).sort((a, b) => a - b);
    const gaps: [number, number][] = [];
    for (const o of offs) {
      const last = gaps[gaps.length - 1];
      if (last && o === last[1] + 1) last[1] = o;
      else if (gaps.length < MAX_GAP_BLOCKS) gaps.push([o, o]);
      else break;
    }
    const sack: SackChunk = { cumTsn: this.cumTsnRecv, arwnd: Math.max(0, LOCAL_RWND - this.bufferedRecv), gaps, dups: this.dups };
    this.dups = [];
    this.packetsSinceSack = 0;
    this.sackRequested = false;
    this.clearTimer('sack');
    return encodeSack(sack);
  }

  // ---- sending data ----

  /** @internal */
  _sendUser(ch: DataChannel, ppid: number, bytes: Uint8Array): void {
    if (this._state !== 'established') throw new SctpError('SB_ERR_SCTP_NOT_OPEN', `association is ${this._state}`);
    const userBytes = ppid === PPID.STRING_EMPTY || ppid === PPID.BINARY_EMPTY ? 0 : bytes.length;
    const payload = bytes.length ? bytes : Uint8Array.of(0);
    this.queueMessage(ch, ch.id, ppid, payload, ch.ordered, ch.maxRetransmits, ch.maxPacketLifeTime, userBytes);
    this._stats.messagesSent++;
    this._stats.bytesSent += userBytes;
    // Transmit from a microtask, so that a synchronous burst of sends is bundled into full
    // packets (inside a callback of ours the outer call flushes anyway).
    if (this.depth > 0) {
      this.dirty = true;
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => {
        this.flushScheduled = false;
        if (!this.finished) this.enter(() => {});
      });
    }
  }

  /** Transmits whatever is queued now (send() otherwise does it from a microtask). */
  flush(): void {
    if (!this.finished && this.depth === 0) this.enter(() => {});
  }

  private queueMessage(
    ch: DataChannel | null,
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
      channel: ch,
      maxRetransmits: pr ? maxRetransmits : null,
      expiry: pr && lifetime !== null ? this.now() + lifetime : null,
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
      this.outQueue.push(c);
    }
    msg.unreleased = msg.chunks.length;
    if (ch) ch._buffered += userBytes;
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
    for (const c of this.outQueue) {
      if (tsnLe(c.tsn, ap)) continue;
      if (c.tsn === tsnAdd(ap, 1) && c.abandoned) ap = c.tsn;
      else break;
    }
    if (tsnGt(ap, this.advancedPeerAckPoint)) {
      this.advancedPeerAckPoint = ap;
      if (tsnGt(ap, this.lastCumAck)) this.fwdTsnDue = true;
    }
  }

  private buildForwardTsn(): Uint8Array {
    const streams = new Map<number, number>();
    for (const c of this.outQueue) {
      if (tsnGt(c.tsn, this.advancedPeerAckPoint)) break;
      if (c.unordered || !c.abandoned) continue;
      const prev = streams.get(c.sid);
      if (prev === undefined || ssnGt(c.ssn, prev)) streams.set(c.sid, c.ssn);
    }
    return encodeForwardTsn({ newCumTsn: this.advancedPeerAckPoint, streams: [...streams].map(([sid, ssn]) => ({ sid, ssn })) });
  }

  private hasOutstanding(): boolean {
    if (tsnGt(this.advancedPeerAckPoint, this.lastCumAck)) return true;
    for (const c of this.outQueue) if (c.sentCount > 0 && !c.acked && !c.abandoned) return true;
    return false;
  }

  private handleSack(s: SackChunk): void {
    const cumAck = s.cumTsn;
    if (tsnLt(cumAck, this.lastCumAck)) return; // stale
    if (tsnGe(cumAck, this.nextTsn)) return; // acks something never sent
    const now = this.now();
    const cumAdvanced = tsnGt(cumAck, this.lastCumAck);
    let bytesAcked = 0;
    let rtt: number | null = null;
    let highestNewlyAcked: number | null = null;
    const flightBefore = this.flightSize;
    let n = 0;
    while (n < this.outQueue.length && tsnLe(this.outQueue[n].tsn, cumAck)) {
      const c = this.outQueue[n++];
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
    if (n > 0) this.outQueue = this.outQueue.slice(n);
    this.lastCumAck = cumAck;
    if (tsnLt(this.advancedPeerAckPoint, cumAck)) this.advancedPeerAckPoint = cumAck;

    // Gap ack blocks.
    let highestGap: number | null = null;
    if (s.gaps.length) {
      for (const c of this.outQueue) {
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
      for (const c of this.outQueue) {
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
      for (const c of this.outQueue) if (c.retransmit && !c.abandoned) this.shouldAbandon(c, now);
      this.updateAdvancedPeerAckPoint();
      if (tsnGt(this.advancedPeerAckPoint, cumAck) && cumAdvanced) this.fwdTsnDue = true;
    }

    if (this.hasOutstanding()) {
      if (cumAdvanced || this.deadlines.t3 === null) this.setTimer('t3', this.rto);
    } else {
      this.clearTimer('t3');
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

  private onT3(): void {
    if (this._state !== 'established' && this._state !== 'shutdown') return;
    if (!this.hasOutstanding()) return;
    if (++this.errorCount > MAX_ASSOC_RETRANS) {
      this.transmitRaw(this.peerTag, [encodeChunk(ChunkType.ABORT, 0)]);
      this.teardown('failed');
      return;
    }
    this.rto = Math.min(this.rto * 2, RTO_MAX);
    this.ssthresh = Math.max(Math.floor(this.cwnd / 2), 4 * MTU);
    this.cwnd = MTU;
    this.partialBytesAcked = 0;
    this.fastRecovery = false;
    const now = this.now();
    for (const c of this.outQueue) {
      if (c.sentCount === 0 || c.acked || c.abandoned) continue;
      if (this.peerForwardTsn && this.shouldAbandon(c, now)) continue;
      c.retransmit = true;
      this.takeOutOfFlight(c);
    }
    this.flightSize = 0;
    for (const c of this.outQueue) c.inFlight = false;
    if (tsnGt(this.advancedPeerAckPoint, this.lastCumAck)) this.fwdTsnDue = true;
    this.setTimer('t3', this.rto);
  }

  private collectData(out: Uint8Array[]): void {
    const now = this.now();
    let overCwnd = this.fastRtxPending ? MTU : 0;
    this.fastRtxPending = false;
    let sent = false;
    for (const c of this.outQueue) {
      if (!c.retransmit || c.acked || c.abandoned) continue;
      if (this.peerForwardTsn && this.shouldAbandon(c, now)) continue;
      if (overCwnd > 0) overCwnd -= c.data.length + DATA_HEADER_LENGTH;
      else if (this.flightSize >= this.cwnd) break;
      this.transmitChunk(c, now, out);
      this._stats.retransmissions++;
      sent = true;
    }
    for (const c of this.outQueue) {
      if (c.sentCount > 0 || c.abandoned || c.acked) continue;
      if (this.peerForwardTsn && this.shouldAbandon(c, now)) continue;
      if (this.flightSize >= this.cwnd) break;
      if (this.flightSize > 0 && this.peerRwnd < c.data.length) break;
      this.transmitChunk(c, now, out);
      sent = true;
    }
    if (sent && this.deadlines.t3 === null) this.setTimer('t3', this.rto);
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

  /** Housekeeping that depends on the queue having drained: stream resets, SHUTDOWN. */
  private progress(): void {
    if (this.finished) return;
    this.trySendReconfig();
    if (this._state === 'shutdown' && this.outQueue.length === 0) {
      if (this.shutdownPhase === 'pending') {
        this.shutdownPhase = 'sent';
        this.control.push(encodeChunk(ChunkType.SHUTDOWN, 0, u32(this.cumTsnRecv)));
        this.clearTimer('t3');
        this.setTimer('t2', this.rto);
      } else if (this.shutdownPhase === 'received') {
        this.shutdownPhase = 'ack-sent';
        this.control.push(encodeChunk(ChunkType.SHUTDOWN_ACK, 0));
        this.clearTimer('t3');
        this.setTimer('t2', this.rto);
      }
    }
  }

  private transmitPending(): void {
    if (this.finished || this.peerTag === 0) {
      this.control = [];
      return;
    }
    const chunks: Uint8Array[] = this.control;
    this.control = [];
    const st = this._state;
    if (this.sackRequested && (st === 'established' || st === 'shutdown')) chunks.push(this.buildSack());
    const canData = st === 'established' || (st === 'shutdown' && (this.shutdownPhase === 'pending' || this.shutdownPhase === 'received'));
    if (canData) this.collectData(chunks);
    if (this.fwdTsnDue && (st === 'established' || st === 'shutdown') && tsnGt(this.advancedPeerAckPoint, this.lastCumAck)) {
      chunks.push(this.buildForwardTsn());
      if (this.deadlines.t3 === null) this.setTimer('t3', this.rto);
    }
    this.fwdTsnDue = false;
    // Bundle into packets of at most MTU bytes.
    let cur: Uint8Array[] = [];
    let size = COMMON_HEADER_LENGTH;
    for (const c of chunks) {
      if (cur.length && size + c.length > MTU) {
        this.transmitRaw(this.peerTag, cur);
        cur = [];
        size = COMMON_HEADER_LENGTH;
      }
      cur.push(c);
      size += c.length;
    }
    if (cur.length) this.transmitRaw(this.peerTag, cur);
  }

  // ---- shutdown ----

  private handleShutdown(c: RawChunk): void {
    if (this._state !== 'established' && this._state !== 'shutdown') return;
    if (c.value.length >= 4) {
      const cum = new DataView(c.value.buffer, c.value.byteOffset, 4).getUint32(0);
      if (tsnGe(cum, this.lastCumAck) && tsnLt(cum, this.nextTsn)) this.handleSack({ cumTsn: cum, arwnd: this.peerArwnd, gaps: [], dups: [] });
    }
    if (this._state === 'established' || this.shutdownPhase === 'pending' || this.shutdownPhase === 'sent') {
      this._state = 'shutdown';
      this.shutdownPhase = 'received';
      this.clearTimer('t2');
    }
  }

  // ---- data channels and stream reset ----

  private sendOpen(ch: DataChannel): void {
    const label = utf8.encode(ch.label);
    const proto = utf8.encode(ch.protocol);
    const b = new Uint8Array(12 + label.length + proto.length);
    const v = new DataView(b.buffer);
    let type = 0;
    let rel = 0;
    if (ch.maxRetransmits !== null) {
      type = 0x01;
      rel = ch.maxRetransmits;
    } else if (ch.maxPacketLifeTime !== null) {
      type = 0x02;
      rel = ch.maxPacketLifeTime;
    }
    if (!ch.ordered) type |= 0x80;
    b[0] = DCEP_OPEN;
    b[1] = type;
    v.setUint16(2, ch.priority & 0xffff);
    v.setUint32(4, rel >>> 0);
    v.setUint16(8, label.length);
    v.setUint16(10, proto.length);
    b.set(label, 12);
    b.set(proto, 12 + label.length);
    this.queueMessage(null, ch.id, PPID.DCEP, b, true, null, null);
  }

  /** @internal */
  _closeChannel(ch: DataChannel): void {
    if (ch._state === 'closing' || ch._state === 'closed') return;
    if (this.channels.get(ch.id) !== ch) {
      ch._state = 'closed';
      return;
    }
    if (this._state !== 'established' || !this.peerReconfig) {
      this.channels.delete(ch.id);
      this.outSsn.delete(ch.id);
      this.inStreams.delete(ch.id);
      ch._state = 'closed';
      queueMicrotask(() => this.emit(() => ch.onclose?.()));
      return;
    }
    this.enter(() => {
      ch._state = 'closing';
      this.resetQueue.add(ch.id);
    });
  }

  private trySendReconfig(): void {
    if (this._state !== 'established' || this.pendingReconfig || this.resetQueue.size === 0) return;
    const busy = new Set<number>();
    for (const c of this.outQueue) busy.add(c.sid);
    const streams = [...this.resetQueue].filter((s) => !busy.has(s));
    if (streams.length === 0) return;
    for (const s of streams) this.resetQueue.delete(s);
    const seq = this.reconfigReqSeq;
    this.reconfigReqSeq = tsnAdd(seq, 1);
    const chunk = encodeChunk(
      ChunkType.RECONFIG,
      0,
      encodeOutgoingReset({ reqSeq: seq, respSeq: tsnAdd(this.peerReqSeqExpected, -1), lastTsn: tsnAdd(this.nextTsn, -1), streams }),
    );
    this.pendingReconfig = { seq, streams, chunk };
    this.control.push(chunk);
    this.setTimer('reconfig', this.rto);
  }

  private handleReconfig(c: RawChunk): void {
    for (const p of decodeParams(c.value)) {
      if (p.type === ParamType.OUTGOING_SSN_RESET) {
        const r = decodeOutgoingReset(p);
        let result: number;
        if (this.lastPeerResponse && r.reqSeq === this.lastPeerResponse.seq) {
          result = this.lastPeerResponse.result; // retransmitted request
        } else if (r.reqSeq !== this.peerReqSeqExpected) {
          result = ReconfigResult.ERROR_BAD_SEQUENCE_NUMBER;
        } else if (tsnLt(this.cumTsnRecv, r.lastTsn)) {
          result = ReconfigResult.IN_PROGRESS; // not everything before the reset has arrived yet
        } else {
          result = ReconfigResult.SUCCESS_PERFORMED;
          this.peerReqSeqExpected = tsnAdd(r.reqSeq, 1);
          this.lastPeerResponse = { seq: r.reqSeq, result };
          const sids = r.streams.length ? r.streams : [...this.channels.keys()];
          for (const sid of sids) this.incomingReset(sid);
        }
        this.control.push(encodeChunk(ChunkType.RECONFIG, 0, encodeReconfigResponse(r.reqSeq, result)));
      } else if (p.type === ParamType.INCOMING_SSN_RESET) {
        const r = decodeIncomingReset(p);
        let result: number;
        if (this.lastPeerResponse && r.reqSeq === this.lastPeerResponse.seq) result = this.lastPeerResponse.result;
        else if (r.reqSeq !== this.peerReqSeqExpected) result = ReconfigResult.ERROR_BAD_SEQUENCE_NUMBER;
        else {
          // The peer asks us to reset our outgoing streams: do it with our own request.
          result = ReconfigResult.SUCCESS_NOTHING_TO_DO;
          this.peerReqSeqExpected = tsnAdd(r.reqSeq, 1);
          this.lastPeerResponse = { seq: r.reqSeq, result };
          for (const sid of r.streams.length ? r.streams : [...this.channels.keys()]) {
            const ch = this.channels.get(sid);
            if (ch && !ch._outReset) this.resetQueue.add(sid);
          }
        }
        this.control.push(encodeChunk(ChunkType.RECONFIG, 0, encodeReconfigResponse(r.reqSeq, result)));
      } else if (p.type === ParamType.RECONFIG_RESPONSE) {
        const r = decodeReconfigResponse(p);
        const pending = this.pendingReconfig;
        if (!pending || r.respSeq !== pending.seq) continue;
        if (r.result === ReconfigResult.IN_PROGRESS) continue; // the timer retransmits it
        this.pendingReconfig = null;
        this.clearTimer('reconfig');
        for (const sid of pending.streams) this.outgoingReset(sid);
      }
    }
  }

  private incomingReset(sid: number): void {
    this.inStreams.delete(sid);
    const ch = this.channels.get(sid);
    if (!ch) return;
    ch._inReset = true;
    if (ch._state === 'open' || ch._state === 'connecting') {
      ch._state = 'closing';
      this.resetQueue.add(sid);
    }
    this.maybeFinishClose(ch);
  }

  private outgoingReset(sid: number): void {
    this.outSsn.delete(sid);
    const ch = this.channels.get(sid);
    if (!ch) return;
    ch._outReset = true;
    this.maybeFinishClose(ch);
  }

  private maybeFinishClose(ch: DataChannel): void {
    if (!ch._outReset || !ch._inReset) return;
    if (this.channels.get(ch.id) === ch) this.channels.delete(ch.id);
    ch._state = 'closed';
    ch._buffered = 0;
    this.emit(() => ch.onclose?.());
  }
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0);
  return b;
}
