// Keyframe detection for VP9, H.264 and AV1 payloads (VP8 is in vp8.ts). Each takes the RTP payload
// (payloadOff = packet off + rtpHeaderLength) and never reads outside [payloadOff, payloadOff+payloadLen).

/**
 * VP9 (RFC 9628, formerly draft-ietf-payload-vp9): P=0 (not inter-picture predicted) and B=1
 * (start of a frame) on the first spatial layer (SID 0, or no layer indices). Handles flexible
 * (F=1) and non-flexible modes.
 */
export function vp9IsKeyframe(buf: Uint8Array, payloadOff: number, payloadLen: number): boolean {
  if (payloadLen < 1) return false;
  const b0 = buf[payloadOff];
  // I P L F B E V Z
  if ((b0 & 0x40) !== 0 || (b0 & 0x08) === 0) return false;
  if ((b0 & 0x20) === 0) return true; // no layer indices: single spatial layer
  let p = payloadOff + 1;
  const end = payloadOff + payloadLen;
  if (b0 & 0x80) {
    if (p >= end) return false;
    p += buf[p] & 0x80 ? 2 : 1;
  }
  if (p >= end) return false;
  const sid = (buf[p] >> 1) & 0x07; // TID(3) U(1) SID(3) D(1)
  return sid === 0;
}

function h264NalIsKey(type: number): boolean {
  return type === 5 || type === 7;
}

/** RFC 6184: IDR (5) or SPS (7) as a single NAL unit, inside STAP-A/STAP-B, or at an FU-A/FU-B start. */
export function h264IsKeyframe(buf: Uint8Array, payloadOff: number, payloadLen: number): boolean {
  if (payloadLen < 1) return false;
  const end = payloadOff + payloadLen;
  const type = buf[payloadOff] & 0x1f;
  if (type >= 1 && type <= 23) return h264NalIsKey(type);
  if (type === 24 || type === 25) {
    // STAP-A: [size(16) NAL]...; STAP-B has a 16-bit DON first.
    let p = payloadOff + (type === 25 ? 3 : 1);
    while (p + 2 < end) {
      const size = (buf[p] << 8) | buf[p + 1];
      p += 2;
      if (size === 0 || p + size > end) return false;
      if (h264NalIsKey(buf[p] & 0x1f)) return true;
      p += size;
    }
    return false;
  }
  if (type === 28 || type === 29) {
    if (payloadLen < 2) return false;
    const fu = buf[payloadOff + 1]; // S E R Type
    return (fu & 0x80) !== 0 && h264NalIsKey(fu & 0x1f);
  }
  return false;
}

/** AV1 RTP payload format §4.4: the N bit of the aggregation header (first packet of a coded video sequence). */
export function av1IsKeyframe(buf: Uint8Array, payloadOff: number, payloadLen: number): boolean {
  return payloadLen >= 1 && (buf[payloadOff] & 0x08) !== 0;
}
