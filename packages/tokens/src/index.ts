export { TokenError, isTokenError, type TokenErrorCode } from './errors.js';
export { ADMIN_GRANTS, DEFAULT_PARTICIPANT_GRANTS, type Grants } from './grants.js';
export {
  DEFAULT_TTL_SECONDS,
  MAX_IDENTITY_LENGTH,
  MAX_METADATA_LENGTH,
  MAX_NAME_LENGTH,
  MAX_ROOM_LENGTH,
  MAX_TOKEN_LENGTH,
  type TokenClaims,
} from './claims.js';
export { createToken, type TokenOptions } from './create.js';
export { TokenVerifier, type TokenVerifierOptions, type VerifiedToken } from './verify.js';
export { checkAccess } from './access.js';
export { parseTtl } from './ttl.js';
export { generateApiKeyPair } from './keys.js';
