// RTX (RFC 4588 §4): retransmission packets carry the original sequence number (OSN) as the first
// two payload bytes, on their own payload type, SSRC and sequence space.
import { copyBytes, put16, u16 } from './bytes.js';
import { RtpError } from './errors.js';
import { rtpHeaderLength, rtpPayloadLength } from './header.js';

/**
 * Writes an RTX packet for the original packet at (src, srcOff, srcLen) into dst at dstOff: same
 * header (CSRCs, extensions, marker, timestamp) with pt/ssrc/seq replaced, OSN inserted as the first
 * two payload bytes, the original padding dropped (P bit cleared). Returns the length written, or -1
 * if the source is malformed. Throws RtpError if dst is too small. dst may be src (in place), with
 * room for 2 more bytes. No allocation.
 */
export function writeRtx(
  src: Uint8Array, srcOff: number, srcLen: number,
  dst: Uint8Array, dstOff: number,
  rtxPt: number, rtxSsrc: number, rtxSeq: number,
): number {
  const h = rtpHeaderLength(src, srcOff, srcLen);
  const pl = rtpPayloadLength(src, srcOff, srcLen);
  if (h < 0 || pl < 0) return -1;
  const total = h + 2 + pl;
  if (dstOff < 0 || dstOff + total > dst.length) throw new RtpError(`RTX packet (${total} bytes) does not fit`);
  const osn = u16(src, srcOff + 2);
  // Payload first (it moves forward by 2 when writing in place), then the header.
  copyBytes(src, srcOff + h, dst, dstOff + h + 2, pl);
  copyBytes(src, srcOff, dst, dstOff, h);
  dst[dstOff] &= 0xdf; // no padding
  dst[dstOff + 1] = (dst[dstOff + 1] & 0x80) | (rtxPt & 0x7f);
  put16(dst, dstOff + 2, rtxSeq);
  dst[dstOff + 8] = (rtxSsrc >>> 24) & 0xff;
  dst[dstOff + 9] = (rtxSsrc >>> 16) & 0xff;
  dst[dstOff + 10] = (rtxSsrc >>> 8) & 0xff;
  dst[dstOff + 11] = rtxSsrc & 0xff;
  put16(dst, dstOff + h, osn);
  return total;
}

/**
 * Turns an RTX packet back into the original in dst (pt/ssrc given, seq = OSN, padding dropped).
 * Returns the length, or -1 if the RTX packet is malformed or has no OSN. Throws RtpError if dst is
 * too small. dst may be src (in place). No allocation.
 */
export function readRtx(
  src: Uint8Array, srcOff: number, srcLen: number,
  dst: Uint8Array, dstOff: number,
  pt: number, ssrc: number,
): number {
  const h = rtpHeaderLength(src, srcOff, srcLen);
  const pl = rtpPayloadLength(src, srcOff, srcLen);
  if (h < 0 || pl < 2) return -1;
  const total = h + pl - 2;
  if (dstOff < 0 || dstOff + total > dst.length) throw new RtpError(`packet (${total} bytes) does not fit`);
  const osn = u16(src, srcOff + h);
  // Header first (the payload moves backward by 2 when writing in place), then the payload.
  copyBytes(src, srcOff, dst, dstOff, h);
  copyBytes(src, srcOff + h + 2, dst, dstOff + h, pl - 2);
  dst[dstOff] &= 0xdf;
  dst[dstOff + 1] = (dst[dstOff + 1] & 0x80) | (pt & 0x7f);
  put16(dst, dstOff + 2, osn);
  dst[dstOff + 8] = (ssrc >>> 24) & 0xff;
  dst[dstOff + 9] = (ssrc >>> 16) & 0xff;
  dst[dstOff + 10] = (ssrc >>> 8) & 0xff;
  dst[dstOff + 11] = ssrc & 0xff;
  return total;
}
