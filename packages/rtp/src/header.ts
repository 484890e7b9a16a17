// RTP fixed header (RFC 3550 §5.1). The getters/setters taking (buf, off) assume the caller has
// checked at least 12 bytes (isRtpOrRtcp); the ones taking len validate.
import { put16, put32, u16, u32 } from './bytes.js';

export function rtpMarker(buf: Uint8Array, off: number): boolean {
  return (buf[off + 1] & 0x80) !== 0;
}

export function rtpPayloadType(buf: Uint8Array, off: number): number {
  return buf[off + 1] & 0x7f;
}

export function rtpSeq(buf: Uint8Array, off: number): number {
  return u16(buf, off + 2);
}

export function rtpTimestamp(buf: Uint8Array, off: number): number {
  return u32(buf, off + 4);
}

export function rtpSsrc(buf: Uint8Array, off: number): number {
  return u32(buf, off + 8);
}

export function setRtpMarker(buf: Uint8Array, off: number, m: boolean): void {
  buf[off + 1] = m ? buf[off + 1] | 0x80 : buf[off + 1] & 0x7f;
}

export function setRtpPayloadType(buf: Uint8Array, off: number, pt: number): void {
  buf[off + 1] = (buf[off + 1] & 0x80) | (pt & 0x7f);
}

export function setRtpSeq(buf: Uint8Array, off: number, seq: number): void {
  put16(buf, off + 2, seq);
}

export function setRtpTimestamp(buf: Uint8Array, off: number, ts: number): void {
  put32(buf, off + 4, ts);
}

export function setRtpSsrc(buf: Uint8Array, off: number, ssrc: number): void {
  put32(buf, off + 8, ssrc);
}

/** Header length in bytes (12 + 4*CC + extension block), or -1 if the packet is malformed/truncated. */
export function rtpHeaderLength(buf: Uint8Array, off: number, len: number): number {
  if (len < 12 || (buf[off] & 0xc0) !== 0x80) return -1;
  let h = 12 + 4 * (buf[off] & 0x0f);
  if (buf[off] & 0x10) {
    if (h + 4 > len) return -1;
    h += 4 + 4 * u16(buf, off + h + 2);
  }
  return h > len ? -1 : h;
}

/** Number of padding bytes at the end (0 without the P bit), or -1 if malformed. */
export function rtpPaddingLength(buf: Uint8Array, off: number, len: number): number {
  const h = rtpHeaderLength(buf, off, len);
  if (h < 0) return -1;
  if ((buf[off] & 0x20) === 0) return 0;
  if (len <= h) return -1;
  const pad = buf[off + len - 1];
  return pad === 0 || h + pad > len ? -1 : pad;
}

/** Payload length excluding padding (P bit: last byte = pad count), or -1 if malformed. */
export function rtpPayloadLength(buf: Uint8Array, off: number, len: number): number {
  const h = rtpHeaderLength(buf, off, len);
  if (h < 0) return -1;
  if ((buf[off] & 0x20) === 0) return len - h;
  if (len <= h) return -1;
  const pad = buf[off + len - 1];
  return pad === 0 || h + pad > len ? -1 : len - h - pad;
}
