import { SignJWT } from 'jose';
import { TokenError } from './errors.js';
import { DEFAULT_PARTICIPANT_GRANTS, GRANT_KEYS, type Grants } from './grants.js';
import { randomId } from './keys.js';
import {
  DEFAULT_TTL_SECONDS,
  MAX_IDENTITY_LENGTH,
  MAX_METADATA_LENGTH,
  MAX_NAME_LENGTH,
  MAX_ROOM_LENGTH,
  type TokenClaims,
} from './claims.js';

export interface TokenOptions {
  /** Participant identity (`sub`), 1..128 chars. */
  identity: string;
  /** Room name; required unless grants.roomAdmin or grants.roomList is true. */
  room?: string;
  /** Display name, up to 128 chars. */
  name?: string;
  /** Opaque application metadata, up to 4096 chars. */
  metadata?: string;
  /** Lifetime in seconds; default 3600. */
  ttlSeconds?: number;
  /** Merged over DEFAULT_PARTICIPANT_GRANTS. */
  grants?: Partial<Grants>;
  /** Current time in ms (for tests); default Date.now(). */
  now?: number;
}

const encoder = new TextEncoder();

function claimsError(message: string): TokenError {
  return new TokenError('SB_ERR_TOKEN_CLAIMS', message);
}

function checkString(label: string, value: unknown, max: number, allowEmpty: boolean): void {
  if (typeof value !== 'string') throw claimsError(`${label} must be a string`);
  if (!allowEmpty && value.length === 0) throw claimsError(`${label} must not be empty`);
  if (value.length > max) throw claimsError(`${label} must be at most ${max} characters`);
}

function mergeGrants(partial: Partial<Grants> | undefined): Grants {
  if (partial !== undefined && (typeof partial !== 'object' || partial === null || Array.isArray(partial))) {
    throw claimsError('grants must be an object');
  }
  const grants: Grants = { ...DEFAULT_PARTICIPANT_GRANTS };
  for (const [key, value] of Object.entries(partial ?? {})) {
    if (!(GRANT_KEYS as readonly string[]).includes(key)) throw claimsError(`unknown grant ${JSON.stringify(key)}`);
    if (value === undefined) continue;
    if (typeof value !== 'boolean') throw claimsError(`grant ${key} must be a boolean`);
    grants[key as keyof Grants] = value;
  }
  return grants;
}

/** Mint an HS256 access token whose `iss` is `apiKey`. */
export async function createToken(apiKey: string, apiSecret: string, opts: TokenOptions): Promise<string> {
  if (typeof apiKey !== 'string' || apiKey.length === 0) {
    throw new TokenError('SB_ERR_TOKEN_CONFIG', 'apiKey must be a non-empty string');
  }
  if (typeof apiSecret !== 'string' || apiSecret.length === 0) {
    throw new TokenError('SB_ERR_TOKEN_CONFIG', 'apiSecret must be a non-empty string');
  }
  if (typeof opts !== 'object' || opts === null) throw claimsError('options must be an object');

  checkString('identity', opts.identity, MAX_IDENTITY_LENGTH, false);
  if (opts.name !== undefined) checkString('name', opts.name, MAX_NAME_LENGTH, true);
  if (opts.metadata !== undefined) checkString('metadata', opts.metadata, MAX_METADATA_LENGTH, true);
  if (opts.room !== undefined) checkString('room', opts.room, MAX_ROOM_LENGTH, false);

  const grants = mergeGrants(opts.grants);
  if (opts.room === undefined && !grants.roomAdmin && !grants.roomList) {
    throw claimsError('room is required unless the token grants roomAdmin or roomList');
  }

  const ttl = opts.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  if (!Number.isSafeInteger(ttl) || ttl <= 0) {
    throw new TokenError('SB_ERR_TOKEN_TTL', `ttlSeconds must be a positive integer, got ${String(ttl)}`);
  }
  const nowMs = opts.now ?? Date.now();
  if (!Number.isFinite(nowMs)) throw claimsError('now must be a finite number of milliseconds');
  const iat = Math.floor(nowMs / 1000);

  const claims: TokenClaims = {
    iss: apiKey,
    sub: opts.identity,
    iat,
    nbf: iat,
    exp: iat + ttl,
    jti: randomId(),
    grants,
  };
  if (opts.name !== undefined) claims.name = opts.name;
  if (opts.room !== undefined) claims.room = opts.room;
  if (opts.metadata !== undefined) claims.metadata = opts.metadata;

  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(encoder.encode(apiSecret));
}
