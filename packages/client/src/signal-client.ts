/**
 * The signaling socket: one WebSocket to `/rtc` at a time, requests matched to their replies (by
 * `id`, or by a predicate), server errors routed to the request they answer, and the keepalive
 * (ping every interval; a socket silent for longer than the timeout counts as lost). It knows
 * nothing of rooms: the Room decides what to send, and what to do when the socket is lost.
 */
import { encodeMessage, parseServerMessage, type ClientMessage, type Encodable, type ServerMessage, type ServerMessageOf } from '@switchboard/protocol';
import { SwitchboardError } from './types.js';

export interface SignalListener {
  /** A server message that answers no pending request. */
  message(m: ServerMessage): void;
  /** The socket closed or went silent (not after close()). */
  lost(): void;
}

type Waiter = { match: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void; reject: (e: Error) => void; id?: number };

export class SignalClient {
  private ws: WebSocket | null = null;
  private nextId = 1;
  private readonly waiters = new Set<Waiter>();
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private lastHeard = Date.now();
  /** Round-trip time of the last ping, ms. */
  rttMs: number | undefined;

  constructor(
    readonly url: string,
    private readonly listener: SignalListener,
  ) {}

  /** Opens a new socket (closing any previous one without a `lost`). */
  async connect(timeoutMs = 10_000): Promise<void> {
    this.close('reconnecting');
    const ws = new WebSocket(this.url);
    this.ws = ws;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('websocket connect timeout')), timeoutMs);
      ws.onopen = () => {
        clearTimeout(t);
        resolve();
      };
      ws.onerror = () => {
        clearTimeout(t);
        reject(new Error(`websocket connection to ${this.url} failed`));
      };
      ws.onclose = () => {
        clearTimeout(t);
        reject(new Error(`websocket to ${this.url} closed`));
      };
    }).catch((err) => {
      if (this.ws === ws) this.ws = null;
      ws.onclose = null;
      throw err;
    });
    this.lastHeard = Date.now();
    ws.onmessage = (ev) => this.onMessage(ws, ev.data);
    ws.onclose = () => this.onSocketClose(ws);
    ws.onerror = () => undefined;
  }

  /** After `joined`: ping every intervalMs; silence for longer than timeoutMs drops the socket. */
  startKeepalive(intervalMs: number, timeoutMs: number): void {
    clearInterval(this.pingTimer);
    this.lastHeard = Date.now();
    this.pingTimer = setInterval(() => {
      const ws = this.ws;
      if (ws === null) return;
      if (Date.now() - this.lastHeard > timeoutMs) {
        ws.close();
        this.onSocketClose(ws);
        return;
      }
      this.send({ type: 'ping', t: Date.now() });
    }, intervalMs);
  }

  send(msg: Encodable<ClientMessage>): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(encodeMessage(msg));
    return true;
  }

  /** Sends a request with an id and waits for the matching reply (or an error with replyTo). */
  request<T extends ServerMessage['type']>(msg: Encodable<ClientMessage>, match: (m: ServerMessage) => boolean, timeoutMs = 10_000): Promise<ServerMessageOf<T>> {
    const id = this.nextId++;
    return new Promise<ServerMessageOf<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new SwitchboardError('SB_ERR_TIMEOUT', `no reply to ${msg.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        id,
        match: (m) => match(m) || (m.type !== 'error' && 'id' in m && m.id === id),
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as ServerMessageOf<T>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.add(waiter);
      if (!this.send({ ...msg, id } as Encodable<ClientMessage>)) {
        this.waiters.delete(waiter);
        waiter.reject(new SwitchboardError('SB_ERR_NOT_CONNECTED', 'not connected'));
      }
    });
  }

  /** Closes the socket on purpose: pending requests fail, and no `lost` follows. */
  close(reason = 'closed'): void {
    clearInterval(this.pingTimer);
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      try {
        ws.close();
      } catch {
        /* already closed */
      }
    }
    this.failWaiters('SB_ERR_NOT_CONNECTED', reason);
  }

  private failWaiters(code: string, message: string): void {
    for (const w of [...this.waiters]) {
      this.waiters.delete(w);
      w.reject(new SwitchboardError(code, message));
    }
  }

  private onSocketClose(ws: WebSocket): void {
    if (ws !== this.ws) return;
    this.ws = null;
    ws.onclose = null;
    ws.onmessage = null;
    clearInterval(this.pingTimer);
    this.failWaiters('SB_ERR_NOT_CONNECTED', 'connection lost');
    this.listener.lost();
  }

  private onMessage(ws: WebSocket, data: unknown): void {
    if (ws !== this.ws) return;
    this.lastHeard = Date.now();
    if (typeof data !== 'string') return;
    const parsed = parseServerMessage(data);
    if (!parsed.ok) {
      console.warn('switchboard: ignoring server message', parsed.code, parsed.message);
      return;
    }
    const m = parsed.msg;
    if (m.type === 'error') {
      for (const w of this.waiters) {
        if (m.replyTo !== undefined && w.id === m.replyTo) {
          this.waiters.delete(w);
          w.reject(new SwitchboardError(m.code, m.message));
          return;
        }
      }
      if (m.fatal) this.failWaiters(m.code, m.message);
      console.warn('switchboard: server error', m.code, m.message);
      return;
    }
    if (m.type === 'pong') this.rttMs = Date.now() - m.t;
    for (const w of this.waiters) {
      if (w.match(m)) {
        this.waiters.delete(w);
        w.resolve(m);
        return;
      }
    }
    this.listener.message(m);
  }
}
