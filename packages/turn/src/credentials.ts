// Long-term credentials (RFC 8489 §9.2): static users, and coturn-compatible "TURN REST API"
// ephemeral credentials: username = "expiry[:user]", password = base64(HMAC-SHA1(secret, username)).

import { createHash, createHmac } from 'node:crypto';
import { TurnError } from './errors.js';

export interface CredentialOptions {
  realm: string;
  /** Static users: name -> password, or name -> "0x" + hex of MD5(name:realm:password) as coturn allows. */
  users?: Record<string, string>;
  /** Shared secrets for REST credentials; several at once so a secret can be rotated. */
  authSecrets?: string[];
}

export type KeyLookup =
  | { ok: true; keys: Uint8Array[]; quotaUser: string }
  | { ok: false; reason: 'unknown_user' | 'expired_credentials' };

export function md5Key(username: string, realm: string, password: string): Uint8Array {
  return new Uint8Array(createHash('md5').update(`${username}:${realm}:${password}`, 'utf8').digest());
}

/** The password a TURN REST client derives from a secret (coturn's use-auth-secret). */
export function restPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username, 'utf8').digest('base64');
}

/** A REST username valid until `expiresAtSec`, for `user` (may be empty). */
export function restUsername(expiresAtSec: number, user = ''): string {
  return user ? `${Math.floor(expiresAtSec)}:${user}` : String(Math.floor(expiresAtSec));
}

const MAX_CACHED_KEYS = 4096;

export class Credentials {
  readonly realm: string;
  private readonly users = new Map<string, Uint8Array>();
  private readonly secrets: string[];
  private readonly restKeys = new Map<string, Uint8Array[]>();

  constructor(opts: CredentialOptions) {
    if (!opts.realm) throw new TurnError('TURN_ERR_CONFIG', 'realm must not be empty');
    this.realm = opts.realm;
    for (const [name, pass] of Object.entries(opts.users ?? {})) {
      const key = /^0x[0-9a-fA-F]{32}$/.test(pass) ? new Uint8Array(Buffer.from(pass.slice(2), 'hex')) : md5Key(name, this.realm, pass);
      this.users.set(name, key);
    }
    this.secrets = [...(opts.authSecrets ?? [])];
  }

  get usesRest(): boolean {
    return this.secrets.length > 0;
  }

  /** Candidate keys for a username at time nowMs; a message is authentic if its MI verifies with one. */
  lookup(username: string, nowMs: number): KeyLookup {
    const key = this.users.get(username);
    if (key) return { ok: true, keys: [key], quotaUser: username };
    if (this.secrets.length === 0) return { ok: false, reason: 'unknown_user' };
    const colon = username.indexOf(':');
    const stamp = colon >= 0 ? username.slice(0, colon) : username;
    if (!/^\d{1,12}$/.test(stamp)) return { ok: false, reason: 'unknown_user' };
    if (Number(stamp) * 1000 <= nowMs) return { ok: false, reason: 'expired_credentials' };
    let keys = this.restKeys.get(username);
    if (!keys) {
      keys = this.secrets.map((s) => md5Key(username, this.realm, restPassword(s, username)));
      if (this.restKeys.size >= MAX_CACHED_KEYS) this.restKeys.clear();
      this.restKeys.set(username, keys);
    }
    return { ok: true, keys, quotaUser: colon >= 0 ? username.slice(colon + 1) : username };
  }
}
