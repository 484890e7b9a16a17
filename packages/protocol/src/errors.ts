/** Every error code the protocol defines. */
export const ErrorCodes = {
  /** The frame is not JSON, or not a JSON object (or not valid UTF-8). */
  MALFORMED: 'SB_ERR_MALFORMED',
  /** `type` is missing, not a string, or not a message this side accepts. */
  UNKNOWN_TYPE: 'SB_ERR_UNKNOWN_TYPE',
  /** Schema validation failed; the message names the field path. */
  INVALID_MESSAGE: 'SB_ERR_INVALID_MESSAGE',
  /** `v` is missing or not a supported protocol version. */
  VERSION: 'SB_ERR_VERSION',
  /** The frame exceeds the size limit. */
  TOO_LARGE: 'SB_ERR_TOO_LARGE',
  /** Too many messages; slow down. */
  RATE_LIMITED: 'SB_ERR_RATE_LIMITED',
  /** A message other than join / ping / leave arrived before `joined`. */
  NOT_JOINED: 'SB_ERR_NOT_JOINED',
  /** A second `join` on a joined connection. */
  ALREADY_JOINED: 'SB_ERR_ALREADY_JOINED',
  /** The join token (or reconnect session token) is invalid. */
  TOKEN_INVALID: 'SB_ERR_TOKEN_INVALID',
  /** The join token has expired. */
  TOKEN_EXPIRED: 'SB_ERR_TOKEN_EXPIRED',
  /** The token is for a different room than the one being reconnected to. */
  WRONG_ROOM: 'SB_ERR_WRONG_ROOM',
  /** The token's grants do not allow this action. */
  PERMISSION_DENIED: 'SB_ERR_PERMISSION_DENIED',
  /** The room is at maxParticipants. */
  ROOM_FULL: 'SB_ERR_ROOM_FULL',
  /** The room has been closed. */
  ROOM_CLOSED: 'SB_ERR_ROOM_CLOSED',
  /** `to` / destination sid names no participant in the room. */
  UNKNOWN_PARTICIPANT: 'SB_ERR_UNKNOWN_PARTICIPANT',
  /** The track sid names no track (or not one of yours). */
  UNKNOWN_TRACK: 'SB_ERR_UNKNOWN_TRACK',
  /** Publishing would exceed MAX_TRACKS_PER_PARTICIPANT. */
  TOO_MANY_TRACKS: 'SB_ERR_TOO_MANY_TRACKS',
  /** Server bug. */
  INTERNAL: 'SB_ERR_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** All error codes, as a tuple (for zod enums and iteration). */
export const ERROR_CODE_LIST = Object.values(ErrorCodes) as [ErrorCode, ...ErrorCode[]];

export function isErrorCode(x: unknown): x is ErrorCode {
  return typeof x === 'string' && (ERROR_CODE_LIST as readonly string[]).includes(x);
}
