// A participant's data channels: SCTP (@switchboard/sctp) over its publisher connection's DTLS,
// with the two channels the SDK opens (`_reliable` and `_lossy`). What the participant sends is
// rate limited (TokenBucket); what it receives is dropped, and counted, when it does not keep up.
import { SctpAssociation } from '@switchboard/sctp';
import type { DataChannel } from '@switchboard/sctp';
import type { WebRtcTransport } from '@switchboard/webrtc';

/** Messages and bytes a participant may send per second (with a one-second burst). */
const SEND_RATE = { messages: 200, bytes: 2 * 1024 * 1024 } as const;
/** Queued bytes past which a receiver's channel drops: lossy data first, reliable data later. */
const RECEIVER_QUEUE_LIMIT = { reliable: 4 << 20, lossy: 256 << 10 } as const;

export class DataChannels {
  sctp: SctpAssociation | null = null;
  private reliable: DataChannel | null = null;
  private lossy: DataChannel | null = null;
  /** Messages dropped: over this participant's send rate, or to it while it did not keep up. */
  dropped = 0;
  /** Rate limit on the data this participant sends. */
  private readonly budget = new TokenBucket(SEND_RATE.messages, SEND_RATE.bytes);

  /** Starts the association over a connected-or-connecting transport; `onMessage` gets binary messages. */
  start(t: WebRtcTransport, remoteMaxMessageSize: number | undefined, onMessage: (frame: Uint8Array, reliable: boolean) => void): void {
    if (this.sctp !== null) return;
    const assoc = new SctpAssociation({
      role: t.dtlsRole,
      send: (packet) => t.sendAppData(packet),
      remoteMaxMessageSize: remoteMaxMessageSize ?? 65536,
    });
    assoc.onchannel = (ch) => {
      if (ch.label === '_reliable') this.reliable = ch;
      else if (ch.label === '_lossy') this.lossy = ch;
      else return;
      const reliable = ch.label === '_reliable';
      ch.onmessage = (m) => {
        if (typeof m !== 'string') onMessage(m, reliable);
      };
    };
    assoc.start();
    this.sctp = assoc;
  }

  /** Whether a message of `bytes` from this participant fits its send rate (counted as dropped if not). */
  admit(bytes: number, nowMs: number): boolean {
    if (this.budget.take(bytes, nowMs)) return true;
    this.dropped++;
    return false;
  }

  /** Sends a data frame to this participant on its reliable or lossy channel; false if dropped. */
  send(frame: Uint8Array, reliable: boolean): boolean {
    const ch = reliable ? this.reliable : this.lossy;
    if (ch === null || ch.readyState !== 'open' || ch.bufferedAmount > (reliable ? RECEIVER_QUEUE_LIMIT.reliable : RECEIVER_QUEUE_LIMIT.lossy)) {
      this.dropped++;
      return false;
    }
    ch.send(frame);
    return true;
  }

  stats(): { state: string; messagesSent: number; messagesReceived: number; bytesSent: number; bytesReceived: number; retransmissions: number; dropped: number } | null {
    return this.sctp === null ? null : { state: this.sctp.state, ...this.sctp.stats(), dropped: this.dropped };
  }

  close(): void {
    this.sctp?.close();
    this.sctp = null;
    this.reliable = null;
    this.lossy = null;
  }
}

/** Messages and bytes per second, with a one-second burst. */
class TokenBucket {
  private messages: number;
  private bytes: number;
  private at = 0;

  constructor(
    private readonly messagesPerSecond: number,
    private readonly bytesPerSecond: number,
  ) {
    this.messages = messagesPerSecond;
    this.bytes = bytesPerSecond;
  }

  take(bytes: number, nowMs: number): boolean {
    if (this.at !== 0) {
      const dt = (nowMs - this.at) / 1000;
      this.messages = Math.min(this.messagesPerSecond, this.messages + dt * this.messagesPerSecond);
      this.bytes = Math.min(this.bytesPerSecond, this.bytes + dt * this.bytesPerSecond);
    }
    this.at = nowMs;
    if (this.messages < 1 || this.bytes < bytes) return false;
    this.messages -= 1;
    this.bytes -= bytes;
    return true;
  }
}
