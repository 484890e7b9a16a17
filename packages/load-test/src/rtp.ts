// RTP packetization of the pre-encoded media: VP8 per RFC 7741 (payload descriptor with a
// 15-bit picture id), Opus one frame per packet (RFC 7587). Every payload ends with a 12-byte
// trailer ['SBLT'][float64 send time, ms] that the receivers use to measure latency.

export const TRAILER_MAGIC = 0x53424c54; // 'SBLT'
export const TRAILER_BYTES = 12;
export const MAX_RTP_PACKET = 1200;
export const RTP_HEADER_BYTES = 12;

export interface RtpHeaderFields {
  payloadType: number;
  seq: number;
  timestamp: number;
  ssrc: number;
  marker: boolean;
}

/** Writes a 12-byte RTP header (no CSRC, no extension) at buf[0..12). */
export function writeRtpHeader(buf: Buffer, h: RtpHeaderFields): void {
  buf[0] = 0x80;
  buf[1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  buf.writeUInt16BE(h.seq & 0xffff, 2);
  buf.writeUInt32BE(h.timestamp >>> 0, 4);
  buf.writeUInt32BE(h.ssrc >>> 0, 8);
}

export function writeTrailer(buf: Buffer, offset: number, sendTimeMs: number): void {
  buf.writeUInt32BE(TRAILER_MAGIC, offset);
  buf.writeDoubleBE(sendTimeMs, offset + 4);
}

export interface ParsedRtp {
  payloadType: number;
  marker: boolean;
  seq: number;
  timestamp: number;
  ssrc: number;
  /** Payload start and end (padding removed). */
  payloadOffset: number;
  payloadEnd: number;
}

/** RTCP packet types 192..223 share the second byte with RTP PT+marker (RFC 5761). */
export function isRtcp(buf: Buffer): boolean {
  return buf.length >= 2 && buf[1] >= 192 && buf[1] <= 223;
}

export function parseRtp(buf: Buffer): ParsedRtp | null {
  if (buf.length < 12 || buf[0] >> 6 !== 2) return null;
  const cc = buf[0] & 0x0f;
  let off = 12 + cc * 4;
  if (buf[0] & 0x10) {
    if (off + 4 > buf.length) return null;
    off += 4 + buf.readUInt16BE(off + 2) * 4;
  }
  let end = buf.length;
  if (buf[0] & 0x20) end -= buf[buf.length - 1];
  if (off > end) return null;
  return { payloadType: buf[1] & 0x7f, marker: (buf[1] & 0x80) !== 0, seq: buf.readUInt16BE(2), timestamp: buf.readUInt32BE(4), ssrc: buf.readUInt32BE(8), payloadOffset: off, payloadEnd: end };
}

/** The trailer's send time, or undefined when the payload does not end with one. */
export function readTrailer(buf: Buffer, p: ParsedRtp): number | undefined {
  if (p.payloadEnd - p.payloadOffset < TRAILER_BYTES) return undefined;
  const at = p.payloadEnd - TRAILER_BYTES;
  if (buf.readUInt32BE(at) !== TRAILER_MAGIC) return undefined;
  return buf.readDoubleBE(at + 4);
}

/** Sequence/timestamp state of one outgoing RTP stream. */
export class RtpStream {
  seq: number;
  constructor(
    readonly ssrc: number,
    readonly payloadType: number,
    initialSeq = Math.floor(Math.random() * 0x10000),
  ) {
    this.seq = initialSeq;
  }
  nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) & 0xffff;
    return s;
  }
}

/** VP8 payload descriptor length with a 15-bit picture id: X,S/PID byte, I byte, 2 PictureID bytes. */
export const VP8_DESCRIPTOR_BYTES = 3 + 1; // [X|R|N|S|R|PID] [I|L|T|K|RSV] [M|PictureID(15)]

/**
 * Packetizes one VP8 frame (RFC 7741): each packet has the 4-byte payload descriptor
 * (X=1, S=1 on the first packet, PID=0, I=1, M=1, 15-bit picture id), a slice of the frame, and
 * the latency trailer; the marker bit is set on the last packet. No packet exceeds maxPacket.
 */
export function packetizeVp8(stream: RtpStream, frame: Buffer, timestamp: number, pictureId: number, sendTimeMs: number, maxPacket = MAX_RTP_PACKET): Buffer[] {
  const room = maxPacket - RTP_HEADER_BYTES - VP8_DESCRIPTOR_BYTES - TRAILER_BYTES;
  if (room <= 0) throw new Error('maxPacket too small');
  const count = Math.max(1, Math.ceil(frame.length / room));
  // spread the frame evenly over the packets
  const per = Math.ceil(frame.length / count);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const chunk = frame.subarray(i * per, Math.min(frame.length, (i + 1) * per));
    const pkt = Buffer.allocUnsafe(RTP_HEADER_BYTES + VP8_DESCRIPTOR_BYTES + chunk.length + TRAILER_BYTES);
    writeRtpHeader(pkt, { payloadType: stream.payloadType, seq: stream.nextSeq(), timestamp, ssrc: stream.ssrc, marker: i === count - 1 });
    let o = RTP_HEADER_BYTES;
    pkt[o++] = 0x80 | (i === 0 ? 0x10 : 0); // X=1, N=0, S, PID=0
    pkt[o++] = 0x80; // I=1
    pkt[o++] = 0x80 | ((pictureId >> 8) & 0x7f); // M=1: 15-bit picture id
    pkt[o++] = pictureId & 0xff;
    chunk.copy(pkt, o);
    o += chunk.length;
    writeTrailer(pkt, o, sendTimeMs);
    out.push(pkt);
  }
  return out;
}

/** One Opus frame in one RTP packet (RFC 7587), marker off, trailer appended. */
export function packetizeOpus(stream: RtpStream, frame: Buffer, timestamp: number, sendTimeMs: number): Buffer {
  const pkt = Buffer.allocUnsafe(RTP_HEADER_BYTES + frame.length + TRAILER_BYTES);
  writeRtpHeader(pkt, { payloadType: stream.payloadType, seq: stream.nextSeq(), timestamp, ssrc: stream.ssrc, marker: false });
  frame.copy(pkt, RTP_HEADER_BYTES);
  writeTrailer(pkt, RTP_HEADER_BYTES + frame.length, sendTimeMs);
  return pkt;
}

/** Parses the RFC 7741 payload descriptor; returns where the VP8 data starts and the fields. */
export function parseVp8Descriptor(payload: Buffer): { start: boolean; partitionId: number; pictureId?: number; headerBytes: number } {
  let o = 0;
  const b0 = payload[o++];
  const start = (b0 & 0x10) !== 0;
  const partitionId = b0 & 0x07;
  let pictureId: number | undefined;
  if (b0 & 0x80) {
    const x = payload[o++];
    if (x & 0x80) {
      const m = payload[o++];
      if (m & 0x80) pictureId = ((m & 0x7f) << 8) | payload[o++];
      else pictureId = m & 0x7f;
    }
    if (x & 0x40) o++; // TL0PICIDX
    if (x & 0x30) o++; // TID/Y/KEYIDX
  }
  return { start, partitionId, pictureId, headerBytes: o };
}
