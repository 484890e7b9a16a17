import type { Allocation, ClientRef, TurnCore } from '@switchboard/turn';
import type { TurnLogger } from './options.js';

/** What an engine keeps in `alloc.handle`: the granted port and the I/O's own relay object. */
export interface RelayHandle {
  port: number;
  granted: boolean;
  io: unknown;
}

/** The 5-tuple key of a UDP client (listener, address, port), the same whichever I/O carries it. */
export function udpClientKey(listenerId: number, address: string, port: number): string {
  return `udp:${listenerId}:${address}:${port}`;
}

export function relayIo<T>(alloc: Allocation): T | null {
  return ((alloc.handle as RelayHandle | null)?.io ?? null) as T | null;
}

/**
 * How an engine moves UDP datagrams: Node's dgram (any family, one callback per datagram),
 * or batched native I/O (IPv4, recvmmsg/sendmmsg over one shared buffer). Either hands what
 * arrives to the core and sends what the core asks for; neither knows TURN.
 */
export interface UdpIo {
  listen(ip: string, port: number, listenerId: number): Promise<void>;
  /** Binds a relay socket for the allocation and returns it; rejects with err.code 'EADDRINUSE' when taken. */
  openRelay(alloc: Allocation, ip: string, port: number): Promise<unknown>;
  closeRelay(io: unknown): void;
  sendToClient(client: ClientRef, buf: Uint8Array, offset: number, length: number): void;
  sendChannelDataToClient?(client: ClientRef, channel: number, buf: Uint8Array, offset: number, length: number): void;
  sendToPeer(alloc: Allocation, address: string, port: number, buf: Uint8Array, offset: number, length: number, ip4: number): void;
  close(): void;
  /** Optional: hold sends until uncork() (a TCP read that carried many frames sends them at once). */
  cork?(): void;
  uncork?(): void;
}

export interface UdpIoOptions {
  core: TurnCore;
  logger: TurnLogger;
  /** Listeners share their port with other threads (SO_REUSEPORT). */
  reusePort: boolean;
  socketBufferBytes: number;
}
