// ICE over TCP (RFC 6544) as a fallback where UDP is blocked: a passive TCP candidate on the
// same port number as the UDP mux. Every frame is length-prefixed (RFC 4571). A connection
// belongs to no transport until a valid Binding request names one; after that it carries that
// transport's STUN, DTLS and SRTP like a UDP address would. Per-packet costs here are higher
// than on UDP (one write per packet): it is the fallback path.
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { TcpBound, TcpPath } from './io.js';

/** Largest frame accepted (RFC 4571 allows 65535). */
const MAX_FRAME = 4096;
/** Bytes buffered per connection before it is dropped (a client not reading). */
const MAX_BUFFERED = 1 << 20;
const MAX_CONNECTIONS = 10_000;

/** Who handles a connection's frames (UdpMux); `T` is its transport type. */
export interface TcpMuxHost<T extends TcpBound> {
  /** A STUN message from a TCP connection; returns the transport it checked valid for (nominated or not). */
  onTcpStun(buf: Uint8Array, conn: IceTcpConnection<T>): T | undefined;
  onTcpDtls(t: T, buf: Uint8Array): void;
  onTcpSrtp(t: T, buf: Uint8Array): void;
}

export class IceTcpConnection<T extends TcpBound> implements TcpPath {
  transport: T | null = null;
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    readonly socket: Socket,
    private readonly host: TcpMuxHost<T>,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => socket.destroy());
  }

  get remote(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }

  private onData(d: Buffer): void {
    this.pending = this.pending.length === 0 ? d : Buffer.concat([this.pending, d]);
    let off = 0;
    while (this.pending.length - off >= 2) {
      const len = this.pending.readUInt16BE(off);
      if (len > MAX_FRAME) {
        this.socket.destroy();
        return;
      }
      if (this.pending.length - off - 2 < len) break;
      const frame = this.pending.subarray(off + 2, off + 2 + len);
      off += 2 + len;
      this.onFrame(frame);
      if (this.socket.destroyed) return;
    }
    this.pending = off === this.pending.length ? Buffer.alloc(0) : this.pending.subarray(off);
  }

  private onFrame(frame: Buffer): void {
    if (frame.length === 0) return;
    const b0 = frame[0];
    if (b0 < 4) {
      const t = this.host.onTcpStun(frame, this);
      if (t !== undefined && this.transport === null) this.transport = t;
      return;
    }
    const t = this.transport;
    if (t === null) return;
    if (b0 >= 20 && b0 <= 63) this.host.onTcpDtls(t, frame);
    else if (b0 >= 128 && b0 <= 191) this.host.onTcpSrtp(t, frame);
  }

  /** Sends one frame (copied). */
  send(buf: Uint8Array, off: number, len: number): void {
    if (this.socket.destroyed || len > 0xffff) return;
    if (this.socket.writableLength > MAX_BUFFERED) return; // drop rather than buffer without bound
    const out = Buffer.allocUnsafe(len + 2);
    out.writeUInt16BE(len, 0);
    out.set(buf.subarray(off, off + len), 2);
    this.socket.write(out);
  }

  close(): void {
    this.socket.destroy();
  }
}

export class TcpMux<T extends TcpBound> {
  private server: Server | null = null;
  private readonly connections = new Set<IceTcpConnection<T>>();

  constructor(private readonly host: TcpMuxHost<T>) {}

  listen(ip: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => {
        if (this.connections.size >= MAX_CONNECTIONS) {
          socket.destroy();
          return;
        }
        const c = new IceTcpConnection<T>(socket, this.host);
        this.connections.add(c);
        socket.on('close', () => {
          this.connections.delete(c);
          if (c.transport !== null && c.transport.tcp === c) c.transport.tcp = null;
        });
      });
      server.once('error', reject);
      server.listen({ host: ip, port }, () => {
        server.off('error', reject);
        this.server = server;
        resolve();
      });
    });
  }

  close(): void {
    for (const c of this.connections) c.close();
    this.connections.clear();
    this.server?.close();
    this.server = null;
  }
}
