// Long-term credential checks (RFC 8489 §9.2): the 401 challenge, stale nonces (438), users,
// REST credentials and MESSAGE-INTEGRITY(-SHA256). It answers the client itself on failure.

import {
  Attr,
  decodeString,
  getAttribute,
  StunClass,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
  type StunMessage,
} from '@switchboard/stun';
import type { ClientRef } from './allocation.js';
import { C } from './counters.js';
import type { Credentials } from './credentials.js';
import type { NonceIssuer } from './nonce.js';
import { REASONS, UNSIGNED, type Responder } from './responder.js';

export interface Auth {
  username: string;
  /** Whom quotas count against: the user part of a REST username. */
  quotaUser: string;
  key: Uint8Array;
  sha256: boolean;
}

interface Log {
  log?(level: 'info' | 'warn' | 'debug', msg: string, fields: Record<string, unknown>): void;
}

export class Authenticator {
  constructor(
    private readonly credentials: Credentials,
    private readonly nonces: NonceIssuer,
    private readonly counters: Float64Array,
    private readonly out: Responder,
    private readonly logger: Log,
  ) {}

  /** The requester's identity and key, or null after answering 400/401/438. */
  authenticate(client: ClientRef, msg: StunMessage, now: number): Auth | null {
    const mi = getAttribute(msg, Attr.MessageIntegrity);
    const mi256 = getAttribute(msg, Attr.MessageIntegritySha256);
    if (!mi && !mi256) {
      this.challenge(client, msg, 401, REASONS[401], now);
      return null;
    }
    const usernameAttr = getAttribute(msg, Attr.Username);
    const realmAttr = getAttribute(msg, Attr.Realm);
    const nonceAttr = getAttribute(msg, Attr.Nonce);
    if (!usernameAttr || !realmAttr || !nonceAttr) {
      this.counters[C.authFailBadRequest]++;
      this.out.error(client, msg.method, msg.transactionId, 400, 'Missing USERNAME, REALM or NONCE', UNSIGNED, false, now);
      return null;
    }
    let username: string, realm: string, nonce: string;
    try {
      username = decodeString(usernameAttr);
      realm = decodeString(realmAttr);
      nonce = decodeString(nonceAttr);
    } catch {
      this.counters[C.authFailBadRequest]++;
      this.out.error(client, msg.method, msg.transactionId, 400, REASONS[400], UNSIGNED, false, now);
      return null;
    }
    const creds = this.credentials;
    if (this.nonces.check(nonce, client.key, now) !== 'valid') {
      this.counters[C.authFailStaleNonce]++;
      this.challenge(client, msg, 438, REASONS[438], now);
      return null;
    }
    const found = realm === creds.realm ? creds.lookup(username, now) : ({ ok: false, reason: 'unknown_user' } as const);
    if (!found.ok) {
      this.counters[found.reason === 'expired_credentials' ? C.authFailExpired : C.authFailUnknownUser]++;
      this.challenge(client, msg, 401, found.reason === 'expired_credentials' ? 'Credentials expired' : REASONS[401], now);
      this.logger.log?.('warn', 'auth failed', { client: client.key, username, reason: found.reason });
      return null;
    }
    for (const key of found.keys) {
      const ok = mi256 ? verifyMessageIntegritySha256(msg, key) : verifyMessageIntegrity(msg, key);
      if (ok) return { username, quotaUser: found.quotaUser, key, sha256: !!mi256 };
    }
    this.counters[C.authFailBadIntegrity]++;
    this.challenge(client, msg, 401, REASONS[401], now);
    this.logger.log?.('warn', 'auth failed', { client: client.key, username, reason: 'bad_integrity' });
    return null;
  }

  private challenge(client: ClientRef, msg: StunMessage, code: 401 | 438, reason: string, now: number): void {
    const w = this.out.start(msg.method, StunClass.ErrorResponse, msg.transactionId);
    w.addErrorCode(code, reason);
    w.addString(Attr.Realm, this.credentials.realm);
    w.addString(Attr.Nonce, this.nonces.issue(client.key, now));
    this.out.finish(client, msg.transactionId, UNSIGNED, false, now);
  }
}
