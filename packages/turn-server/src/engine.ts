// One relay engine: a TurnCore on real sockets. It owns its listeners (UDP, TCP, TLS) and
// the relay sockets of its allocations. Several engines share the listening ports through
// SO_REUSEPORT, one per thread; the kernel keeps each client on one engine.

import net from 'node:net';
import tls from 'node:tls';
import { openReusePort } from '@switchboard/netio';
import { udpBatchAvailable } from '@switchboard/netio';
import { channelDataLength, stunMessageLength } from '@switchboard/stun';
import { Credentials, PeerPolicy, TurnCore, type Allocation, type ClientRef, type PortRequest, type TurnHost } from '@switchboard/turn';
import type { BrokerClient } from './broker-client.js';
import { BatchIo } from './batch-io.js';
import { DgramIo } from './dgram-io.js';
import type { TurnLogger, TurnServerOptions } from './options.js';
import type { RelayHandle, UdpIo } from './udp-io.js';

interface StreamClient extends ClientRef {
  readonly stream: net.Socket;
}

const MAX_STREAM_BUFFER = 1 << 20;
const uncork = (stream: net.Socket) => stream.uncork();
const STREAM_ALLOCATE_TIMEOUT_MS = 60_000;
const TICK_MS = 250;

export interface EngineOptions {
  server: TurnServerOptions;
  relayIp: string;
  /** Whether listeners are shared with other engines through SO_REUSEPORT. */
  reusePort: boolean;
  nonceSecret: Uint8Array;
  counters?: Float64Array;
  broker: BrokerClient;
  logger: TurnLogger;
}

export class RelayEngine implements TurnHost {
  readonly core: TurnCore;
  /** 'batch' when every UDP address is IPv4 and the native addon is built, else 'dgram'. */
  readonly udpIoKind: 'batch' | 'dgram';
  private readonly opts: EngineOptions;
  private readonly udp: UdpIo;
  private readonly streamListeners: net.Server[] = [];
  /**
   * Every accepted TCP connection, from its first moment (for TLS: the socket under the TLS one,
   * before the handshake), so that stop() ends them all: one that never finishes its handshake,
   * or never sends a byte, would otherwise keep the listener, and stop(), waiting.
   */
  private readonly connections = new Set<net.Socket>();
  private timer: NodeJS.Timeout | null = null;
  private nextStreamId = 1;
  private closed = false;

  constructor(opts: EngineOptions) {
    const s = opts.server;
    this.opts = opts;
    this.core = new TurnCore(
      {
        credentials: new Credentials({ realm: s.realm, users: s.users, authSecrets: s.authSecrets }),
        policy: new PeerPolicy({ allowLoopbackPeers: s.allowLoopbackPeers, deniedPeerIp: s.deniedPeerIp, allowedPeerIp: s.allowedPeerIp }),
        software: s.software,
        maxBps: s.maxBps,
        relayFamilies: net.isIPv6(opts.relayIp) ? [6] : [4],
        nonceSecret: opts.nonceSecret,
        counters: opts.counters,
      },
      this,
      Date.now(),
    );
    const allIPv4 = [...s.listeningIps, opts.relayIp].every((ip) => net.isIPv4(ip));
    const wantBatch = s.udpIo === 'batch' || (s.udpIo === 'auto' && allIPv4 && udpBatchAvailable());
    this.udpIoKind = wantBatch ? 'batch' : 'dgram';
    const ioOpts = { core: this.core, logger: opts.logger, reusePort: opts.reusePort, socketBufferBytes: s.socketBufferBytes };
    this.udp = wantBatch ? new BatchIo(ioOpts) : new DgramIo(ioOpts);
    if (wantBatch) this.sendChannelDataToClient = (client, channel, buf, offset, length) => this.udp.sendChannelDataToClient!(client, channel, buf, offset, length);
  }

  /** Set only with batched I/O: the core then hands ChannelData header and payload apart. */
  sendChannelDataToClient?: TurnHost['sendChannelDataToClient'];

