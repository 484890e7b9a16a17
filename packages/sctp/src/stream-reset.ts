// Stream reset (RFC 6525), which closes data channels (RFC 8831 §6.7): our Outgoing SSN Reset
// Requests for streams whose queued data has gone (one request in flight at a time,
// retransmitted on the 'reconfig' timer), and the answers to the peer's requests. A stream is
// closed once it was reset in both directions (the ChannelTable decides that).
import {
  ChunkType,
  ParamType,
  ReconfigResult,
  decodeIncomingReset,
  decodeOutgoingReset,
  decodeParams,
  decodeReconfigResponse,
  encodeChunk,
  encodeOutgoingReset,
  encodeReconfigResponse,
  tsnAdd,
  tsnLt,
} from './wire.js';
import type { RawChunk } from './wire.js';
import type { Timers } from './constants.js';

/** What stream reset needs of the association. */
export interface StreamResetHost {
  readonly timers: Timers;
  /** Queues a control chunk for the next packet. */
  control(chunk: Uint8Array): void;
  /** The current RTO, for the retransmission timer. */
  rto(): number;
  /** The peer reset its outgoing stream `sid` (our incoming one). */
  incomingReset(sid: number): void;
  /** The peer performed our reset of outgoing stream `sid`. */
  outgoingReset(sid: number): void;
  /** Every stream with a channel (a request naming no streams means all of them). */
  channelIds(): number[];
  /** Whether our outgoing side of `sid` still needs a reset. */
  needsOutgoingReset(sid: number): boolean;
}

export class StreamReset {
  private reqSeq: number;
  private peerReqSeqExpected = 0;
  private lastPeerResponse: { seq: number; result: number } | null = null;
  private readonly queue = new Set<number>();
  private pending: { seq: number; streams: number[]; chunk: Uint8Array } | null = null;

  constructor(
    localInitialTsn: number,
    private readonly host: StreamResetHost,
  ) {
    this.reqSeq = localInitialTsn;
  }

  /** The peer's initial TSN is its first request sequence number (RFC 6525 §4.1). */
  start(peerInitialTsn: number): void {
    this.peerReqSeqExpected = peerInitialTsn;
  }

  /** Resets our outgoing stream `sid` as soon as its queued data is gone. */
  request(sid: number): void {
    this.queue.add(sid);
  }

  /** Sends a request for the queued streams that are not `busy` (none while one is in flight). */
  trySend(busy: Set<number>, lastTsn: number): void {
    if (this.pending || this.queue.size === 0) return;
    const streams = [...this.queue].filter((s) => !busy.has(s));
    if (streams.length === 0) return;
    for (const s of streams) this.queue.delete(s);
    const seq = this.reqSeq;
    this.reqSeq = tsnAdd(seq, 1);
    const chunk = encodeChunk(
      ChunkType.RECONFIG,
      0,
      encodeOutgoingReset({ reqSeq: seq, respSeq: tsnAdd(this.peerReqSeqExpected, -1), lastTsn, streams }),
    );
    this.pending = { seq, streams, chunk };
    this.host.control(chunk);
    this.host.timers.set('reconfig', this.host.rto());
  }

  /** The 'reconfig' timer: send the request in flight again. */
  retransmit(): void {
    if (this.pending === null) return;
    this.host.control(this.pending.chunk);
    this.host.timers.set('reconfig', this.host.rto());
  }

  /** A RECONFIG chunk; `cumTsnRecv` says whether everything before a reset has arrived. */
  handle(c: RawChunk, cumTsnRecv: number): void {
    for (const p of decodeParams(c.value)) {
      if (p.type === ParamType.OUTGOING_SSN_RESET) {
        const r = decodeOutgoingReset(p);
        let result: number;
        if (this.lastPeerResponse && r.reqSeq === this.lastPeerResponse.seq) {
          result = this.lastPeerResponse.result; // retransmitted request
        } else if (r.reqSeq !== this.peerReqSeqExpected) {
          result = ReconfigResult.ERROR_BAD_SEQUENCE_NUMBER;
        } else if (tsnLt(cumTsnRecv, r.lastTsn)) {
          result = ReconfigResult.IN_PROGRESS; // not everything before the reset has arrived yet
        } else {
          result = ReconfigResult.SUCCESS_PERFORMED;
          this.peerReqSeqExpected = tsnAdd(r.reqSeq, 1);
          this.lastPeerResponse = { seq: r.reqSeq, result };
          const sids = r.streams.length ? r.streams : this.host.channelIds();
          for (const sid of sids) this.host.incomingReset(sid);
        }
        this.host.control(encodeChunk(ChunkType.RECONFIG, 0, encodeReconfigResponse(r.reqSeq, result)));
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
          for (const sid of r.streams.length ? r.streams : this.host.channelIds()) {
            if (this.host.needsOutgoingReset(sid)) this.queue.add(sid);
          }
        }
        this.host.control(encodeChunk(ChunkType.RECONFIG, 0, encodeReconfigResponse(r.reqSeq, result)));
      } else if (p.type === ParamType.RECONFIG_RESPONSE) {
        const r = decodeReconfigResponse(p);
        const pending = this.pending;
        if (!pending || r.respSeq !== pending.seq) continue;
        if (r.result === ReconfigResult.IN_PROGRESS) continue; // the timer retransmits it
        this.pending = null;
        this.host.timers.clear('reconfig');
        for (const sid of pending.streams) this.host.outgoingReset(sid);
      }
    }
  }
}
