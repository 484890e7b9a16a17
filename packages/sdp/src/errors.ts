/** The one code carried by {@link SdpError}: the text (or a value in it) is not valid SDP. */
export type SdpErrorCode = 'SB_ERR_SDP_INVALID';

/** Thrown by the parser, the writer and every typed reader on malformed input. */
export class SdpError extends Error {
  readonly code: SdpErrorCode;
  constructor(message: string) {
    super(message);
    this.name = 'SdpError';
    this.code = 'SB_ERR_SDP_INVALID';
  }
}

export function isSdpError(e: unknown): e is SdpError {
  return e instanceof SdpError;
}
