// Where the mux queues outgoing datagrams, and who encrypts and sends them. Packets are built in
// fixed-size slots of `data`; `push` records (address, SRTP context, length) for the slot just
// filled; `flush` hands the queue over.
// - ThreadSendQueue (default): a native thread (@switchboard/dtls-srtp SrtpSender) protects and
//   sends while this thread goes on forwarding: the SFU's second core.
// - SyncSendQueue: protect in one native call and sendmmsg in another, on this thread.
import { SENDER_OP_CONTEXT, SENDER_OP_IP, SENDER_OP_LENGTH, SENDER_OP_OFFSET, SENDER_OP_PORT, SENDER_OP_WORDS, SrtpSender } from '@switchboard/dtls-srtp';
import type { SrtpTable } from '@switchboard/dtls-srtp';
import { FLAG_SEND_AREA, OP_FLAGS, OP_HEADER, OP_IP, OP_LENGTH, OP_OFFSET, OP_PORT, OP_SOCK, OP_WORDS } from '@switchboard/netio';
import type { UdpBatch } from '@switchboard/netio';

export interface SendQueue {
  /** The bytes slots live in (offsets from slotOffset are into this). */
  readonly data: Uint8Array;
  readonly buf: Buffer;
  readonly slotSize: number;
  /** Offset of the next free slot, or -1 when none is free (the datagram is then dropped). */
  slotOffset(): number;
  /** Queues the datagram just written at slotOffset(). srtpId -1: send as it is. */
  push(ip4: number, port: number, srtpId: number, len: number): void;
  /** How many are queued. */
  readonly length: number;
  flush(): void;
  sent(): number;
  dropped(): number;
  /** Packets by time from being queued to leaving (log2 µs buckets), when measured. */
  sendLatencyUs(): number[] | null;
  close(): void;
}

export class SyncSendQueue implements SendQueue {
  readonly data: Uint8Array;
  readonly buf: Buffer;
  length = 0;

  constructor(
    private readonly batch: UdpBatch,
    private readonly srtp: SrtpTable,
    readonly slotSize: number,
  ) {
    this.data = batch.sendData;
    this.buf = Buffer.from(this.data.buffer, this.data.byteOffset, this.data.byteLength);
  }

  slotOffset(): number {
    if (this.length === this.batch.sendSlots) this.flush();
    return this.length * this.slotSize;
  }

  push(ip4: number, port: number, srtpId: number, len: number): void {
    const q = this.batch.sendQueue;
    const b = this.length * OP_WORDS;
    q[b + OP_SOCK] = 0;
    q[b + OP_IP] = ip4;
    q[b + OP_PORT] = port;
    q[b + OP_HEADER] = srtpId; // the SRTP context for protectBatch; FLAG_HEADER is not set
    q[b + OP_FLAGS] = FLAG_SEND_AREA;
    q[b + OP_OFFSET] = this.length * this.slotSize;
    q[b + OP_LENGTH] = len;
    this.length++;
  }

  flush(): void {
    const n = this.length;
    if (n === 0) return;
    this.srtp.protectBatch(this.data, this.batch.sendQueue, n, OP_WORDS, OP_HEADER, OP_OFFSET, OP_LENGTH);
    this.batch.flush(n);
    this.length = 0;
  }

  sent(): number {
    return this.batch.stats().sent;
  }

  dropped(): number {
    return this.batch.stats().dropped_send;
  }

  sendLatencyUs(): number[] | null {
    return null; // sent inside flush(), on the processing thread: part of the processing time
  }

  close(): void {
    this.length = 0;
  }
}

export class ThreadSendQueue implements SendQueue {
  readonly data: Uint8Array;
  readonly buf: Buffer;
  readonly slotSize: number;
  length = 0;
  private readonly sender: SrtpSender;
  /** The buffer being filled, or -1 when all are with the thread. */
  private cur: number;
  private droppedHere = 0;

  constructor(srtp: SrtpTable, fd: number, opts: { buffers?: number; slots?: number; slotSize: number }) {
    this.sender = new SrtpSender(srtp, fd, { buffers: opts.buffers ?? 16, slots: opts.slots ?? 512, slotSize: opts.slotSize });
    this.slotSize = opts.slotSize;
    this.data = this.sender.data;
    this.buf = Buffer.from(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    this.cur = this.sender.acquire(0);
  }

  slotOffset(): number {
    if (this.length === this.sender.slots) this.flush();
    if (this.cur < 0) {
      // every buffer is with the thread (a burst: a keyframe to many subscribers): wait for one
      this.cur = this.sender.acquire(50);
      if (this.cur < 0) {
        this.droppedHere++;
        return -1;
      }
    }
    return this.sender.bufferOffset(this.cur) + this.length * this.slotSize;
  }

  push(ip4: number, port: number, srtpId: number, len: number): void {
    const o = (this.cur * this.sender.slots + this.length) * SENDER_OP_WORDS;
    const ops = this.sender.ops;
    ops[o + SENDER_OP_IP] = ip4;
    ops[o + SENDER_OP_PORT] = port;
    ops[o + SENDER_OP_CONTEXT] = srtpId;
    ops[o + SENDER_OP_OFFSET] = this.length * this.slotSize;
    ops[o + SENDER_OP_LENGTH] = len;
    this.length++;
  }

  flush(): void {
    if (this.length === 0 || this.cur < 0) return;
    this.sender.submit(this.cur, this.length);
    this.length = 0;
    // the next buffer; wait for the thread if all are taken (back-pressure)
    this.cur = this.sender.acquire(50);
  }

  sent(): number {
    return this.sender.stats().sent;
  }

  dropped(): number {
    return this.sender.stats().dropped + this.droppedHere;
  }

  sendLatencyUs(): number[] | null {
    return this.sender.stats().latencyUs;
  }

  close(): void {
    this.flush();
    this.sender.close();
  }
}
