// VP8 payload descriptor (RFC 7741 §4.2) and keyframe check (§4.3 payload header, P bit).

export interface Vp8Descriptor {
  /** Picture id, or -1 if absent. */
  pictureId: number;
  /** Width of the picture id on the wire: 0 (absent), 7 or 15 bits. */
  pictureIdBits: 0 | 7 | 15;
  /** TL0PICIDX, or -1 if absent. */
  tl0PicIdx: number;
  /** Temporal layer index, or -1 if absent. */
  tid: number;
  /** Y bit (layer sync); false if absent. */
  layerSync: boolean;
  /** KEYIDX, or -1 if absent. */
  keyIdx: number;
  /** Length of the payload descriptor in bytes (the VP8 payload header follows). */
  headerLength: number;
}

/** A fresh descriptor to reuse across calls. */
export function newVp8Descriptor(): Vp8Descriptor {
  return { pictureId: -1, pictureIdBits: 0, tl0PicIdx: -1, tid: -1, layerSync: false, keyIdx: -1, headerLength: 0 };
}

/** Fills `out` from the descriptor at payloadOff; false if malformed/truncated (out is then unspecified). No allocation. */
export function readVp8Descriptor(buf: Uint8Array, payloadOff: number, payloadLen: number, out: Vp8Descriptor): boolean {
  out.pictureId = -1;
  out.pictureIdBits = 0;
  out.tl0PicIdx = -1;
  out.tid = -1;
  out.layerSync = false;
  out.keyIdx = -1;
  out.headerLength = 0;
  if (payloadLen < 1) return false;
  let p = payloadOff;
  const end = payloadOff + payloadLen;
  const b0 = buf[p++];
  if (b0 & 0x80) {
    if (p >= end) return false;
    const x = buf[p++];
    if (x & 0x80) {
      if (p >= end) return false;
      const m = buf[p];
      if (m & 0x80) {
        if (p + 2 > end) return false;
        out.pictureId = ((m & 0x7f) << 8) | buf[p + 1];
        out.pictureIdBits = 15;
        p += 2;
      } else {
        out.pictureId = m;
        out.pictureIdBits = 7;
        p += 1;
      }
    }
    if (x & 0x40) {
      if (p >= end) return false;
      out.tl0PicIdx = buf[p++];
    }
    if (x & 0x30) {
      if (p >= end) return false;
      const t = buf[p++];
      if (x & 0x20) {
        out.tid = t >> 6;
        out.layerSync = (t & 0x20) !== 0;
      }
      if (x & 0x10) out.keyIdx = t & 0x1f;
    }
  }
  out.headerLength = p - payloadOff;
  return true;
}

/** Offset of the picture id byte(s), or -1; assumes a well-formed descriptor (as checked by readVp8Descriptor). */
function pictureIdPos(buf: Uint8Array, payloadOff: number): number {
  if ((buf[payloadOff] & 0x80) === 0 || (buf[payloadOff + 1] & 0x80) === 0) return -1;
  return payloadOff + 2;
}

/** Rewrites the picture id in place keeping its 7/15-bit width (value masked to it); no-op if absent. */
export function writeVp8PictureId(buf: Uint8Array, payloadOff: number, pictureId: number): void {
  const p = pictureIdPos(buf, payloadOff);
  if (p < 0) return;
  if (buf[p] & 0x80) {
    buf[p] = 0x80 | ((pictureId >>> 8) & 0x7f);
    buf[p + 1] = pictureId & 0xff;
  } else {
    buf[p] = pictureId & 0x7f;
  }
}

/** Rewrites TL0PICIDX in place; no-op if absent. */
export function writeVp8Tl0PicIdx(buf: Uint8Array, payloadOff: number, value: number): void {
  if ((buf[payloadOff] & 0x80) === 0) return;
  const x = buf[payloadOff + 1];
  if ((x & 0x40) === 0) return;
  let p = payloadOff + 2;
  if (x & 0x80) p += buf[p] & 0x80 ? 2 : 1;
  buf[p] = value & 0xff;
}

/** RFC 7741: start of partition 0 (S=1, PID=0) and the P bit of the VP8 payload header is 0. */
export function vp8IsKeyframe(buf: Uint8Array, payloadOff: number, payloadLen: number): boolean {
  if (payloadLen < 1) return false;
  const b0 = buf[payloadOff];
  if ((b0 & 0x10) === 0 || (b0 & 0x07) !== 0) return false;
  let p = payloadOff + 1;
  const end = payloadOff + payloadLen;
  if (b0 & 0x80) {
    if (p >= end) return false;
    const x = buf[p++];
    if (x & 0x80) {
      if (p >= end) return false;
      p += buf[p] & 0x80 ? 2 : 1;
    }
    if (x & 0x40) p++;
    if (x & 0x30) p++;
  }
  if (p >= end) return false;
  return (buf[p] & 0x01) === 0;
}
