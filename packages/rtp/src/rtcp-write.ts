// RTCP builders. Each writes one packet into `out` at `off` and returns the bytes written; throws
// RtpError (writing nothing) if it would not fit or a value cannot be encoded. No allocation.
import { put16, put24, put32 } from './bytes.js';
import { RtpError } from './errors.js';
import type { ReportBlock } from './rtcp-types.js';
import { seqDiff } from './seq.js';

function ensure(out: Uint8Array, off: number, n: number): void {
  if (!(off >= 0 && off + n <= out.length)) throw new RtpError(`RTCP: ${n} bytes do not fit at offset ${off}`);
}

/** Common header: V=2, P=0, count/FMT, packet type, length in 32-bit words minus one. */
function header(out: Uint8Array, off: number, countOrFmt: number, pt: number, bytes: number): void {
  out[off] = 0x80 | (countOrFmt & 0x1f);
  out[off + 1] = pt;
  put16(out, off + 2, bytes / 4 - 1);
}

function writeReportBlock(out: Uint8Array, p: number, r: ReportBlock): void {
  put32(out, p, r.ssrc);
  out[p + 4] = r.fractionLost & 0xff;
  put24(out, p + 5, r.cumulativeLost & 0xffffff);
  put32(out, p + 8, r.highestSeq);
  put32(out, p + 12, r.jitter);
  put32(out, p + 16, r.lsr);
  put32(out, p + 20, r.dlsr);
}

export interface SenderReportInit {
  ssrc: number;
  ntpSec: number;
  ntpFrac: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports?: ReportBlock[];
}

/** Sender report (RFC 3550 §6.4.1), up to 31 report blocks. */
export function writeSenderReport(out: Uint8Array, off: number, p: SenderReportInit): number {
  const n = p.reports ? p.reports.length : 0;
  if (n > 31) throw new RtpError('RTCP: more than 31 report blocks');
  const total = 28 + 24 * n;
  ensure(out, off, total);
  header(out, off, n, 200, total);
  put32(out, off + 4, p.ssrc);
  put32(out, off + 8, p.ntpSec);
  put32(out, off + 12, p.ntpFrac);
  put32(out, off + 16, p.rtpTimestamp);
  put32(out, off + 20, p.packetCount);
  put32(out, off + 24, p.octetCount);
  for (let i = 0; i < n; i++) writeReportBlock(out, off + 28 + 24 * i, p.reports![i]);
  return total;
}

/** Receiver report (RFC 3550 §6.4.2), up to 31 report blocks. */
export function writeReceiverReport(out: Uint8Array, off: number, p: { ssrc: number; reports: ReportBlock[] }): number {
  const n = p.reports.length;
  if (n > 31) throw new RtpError('RTCP: more than 31 report blocks');
  const total = 8 + 24 * n;
  ensure(out, off, total);
  header(out, off, n, 201, total);
  put32(out, off + 4, p.ssrc);
  for (let i = 0; i < n; i++) writeReportBlock(out, off + 8 + 24 * i, p.reports[i]);
  return total;
}

/** UTF-8 byte length of s (lone surrogates count as U+FFFD, as TextEncoder does). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function writeUtf8(out: Uint8Array, p: number, s: string): void {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[p++] = c;
    } else if (c < 0x800) {
      out[p++] = 0xc0 | (c >> 6);
      out[p++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      out[p++] = 0xf0 | (c >> 18);
      out[p++] = 0x80 | ((c >> 12) & 0x3f);
      out[p++] = 0x80 | ((c >> 6) & 0x3f);
      out[p++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      out[p++] = 0xe0 | (c >> 12);
      out[p++] = 0x80 | ((c >> 6) & 0x3f);
      out[p++] = 0x80 | (c & 0x3f);
    }
  }
}

/** SDES (RFC 3550 §6.5) with one chunk carrying a CNAME item (at most 255 UTF-8 bytes). */
export function writeSdes(out: Uint8Array, off: number, ssrc: number, cname: string): number {
  const l = utf8Length(cname);
  if (l > 255) throw new RtpError('RTCP: CNAME longer than 255 bytes');
  // header(4) + ssrc(4) + type(1) + len(1) + text + at least one null, padded to 32 bits
  const total = (8 + 2 + l + 1 + 3) & ~3;
  ensure(out, off, total);
  header(out, off, 1, 202, total);
  put32(out, off + 4, ssrc);
  out[off + 8] = 1;
  out[off + 9] = l;
  writeUtf8(out, off + 10, cname);
  for (let p = off + 10 + l; p < off + total; p++) out[p] = 0;
  return total;
}

