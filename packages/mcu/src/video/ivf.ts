// IVF, the trivial container the video pieces use to talk to ffmpeg over pipes: a 32-byte file
// header ("DKIF", fourcc, size, time base), then per frame a 12-byte header (u32 size, u64 pts,
// little-endian) and the frame. The decoder and recorder write VP8 in it, the encoder writes raw
// I420 in it (fourcc "I420": ffmpeg's IVF demuxer maps it to rawvideo, which is what lets us give
// each raw frame its own timestamp) and reads VP8 back out of it.
import { McuError } from '../errors.js';

export const IVF_FILE_HEADER = 32;
export const IVF_FRAME_HEADER = 12;

/** The 32-byte IVF file header. `timeBase` is 1/timeBaseDen seconds per pts unit. */
export function ivfFileHeader(fourcc: 'VP80' | 'I420', width: number, height: number, timeBaseDen: number): Buffer {
  const h = Buffer.alloc(IVF_FILE_HEADER);
  h.write('DKIF', 0, 'latin1');
  h.writeUInt16LE(0, 4); // version
  h.writeUInt16LE(IVF_FILE_HEADER, 6);
  h.write(fourcc, 8, 'latin1');
  h.writeUInt16LE(width, 12);
  h.writeUInt16LE(height, 14);
  h.writeUInt32LE(timeBaseDen, 16);
  h.writeUInt32LE(1, 20);
  return h; // frame count (24) and unused (28) stay 0: unknown on a pipe
}

/** Writes a 12-byte IVF frame header at `off` of `out`. pts must be a safe non-negative integer. */
export function writeIvfFrameHeader(out: Uint8Array, off: number, size: number, pts: number): void {
  out[off] = size & 0xff;
  out[off + 1] = (size >>> 8) & 0xff;
  out[off + 2] = (size >>> 16) & 0xff;
  out[off + 3] = (size >>> 24) & 0xff;
  const lo = pts % 0x100000000;
  const hi = Math.floor(pts / 0x100000000);
  out[off + 4] = lo & 0xff;
  out[off + 5] = (lo >>> 8) & 0xff;
  out[off + 6] = (lo >>> 16) & 0xff;
  out[off + 7] = (lo >>> 24) & 0xff;
  out[off + 8] = hi & 0xff;
  out[off + 9] = (hi >>> 8) & 0xff;
  out[off + 10] = (hi >>> 16) & 0xff;
  out[off + 11] = (hi >>> 24) & 0xff;
}

/**
 * Incremental IVF reader over a byte stream (stdout chunks). A frame lying inside one chunk is
 * handed out as a view of that chunk (no copy); a frame split across chunks is copied into a new
 * buffer. Either way the receiver owns it (Node never reuses stdout chunks).
 */
export class IvfReader {
  private readonly hdr = new Uint8Array(IVF_FILE_HEADER);
  private hdrGot = 0;
  private readonly fh = new Uint8Array(IVF_FRAME_HEADER);
  private fhGot = 0;
  /** Size of the frame being read, -1 while reading a frame header. */
  private size = -1;
  private pts = 0;
  private partial: Uint8Array | null = null;
  private partialGot = 0;
  /** Time base denominator from the file header (0 until it has been read). */
  timeBaseDen = 0;

  constructor(
    private readonly onFrame: (data: Uint8Array, pts: number) => void,
    private readonly maxFrame = 8 << 20,
  ) {}

  /** Consumes a chunk; throws a McuError (SB_ERR_CODEC_OUTPUT) on a frame size over the limit. */
  push(chunk: Uint8Array): void {
    let p = 0;
    const n = chunk.length;
    while (p < n) {
      if (this.hdrGot < IVF_FILE_HEADER) {
        const k = Math.min(IVF_FILE_HEADER - this.hdrGot, n - p);
        this.hdr.set(chunk.subarray(p, p + k), this.hdrGot);
        this.hdrGot += k;
        p += k;
        if (this.hdrGot === IVF_FILE_HEADER) this.timeBaseDen = readU32(this.hdr, 16);
      } else if (this.size < 0) {
        if (this.fhGot === 0 && n - p >= IVF_FRAME_HEADER) {
          this.frameHeader(chunk, p);
          p += IVF_FRAME_HEADER;
        } else {
          const k = Math.min(IVF_FRAME_HEADER - this.fhGot, n - p);
          this.fh.set(chunk.subarray(p, p + k), this.fhGot);
          this.fhGot += k;
          p += k;
          if (this.fhGot < IVF_FRAME_HEADER) continue;
          this.fhGot = 0;
          this.frameHeader(this.fh, 0);
        }
        if (n - p >= this.size) {
          // fast path: the whole frame is in this chunk
          const s = this.size;
          this.size = -1;
          this.onFrame(chunk.subarray(p, p + s), this.pts);
          p += s;
        } else {
          this.partial = new Uint8Array(this.size);
          this.partialGot = 0;
        }
      } else {
        const f = this.partial as Uint8Array;
        const k = Math.min(f.length - this.partialGot, n - p);
        f.set(chunk.subarray(p, p + k), this.partialGot);
        this.partialGot += k;
        p += k;
        if (this.partialGot === f.length) {
          this.partial = null;
          this.size = -1;
          this.onFrame(f, this.pts);
        }
      }
    }
  }

  private frameHeader(b: Uint8Array, o: number): void {
    const size = readU32(b, o);
    if (size > this.maxFrame) throw new McuError('SB_ERR_CODEC_OUTPUT', `IVF frame of ${size} bytes (limit ${this.maxFrame})`);
    this.pts = readU32(b, o + 8) * 0x100000000 + readU32(b, o + 4);
    this.size = size;
  }
}

function readU32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}
