// One client's WebSocket: size and rate limits, message parsing, a queue so messages are
// handled in order even when one (join) waits for token verification.

import type { WebSocket } from 'ws';
import { encodeMessage, MAX_MESSAGE_BYTES, parseClientMessage, type ClientMessage, type ErrorCode, type ServerMessage } from '@switchboard/protocol';

export interface ConnectionLimits {
  /** Messages per second a client may send (token bucket refill). */
  messagesPerSecond: number;
  /** Bucket size: a burst allowed above the rate. */
  burst: number;
  /** Messages buffered for sending before the client counts as not reading and is dropped. */
  maxBufferedBytes: number;
}

export const DEFAULT_LIMITS: ConnectionLimits = { messagesPerSecond: 50, burst: 200, maxBufferedBytes: 4 << 20 };

/** WebSocket close codes with meaning to the client (4000-4999 are the application's). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  tooLarge: 1009,
  joinTimeout: 4001,
  rateLimited: 4008,
  slowConsumer: 4009,
  left: 4010,
  replaced: 4011,
  removed: 4012,
  roomClosed: 4013,
} as const;

export class Connection {
  participantSid: string | null = null;
  roomName: string | null = null;
  closed = false;
  private tokens: number;
  private lastRefill: number;
  private chain: Promise<void> = Promise.resolve();
  private strikes = 0;

  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    readonly host: string,
    private readonly limits: ConnectionLimits,
    private readonly handle: (conn: Connection, msg: ClientMessage) => Promise<void>,
  ) {
    this.tokens = limits.burst;
    this.lastRefill = Date.now();
  }

  send(msg: ServerMessage): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > this.limits.maxBufferedBytes) {
      this.close(CloseCode.slowConsumer, 'not reading its messages');
      return;
    }
    this.ws.send(encodeMessage(msg));
  }

  error(code: ErrorCode, message: string, replyTo?: number, fatal = false): void {
    this.send({ v: 1, type: 'error', code, message, replyTo, fatal } as ServerMessage);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.ws.close(code, reason.slice(0, 120));
    } catch {
      this.ws.terminate();
    }
  }

  /** A frame from the client: limits first, then parsing, then the handler, in order. */
  receive(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (this.closed) return;
    if (!this.take()) {
      // Over the rate: the message is dropped and the client told; a client that keeps on is cut.
      if (++this.strikes > this.limits.burst) {
        this.close(CloseCode.rateLimited, 'message rate limit exceeded');
        return;
      }
      this.error('SB_ERR_RATE_LIMITED', `more than ${this.limits.messagesPerSecond} messages per second`);
      return;
    }
    // ws hands over a Buffer (fragments as an array); only an ArrayBuffer needs wrapping, as a view.
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (bytes.length > MAX_MESSAGE_BYTES) {
      this.error('SB_ERR_TOO_LARGE', `messages are at most ${MAX_MESSAGE_BYTES} bytes`);
      return;
    }
    const parsed = parseClientMessage(isBinary ? bytes : bytes.toString('utf8'));
    if (!parsed.ok) {
      this.error(parsed.code, parsed.message, parsed.id);
      return;
    }
    const msg = parsed.msg;
    this.chain = this.chain
      .then(() => (this.closed ? undefined : this.handle(this, msg)))
      .catch((err: unknown) => this.error('SB_ERR_INTERNAL', (err as Error).message ?? 'internal error', (msg as { id?: number }).id));
  }

  private take(): boolean {
    const now = Date.now();
    const elapsed = now - this.lastRefill;
    if (elapsed > 0) {
      this.tokens = Math.min(this.limits.burst, this.tokens + (elapsed * this.limits.messagesPerSecond) / 1000);
      this.lastRefill = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    this.strikes = 0;
    return true;
  }
}
