/** Codes carried by {@link StunError}. */
export type StunErrorCode =
  /** Fewer than 20 bytes. */
  | 'STUN_ERR_TOO_SHORT'
  /** Bytes 4..8 are not the magic cookie. */
  | 'STUN_ERR_BAD_COOKIE'
  /** The header length is not a multiple of 4 or does not match the bytes given. */
  | 'STUN_ERR_BAD_LENGTH'
  /** An attribute (or its padding) runs past the end of the message. */
  | 'STUN_ERR_ATTR_OVERRUN'
  /** The first two bits are not zero: not a STUN message. */
  | 'STUN_ERR_NOT_STUN'
  /** An attribute value cannot be decoded as the attribute it claims to be. */
  | 'STUN_ERR_BAD_ATTRIBUTE'
  /** Encoding: the message or an attribute would exceed 65535 bytes of length. */
  | 'STUN_ERR_TOO_LARGE'
  /** Encoding: a caller-supplied value is out of range or malformed (address text, port, code...). */
  | 'STUN_ERR_INVALID_ARGUMENT';

export class StunError extends Error {
  readonly code: StunErrorCode;
  constructor(code: StunErrorCode, message: string) {
    super(message);
    this.name = 'StunError';
    this.code = code;
  }
}

export function isStunError(e: unknown): e is StunError {
  return e instanceof StunError;
}
