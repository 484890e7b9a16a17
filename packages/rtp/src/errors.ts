/** Code carried by {@link RtpError}: malformed input, or a builder/argument that cannot be encoded. */
export type RtpErrorCode = 'SB_ERR_RTP_INVALID';

export class RtpError extends Error {
  readonly code: RtpErrorCode;
  constructor(message: string) {
    super(message);
    this.name = 'RtpError';
    this.code = 'SB_ERR_RTP_INVALID';
  }
}

export function isRtpError(e: unknown): e is RtpError {
  return e instanceof RtpError;
}
