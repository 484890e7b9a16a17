// Stateless nonces: the expiry and an HMAC over it and the client's address. Any relay
// thread holding the same secret can check one, and nothing is stored per client.

import { createHmac, randomBytes } from 'node:crypto';

export type NonceCheck = 'valid' | 'stale' | 'invalid';

export class NonceIssuer {
  private readonly secret: Uint8Array;
  readonly lifetimeMs: number;

  constructor(secret: Uint8Array = randomBytes(32), lifetimeMs = 600_000) {
    this.secret = secret;
    this.lifetimeMs = lifetimeMs;
  }

  issue(clientAddress: string, nowMs: number): string {
    const expiry = Math.floor((nowMs + this.lifetimeMs) / 1000).toString(16).padStart(10, '0');
    return expiry + this.mac(expiry, clientAddress);
  }

  check(nonce: string, clientAddress: string, nowMs: number): NonceCheck {
    if (nonce.length !== 34) return 'invalid';
    const expiry = nonce.slice(0, 10);
    if (nonce.slice(10) !== this.mac(expiry, clientAddress)) return 'invalid';
    return parseInt(expiry, 16) * 1000 > nowMs ? 'valid' : 'stale';
  }

  private mac(expiry: string, clientAddress: string): string {
    return createHmac('sha256', this.secret).update(expiry).update('|').update(clientAddress).digest('hex').slice(0, 24);
  }
}
