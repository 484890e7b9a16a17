// The association's data channels by stream id: opening them (DCEP or negotiated), delivering
// messages to them, and closing them by stream reset in both directions (RFC 8831 §6.7).
import { SctpError } from './errors.js';
import { MAX_STREAMS, PPID } from './constants.js';
import type { AssociationStats } from './constants.js';
import { DCEP_ACK, DCEP_OPEN, DataChannel, decodeDcepOpen, decodeUserMessage, encodeDcepOpen } from './data-channel.js';
import type { ChannelOwner, DataChannelOptions } from './data-channel.js';
import type { Outbound } from './outbound.js';

const utf8 = new TextEncoder();

/** What the channel table needs of the association. */
export interface ChannelHost {
  readonly role: 'client' | 'server';
  /** What the channels send and close through (the association). */
  readonly owner: ChannelOwner;
  readonly outbound: Outbound;
  readonly stats: AssociationStats;
  /** Calls an application callback; a throw is reported, never propagated into the association. */
  emit(fn: () => void): void;
  /** Resets our outgoing stream (stream-reset.ts). */
  requestReset(sid: number): void;
  /** Forgets the incoming ordering state of a stream. */
  resetIncoming(sid: number): void;
}

export class ChannelTable {
  private readonly byId = new Map<number, DataChannel>();
  /** How many streams the peer accepts from us (its INIT's inbound streams). */
  outStreamCount = MAX_STREAMS;

  constructor(private readonly host: ChannelHost) {}

  get(sid: number): DataChannel | undefined {
    return this.byId.get(sid);
  }

  ids(): number[] {
    return [...this.byId.keys()];
  }

