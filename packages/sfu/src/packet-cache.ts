// The last N packets of one inbound video stream, by sequence number, in one preallocated
// buffer: NACKs from subscribers are answered from here. Storing copies bytes; nothing else
// allocates.

const DEFAULT_SLOTS = 512;
const SLOT_BYTES = 1500;

export class PacketCache {
  readonly data: Uint8Array;
  private readonly buf: Buffer;
  private readonly lengths: Int32Array;
  /** The 16-bit sequence number held in each slot, -1 when empty. */
  private readonly seqs: Int32Array;
  private readonly storedAt: Float64Array;
  private readonly mask: number;

  constructor(slots = DEFAULT_SLOTS) {
    if ((slots & (slots - 1)) !== 0) throw new RangeError('slots must be a power of two');
    this.data = new Uint8Array(slots * SLOT_BYTES);
    this.buf = Buffer.from(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    this.lengths = new Int32Array(slots);
    this.seqs = new Int32Array(slots).fill(-1);
    this.storedAt = new Float64Array(slots);
    this.mask = slots - 1;
  }

  store(src: Uint8Array, off: number, len: number, seq: number, nowMs: number): void {
    if (len > SLOT_BYTES) return;
    const slot = seq & this.mask;
    const at = slot * SLOT_BYTES;
    Buffer.prototype.copy.call(src, this.buf, at, off, off + len);
    this.lengths[slot] = len;
    this.seqs[slot] = seq;
    this.storedAt[slot] = nowMs;
  }

  /** The packet's offset in `data` (its length via lengthAt), or -1 if not held or older than maxAgeMs. */
  find(seq: number, nowMs: number, maxAgeMs = 1000): number {
    const slot = seq & this.mask;
    if (this.seqs[slot] !== seq || nowMs - this.storedAt[slot] > maxAgeMs) return -1;
    return slot * SLOT_BYTES;
  }

  lengthAt(offset: number): number {
    return this.lengths[(offset / SLOT_BYTES) | 0];
  }
}
