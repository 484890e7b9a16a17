/** Permissions carried by a token. */
export interface Grants {
  /** May join the room named in the token. */
  join: boolean;
  /** May publish audio/video tracks. */
  publish: boolean;
  /** May subscribe to other participants' tracks. */
  subscribe: boolean;
  /** May send data-channel messages. */
  publishData: boolean;
  /** May administer rooms (kick, mute, update metadata, create/delete). */
  roomAdmin: boolean;
  /** May list rooms. */
  roomList?: boolean;
}

export const GRANT_KEYS = ['join', 'publish', 'subscribe', 'publishData', 'roomAdmin', 'roomList'] as const;
export const REQUIRED_GRANT_KEYS = ['join', 'publish', 'subscribe', 'publishData', 'roomAdmin'] as const;

/** What an ordinary participant gets: join, publish, subscribe and data; no admin. */
export const DEFAULT_PARTICIPANT_GRANTS: Readonly<Grants> = Object.freeze({
  join: true,
  publish: true,
  subscribe: true,
  publishData: true,
  roomAdmin: false,
});

/**
 * Server-side administration (least privilege): roomAdmin and roomList only.
 * An admin token does NOT let its holder join a room or publish media; mint a
 * participant token for that (or pass `{ ...ADMIN_GRANTS, join: true, ... }`).
 */
export const ADMIN_GRANTS: Readonly<Grants> = Object.freeze({
  join: false,
  publish: false,
  subscribe: false,
  publishData: false,
  roomAdmin: true,
  roomList: true,
});