  /** A new channel on a free (or the given) stream id; it opens when the association is established. */
  create(label: string, opts: DataChannelOptions): DataChannel {
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
      // DCEP stream ids are even for the DTLS client, odd for the server (RFC 8832 §6)
      id = -1;
      for (let i = this.host.role === 'client' ? 0 : 1; i < Math.min(MAX_STREAMS, this.outStreamCount); i += 2) {
        if (!this.byId.has(i)) {
          id = i;
          break;
        }
      }
      if (id < 0) throw new SctpError('SB_ERR_SCTP_NO_STREAM', 'no free stream id');
    }
    if (!Number.isInteger(id) || id < 0 || id >= MAX_STREAMS || id >= this.outStreamCount) {
      throw new SctpError('SB_ERR_SCTP_NO_STREAM', `stream id ${id} is out of range`);
    }
    if (this.byId.has(id)) throw new SctpError('SB_ERR_SCTP_STREAM_IN_USE', `stream id ${id} is in use`);
    const ch = new DataChannel(this.host.owner, id, label, {
      ordered: opts.ordered ?? true,
      maxRetransmits: opts.maxRetransmits ?? null,
      maxPacketLifeTime: opts.maxPacketLifeTime ?? null,
      protocol,
      negotiated,
      priority: opts.priority ?? 256,
    });
    this.byId.set(id, ch);
    return ch;
  }

  /** Opens a channel on an established association: negotiated ones at once (from a microtask), others with DATA_CHANNEL_OPEN. */
  open(ch: DataChannel, deferred: boolean): void {
    if (!ch.negotiated) {
      this.host.outbound.queueMessage(null, ch.id, PPID.DCEP, encodeDcepOpen(ch), true, null, null);
      return;
    }
    ch._state = 'open';
    if (deferred) {
      queueMicrotask(() => {
        if (ch._state === 'open') this.host.emit(() => ch.onopen?.());
      });
    } else {
      this.host.emit(() => ch.onopen?.());
    }
  }

  /** The association is established: open every channel made before, closing those the peer has no stream for. */
  established(finished: () => boolean): void {
    for (const ch of [...this.byId.values()]) {
      if (ch._state !== 'connecting' || finished()) continue;
      if (ch.id >= this.outStreamCount) {
        this.byId.delete(ch.id);
        ch._state = 'closed';
        this.host.emit(() => ch.onclose?.());
      } else {
        this.open(ch, false);
      }
    }
  }

  /** A whole message from the peer on stream `sid`. `onchannel` is told of channels the peer opened. */
  deliver(sid: number, ppid: number, data: Uint8Array, onchannel: (ch: DataChannel) => void): void {
    if (ppid === PPID.DCEP) {
      this.handleDcep(sid, data, onchannel);
      return;
    }
    const ch = this.byId.get(sid);
    if (!ch || ch._state === 'closed' || ch._inReset) return;
    if (ch._state === 'connecting') {
      // RFC 8832 §6: data before the DATA_CHANNEL_ACK implies the ACK.
      ch._state = 'open';
      this.host.emit(() => ch.onopen?.());
    }
    const { msg, bytes } = decodeUserMessage(ppid, data);
    this.host.stats.messagesReceived++;
    this.host.stats.bytesReceived += bytes;
    this.host.emit(() => ch.onmessage?.(msg));
  }

  private handleDcep(sid: number, data: Uint8Array, onchannel: (ch: DataChannel) => void): void {
    if (data.length < 1) return;
    if (data[0] === DCEP_OPEN) {
      const open = decodeDcepOpen(data);
      if (open === null) return;
      if (this.byId.has(sid)) return; // collision or a negotiated channel: ignore
      const ch = new DataChannel(this.host.owner, sid, open.label, open.params);
      ch._state = 'open';
      this.byId.set(sid, ch);
      this.host.outbound.queueMessage(null, sid, PPID.DCEP, Uint8Array.of(DCEP_ACK), true, null, null);
      this.host.emit(() => onchannel(ch));
      if (ch._state === 'open') this.host.emit(() => ch.onopen?.());
    } else if (data[0] === DCEP_ACK) {
      const ch = this.byId.get(sid);
      if (ch && ch._state === 'connecting') {
        ch._state = 'open';
        this.host.emit(() => ch.onopen?.());
      }
    }
  }

  /** close() on a channel: at once when streams cannot be reset, else by resetting our outgoing stream. */
  close(ch: DataChannel, canReset: boolean): 'closing' | 'closed' | 'none' {
    if (ch._state === 'closing' || ch._state === 'closed') return 'none';
    if (this.byId.get(ch.id) !== ch) {
      ch._state = 'closed';
      return 'none';
    }
    if (!canReset) {
      this.byId.delete(ch.id);
      this.host.outbound.resetStream(ch.id);
      this.host.resetIncoming(ch.id);
      ch._state = 'closed';
      queueMicrotask(() => this.host.emit(() => ch.onclose?.()));
      return 'closed';
    }
    ch._state = 'closing';
    this.host.requestReset(ch.id);
    return 'closing';
  }

  /** The peer reset its outgoing stream: we reset ours too, and the channel closes when both are done. */
  incomingReset(sid: number): void {
    this.host.resetIncoming(sid);
    const ch = this.byId.get(sid);
    if (!ch) return;
    ch._inReset = true;
    if (ch._state === 'open' || ch._state === 'connecting') {
      ch._state = 'closing';
      this.host.requestReset(sid);
    }
    this.maybeFinishClose(ch);
  }

  outgoingReset(sid: number): void {
    this.host.outbound.resetStream(sid);
    const ch = this.byId.get(sid);
    if (!ch) return;
    ch._outReset = true;
    this.maybeFinishClose(ch);
  }

  /** Whether our outgoing side of a channel still needs a reset (the peer asked for it). */
  needsOutgoingReset(sid: number): boolean {
    const ch = this.byId.get(sid);
    return ch !== undefined && !ch._outReset;
  }

  private maybeFinishClose(ch: DataChannel): void {
    if (!ch._outReset || !ch._inReset) return;
    if (this.byId.get(ch.id) === ch) this.byId.delete(ch.id);
    ch._state = 'closed';
    ch._buffered = 0;
    this.host.emit(() => ch.onclose?.());
  }

  /** Every channel closes (teardown). */
  closeAll(): void {
    const chans = [...this.byId.values()];
    this.byId.clear();
    for (const ch of chans) {
      ch._state = 'closed';
      ch._buffered = 0;
      this.host.emit(() => ch.onclose?.());
    }
  }
}
