import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { TokenError } from './errors.js';
import { REQUIRED_GRANT_KEYS, type Grants } from './grants.js';
import {
  MAX_IDENTITY_LENGTH,
  MAX_METADATA_LENGTH,
  MAX_NAME_LENGTH,
  MAX_ROOM_LENGTH,
  MAX_TOKEN_LENGTH,
} from './claims.js';

/** The result of a successful verification. */
export interface VerifiedToken {
  /** The `iss` claim: which API key signed the token. */
  apiKey: string;
  /** The `sub` claim. */
  identity: string;
  name: string | undefined;
  room: string | undefined;
  metadata: string | undefined;
  grants: Grants;
  /** `exp` in ms since the epoch. */
  expiresAt: number;
  /** `iat` in ms since the epoch. */
  issuedAt: number;
  /** The `jti` claim, if any. */
  jti: string | undefined;
}

export interface TokenVerifierOptions {
  /** Leeway applied to `exp` and `nbf`; default 5 seconds. */
  clockToleranceSeconds?: number;
}

const ALGORITHM = 'HS256';

function fail(code: TokenError['code'], message: string, cause?: unknown): never {
  throw new TokenError(code, message, cause === undefined ? undefined : { cause });
}

/** Translate anything thrown by jose.jwtVerify into a TokenError. */
function mapJoseError(err: unknown): TokenError {
  if (err instanceof TokenError) return err;
  if (err instanceof errors.JWTExpired) return new TokenError('SB_ERR_TOKEN_EXPIRED', 'token has expired', { cause: err });
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf' && err.reason === 'check_failed') {
      return new TokenError('SB_ERR_TOKEN_NOT_YET_VALID', 'token is not yet valid', { cause: err });
    }
    return new TokenError('SB_ERR_TOKEN_CLAIMS', `invalid claims: ${err.message}`, { cause: err });
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new TokenError('SB_ERR_TOKEN_SIGNATURE', 'token signature is invalid', { cause: err });
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return new TokenError('SB_ERR_TOKEN_ALG', `token algorithm not allowed: ${err.message}`, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new TokenError('SB_ERR_TOKEN_MALFORMED', `malformed token: ${message}`, { cause: err });
}

function optionalString(payload: JWTPayload, claim: string, max: number): string | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') fail('SB_ERR_TOKEN_CLAIMS', `${claim} must be a string`);
  if (value.length > max) fail('SB_ERR_TOKEN_CLAIMS', `${claim} must be at most ${max} characters`);
  return value;
}

function parseGrants(value: unknown): Grants {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail('SB_ERR_TOKEN_CLAIMS', 'grants must be an object');
  }
  const raw = value as Record<string, unknown>;
  const get = (key: string): boolean | undefined => {
    const v = Object.hasOwn(raw, key) ? raw[key] : undefined;
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') fail('SB_ERR_TOKEN_CLAIMS', `grant ${key} must be a boolean`);
    return v;
  };
  const grants = {} as Grants;
  for (const key of REQUIRED_GRANT_KEYS) grants[key] = get(key) ?? false; // missing = not granted
  const roomList = get('roomList');
  if (roomList !== undefined) grants.roomList = roomList;
  return grants;
}

function toVerified(payload: JWTPayload): VerifiedToken {
  const sub = payload.sub;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_IDENTITY_LENGTH) {
    fail('SB_ERR_TOKEN_CLAIMS', `sub must be a string of 1..${MAX_IDENTITY_LENGTH} characters`);
  }
  const name = optionalString(payload, 'name', MAX_NAME_LENGTH);
  const metadata = optionalString(payload, 'metadata', MAX_METADATA_LENGTH);
  const room = optionalString(payload, 'room', MAX_ROOM_LENGTH);
  const jti = optionalString(payload, 'jti', 256);
  const grants = parseGrants(payload['grants']);
  if (room === '') fail('SB_ERR_TOKEN_CLAIMS', 'room must not be empty');
  if (room === undefined && !grants.roomAdmin && !grants.roomList) {
    fail('SB_ERR_TOKEN_CLAIMS', 'room is required unless the token grants roomAdmin or roomList');
  }
  // jose has already checked exp/iat are finite numbers (and required them).
  return {
    apiKey: payload.iss as string,
    identity: sub,
    name,
    room,
    metadata,
    grants,
    expiresAt: (payload.exp as number) * 1000,
    issuedAt: (payload.iat as number) * 1000,
    jti,
  };
}

