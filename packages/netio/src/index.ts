import { isIPv4 } from 'node:net';
import { loadAddon } from '@switchboard/napi-util';

/** Words per queued send in `UdpBatch.sendQueue`. */
export const OP_WORDS = 7;
/** sockId (as given to `watch`) of the socket to send from. */
export const OP_SOCK = 0;
/** Destination IPv4 address as an int (see `ip4ToInt`). */
export const OP_IP = 1;
/** Destination port. */
export const OP_PORT = 2;
/** 32-bit word sent big-endian before the data when `FLAG_HEADER` is set. */
export const OP_HEADER = 3;
/** `FLAG_*` bits. */
export const OP_FLAGS = 4;
/** Byte offset of the data in `recvData` (or `sendData` with `FLAG_SEND_AREA`). */
export const OP_OFFSET = 5;
/** Data length in bytes. */
export const OP_LENGTH = 6;

/** The data is in `sendData` (otherwise in `recvData`). */
export const FLAG_SEND_AREA = 1;
/** Prepend `OP_HEADER` as 4 big-endian bytes (e.g. a ChannelData header). */
export const FLAG_HEADER = 2;
/** Pad the datagram (header included) with zero bytes to a multiple of 4. */
export const FLAG_PAD4 = 4;

/** Words per received datagram in `UdpBatch.recvMeta`: [sockId, srcIp, srcPort, length]. */
export const META_WORDS = 4;
export const META_SOCK = 0;
export const META_IP = 1;
export const META_PORT = 2;
export const META_LENGTH = 3;

export interface UdpBatchStats {
  /** Datagrams delivered to the callback. */
  received: number;
  /** Datagrams the kernel accepted in `flush`. */
  sent: number;
  /** Datagrams larger than `slotSize`, dropped on receipt. */
  dropped_truncated: number;
  /** Queued sends not sent: socket buffer full, unknown sockId, invalid op, or refused by the kernel. */
  dropped_send: number;
  /** Callback invocations. */
  batches: number;
}

export interface UdpBatchOptions {
  /** Datagrams received per batch (recvmmsg vector length). Default 64. */
  slots?: number;
  /** Bytes per receive slot and per send slot; larger datagrams are dropped. Default 2048. */
  slotSize?: number;
  /** Capacity of the send queue (ops per flush). Default 256. */
  sendSlots?: number;
}

type Handle = object & { readonly __udpBatch: unique symbol };

/** The native half: present when node-gyp built it at install time. */
interface Native {
  openSocket(type: 'udp' | 'tcp', address: string, port: number, reusePort: boolean, backlog: number): number;
  localPort(fd: number): number;
  setBuffers(fd: number, rcvbuf: number, sndbuf: number): void;
  createBatch(slots: number, slotSize: number, sendSlots: number, onBatch: (count: number) => void): Handle;
  batchBuffers(h: Handle): { recvData: ArrayBuffer; recvMeta: ArrayBuffer; sendQueue: ArrayBuffer; sendData: ArrayBuffer };
  watch(h: Handle, fd: number, sockId: number): void;
  unwatch(h: Handle, sockId: number): void;
  flush(h: Handle, count: number): number;
  stats(h: Handle): UdpBatchStats;
  closeBatch(h: Handle): void;
}

let native: Native | null | undefined;

function load(): Native | null {
  if (native === undefined) native = loadAddon(import.meta.url, 'netio') as Native | null;
  return native;
}

function need(): Native {
  const n = load();
  if (!n) throw Object.assign(new Error('netio addon is not built'), { code: 'SB_ERR_UDP_BATCH_UNAVAILABLE' });
  return n;
}

/** True when batched UDP I/O is available (Linux, addon built). */
export function udpBatchAvailable(): boolean {
  return process.platform === 'linux' && load() !== null;
}

/**
 * A bound, non-blocking, close-on-exec IPv4 UDP socket's descriptor (port 0: the kernel picks).
 * With `reusePort`, SO_REUSEPORT and SO_REUSEADDR are set. A failed bind throws with `code` set
 * to the errno name (`EADDRINUSE`, `EADDRNOTAVAIL`, `EACCES`, ...); other failures with
 * `code` 'SB_ERR_UDP'. `errno` (negative) and `syscall` are set too.
 */
export function openUdp4(address: string, port: number, reusePort = false): number {
  if (!isIPv4(address)) throw Object.assign(new Error(`not an IPv4 address: ${address}`), { code: 'SB_ERR_UDP' });
  return need().openSocket('udp', address, port, reusePort, 0);
}

