/** The protocol version carried in every message's `v` field. */
export const PROTOCOL_VERSION = 1;

/** Largest client → server message, in UTF-8 bytes of the WebSocket text frame. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/**
 * Largest server → client message the SDK accepts, in UTF-8 bytes. Larger than
 * {@link MAX_MESSAGE_BYTES} because `joined` lists every other participant.
 */
export const MAX_SERVER_MESSAGE_BYTES = 1024 * 1024;
/** Largest SDP in an `offer` / `answer`, in UTF-8 bytes. */
export const MAX_SDP_BYTES = 32 * 1024;
/** Largest participant / room metadata string, in UTF-8 bytes. */
export const MAX_METADATA_BYTES = 4096;
/** Longest participant name, in UTF-16 code units (JavaScript string length). */
export const MAX_NAME_LENGTH = 128;
/** Longest participant identity, in UTF-16 code units. */
export const MAX_IDENTITY_LENGTH = 128;
/** Most tracks a participant may publish at once. */
export const MAX_TRACKS_PER_PARTICIPANT = 16;

// Additional limits (not in the original brief; documented in PROTOCOL.md).
/** Longest sid (participant, track, room), client track id (`cid`) or `mid`. */
export const MAX_SID_LENGTH = 64;
/** Longest join token (JWT) or session token. */
export const MAX_TOKEN_LENGTH = 8192;
/** Longest ICE candidate string (and ufrag / sdpMid). */
export const MAX_CANDIDATE_LENGTH = 4096;
/** Largest `data` payload, in UTF-8 bytes. */
export const MAX_DATA_PAYLOAD_BYTES = 16 * 1024;
/** Longest `data` topic. */
export const MAX_TOPIC_LENGTH = 256;
/** Most sids in one list (`subscription.trackSids`, `data.destinationSids`, ...). */
export const MAX_SIDS_PER_MESSAGE = 256;
/** Longest free-text `reason` / error `message` / `sdkVersion`. */
export const MAX_REASON_LENGTH = 1024;
/** Longest room name. */
export const MAX_ROOM_NAME_LENGTH = 128;
/** Most ICE servers in `joined.iceServers`, and most URLs per server. */
export const MAX_ICE_SERVERS = 16;
/** Largest video dimension (width / height) in pixels. */
export const MAX_VIDEO_DIMENSION = 16384;

// Suggested defaults; the server announces the real values in `joined`.
/** Suggested interval between client `ping`s. */
export const DEFAULT_PING_INTERVAL_MS = 10_000;
/** Suggested time without any message after which either side considers the link dead. */
export const DEFAULT_PING_TIMEOUT_MS = 20_000;
/** Suggested grace period during which a dropped participant may reconnect with its sessionToken. */
export const DEFAULT_RECONNECT_GRACE_MS = 20_000;

/**
 * UTF-8 byte length of a JavaScript string, without allocating. Lone surrogates
 * count 3 bytes (they encode as U+FFFD).
 */
export function utf8ByteLength(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