/**
 * Verifies access tokens against a set of API keys (several at once, for rotation).
 * HMAC keys are imported once per API key and cached.
 */
export class TokenVerifier {
  readonly #secrets = new Map<string, Uint8Array<ArrayBuffer>>();
  readonly #cryptoKeys = new Map<string, Promise<CryptoKey>>();
  readonly #clockTolerance: number;

  constructor(keys: Record<string, string>, opts: TokenVerifierOptions = {}) {
    if (typeof keys !== 'object' || keys === null) {
      throw new TokenError('SB_ERR_TOKEN_CONFIG', 'keys must be an object mapping apiKey to secret');
    }
    const encoder = new TextEncoder();
    for (const [apiKey, secret] of Object.entries(keys)) {
      if (apiKey.length === 0) throw new TokenError('SB_ERR_TOKEN_CONFIG', 'apiKey must not be empty');
      if (typeof secret !== 'string' || secret.length === 0) {
        throw new TokenError('SB_ERR_TOKEN_CONFIG', `secret for ${apiKey} must be a non-empty string`);
      }
      this.#secrets.set(apiKey, encoder.encode(secret));
    }
    const tol = opts.clockToleranceSeconds ?? 5;
    if (!Number.isFinite(tol) || tol < 0) {
      throw new TokenError('SB_ERR_TOKEN_CONFIG', 'clockToleranceSeconds must be a non-negative number');
    }
    this.#clockTolerance = tol;
  }

  /** The API keys this verifier accepts. */
  get apiKeys(): string[] {
    return [...this.#secrets.keys()];
  }

  #key(apiKey: string): Promise<CryptoKey> | undefined {
    let key = this.#cryptoKeys.get(apiKey);
    if (key) return key;
    const secret = this.#secrets.get(apiKey);
    if (!secret) return undefined;
    key = globalThis.crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    key.catch(() => this.#cryptoKeys.delete(apiKey));
    this.#cryptoKeys.set(apiKey, key);
    return key;
  }

  /**
   * Verify `token` at time `now` (ms; default Date.now()). Resolves to the
   * verified claims or rejects with a TokenError — never another error type.
   */
  async verify(token: string, now?: number): Promise<VerifiedToken> {
    try {
      return await this.#verify(token, now);
    } catch (err) {
      throw mapJoseError(err);
    }
  }

  async #verify(token: string, now: number | undefined): Promise<VerifiedToken> {
    if (typeof token !== 'string' || token.length === 0) fail('SB_ERR_TOKEN_MALFORMED', 'token must be a non-empty string');
    if (token.length > MAX_TOKEN_LENGTH) fail('SB_ERR_TOKEN_MALFORMED', 'token is too long');
    if (token.split('.').length !== 3) fail('SB_ERR_TOKEN_MALFORMED', 'token must have three dot-separated parts');

    let alg: unknown;
    let payload: JWTPayload;
    try {
      alg = decodeProtectedHeader(token).alg;
      payload = decodeJwt(token);
    } catch (err) {
      fail('SB_ERR_TOKEN_MALFORMED', `malformed token: ${err instanceof Error ? err.message : String(err)}`, err);
    }
    if (alg !== ALGORITHM) fail('SB_ERR_TOKEN_ALG', `token algorithm ${JSON.stringify(alg)} is not ${ALGORITHM}`);
    if (typeof payload.iss !== 'string' || payload.iss.length === 0) {
      fail('SB_ERR_TOKEN_CLAIMS', 'iss (API key) claim is missing');
    }
    const keyPromise = this.#key(payload.iss);
    if (!keyPromise) fail('SB_ERR_TOKEN_UNKNOWN_KEY', `unknown API key ${JSON.stringify(payload.iss.slice(0, 64))}`);
    const key = await keyPromise;

    const nowMs = now ?? Date.now();
    if (!Number.isFinite(nowMs)) fail('SB_ERR_TOKEN_CONFIG', 'now must be a finite number of milliseconds');
    const { payload: verified } = await jwtVerify(token, key, {
      algorithms: [ALGORITHM],
      issuer: payload.iss,
      currentDate: new Date(nowMs),
      clockTolerance: this.#clockTolerance,
      requiredClaims: ['sub', 'iat', 'exp'],
    });
    return toVerified(verified);
  }
}
