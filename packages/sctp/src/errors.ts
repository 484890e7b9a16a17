/** Error codes thrown by this package. */
export type SctpErrorCode =
  | 'SB_ERR_SCTP_MALFORMED'
  | 'SB_ERR_SCTP_NOT_OPEN'
  | 'SB_ERR_SCTP_MESSAGE_TOO_LARGE'
  | 'SB_ERR_SCTP_INVALID_OPTIONS'
  | 'SB_ERR_SCTP_NO_STREAM'
  | 'SB_ERR_SCTP_STREAM_IN_USE'
  | 'SB_ERR_SCTP_CLOSED';

export class SctpError extends Error {
  readonly code: SctpErrorCode;
  constructor(code: SctpErrorCode, message: string) {
    super(message);
    this.name = 'SctpError';
    this.code = code;
  }
}
