// One relay engine: a TurnCore on real sockets. It owns its listeners (UDP, TCP, TLS) and
// the relay sockets of its allocations. Several engines share the listening ports through
// SO_REUSEPORT, one per thread; the kernel keeps each client on one engine.

import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { openReusePort, setSocketBuffers } from '@switchboard/reuseport';
import { channelDataLength, stunMessageLength } from '@switchboard/stun';
import { Credentials, PeerPolicy, TurnCore, type Allocation, type ClientRef, type PortRequest, type TurnHost } from '@switchboard/turn';
import type { BrokerClient } from './broker-client.js';
import type { TurnLogger, TurnServerOptions } from './options.js';

interface UdpClient extends ClientRef {
  readonly socket: dgram.Socket;
}

interface StreamClient extends ClientRef {
  readonly stream: net.Socket;
}

interface RelayHandle {
  socket: dgram.Socket | null;
  port: number;
  granted: boolean;
}

/** Address literals need no DNS: skip dgram's per-send lookup (a nextTick and a closure each). */
const literalLookup = (address: string, _family: unknown, cb: (err: Error | null, address: string, family: number) => void) =>
  cb(null, address, net.isIPv6(address) ? 6 : 4);

const MAX_STREAM_BUFFER = 1 << 20;
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
  private readonly opts: EngineOptions;
  private readonly udpListeners: dgram.Socket[] = [];
  private readonly streamListeners: net.Server[] = [];
  private readonly streams = new Set<net.Socket>();
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
  }

  async start(): Promise<void> {
    const s = this.opts.server;
    for (const ip of s.listeningIps) {
      this.udpListeners.push(await this.openUdpListener(ip, s.listeningPort));
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
    for (const s of this.udpListeners) s.close();
    for (const c of this.streams) c.destroy();
    await Promise.all(this.streamListeners.map((l) => new Promise<void>((r) => l.close(() => r()))));
  }

  // ---- listeners --------------------------------------------------------------------

  private async openUdpListener(ip: string, port: number): Promise<dgram.Socket> {
    const socket = dgram.createSocket({ type: net.isIPv6(ip) ? 'udp6' : 'udp4', lookup: literalLookup as never });
    socket.on('error', (err) => this.opts.logger.warn({ err: err.message, ip, port }, 'udp listener error'));
    const core = this.core;
    let listenerId = 0;
    socket.on('message', (buf: Buffer, rinfo: dgram.RemoteInfo) => {
      const first = buf[0];
      if ((first & 0xc0) === 0x40 && buf.length >= 4) {
        // The hot path: ChannelData, found by the client's port and address.
        core.handleChannelData(core.udpAllocation(rinfo.address, rinfo.port), buf, 0, buf.length);
        return;
      }
      const client: UdpClient = {
        key: `udp:${listenerId}:${rinfo.address}:${rinfo.port}`,
        transport: 'udp',
        address: rinfo.address,
        port: rinfo.port,
        family: rinfo.family === 'IPv6' ? 6 : 4,
        socket,
      };
      core.handleClientMessage(client, buf, 0, buf.length);
    });
    await this.bindUdp(socket, ip, port);
    listenerId = this.udpListeners.length;
    return socket;
  }

  private bindUdp(socket: dgram.Socket, ip: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      socket.once('error', onError);
      const done = () => {
        socket.off('error', onError);
        this.tuneBuffers(socket);
        resolve();
      };
      if (this.opts.reusePort) socket.bind({ fd: openReusePort('udp', ip, port) }, done);
      else socket.bind({ address: ip, port, exclusive: true }, done);
    });
  }

  private tuneBuffers(socket: dgram.Socket): void {
    const size = this.opts.server.socketBufferBytes;
    if (size <= 0) return;
    try {
      socket.setRecvBufferSize(size);
      socket.setSendBufferSize(size);
    } catch {
      // The kernel caps these at net.core.[rw]mem_max; the defaults still work.
    }
    void setSocketBuffers;
  }

  private openStreamListener(ip: string, port: number, tlsOpts: { cert: string; key: string } | null): Promise<net.Server> {
    const onConnection = (stream: net.Socket) => this.acceptStream(stream, tlsOpts ? 'tls' : 'tcp');
    const server = tlsOpts ? tls.createServer({ cert: tlsOpts.cert, key: tlsOpts.key }, onConnection) : net.createServer(onConnection);
    server.maxConnections = this.opts.server.maxTcpConnections;
    server.on('error', (err) => this.opts.logger.warn({ err: err.message, ip, port }, 'tcp listener error'));
    if (tlsOpts) (server as tls.Server).on('tlsClientError', () => {});
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
    this.streams.add(stream);
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
      pending = null;
      let off = 0;
      while (off < buf.length) {
        const view = buf.subarray(off);
        const first = view[0];
        const len = (first & 0xc0) === 0x40 ? channelDataLength(view, true) : (first & 0xc0) === 0 ? stunMessageLength(view) : -2;
        if (len === -2) {
          // Neither STUN nor ChannelData: the stream cannot be resynchronised.
          this.opts.logger.debug({ client: client.key }, 'garbage on stream, closing');
          stream.destroy();
          return;
        }
        if (len < 0 || len > view.length) break;
        this.core.handleClientMessage(client, buf, off, len);
        off += len;
      }
      if (off < buf.length) {
        pending = buf.subarray(off);
        if (pending.length > MAX_STREAM_BUFFER) stream.destroy();
      }
    });
    stream.on('error', () => {});
    stream.on('close', () => {
      this.streams.delete(stream);
      this.core.clientGone(client);
    });
  }

  // ---- TurnHost ---------------------------------------------------------------------

  sendToClient(client: ClientRef, buf: Uint8Array, offset: number, length: number): void {
    if (client.transport === 'udp') {
      (client as UdpClient).socket.send(buf, offset, length, client.port, client.address);
      return;
    }
    const stream = (client as StreamClient).stream;
    // Past a megabyte queued the client is not reading: drop, as a UDP path would.
    if (stream.destroyed || stream.writableLength > MAX_STREAM_BUFFER) return;
    stream.write(Buffer.from(buf.subarray(offset, offset + length)));
  }

  sendToPeer(alloc: Allocation, address: string, port: number, buf: Uint8Array, offset: number, length: number): void {
    const h = alloc.handle as RelayHandle | null;
    h?.socket?.send(buf, offset, length, port, address);
  }

  openRelay(alloc: Allocation, ports: PortRequest): void {
    const handle: RelayHandle = { socket: null, port: 0, granted: false };
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
      const socket = dgram.createSocket({ type: alloc.family === 6 ? 'udp6' : 'udp4', lookup: literalLookup as never });
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind({ address: this.opts.relayIp, port: grant.ok ? grant.port : 0, exclusive: true }, () => {
            socket.off('error', reject);
            resolve();
          });
        });
      } catch {
        socket.close();
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
        socket.close();
        this.closeRelay(alloc);
        return;
      }
      this.tuneBuffers(socket);
      handle.socket = socket;
      const core = this.core;
      socket.on('message', (buf: Buffer, rinfo: dgram.RemoteInfo) => core.handlePeerData(alloc, rinfo.address, rinfo.port, buf, 0, buf.length));
      socket.on('error', (err) => this.opts.logger.debug({ err: err.message, relay: handle.port }, 'relay socket error'));
      const announced = this.opts.server.externalIp ?? this.opts.relayIp;
      core.relayReady(alloc, { family: alloc.family, address: announced, port: handle.port }, token);
      return;
    }
    this.core.relayFailed(alloc, 508, 'could not bind a relay port');
  }

  closeRelay(alloc: Allocation): void {
    const h = alloc.handle as RelayHandle | null;
    if (!h) return;
    if (h.socket) {
      h.socket.close();
      h.socket = null;
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
