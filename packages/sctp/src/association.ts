// A sans-IO SCTP association (RFC 9260 subset) with partial reliability (RFC 3758), stream
// reset (RFC 6525) and WebRTC data channels (RFC 8831, DCEP RFC 8832).
//
// Packets go in through receive() and out through opts.send(); every timer is a deadline on
// opts.now(), fired by handleTimeout() - either from our own unref'd setTimeout ('auto') or by
// the caller ('manual', see nextTimeout()).
//
// This file keeps the handshake (INIT, INIT-ACK, COOKIE-ECHO, COOKIE-ACK), chunk dispatch,
// timers, shutdown and packet bundling. The parts, as pion/sctp splits them:
// outbound.ts (send queue, congestion control, retransmission), reassembly.ts (receive side,
// SACKs), stream-reset.ts (RECONFIG), channels.ts and data-channel.ts (data channels, DCEP).
import { SctpError } from './errors.js';
import { COMMON_HEADER_LENGTH, ChunkType, decodeData, decodePacket, decodeSack, encodeCause, encodeChunk, encodePacket, tsnAdd, tsnGe, tsnLt, verifyChecksum } from './wire.js';
import type { InitChunk, Packet, RawChunk } from './wire.js';
import {
  MAX_ASSOC_RETRANS,
  MAX_STREAMS,
  MTU,
  PPID,
  RTO_MAX,
  SACK_DELAY,
  TIMERS,
  UNRECOGNIZED_REPORT_MAX,
  u32,
} from './constants.js';
import type { AssociationStats, TimerName } from './constants.js';
import { Deadlines } from './deadlines.js';
import { ChannelTable } from './channels.js';
import { Handshake } from './handshake.js';
import { DataChannel } from './data-channel.js';
import type { ChannelOwner, DataChannelOptions } from './data-channel.js';
import { Outbound } from './outbound.js';
import { Reassembly } from './reassembly.js';
import { StreamReset } from './stream-reset.js';

export { MTU, PPID };
export type { AssociationStats };
export { DataChannel };
export type { DataChannelOptions, DataChannelState } from './data-channel.js';

export type AssociationState = 'closed' | 'cookie-wait' | 'cookie-echoed' | 'established' | 'shutdown' | 'failed';

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

type ShutdownPhase = 'none' | 'pending' | 'sent' | 'received' | 'ack-sent';

function reportError(err: unknown): void {
  queueMicrotask(() => {
    throw err;
  });
}

export class SctpAssociation implements ChannelOwner {
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
  private started = false;
  private finished = false;

  // handshake
  private readonly handshake: Handshake;
  private readonly localTag: number;
  private peerTag = 0;
  private peerReconfig = false;

  // the parts
  private readonly _stats: AssociationStats = { messagesSent: 0, messagesReceived: 0, bytesSent: 0, bytesReceived: 0, retransmissions: 0 };
  private readonly timers: Deadlines;
  private readonly outbound: Outbound;
  private readonly inbound: Reassembly;
  private readonly reset: StreamReset;
  private readonly channels: ChannelTable;
  /** Control chunks for the next packet. */
  private control: Uint8Array[] = [];
  private outbox: Uint8Array[] = [];

  // shutdown
  private shutdownPhase: ShutdownPhase = 'none';
  private t2Failures = 0;

