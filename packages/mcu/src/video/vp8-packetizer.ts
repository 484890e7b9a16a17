// RTP VP8 packetizer (RFC 7741): splits an encoded frame into RTP packets of at most
// maxPacketSize bytes (12-byte header, no CSRCs or extensions), each with a 4-byte VP8 payload
// descriptor: X=1, I=1 and a 15-bit PictureID (one per frame, wrapping), S=1 on the first packet,
// PID 0, and the marker on the last. Sequence numbers continue across calls from a random start.
// The packets of one frame are views of one buffer allocated per frame (they are sent
// asynchronously, so they cannot be reused by the next call).
import { McuError } from '../errors.js';

const RTP_HEADER = 12;
const DESCRIPTOR = 4;

export interface Vp8PacketizerOptions {
  ssrc: number;
  payloadType: number;
  /** Whole RTP packet, header included. Default 1200. */
  maxPacketSize?: number;
}

export class Vp8Packetizer {
  private readonly ssrc: number;
  private readonly payloadType: number;
  private readonly maxPayload: number;
  private nextSeq: number;
  private nextPictureId: number;

  constructor(opts: Vp8PacketizerOptions) {
    const max = opts.maxPacketSize ?? 1200;
    if (!Number.isInteger(max) || max < RTP_HEADER + DESCRIPTOR + 1) throw new McuError('SB_ERR_VIDEO_INVALID', `maxPacketSize ${max} is too small`);
    this.ssrc = opts.ssrc >>> 0;
    this.payloadType = opts.payloadType & 0x7f;
    this.maxPayload = max - RTP_HEADER - DESCRIPTOR;
    this.nextSeq = Math.floor(Math.random() * 0x10000);
    this.nextPictureId = Math.floor(Math.random() * 0x8000);
  }

  /** The sequence number the next packet will carry. */
  get seq(): number {
    return this.nextSeq;
  }

  /** The PictureID the next frame will carry. */
  get pictureId(): number {
    return this.nextPictureId;
  }

  /**
   * RTP packets for one frame, in order. `keyframe` is not written anywhere: RFC 7741 carries it
   * in the VP8 payload header (the frame's first byte), which receivers read.
   */
  packetize(frame: Uint8Array, keyframe: boolean, rtpTimestamp: number): Uint8Array[] {
    void keyframe;
    const len = frame.length;
    if (len === 0) return [];
    // equal-sized packets rather than full ones and a runt at the end
    const count = Math.ceil(len / this.maxPayload);
    const per = Math.ceil(len / count);
    const out = new Uint8Array(len + count * (RTP_HEADER + DESCRIPTOR));
    const packets: Uint8Array[] = new Array(count);
    const ts = rtpTimestamp >>> 0;
    const pid = this.nextPictureId;
    let src = 0;
    let o = 0;
    for (let i = 0; i < count; i++) {
      const n = Math.min(per, len - src);
      const start = o;
      const seq = this.nextSeq;
      out[o] = 0x80; // V=2
      out[o + 1] = (i === count - 1 ? 0x80 : 0) | this.payloadType;
      out[o + 2] = seq >>> 8;
      out[o + 3] = seq & 0xff;
      out[o + 4] = ts >>> 24;
      out[o + 5] = (ts >>> 16) & 0xff;
      out[o + 6] = (ts >>> 8) & 0xff;
      out[o + 7] = ts & 0xff;
      out[o + 8] = this.ssrc >>> 24;
      out[o + 9] = (this.ssrc >>> 16) & 0xff;
      out[o + 10] = (this.ssrc >>> 8) & 0xff;
      out[o + 11] = this.ssrc & 0xff;
      out[o + 12] = 0x80 | (i === 0 ? 0x10 : 0); // X, S, PID 0
      out[o + 13] = 0x80; // I: PictureID present
      out[o + 14] = 0x80 | (pid >>> 8); // M: 15-bit PictureID
      out[o + 15] = pid & 0xff;
      o += RTP_HEADER + DESCRIPTOR;
      out.set(frame.subarray(src, src + n), o);
      o += n;
      src += n;
      packets[i] = out.subarray(start, o);
      this.nextSeq = (seq + 1) & 0xffff;
    }
    this.nextPictureId = (pid + 1) & 0x7fff;
    return packets;
  }
}
