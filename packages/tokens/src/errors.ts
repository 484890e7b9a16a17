/** Error codes raised by this package. */
export type TokenErrorCode =
  | 'SB_ERR_TOKEN_MALFORMED'
  | 'SB_ERR_TOKEN_UNKNOWN_KEY'
  | 'SB_ERR_TOKEN_SIGNATURE'
  | 'SB_ERR_TOKEN_EXPIRED'
  | 'SB_ERR_TOKEN_NOT_YET_VALID'
  | 'SB_ERR_TOKEN_CLAIMS'
  | 'SB_ERR_TOKEN_ALG'
  | 'SB_ERR_TOKEN_WRONG_ROOM'
  | 'SB_ERR_TOKEN_PERMISSION'
  | 'SB_ERR_TOKEN_TTL'
  /** Bad API key / secret passed to createToken or TokenVerifier (a configuration mistake). */
  | 'SB_ERR_TOKEN_CONFIG';

export class TokenError extends Error {
  override readonly name = 'TokenError';
  readonly code: TokenErrorCode;

  constructor(code: TokenErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isTokenError(err: unknown): err is TokenError {
  return err instanceof TokenError;
}
