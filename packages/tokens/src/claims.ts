import type { Grants } from './grants.js';

export const MAX_IDENTITY_LENGTH = 128;
export const MAX_NAME_LENGTH = 128;
export const MAX_ROOM_LENGTH = 128;
export const MAX_METADATA_LENGTH = 4096;
/** Tokens longer than this are rejected before any parsing. */
export const MAX_TOKEN_LENGTH = 32 * 1024;
export const DEFAULT_TTL_SECONDS = 3600;

/** The JWT payload as written by createToken. */
export interface TokenClaims {
  iss: string;
  sub: string;
  name?: string;
  room?: string;
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
  metadata?: string;
  grants: Grants;
}