  // re-entrancy
  private depth = 0;
  private dirty = false;
  private flushScheduled = false;

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
    this.handshake = new Handshake(this.now);
    this.localTag = this.handshake.localTag;
    this.timers = new Deadlines(this.now, opts.timers === 'manual' ? null : () => this.handleTimeout());
    this.outbound = new Outbound(this.handshake.localInitialTsn, this.timers, this._stats);
    this.inbound = new Reassembly(this.maxMessageSize, (sid, ppid, data) => {
      if (!this.finished) this.channels.deliver(sid, ppid, data, (ch) => this.onchannel?.(ch));
    });
    this.channels = new ChannelTable({
      role: this.role,
      outbound: this.outbound,
      stats: this._stats,
      owner: this,
      emit: (fn) => this.emit(fn),
      requestReset: (sid) => this.reset.request(sid),
      resetIncoming: (sid) => this.inbound.resetStream(sid),
    });
    this.reset = new StreamReset(this.handshake.localInitialTsn, {
      timers: this.timers,
      control: (chunk) => this.control.push(chunk),
      rto: () => this.outbound.rto,
      incomingReset: (sid) => this.channels.incomingReset(sid),
      outgoingReset: (sid) => this.channels.outgoingReset(sid),
      channelIds: () => this.channels.ids(),
      needsOutgoingReset: (sid) => this.channels.needsOutgoingReset(sid),
    });
  }

  get state(): AssociationState {
    return this._state;
  }

  stats(): AssociationStats {
    return { ...this._stats };
  }

  /** The earliest pending timer deadline (on opts.now's clock), or null. */
  nextTimeout(): number | null {
    return this.timers.next();
  }

  /** Fires every timer whose deadline has passed. Safe to call at any time. */
  handleTimeout(): void {
    if (this.finished) return;
    this.enter(() => {
      for (let round = 0; round < 8; round++) {
        const now = this.now();
        let fired = false;
        for (const t of TIMERS) {
          if (!this.timers.stillDue(t, now)) continue;
          fired = true;
          this.fire(t);
          if (this.finished) return;
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
        this.transmitRaw(0, [this.handshake.init()]);
        this.timers.set('t1', this.handshake.rto);
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
    const ch = this.channels.create(label, opts);
    if (this._state === 'established') this.enter(() => this.channels.open(ch, true));
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

  /** Transmits whatever is queued now (send() otherwise does it from a microtask). */
  flush(): void {
    if (!this.finished && this.depth === 0) this.enter(() => {});
  }

  // ---- what data channels call (ChannelOwner) -------------------------------------------

  /** @internal */
  _sendUser(ch: DataChannel, ppid: number, bytes: Uint8Array): void {
    if (this._state !== 'established') throw new SctpError('SB_ERR_SCTP_NOT_OPEN', `association is ${this._state}`);
    const userBytes = ppid === PPID.STRING_EMPTY || ppid === PPID.BINARY_EMPTY ? 0 : bytes.length;
    const payload = bytes.length ? bytes : Uint8Array.of(0);
    this.outbound.queueMessage(ch, ch.id, ppid, payload, ch.ordered, ch.maxRetransmits, ch.maxPacketLifeTime, userBytes);
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

  /** @internal */
  _closeChannel(ch: DataChannel): void {
    const canReset = this._state === 'established' && this.peerReconfig;
    if (!canReset || ch._state === 'closing' || ch._state === 'closed' || this.channels.get(ch.id) !== ch) {
      this.channels.close(ch, canReset);
      return;
    }
    this.enter(() => this.channels.close(ch, true));
  }

  // ------------------------------------------------------------------ internals

  /** Runs fn, then (outermost call only) housekeeping, transmission, the outbox and the timer. */
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
    this.timers.arm(this.finished);
  }

  private emit(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      reportError(e);
    }
  }

  private transmitRaw(vtag: number, chunks: Uint8Array[]): void {
    this.outbox.push(encodePacket(this.localPort, this.remotePort, vtag, chunks));
  }

  private teardown(state: 'closed' | 'failed'): void {
    if (this.finished) return;
    this.finished = true;
    this._state = state;
    this.timers.stop();
    this.outbound.clear();
    this.control = [];
    this.inbound.clear();
    this.channels.closeAll();
    this.emit(() => this.onclose?.());
  }

  private fire(t: TimerName): void {
    switch (t) {
      case 't1':
        if (this._state !== 'cookie-wait' && this._state !== 'cookie-echoed') return;
      {
        const again = this.handshake.retransmit();
        if (again === 'failed') {
          this.teardown('failed');
          return;
        }
        if (again !== null) this.transmitRaw(this._state === 'cookie-wait' ? 0 : this.peerTag, [again]);
        this.timers.set('t1', this.handshake.rto);
        return;
      }
      case 't3':
        if (this._state !== 'established' && this._state !== 'shutdown') return;
        if (this.outbound.onT3() === 'failed') {
          this.transmitRaw(this.peerTag, [encodeChunk(ChunkType.ABORT, 0)]);
          this.teardown('failed');
        }
        return;
      case 'sack':
        this.inbound.sackRequested = true;
        return;
      case 'reconfig':
        if (this._state === 'established') this.reset.retransmit();
        return;
      case 't2':
        if (this._state !== 'shutdown') return;
        if (++this.t2Failures > MAX_ASSOC_RETRANS) {
          this.teardown('failed');
          return;
        }
        if (this.shutdownPhase === 'sent') this.control.push(encodeChunk(ChunkType.SHUTDOWN, 0, u32(this.inbound.cumTsn)));
        else if (this.shutdownPhase === 'ack-sent') this.control.push(encodeChunk(ChunkType.SHUTDOWN_ACK, 0));
        this.timers.set('t2', Math.min(this.outbound.rto * 2 ** this.t2Failures, RTO_MAX));
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
      const r = this.inbound;
      r.packetsSinceSack++;
      if (r.sackRequested || r.packetsSinceSack >= 2 || r.hasGaps || this._state === 'shutdown') {
        r.sackRequested = true;
      } else if (!this.timers.isSet('sack')) {
        this.timers.set('sack', SACK_DELAY);
      }
    }
  }

  private handleChunk(c: RawChunk): 'stop' | void {
    const live = this._state === 'established' || this._state === 'shutdown';
    switch (c.type) {
      case ChunkType.DATA:
        if (this._state === 'established' || (this._state === 'shutdown' && (this.shutdownPhase === 'pending' || this.shutdownPhase === 'sent'))) {
          this.inbound.data(decodeData(c));
        }
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
        if (live) this.outbound.handleSack(decodeSack(c));
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
        if (live) this.inbound.forwardTsn(c);
        return;
      case ChunkType.RECONFIG:
        if (live) this.reset.handle(c, this.inbound.cumTsn);
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

  // ---- handshake ----

  private handleInit(c: RawChunk): void {
    // Established: a restart or a late duplicate; restarts are not supported, so ignore it.
    if (this._state !== 'closed' && this._state !== 'cookie-wait' && this._state !== 'cookie-echoed') return;
    const ack = this.handshake.answerInit(c);
    if (ack !== null) this.transmitRaw(ack.vtag, [ack.chunk]);
  }

  private handleInitAck(c: RawChunk): void {
    if (this._state !== 'cookie-wait') return;
    const r = this.handshake.onInitAck(c);
    if (r === null) return;
    this.adoptPeer(r.peer);
    this._state = 'cookie-echoed';
    this.transmitRaw(this.peerTag, [r.echo]);
    this.timers.set('t1', this.handshake.rto);
  }

  private handleCookieEcho(value: Uint8Array): void {
    const peer = this.handshake.openCookie(value);
    if (peer === null) return;
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
    this.inbound.start(p.initialTsn);
    this.reset.start(p.initialTsn);
    this.outbound.adoptPeer(p.arwnd, p.forwardTsn);
    this.peerReconfig = p.reconfig;
    this.channels.outStreamCount = Math.min(MAX_STREAMS, p.inboundStreams);
  }

  private establish(): void {
    this._state = 'established';
    this.timers.clear('t1');
    this.handshake.done();
    this.emit(() => this.onestablished?.());
    this.channels.established(() => this.finished);
  }

  // ---- shutdown ----

  private handleShutdown(c: RawChunk): void {
    if (this._state !== 'established' && this._state !== 'shutdown') return;
    const out = this.outbound;
    if (c.value.length >= 4) {
      const cum = new DataView(c.value.buffer, c.value.byteOffset, 4).getUint32(0);
      if (tsnGe(cum, out.lastCumAck) && tsnLt(cum, out.nextTsn)) out.handleSack({ cumTsn: cum, arwnd: out.peerArwnd, gaps: [], dups: [] });
    }
    if (this._state === 'established' || this.shutdownPhase === 'pending' || this.shutdownPhase === 'sent') {
      this._state = 'shutdown';
      this.shutdownPhase = 'received';
      this.timers.clear('t2');
    }
  }

  // ---- outgoing ----

  /** Housekeeping that depends on the queue having drained: stream resets, SHUTDOWN. */
  private progress(): void {
    if (this.finished) return;
    if (this._state === 'established') this.reset.trySend(this.outbound.busyStreams(), tsnAdd(this.outbound.nextTsn, -1));
    if (this._state === 'shutdown' && this.outbound.empty) {
      if (this.shutdownPhase === 'pending') {
        this.shutdownPhase = 'sent';
        this.control.push(encodeChunk(ChunkType.SHUTDOWN, 0, u32(this.inbound.cumTsn)));
        this.timers.clear('t3');
        this.timers.set('t2', this.outbound.rto);
      } else if (this.shutdownPhase === 'received') {
        this.shutdownPhase = 'ack-sent';
        this.control.push(encodeChunk(ChunkType.SHUTDOWN_ACK, 0));
        this.timers.clear('t3');
        this.timers.set('t2', this.outbound.rto);
      }
    }
  }

  /** Control chunks, a SACK, DATA and FORWARD-TSN, bundled into packets of at most MTU bytes. */
  private transmitPending(): void {
    if (this.finished || this.peerTag === 0) {
      this.control = [];
      return;
    }
    const chunks: Uint8Array[] = this.control;
    this.control = [];
    const st = this._state;
    const live = st === 'established' || st === 'shutdown';
    if (this.inbound.sackRequested && live) {
      chunks.push(this.inbound.buildSack());
      this.timers.clear('sack');
    }
    const canData = st === 'established' || (st === 'shutdown' && (this.shutdownPhase === 'pending' || this.shutdownPhase === 'received'));
    if (canData) this.outbound.collectData(chunks);
    const fwd = live ? this.outbound.takeForwardTsn() : null;
    if (fwd !== null) chunks.push(fwd);
    else if (!live) this.outbound.dropForwardTsn();
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
}
