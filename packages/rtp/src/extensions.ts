// RTP header extensions (RFC 8285): one-byte (0xBEDE) and two-byte (0x100X) forms, and the
// values Switchboard routes on: audio level (RFC 6464), transport-wide-cc sequence numbers,
// abs-send-time, and the string extensions (mid, rid, repaired-rid).
//
// Lookups return a packed number, (valueOffset << 8) | valueLength, so nothing is allocated.
// valueOffset is absolute in buf. (Computed as valueOffset * 256 + valueLength, so it stays
// positive for any offset; `r >> 8` / `r & 0xff` decode it for buffers under 8 MiB.)
import { put16, put24, u16, u24 } from './bytes.js';

/** Byte offset (absolute) of the last located element's header; set by locate(). */
let foundHeaderPos = 0;
/** Whether the last located element used the two-byte form. */
let foundTwoByte = false;

function locate(buf: Uint8Array, off: number, len: number, id: number): number {
  if (len < 12 || (buf[off] & 0xc0) !== 0x80 || (buf[off] & 0x10) === 0) return -1;
  const h0 = 12 + 4 * (buf[off] & 0x0f);
  if (h0 + 4 > len) return -1;
  const profile = u16(buf, off + h0);
  const start = off + h0 + 4;
  const end = start + 4 * u16(buf, off + h0 + 2);
  if (end > off + len) return -1;
  if (profile === 0xbede) {
    if (id < 1 || id > 14) return -1;
    let p = start;
    while (p < end) {
      const b = buf[p];
      const eid = b >> 4;
      if (eid === 0) {
        if (b !== 0) return -1; // id 0 with a length: malformed
        p++;
        continue;
      }
      if (eid === 15) return -1; // reserved: stop processing
      const l = (b & 0x0f) + 1;
      if (p + 1 + l > end) return -1;
      if (eid === id) {
        foundHeaderPos = p;
        foundTwoByte = false;
        return (p + 1) * 256 + l;
      }
      p += 1 + l;
    }
    return -1;
  }
  if ((profile & 0xfff0) === 0x1000) {
    if (id < 1 || id > 255) return -1;
    let p = start;
    while (p < end) {
      const eid = buf[p];
      if (eid === 0) {
        p++;
        continue;
      }
      if (p + 2 > end) return -1;
      const l = buf[p + 1];
      if (p + 2 + l > end) return -1;
      if (eid === id) {
        foundHeaderPos = p;
        foundTwoByte = true;
        return (p + 2) * 256 + l;
      }
      p += 2 + l;
    }
  }
  return -1;
}

/**
 * Header extension lookup (RFC 8285, one-byte 0xBEDE and two-byte 0x100X forms). Returns
 * (valueOffset << 8) | valueLength — valueOffset absolute in buf — or -1 if absent/malformed.
 * No allocation.
 */
export function findHeaderExtension(buf: Uint8Array, off: number, len: number, id: number): number {
  return locate(buf, off, len, id);
}

/** RFC 6464 audio level: returns (vad ? 0x80 : 0) | level (0..127 -dBov), or -1. */
export function readAudioLevel(buf: Uint8Array, off: number, len: number, id: number): number {
  const r = locate(buf, off, len, id);
  if (r < 0 || r % 256 < 1) return -1;
  return buf[Math.floor(r / 256)];
}

/** transport-wide-cc sequence number (draft-holmer-rmcat-transport-wide-cc-extensions-01), or -1. */
export function readTransportSeq(buf: Uint8Array, off: number, len: number, id: number): number {
  const r = locate(buf, off, len, id);
  if (r < 0 || r % 256 < 2) return -1;
  return u16(buf, Math.floor(r / 256));
}

/** Rewrites the transport-wide-cc sequence number in place; false if the extension is absent. */
export function writeTransportSeq(buf: Uint8Array, off: number, len: number, id: number, seq: number): boolean {
  const r = locate(buf, off, len, id);
  if (r < 0 || r % 256 < 2) return false;
  put16(buf, Math.floor(r / 256), seq);
  return true;
}

