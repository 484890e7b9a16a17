// Readers for the pre-encoded media files: IVF (VP8 frames) and Ogg Opus (one Opus packet per
// 20 ms frame). Nothing is decoded; the frames are sent as they are.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface VideoFrame {
  data: Buffer;
  /** IVF timestamp in the file's timebase. */
  pts: number;
  keyframe: boolean;
}

export interface IvfFile {
  fourcc: string;
  width: number;
  height: number;
  /** Frame rate = rateNum / rateDen (IVF's "time base denominator / numerator"). */
  rateNum: number;
  rateDen: number;
  frames: VideoFrame[];
}

/** Parses an IVF file (32-byte header, then 12-byte frame headers). */
export function parseIvf(buf: Buffer): IvfFile {
  if (buf.length < 32 || buf.toString('latin1', 0, 4) !== 'DKIF') throw new Error('not an IVF file (no DKIF signature)');
  const headerLen = buf.readUInt16LE(6);
  const fourcc = buf.toString('latin1', 8, 12);
  const width = buf.readUInt16LE(12);
  const height = buf.readUInt16LE(14);
  const rateNum = buf.readUInt32LE(16);
  const rateDen = buf.readUInt32LE(20);
  const frames: VideoFrame[] = [];
  let off = headerLen;
  while (off + 12 <= buf.length) {
    const size = buf.readUInt32LE(off);
    const pts = Number(buf.readBigUInt64LE(off + 4));
    off += 12;
    if (off + size > buf.length) throw new Error(`IVF frame at ${off - 12} is truncated (${size} bytes announced)`);
    const data = buf.subarray(off, off + size);
    off += size;
    // VP8 frame tag: bit 0 of the first byte is 0 for a key frame
    frames.push({ data, pts, keyframe: size > 0 && (data[0] & 0x01) === 0 });
  }
  return { fourcc, width, height, rateNum, rateDen, frames };
}

/**
 * The packets of an Ogg stream (RFC 3533), in order, joined across pages; for Ogg Opus
 * (RFC 7845) the first two are OpusHead and OpusTags. One logical stream is assumed.
 */
export function parseOggPackets(buf: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let pending: Buffer[] = [];
  let off = 0;
  while (off + 27 <= buf.length) {
    if (buf.toString('latin1', off, off + 4) !== 'OggS') throw new Error(`no Ogg page at offset ${off}`);
    const nseg = buf[off + 26];
    const lacing = buf.subarray(off + 27, off + 27 + nseg);
    let p = off + 27 + nseg;
    let start = p;
    for (let i = 0; i < nseg; i++) {
      p += lacing[i];
      if (lacing[i] < 255) {
        pending.push(buf.subarray(start, p));
        packets.push(pending.length === 1 ? pending[0] : Buffer.concat(pending));
        pending = [];
        start = p;
      }
    }
    if (p > buf.length) throw new Error('truncated Ogg page');
    if (start < p) pending.push(buf.subarray(start, p)); // continues on the next page
    off = p;
  }
  return packets;
}

/** Opus packets of an Ogg Opus file, headers dropped. */
export function parseOggOpus(buf: Buffer): Buffer[] {
  const packets = parseOggPackets(buf);
  if (packets.length < 2 || packets[0].toString('latin1', 0, 8) !== 'OpusHead') throw new Error('not an Ogg Opus stream (no OpusHead)');
  return packets.slice(2).filter((p) => p.length > 0);
}

/** Duration of an Opus packet in 48 kHz samples, from its TOC byte (RFC 6716 §3.1). */
export function opusPacketSamples(pkt: Buffer): number {
  const toc = pkt[0];
  const config = toc >> 3;
  let frameSamples: number;
  if (config < 12) frameSamples = [480, 960, 1920, 2880][config & 3];
  else if (config < 16) frameSamples = (config & 1) === 0 ? 480 : 960;
  else frameSamples = [120, 240, 480, 960][config & 3];
  const c = toc & 3;
  const frames = c === 0 ? 1 : c === 3 ? pkt[1] & 0x3f : 2;
  return frameSamples * frames;
}

export const MEDIA_DIR = fileURLToPath(new URL('../media/', import.meta.url));

export interface MediaSet {
  video: IvfFile;
  audio: Buffer[];
}

let cached: MediaSet | null = null;

/** The committed test media (media/video.ivf, media/audio.ogg), read once. */
export function loadMedia(dir = MEDIA_DIR): MediaSet {
  if (cached && dir === MEDIA_DIR) return cached;
  const set = { video: parseIvf(readFileSync(`${dir}video.ivf`)), audio: parseOggOpus(readFileSync(`${dir}audio.ogg`)) };
  if (dir === MEDIA_DIR) cached = set;
  return set;
}
