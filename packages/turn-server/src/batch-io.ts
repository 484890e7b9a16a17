// UDP through batched native I/O (IPv4): the kernel fills one shared buffer with up to 64
// datagrams per recvmmsg, the core handles each as a view over that buffer, and what it
// sends is queued as (socket, address, offset, length) words and leaves in one sendmmsg.
// Forwarding a datagram creates no JS object: addresses stay numbers, payloads stay put.

import {
  FLAG_HEADER,
  FLAG_SEND_AREA,
  META_WORDS,
  OP_FLAGS,
  OP_HEADER,
  OP_IP,
  OP_LENGTH,
  OP_OFFSET,
  OP_PORT,
  OP_SOCK,
  OP_WORDS,
  UdpBatch,
  intToIp4,
  ip4ToInt,
  openUdp4,
  setSocketBuffers,
} from '@switchboard/netio';
import type { Allocation, ClientRef } from '@switchboard/turn';
import { relayIo, udpClientKey, type UdpIo, type UdpIoOptions } from './udp-io.js';

interface BatchClient extends ClientRef {
  readonly ip4: number;
  readonly sockId: number;
}

/** What a socket id stands for: a listener (its index) or an allocation's relay. */
type Endpoint = { listenerId: number; alloc: null } | { listenerId: -1; alloc: Allocation };

const SLOTS = 64;
const SLOT_SIZE = 8192;
const SEND_SLOTS = 256;

export class BatchIo implements UdpIo {
  private readonly batch: UdpBatch;
  private readonly recvData: Uint8Array;
  private readonly recvMeta: Int32Array;
  private readonly queue: Int32Array;
  private readonly sendData: Uint8Array;
  /** Endpoints by socket id; ids are reused through `freeIds`, so this stays dense. */
  private readonly endpoints: (Endpoint | undefined)[] = [];
  private readonly freeIds: number[] = [];
  private queued = 0;
  private inBatch = false;

  constructor(private readonly opts: UdpIoOptions) {
    this.batch = new UdpBatch({ slots: SLOTS, slotSize: SLOT_SIZE, sendSlots: SEND_SLOTS }, (count) => this.onBatch(count));
    this.recvData = this.batch.recvData;
    this.recvMeta = this.batch.recvMeta;
    this.queue = this.batch.sendQueue;
    this.sendData = this.batch.sendData;
  }

  /** Bytes dropped for not fitting a slot, sends the kernel refused, and so on. */
  stats() {
    return this.batch.stats();
  }

  async listen(ip: string, port: number, listenerId: number): Promise<void> {
    const fd = openUdp4(ip, port, this.opts.reusePort);
    this.tune(fd);
    this.batch.watch(fd, this.addEndpoint({ listenerId, alloc: null }));
  }

  async openRelay(alloc: Allocation, ip: string, port: number): Promise<number> {
    const fd = openUdp4(ip, port, false); // throws with code EADDRINUSE when taken
    this.tune(fd);
    const id = this.addEndpoint({ listenerId: -1, alloc });
    this.batch.watch(fd, id);
    return id;
  }

  closeRelay(io: unknown): void {
    const id = io as number;
    this.batch.unwatch(id);
    this.endpoints[id] = undefined;
    this.freeIds.push(id);
  }

  close(): void {
    this.flush();
    this.batch.close();
    this.endpoints.length = 0;
  }

  // ---- receiving --------------------------------------------------------------------

  private onBatch(count: number): void {
    const core = this.opts.core;
    const meta = this.recvMeta;
    const data = this.recvData;
    this.inBatch = true;
    try {
      for (let i = 0; i < count; i++) {
        const m = i * META_WORDS;
        const endpoint = this.endpoints[meta[m]];
        if (!endpoint) continue;
        const ip4 = meta[m + 1] >>> 0;
        const port = meta[m + 2];
        const length = meta[m + 3];
        const offset = i * SLOT_SIZE;
        if (endpoint.alloc) {
          core.handlePeerDataV4(endpoint.alloc, ip4, port, data, offset, length);
        } else if ((data[offset] & 0xc0) === 0x40 && length >= 4) {
          core.handleChannelData(core.udpAllocationV4(ip4, port), data, offset, length);
        } else {
          const address = intToIp4(ip4);
          const client: BatchClient = {
            key: udpClientKey(endpoint.listenerId, address, port),
            transport: 'udp',
            address,
            port,
            family: 4,
            ip4,
            sockId: meta[m],
          };
          core.handleClientMessage(client, data, offset, length);
        }
      }
    } catch (err) {
      this.opts.logger.error({ err: (err as Error).stack }, 'udp batch handler failed');
    } finally {
      this.inBatch = false;
      this.flush();
    }
  }

  // ---- sending ----------------------------------------------------------------------

  cork(): void {
    this.inBatch = true;
  }

  uncork(): void {
    this.inBatch = false;
    this.flush();
  }

  sendToClient(client: ClientRef, buf: Uint8Array, offset: number, length: number): void {
    const c = client as BatchClient;
    this.enqueue(c.sockId, c.ip4, c.port, 0, 0, buf, offset, length);
  }

  sendChannelDataToClient(client: ClientRef, channel: number, buf: Uint8Array, offset: number, length: number): void {
    const c = client as BatchClient;
    this.enqueue(c.sockId, c.ip4, c.port, FLAG_HEADER, ((channel << 16) | length) | 0, buf, offset, length);
  }

  sendToPeer(alloc: Allocation, address: string, port: number, buf: Uint8Array, offset: number, length: number, ip4: number): void {
    const id = relayIo<number>(alloc);
    if (id === null) return;
    this.enqueue(id, ip4 >= 0 ? ip4 : ip4ToInt(address), port, 0, 0, buf, offset, length);
  }

  /**
   * Queues one datagram. Bytes inside the receive buffer are sent from where they are; any
   * other bytes are copied into this op's send slot first (responses, indications).
   */
  private enqueue(sockId: number, ip4: number, port: number, flags: number, header: number, buf: Uint8Array, offset: number, length: number): void {
    if (this.queued === SEND_SLOTS) this.flush();
    const op = this.queued++;
    const q = this.queue;
    const w = op * OP_WORDS;
    let dataOffset: number;
    if (buf.buffer === this.recvData.buffer) {
      dataOffset = buf.byteOffset - this.recvData.byteOffset + offset;
    } else {
      if (length > SLOT_SIZE) {
        this.queued--;
        return;
      }
      dataOffset = op * SLOT_SIZE;
      this.sendData.set(offset === 0 && length === buf.length ? buf : buf.subarray(offset, offset + length), dataOffset);
      flags |= FLAG_SEND_AREA;
    }
    q[w + OP_SOCK] = sockId;
    q[w + OP_IP] = ip4 | 0;
    q[w + OP_PORT] = port;
    q[w + OP_HEADER] = header;
    q[w + OP_FLAGS] = flags;
    q[w + OP_OFFSET] = dataOffset;
    q[w + OP_LENGTH] = length;
    // Outside a batch (timers, broker replies) nothing else will flush: send now.
    if (!this.inBatch) this.flush();
  }

  private flush(): void {
    if (this.queued === 0) return;
    const n = this.queued;
    this.queued = 0;
    this.batch.flush(n);
  }

  private addEndpoint(e: Endpoint): number {
    const id = this.freeIds.pop() ?? this.endpoints.length;
    this.endpoints[id] = e;
    return id;
  }

  private tune(fd: number): void {
    const size = this.opts.socketBufferBytes;
    if (size > 0) setSocketBuffers(fd, size, size);
  }
}