/** abs-send-time (24-bit 6.18 fixed point seconds), or -1. */
export function readAbsSendTime(buf: Uint8Array, off: number, len: number, id: number): number {
  const r = locate(buf, off, len, id);
  if (r < 0 || r % 256 < 3) return -1;
  return u24(buf, Math.floor(r / 256));
}

/** Rewrites abs-send-time in place; false if the extension is absent. */
export function writeAbsSendTime(buf: Uint8Array, off: number, len: number, id: number, value24: number): boolean {
  const r = locate(buf, off, len, id);
  if (r < 0 || r % 256 < 3) return false;
  put24(buf, Math.floor(r / 256), value24);
  return true;
}

let decoder: TextDecoder | undefined;

/** String extensions (mid, rid, repaired-rid), UTF-8. Allocates: use on the first packet of an unknown SSRC. */
export function readStringExtension(buf: Uint8Array, off: number, len: number, id: number): string | undefined {
  const r = locate(buf, off, len, id);
  if (r < 0) return undefined;
  const vo = Math.floor(r / 256);
  let vl = r % 256;
  while (vl > 0 && buf[vo + vl - 1] === 0) vl--; // some senders NUL-pad the value
  decoder ??= new TextDecoder('utf-8');
  return decoder.decode(buf.subarray(vo, vo + vl));
}

/**
 * Rewrites an extension's id in place (same form: 1..14 one-byte, 1..255 two-byte). toId 0
 * disables the extension: its whole element (header and value) becomes zero padding bytes,
 * which both forms allow. Returns false if the extension is absent or toId does not fit the form.
 */
export function setHeaderExtensionId(buf: Uint8Array, off: number, len: number, fromId: number, toId: number): boolean {
  const r = locate(buf, off, len, fromId);
  if (r < 0) return false;
  const hp = foundHeaderPos;
  if (toId === 0) {
    const end = Math.floor(r / 256) + (r % 256);
    for (let p = hp; p < end; p++) buf[p] = 0;
    return true;
  }
  if (foundTwoByte) {
    if (toId < 1 || toId > 255) return false;
    buf[hp] = toId;
  } else {
    if (toId < 1 || toId > 14) return false;
    buf[hp] = (toId << 4) | (buf[hp] & 0x0f);
  }
  return true;
}

/**
 * Renames extension elements in one pass: each element with id i gets map[i] when that is
 * non-zero (so swaps like 1<->2 work). One-byte form: new ids must be 1..14 (others are left
 * alone). Returns how many elements were renamed, or -1 if the block is malformed.
 */
export function remapHeaderExtensionIds(buf: Uint8Array, off: number, len: number, map: Uint8Array): number {
  if (len < 12 || (buf[off] & 0xc0) !== 0x80 || (buf[off] & 0x10) === 0) return 0;
  const h0 = 12 + 4 * (buf[off] & 0x0f);
  if (h0 + 4 > len) return -1;
  const profile = u16(buf, off + h0);
  const start = off + h0 + 4;
  const end = start + 4 * u16(buf, off + h0 + 2);
  if (end > off + len) return -1;
  let n = 0;
  let p = start;
  if (profile === 0xbede) {
    while (p < end) {
      const b = buf[p];
      const eid = b >> 4;
      if (eid === 0) {
        p++;
        continue;
      }
      if (eid === 15) return n;
      const l = (b & 0x0f) + 1;
      if (p + 1 + l > end) return -1;
      const to = map[eid];
      if (to >= 1 && to <= 14) {
        buf[p] = (to << 4) | (b & 0x0f);
        n++;
      }
      p += 1 + l;
    }
    return n;
  }
  if ((profile & 0xfff0) === 0x1000) {
    while (p < end) {
      const eid = buf[p];
      if (eid === 0) {
        p++;
        continue;
      }
      if (p + 2 > end) return -1;
      const l = buf[p + 1];
      if (p + 2 + l > end) return -1;
      const to = map[eid];
      if (to !== 0) {
        buf[p] = to;
        n++;
      }
      p += 2 + l;
    }
  }
  return n;
}
