/** Stable error codes thrown by the room model. Callers match on `code`, never on messages. */
export type RoomErrorCode =
  | 'SB_ERR_ROOM_EXISTS'
  | 'SB_ERR_TOO_MANY_ROOMS'
  | 'SB_ERR_ROOM_FULL'
  | 'SB_ERR_ROOM_NOT_FOUND'
  | 'SB_ERR_ROOM_CLOSED'
  | 'SB_ERR_UNKNOWN_PARTICIPANT'
  | 'SB_ERR_RECONNECT_FAILED'
  | 'SB_ERR_TOO_MANY_TRACKS'
  | 'SB_ERR_PERMISSION_DENIED'
  | 'SB_ERR_UNKNOWN_TRACK'
  | 'SB_ERR_INVALID'
  | 'SB_ERR_WRONG_TOPOLOGY';

/** An error with a stable code, so the adapter can map it to a protocol error. */
export class RoomError extends Error {
  readonly code: RoomErrorCode;
  constructor(code: RoomErrorCode, message: string) {
    super(message);
    this.name = 'RoomError';
    this.code = code;
  }
}
