// RTP VP8 depacketizer (RFC 7741): strips each packet's VP8 payload descriptor and joins the
// packets of one frame (same timestamp; the first has S=1 and PID=0, the last the RTP marker).
// Packets must come in order (a jitter buffer or plain arrival order); reordering within a frame
// is not undone. Loss is handled the way a decoder needs it: on a sequence gap the frame in
// progress and every frame after it are dropped until the next keyframe, and `needsKeyframe` asks
// the caller to send a PLI. Payloads are copied (the caller reuses its packet buffers) into one
// internal buffer; the returned frame is a view of it, valid until the next push().
import { newVp8Descriptor, readVp8Descriptor, seqDiff } from '@switchboard/rtp';

export interface Vp8Frame {
  /** The VP8 frame (RFC 6386), descriptor-free. */
  data: Uint8Array;
  keyframe: boolean;
  rtpTimestamp: number;
  /** Picture size from the keyframe header; 0 unless keyframe. */
  width: number;
  height: number;
}

/** Frames over this are dropped (a sender gone mad, or garbage). */
export const MAX_VP8_FRAME = 2 * 1024 * 1024;

export class Vp8Depacketizer {
  /** A frame was lost: send a PLI. Cleared when a keyframe is emitted. */
  needsKeyframe = false;
  /** Frames completed and returned. */
  framesOut = 0;
  /** Frames dropped: incomplete (loss), too large, or waiting for a keyframe. */
  framesDropped = 0;

  private buf = new Uint8Array(64 * 1024);
  private len = 0;
  /** Assembling a frame (we saw its first packet and no gap since). */
  private inFrame = false;
  private frameTs = 0;
  private frameKey = false;
  /** After loss (and at the start) only a keyframe may start a frame. */
  private waitKeyframe = true;
  private lastSeq = -1;
  private readonly desc = newVp8Descriptor();
  private readonly frame: Vp8Frame = { data: this.buf.subarray(0, 0), keyframe: false, rtpTimestamp: 0, width: 0, height: 0 };

  /**
   * One RTP packet's payload (after the RTP header, without padding). Returns the completed frame
   * when this packet ends one, else null. The frame object and its data are reused: consume or
   * copy them before the next push().
   */
  push(seq: number, rtpTimestamp: number, marker: boolean, payload: Uint8Array): Vp8Frame | null {
    seq &= 0xffff;
    if (this.lastSeq >= 0) {
      const d = seqDiff(seq, this.lastSeq);
      if (d <= 0) return null; // duplicate or late: ignore, it is not loss
      if (d > 1) this.lost();
    }
    this.lastSeq = seq;

    const d = this.desc;
    if (!readVp8Descriptor(payload, 0, payload.length, d)) {
      this.lost();
      return null;
    }
    const b0 = payload[0];
    const start = (b0 & 0x10) !== 0 && (b0 & 0x07) === 0;
    const body = payload.subarray(d.headerLength);

    if (start) {
      if (this.inFrame) this.lost(); // the previous frame never got its marker
      if (body.length === 0) return null;
      const key = (body[0] & 0x01) === 0; // VP8 payload header P bit
      if (this.waitKeyframe && !key) {
        this.drop();
        this.needsKeyframe = true;
        return null;
      }
      this.inFrame = true;
      this.frameTs = rtpTimestamp >>> 0;
      this.frameKey = key;
      this.len = 0;
    } else if (!this.inFrame || rtpTimestamp >>> 0 !== this.frameTs) {
      return null; // the rest of a frame we are not assembling (dropped, or begun before we started)
    }

    if (!this.append(body)) {
      this.lost();
      return null;
    }
    if (!marker) return null;
    this.inFrame = false;
    return this.complete();
  }

  /** Loss: drop the frame in progress and everything until the next keyframe. */
  private lost(): void {
    if (this.inFrame) this.drop();
    this.inFrame = false;
    this.waitKeyframe = true;
    this.needsKeyframe = true;
  }

  private drop(): void {
    this.framesDropped++;
    this.inFrame = false;
  }

  private append(body: Uint8Array): boolean {
    const need = this.len + body.length;
    if (need > MAX_VP8_FRAME) return false;
    if (need > this.buf.length) {
      const bigger = new Uint8Array(Math.min(MAX_VP8_FRAME, Math.max(need, this.buf.length * 2)));
      bigger.set(this.buf.subarray(0, this.len));
      this.buf = bigger;
    }
    this.buf.set(body, this.len);
    this.len = need;
    return true;
  }

  private complete(): Vp8Frame | null {
    const f = this.frame;
    const data = this.buf.subarray(0, this.len);
    f.width = 0;
    f.height = 0;
    if (this.frameKey) {
      // keyframe header (RFC 6386 §9.1): 3-byte tag, start code 9d 01 2a, 14-bit width and height
      if (data.length < 10 || data[3] !== 0x9d || data[4] !== 0x01 || data[5] !== 0x2a) {
        this.drop();
        this.lost();
        return null;
      }
      f.width = (data[6] | (data[7] << 8)) & 0x3fff;
      f.height = (data[8] | (data[9] << 8)) & 0x3fff;
      this.waitKeyframe = false;
      this.needsKeyframe = false;
    }
    f.data = data;
    f.keyframe = this.frameKey;
    f.rtpTimestamp = this.frameTs;
    this.framesOut++;
    return f;
  }
}
