// UDP through Node's dgram: works for IPv4 and IPv6 everywhere, one callback per datagram.

import dgram from 'node:dgram';
import net from 'node:net';
import { openReusePort } from '@switchboard/netio';
import type { Allocation, ClientRef } from '@switchboard/turn';
import { relayIo, udpClientKey, type UdpIo, type UdpIoOptions } from './udp-io.js';

interface DgramClient extends ClientRef {
  readonly socket: dgram.Socket;
}

/** Address literals need no DNS: skip dgram's per-send lookup (a nextTick and a closure each). */
const literalLookup = (address: string, _family: unknown, cb: (err: Error | null, address: string, family: number) => void) =>
  cb(null, address, net.isIPv6(address) ? 6 : 4);

export class DgramIo implements UdpIo {
  private readonly listeners: dgram.Socket[] = [];

  constructor(private readonly opts: UdpIoOptions) {}

  async listen(ip: string, port: number, listenerId: number): Promise<void> {
    const socket = dgram.createSocket({ type: net.isIPv6(ip) ? 'udp6' : 'udp4', lookup: literalLookup as never });
    socket.on('error', (err) => this.opts.logger.warn({ err: err.message, ip, port }, 'udp listener error'));
    const core = this.opts.core;
    socket.on('message', (buf: Buffer, rinfo: dgram.RemoteInfo) => {
      const first = buf[0];
      if ((first & 0xc0) === 0x40 && buf.length >= 4) {
        // The hot path: ChannelData, found by the client's port and address.
        core.handleChannelData(core.udpAllocation(rinfo.address, rinfo.port), buf, 0, buf.length);
        return;
      }
      const client: DgramClient = {
        key: udpClientKey(listenerId, rinfo.address, rinfo.port),
        transport: 'udp',
        address: rinfo.address,
        port: rinfo.port,
        family: rinfo.family === 'IPv6' ? 6 : 4,
        socket,
      };
      core.handleClientMessage(client, buf, 0, buf.length);
    });
    await this.bind(socket, ip, port, this.opts.reusePort);
    this.listeners.push(socket);
  }

  async openRelay(alloc: Allocation, ip: string, port: number): Promise<dgram.Socket> {
    const socket = dgram.createSocket({ type: alloc.family === 6 ? 'udp6' : 'udp4', lookup: literalLookup as never });
    try {
      await this.bind(socket, ip, port, false);
    } catch (err) {
      socket.close();
      throw err;
    }
    const core = this.opts.core;
    socket.on('message', (buf: Buffer, rinfo: dgram.RemoteInfo) => core.handlePeerData(alloc, rinfo.address, rinfo.port, buf, 0, buf.length));
    socket.on('error', (err) => this.opts.logger.debug({ err: err.message, relay: port }, 'relay socket error'));
    return socket;
  }

  closeRelay(io: unknown): void {
    (io as dgram.Socket).close();
  }

  sendToClient(client: ClientRef, buf: Uint8Array, offset: number, length: number): void {
    (client as DgramClient).socket.send(buf, offset, length, client.port, client.address);
  }

  sendToPeer(alloc: Allocation, address: string, port: number, buf: Uint8Array, offset: number, length: number): void {
    relayIo<dgram.Socket>(alloc)?.send(buf, offset, length, port, address);
  }

  close(): void {
    for (const s of this.listeners) s.close();
    this.listeners.length = 0;
  }

  private bind(socket: dgram.Socket, ip: string, port: number, reusePort: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      const done = () => {
        socket.off('error', reject);
        const size = this.opts.socketBufferBytes;
        if (size > 0) {
          try {
            socket.setRecvBufferSize(size);
            socket.setSendBufferSize(size);
          } catch {
            // Capped by net.core.[rw]mem_max; the defaults still work.
          }
        }
        resolve();
      };
      if (reusePort) socket.bind({ fd: openReusePort('udp', ip, port) }, done);
      else socket.bind({ address: ip, port, exclusive: true }, done);
    });
  }
}