  async start(): Promise<void> {
    const s = this.opts.server;
    for (const [i, ip] of s.listeningIps.entries()) {
      await this.udp.listen(ip, s.listeningPort, i);
      this.streamListeners.push(await this.openStreamListener(ip, s.listeningPort, null));
      if (s.cert && s.pkey && s.tlsListeningPort > 0) {
        this.streamListeners.push(await this.openStreamListener(ip, s.tlsListeningPort, { cert: s.cert, key: s.pkey }));
      }
    }
    this.timer = setInterval(() => this.core.tick(Date.now()), TICK_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.core.closeAll();
    this.udp.close();
    for (const c of this.connections) c.destroy();
    await Promise.all(this.streamListeners.map((l) => new Promise<void>((r) => l.close(() => r()))));
  }

  // ---- listeners --------------------------------------------------------------------

  private openStreamListener(ip: string, port: number, tlsOpts: { cert: string; key: string } | null): Promise<net.Server> {
    const onConnection = (stream: net.Socket) => this.acceptStream(stream, tlsOpts ? 'tls' : 'tcp');
    const server = tlsOpts ? tls.createServer({ cert: tlsOpts.cert, key: tlsOpts.key }, onConnection) : net.createServer(onConnection);
    server.maxConnections = this.opts.server.maxTcpConnections;
    server.on('error', (err) => this.opts.logger.warn({ err: err.message, ip, port }, 'tcp listener error'));
    if (tlsOpts) (server as tls.Server).on('tlsClientError', () => {});
    server.on('connection', (raw: net.Socket) => {
      this.connections.add(raw);
      raw.once('close', () => this.connections.delete(raw));
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      const done = () => {
        server.off('error', reject);
        resolve(server);
      };
      if (this.opts.reusePort) server.listen({ fd: openReusePort('tcp', ip, port) }, done);
      else server.listen({ host: ip, port, exclusive: true }, done);
    });
  }

  private acceptStream(stream: net.Socket, transport: 'tcp' | 'tls'): void {
    const address = stream.remoteAddress;
    const port = stream.remotePort;
    if (!address || !port || this.closed) {
      stream.destroy();
      return;
    }
    stream.setNoDelay(true);
    const client: StreamClient = {
      key: `${transport}:${this.nextStreamId++}:${address}:${port}`,
      transport,
      address,
      port,
      family: stream.remoteFamily === 'IPv6' ? 6 : 4,
      stream,
    };
    let pending: Buffer | null = null;
    stream.on('data', (chunk: Buffer) => {
      const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      this.udp.cork?.();
      try {
        pending = this.deframe(client, stream, buf);
      } finally {
        this.udp.uncork?.();
      }
      if (pending && pending.length > MAX_STREAM_BUFFER) stream.destroy();
    });
    // A connection that has not allocated within a while is closed, so idle sockets cannot pile up.
    const idle = setTimeout(() => {
      if (!this.core.allocationFor(client)) stream.destroy();
    }, STREAM_ALLOCATE_TIMEOUT_MS);
    idle.unref();
    stream.on('error', () => {});
    stream.on('close', () => {
      clearTimeout(idle);
      this.core.clientGone(client);
    });
  }

  /**
   * Hands every whole message in `buf` (STUN, or ChannelData padded to 4) to the core and
   * returns the incomplete rest, or null. Garbage closes the stream: it cannot be resynchronised.
   */
  private deframe(client: StreamClient, stream: net.Socket, buf: Buffer): Buffer | null {
    let off = 0;
    while (off < buf.length) {
      const view = buf.subarray(off);
      const first = view[0];
      let len: number;
      if ((first & 0xc0) === 0x40) len = channelDataLength(view, true);
      else if ((first & 0xc0) !== 0) len = -2;
      else if (view.length < 8) len = -1;
      else len = view[4] === 0x21 && view[5] === 0x12 && view[6] === 0xa4 && view[7] === 0x42 ? stunMessageLength(view) : -2;
      if (len === -2) {
        this.opts.logger.debug({ client: client.key }, 'garbage on stream, closing');
        stream.destroy();
        return null;
      }
      if (len < 0 || len > view.length) break;
      this.core.handleClientMessage(client, buf, off, len);
      off += len;
    }
    return off < buf.length ? buf.subarray(off) : null;
  }

  // ---- TurnHost ---------------------------------------------------------------------

  sendToClient(client: ClientRef, buf: Uint8Array, offset: number, length: number): void {
    if (client.transport === 'udp') {
      this.udp.sendToClient(client, buf, offset, length);
      return;
    }
    const stream = (client as StreamClient).stream;
    // Past a megabyte queued the client is not reading: drop, as a UDP path would.
    if (stream.destroyed || stream.writableLength > MAX_STREAM_BUFFER) return;
    // Cork for the rest of this tick, so a burst of frames leaves in one writev.
    if (stream.writableCorked === 0) {
      stream.cork();
      process.nextTick(uncork, stream);
    }
    stream.write(Buffer.from(buf.subarray(offset, offset + length)));
  }

  sendToPeer(alloc: Allocation, address: string, port: number, buf: Uint8Array, offset: number, length: number, ip4: number): void {
    this.udp.sendToPeer(alloc, address, port, buf, offset, length, ip4);
  }

  openRelay(alloc: Allocation, ports: PortRequest): void {
    const handle: RelayHandle = { io: null, port: 0, granted: false };
    alloc.handle = handle;
    void this.openRelaySocket(alloc, handle, ports);
  }

  private async openRelaySocket(alloc: Allocation, handle: RelayHandle, ports: PortRequest): Promise<void> {
    const broker = this.opts.broker;
    let grant = await broker.acquire(alloc.quotaUser, ports);
    const token = grant.ok ? grant.token : undefined;
    for (let attempt = 0; attempt < 8; attempt++) {
      if (!grant.ok) {
        handle.granted = false; // a refused replace() has returned the quota already
        this.core.relayFailed(alloc, grant.code, grant.reason);
        return;
      }
      handle.port = grant.port;
      handle.granted = true;
      if (alloc.state !== 'pending') {
        // The client went away while we waited.
        this.closeRelay(alloc);
        return;
      }
      let io: unknown;
      try {
        io = await this.udp.openRelay(alloc, this.opts.relayIp, handle.port);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' && (err as NodeJS.ErrnoException).code !== 'EACCES') {
          this.opts.logger.warn({ err: (err as Error).message, port: handle.port }, 'relay bind failed');
        }
        // A reserved port someone else took cannot be swapped: the pair would break.
        if (ports.token !== undefined || token !== undefined) {
          grant = { ok: false, code: 508, reason: 'reserved relay port is taken' };
          broker.release(alloc.quotaUser, -1);
          continue;
        }
        grant = await broker.replace(alloc.quotaUser, handle.port, ports.evenPort);
        continue;
      }
      if (alloc.state !== 'pending') {
        this.udp.closeRelay(io);
        this.closeRelay(alloc);
        return;
      }
      handle.io = io;
      const core = this.core;
      const announced = this.opts.server.externalIp ?? this.opts.relayIp;
      core.relayReady(alloc, { family: alloc.family, address: announced, port: handle.port }, token);
      return;
    }
    this.closeRelay(alloc); // returns the last grant's quota
    this.core.relayFailed(alloc, 508, 'could not bind a relay port');
  }

  closeRelay(alloc: Allocation): void {
    const h = alloc.handle as RelayHandle | null;
    if (!h) return;
    if (h.io !== null) {
      this.udp.closeRelay(h.io);
      h.io = null;
    }
    if (h.granted) {
      h.granted = false;
      this.opts.broker.release(alloc.quotaUser, h.port);
    }
  }

  log(level: 'info' | 'warn' | 'debug', msg: string, fields: Record<string, unknown>): void {
    this.opts.logger[level](fields, msg);
  }
}
