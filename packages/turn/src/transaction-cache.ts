// Responses kept for retransmitted requests (RFC 8489 §6.3.1): a retransmission is answered
// with the same bytes instead of being processed twice. Bounded in size and in age.

import { bytesHex } from './hex.js';

function keyOf(clientKey: string, tx: Uint8Array): string {
  return `${clientKey}|${bytesHex(tx)}`;
}

export class TransactionCache {
  private readonly entries = new Map<string, { bytes: Uint8Array; expiresAt: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(clientKey: string, tx: Uint8Array, now: number): Uint8Array | undefined {
    if (this.entries.size === 0) return undefined;
    const e = this.entries.get(keyOf(clientKey, tx));
    return e && e.expiresAt > now ? e.bytes : undefined;
  }

  put(clientKey: string, tx: Uint8Array, bytes: Uint8Array, now: number): void {
    if (this.entries.size >= this.maxEntries) {
      // Maps iterate in insertion order: the first key is the oldest.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(keyOf(clientKey, tx), { bytes, expiresAt: now + this.ttlMs });
  }

  sweep(now: number): void {
    for (const [k, e] of this.entries) {
      if (e.expiresAt > now) break; // insertion order is expiry order
      this.entries.delete(k);
    }
  }
}
