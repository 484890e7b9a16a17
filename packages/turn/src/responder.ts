// Responses: built in one reused writer, signed with the requester's key, always
// fingerprinted, sent, and kept for retransmissions of the same request.

import { Attr, methodOf, StunClass, StunWriter } from '@switchboard/stun';
import type { ClientRef } from './allocation.js';
import { TransactionCache } from './transaction-cache.js';

export const REASONS: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 420: 'Unknown Attribute', 437: 'Allocation Mismatch',
  438: 'Stale Nonce', 440: 'Address Family not Supported', 441: 'Wrong Credentials', 442: 'Unsupported Transport Protocol',
  443: 'Peer Address Family Mismatch', 486: 'Allocation Quota Reached', 500: 'Server Error', 508: 'Insufficient Capacity',
};

/** How a response is signed: with the requester's key (MI or MI-SHA256), or not at all. */
export interface Signing {
  key: Uint8Array | null;
  sha256: boolean;
}

export const UNSIGNED: Signing = { key: null, sha256: false };

interface Sender {
  sendToClient(client: ClientRef, buf: Uint8Array, offset: number, length: number): void;
}

export class Responder {
  readonly writer = new StunWriter(2048);
  /** RFC 8489 §6.3.1: clients retransmit for up to 39.5 s, so responses are kept 40 s. */
  private readonly cache = new TransactionCache(20_000, 40_000);

  constructor(
    private readonly sender: Sender,
    private readonly software: string,
  ) {}

  /** Starts a message in the shared writer. */
  start(method: number, cls: StunClass, tx: Uint8Array): StunWriter {
    return this.writer.start(method, cls, tx);
  }

  /** Signs what is in the writer, sends it, and keeps it for retransmissions if asked. */
  finish(client: ClientRef, tx: Uint8Array, signing: Signing, keep: boolean, now: number): void {
    const w = this.writer;
    w.addString(Attr.Software, this.software);
    if (signing.key) {
      if (signing.sha256) w.addMessageIntegritySha256(signing.key);
      else w.addMessageIntegrity(signing.key);
    }
    w.addFingerprint();
    const bytes = w.toBytes();
    if (keep) this.cache.put(cacheKey(client, methodOf((bytes[0] << 8) | bytes[1])), tx, bytes, now);
    this.sender.sendToClient(client, bytes, 0, bytes.length);
  }

  error(client: ClientRef, method: number, tx: Uint8Array, code: number, reason: string, signing: Signing, keep: boolean, now: number): void {
    this.writer.start(method, StunClass.ErrorResponse, tx).addErrorCode(code, reason);
    this.finish(client, tx, signing, keep, now);
  }

  /**
   * Answers a retransmitted request from the cache; false if this request is new. A request is
   * a retransmission only with the same client, method and transaction id.
   */
  resend(client: ClientRef, method: number, tx: Uint8Array, now: number): boolean {
    const bytes = this.cache.get(cacheKey(client, method), tx, now);
    if (!bytes) return false;
    this.sender.sendToClient(client, bytes, 0, bytes.length);
    return true;
  }

  sweep(now: number): void {
    this.cache.sweep(now);
  }
}

function cacheKey(client: ClientRef, method: number): string {
  return `${client.key}#${method}`;
}
