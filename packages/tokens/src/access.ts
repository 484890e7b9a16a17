import { TokenError } from './errors.js';
import type { Grants } from './grants.js';
import type { VerifiedToken } from './verify.js';

/**
 * Check that a verified token may do something.
 *
 * Room scope: a token with a `room` claim may only act on that room. A token
 * without a `room` claim may act on any room only if it has the roomAdmin
 * grant (a roomList-only token has no room scope at all). A roomAdmin token
 * *with* a `room` claim is an admin of that room only.
 *
 * Grants are checked literally: roomAdmin does not imply join/publish/etc.
 */
export function checkAccess(token: VerifiedToken, need: { room?: string; grant?: keyof Grants }): void {
  if (need.room !== undefined) {
    if (token.room === undefined) {
      if (!token.grants.roomAdmin) {
        throw new TokenError('SB_ERR_TOKEN_WRONG_ROOM', `token is not valid for room ${JSON.stringify(need.room)}`);
      }
    } else if (token.room !== need.room) {
      throw new TokenError(
        'SB_ERR_TOKEN_WRONG_ROOM',
        `token is for room ${JSON.stringify(token.room)}, not ${JSON.stringify(need.room)}`,
      );
    }
  }
  if (need.grant !== undefined) {
    const granted = Object.hasOwn(token.grants, need.grant) && token.grants[need.grant] === true;
    if (!granted) throw new TokenError('SB_ERR_TOKEN_PERMISSION', `token lacks the ${need.grant} grant`);
  }
}