/**
 * A bound socket (listening, for TCP) of either family with SO_REUSEPORT, for Node to wrap:
 * dgram `bind({ fd })` or net `listen({ fd })`. Node 20's dgram cannot share a port itself.
 */
export function openReusePort(type: 'udp' | 'tcp', address: string, port: number, backlog = 511): number {
  return need().openSocket(type, address, port, true, backlog);
}

/** True when sockets can share a port across threads here (Linux, addon built). */
export function reusePortAvailable(): boolean {
  return udpBatchAvailable();
}

/** The local port a descriptor is bound to. */
export function localPort(fd: number): number {
  return need().localPort(fd);
}

/** Sets SO_RCVBUF / SO_SNDBUF on a descriptor (0 leaves one as it is; errors are ignored). */
export function setSocketBuffers(fd: number, rcvbuf: number, sndbuf: number): void {
  load()?.setBuffers(fd, rcvbuf, sndbuf);
}

/** 'a.b.c.d' -> (a<<24|b<<16|c<<8|d)|0, the encoding of `META_IP` and `OP_IP`. */
export function ip4ToInt(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) throw new TypeError(`not an IPv4 address: ${text}`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) throw new TypeError(`not an IPv4 address: ${text}`);
    const v = Number(p);
    if (v > 255) throw new TypeError(`not an IPv4 address: ${text}`);
    n = (n << 8) | v;
  }
  return n | 0;
}

/** The inverse of `ip4ToInt`. */
export function intToIp4(n: number): string {
  return `${(n >>> 24) & 0xff}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/**
 * Batched UDP I/O on sockets of the current thread's event loop (one per worker thread).
 *
 * Receiving: each readable watched socket is drained with recvmmsg into `recvData`
 * (slot i at i*slotSize); `recvMeta` holds [sockId, srcIp, srcPort, length] per datagram and
 * `onBatch(count)` is called once per recvmmsg result. The contents are only valid during the
 * callback: the next batch overwrites them.
 *
 * Sending: write ops of `OP_WORDS` int32 into `sendQueue` (data either in `recvData`, zero copy,
 * or built in `sendData`), then `flush(count)`. Consecutive ops on the same sockId go out in one
 * sendmmsg. Ops referring to `recvData` must be flushed before `onBatch` returns.
 *
 * Do not transfer (postMessage transfer list) the buffers: the native side keeps pointers.
 */
export class UdpBatch {
  readonly recvData: Uint8Array;
  readonly recvMeta: Int32Array;
  readonly sendQueue: Int32Array;
  readonly sendData: Uint8Array;
  readonly slots: number;
  readonly slotSize: number;
  readonly sendSlots: number;
  private readonly n: Native;
  private readonly handle: Handle;

  constructor(opts: UdpBatchOptions, onBatch: (count: number) => void) {
    this.n = need();
    this.slots = opts.slots ?? 64;
    this.slotSize = opts.slotSize ?? 2048;
    this.sendSlots = opts.sendSlots ?? 256;
    this.handle = this.n.createBatch(this.slots, this.slotSize, this.sendSlots, onBatch);
    const b = this.n.batchBuffers(this.handle);
    this.recvData = new Uint8Array(b.recvData);
    this.recvMeta = new Int32Array(b.recvMeta);
    this.sendQueue = new Int32Array(b.sendQueue);
    this.sendData = new Uint8Array(b.sendData);
  }

  /**
   * Starts receiving on `fd` (from `openUdp4`) under `sockId` (a small non-negative int of your
   * choosing, also used to send from it). The batch owns the descriptor from now on.
   */
  watch(fd: number, sockId: number): void {
    this.n.watch(this.handle, fd, sockId);
  }

  /** Stops receiving on a socket and closes it. Unknown ids are ignored. */
  unwatch(sockId: number): void {
    this.n.unwatch(this.handle, sockId);
  }

  /** Sends ops 0..count-1 of `sendQueue`; returns how many datagrams the kernel took. */
  flush(count: number): number {
    return this.n.flush(this.handle, count);
  }

  stats(): UdpBatchStats {
    return this.n.stats(this.handle);
  }

  /** Closes every watched socket. The buffers stay readable; flush sends nothing afterwards. */
  close(): void {
    this.n.closeBatch(this.handle);
  }
}
