// Demultiplexing a datagram by its first bytes (RFC 7983 §7, RFC 5761 §4).

/** First byte 128..191 (RTP version 2) and at least 12 bytes. */
export function isRtpOrRtcp(buf: Uint8Array, off: number, len: number): boolean {
  if (len < 12) return false;
  const b = buf[off];
  return b >= 128 && b <= 191;
}

/** RTP/RTCP and the second byte (RTCP packet type, or RTP M+PT) is 192..223 (RFC 5761 §4). */
export function isRtcp(buf: Uint8Array, off: number, len: number): boolean {
  if (!isRtpOrRtcp(buf, off, len)) return false;
  const pt = buf[off + 1];
  return pt >= 192 && pt <= 223;
}