/** Walks seqs packing PID/BLP pairs; writes them at p when write is true. Returns the pair count. */
function nackPairs(seqs: ArrayLike<number>, count: number, out: Uint8Array, p: number, write: boolean): number {
  let pairs = 0;
  let i = 0;
  while (i < count) {
    const pid = seqs[i] & 0xffff;
    let blp = 0;
    let j = i + 1;
    for (; j < count; j++) {
      const d = seqDiff(seqs[j], pid);
      if (d === 0) continue;
      if (d < 1 || d > 16) break;
      blp |= 1 << (d - 1);
    }
    if (write) {
      put16(out, p + 4 * pairs, pid);
      put16(out, p + 4 * pairs + 2, blp);
    }
    pairs++;
    i = j;
  }
  return pairs;
}

/**
 * Generic NACK (RFC 4585 §6.2.1). seqs[0..count) in ascending order mod 2^16 (wrap allowed): each
 * run of up to 17 numbers within 16 of its first becomes one PID/BLP pair.
 */
export function writeNack(out: Uint8Array, off: number, senderSsrc: number, mediaSsrc: number, seqs: ArrayLike<number>, count: number): number {
  if (count < 1 || count > seqs.length) throw new RtpError('RTCP: NACK needs 1..seqs.length sequence numbers');
  const pairs = nackPairs(seqs, count, out, 0, false);
  const total = 12 + 4 * pairs;
  ensure(out, off, total);
  header(out, off, 1, 205, total);
  put32(out, off + 4, senderSsrc);
  put32(out, off + 8, mediaSsrc);
  nackPairs(seqs, count, out, off + 12, true);
  return total;
}

/** Picture Loss Indication (RFC 4585 §6.3.1). */
export function writePli(out: Uint8Array, off: number, senderSsrc: number, mediaSsrc: number): number {
  ensure(out, off, 12);
  header(out, off, 1, 206, 12);
  put32(out, off + 4, senderSsrc);
  put32(out, off + 8, mediaSsrc);
  return 12;
}

/** Full Intra Request (RFC 5104 §4.3.1) for one media sender; the header's media SSRC is 0. */
export function writeFir(out: Uint8Array, off: number, senderSsrc: number, mediaSsrc: number, seqNr: number): number {
  ensure(out, off, 20);
  header(out, off, 4, 206, 20);
  put32(out, off + 4, senderSsrc);
  put32(out, off + 8, 0);
  put32(out, off + 12, mediaSsrc);
  out[off + 16] = seqNr & 0xff;
  out[off + 17] = 0;
  out[off + 18] = 0;
  out[off + 19] = 0;
  return 20;
}

/**
 * REMB (draft-alvestrand-rmcat-remb-03): bitrate (bits/s) as an 18-bit mantissa and 6-bit exponent,
 * rounded down to the nearest representable value; up to 255 SSRCs.
 */
export function writeRemb(out: Uint8Array, off: number, senderSsrc: number, bitrate: number, ssrcs: ArrayLike<number>): number {
  if (!(bitrate >= 0) || !Number.isFinite(bitrate)) throw new RtpError('RTCP: REMB bitrate must be a finite number >= 0');
  const n = ssrcs.length;
  if (n > 255) throw new RtpError('RTCP: REMB lists more than 255 SSRCs');
  let exp = 0;
  while (bitrate >= 0x40000 * 2 ** exp) exp++;
  if (exp > 63) throw new RtpError('RTCP: REMB bitrate too large');
  const mantissa = Math.floor(bitrate / 2 ** exp);
  const total = 20 + 4 * n;
  ensure(out, off, total);
  header(out, off, 15, 206, total);
  put32(out, off + 4, senderSsrc);
  put32(out, off + 8, 0);
  out[off + 12] = 0x52; // 'R'
  out[off + 13] = 0x45; // 'E'
  out[off + 14] = 0x4d; // 'M'
  out[off + 15] = 0x42; // 'B'
  out[off + 16] = n;
  out[off + 17] = (exp << 2) | (mantissa >>> 16);
  put16(out, off + 18, mantissa & 0xffff);
  for (let i = 0; i < n; i++) put32(out, off + 20 + 4 * i, ssrcs[i]);
  return total;
}
