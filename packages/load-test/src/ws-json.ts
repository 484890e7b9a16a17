// A WebSocket carrying one JSON object per text frame, with typed waits.
import WebSocket from 'ws';

export class JsonSocket {
  private readonly listeners = new Set<(msg: Record<string, unknown>) => void>();
  private closedErr: Error | null = null;
  /** Messages that arrived before the first listener (a frame can follow the handshake in the same read). */
  private backlog: Record<string, unknown>[] | null = [];
  private readonly closeListeners = new Set<(err: Error) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString());
      } catch {
        return;
      }
      if (this.backlog) this.backlog.push(msg);
      for (const l of [...this.listeners]) l(msg);
    });
    ws.on('close', (code, reason) => this.fail(new Error(`websocket closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`)));
    ws.on('error', (err) => this.fail(err));
  }

  private fail(err: Error): void {
    if (this.closedErr) return;
    this.closedErr = err;
    for (const l of [...this.closeListeners]) l(err);
  }

  static open(url: string, protocol?: string, timeoutMs = 10_000): Promise<JsonSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocol ? [protocol] : undefined, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
      const onErr = (err: Error) => reject(new Error(`websocket ${url}: ${err.message}`));
      ws.once('error', onErr);
      ws.once('open', () => {
        ws.off('error', onErr);
        resolve(new JsonSocket(ws));
      });
    });
  }

  get closed(): boolean {
    return this.closedErr !== null;
  }

  send(obj: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(obj));
  }

  on(cb: (msg: Record<string, unknown>) => void): () => void {
    this.listeners.add(cb);
    const early = this.backlog;
    this.backlog = null;
    if (early) for (const m of early) cb(m);
    return () => this.listeners.delete(cb);
  }

  onClose(cb: (err: Error) => void): void {
    this.closeListeners.add(cb);
  }

  /** The first message for which `match` returns true; rejects on timeout or close. */
  wait(what: string, match: (msg: Record<string, unknown>) => boolean, timeoutMs = 15_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      if (this.closedErr) return reject(new Error(`${what}: ${this.closedErr.message}`));
      let settled = false;
      let off: () => void = () => undefined;
      const timer = setTimeout(() => finish(new Error(`${what}: no reply within ${timeoutMs} ms`)), timeoutMs);
      const onClose = (err: Error) => finish(new Error(`${what}: ${err.message}`));
      const finish = (err: Error | null, m?: Record<string, unknown>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        off();
        this.closeListeners.delete(onClose);
        if (err) reject(err);
        else resolve(m!);
      };
      this.closeListeners.add(onClose);
      off = this.on((m) => {
        if (match(m)) finish(null, m);
      });
      if (settled) off();
    });
  }

  close(): void {
    try {
      this.ws.close();
    } catch {
      /* already closed */
    }
    setTimeout(() => this.ws.terminate(), 1000).unref();
  }
}
