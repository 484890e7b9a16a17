/** parseSdp refuses text larger than this many bytes (UTF-8). */
export const MAX_SDP_BYTES = 256 * 1024;
/** parseSdp refuses more media sections than this. */
export const MAX_MEDIA_SECTIONS = 64;
/** parseSdp refuses more lines than this. */
export const MAX_SDP_LINES = 10_000;
