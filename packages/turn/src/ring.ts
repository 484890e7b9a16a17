// Output buffers for the relay path, reused in turn so forwarding a packet allocates nothing.
// A buffer handed out stays untouched for the next `slots - 1` calls, which covers sends the
// kernel could not take at once and the socket queued.

export class OutputRing {
  private readonly slots: Uint8Array[];
  private readonly slotSize: number;
  private index = 0;

  constructor(slots: number, slotSize: number) {
    const backing = new Uint8Array(slots * slotSize);
    this.slotSize = slotSize;
    this.slots = Array.from({ length: slots }, (_, i) => backing.subarray(i * slotSize, (i + 1) * slotSize));
  }

  /** A buffer of at least `length` bytes (a fresh one for oversized messages). */
  next(length: number): Uint8Array {
    if (length > this.slotSize) return new Uint8Array(length);
    const slot = this.slots[this.index];
    this.index = (this.index + 1) % this.slots.length;
    return slot;
  }
}
