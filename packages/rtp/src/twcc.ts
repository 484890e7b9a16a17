// transport-cc feedback writer (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1).
//
//   header (FMT 15, PT 205) | sender SSRC | media SSRC | base seq | status count |
//   reference time (24 bits, 64 ms) | fb pkt count | packet chunks (16 bits each) | recv deltas | padding
//
// Status symbols: 0 not received, 1 received with a small delta (1 byte, 0..255 x 250 µs),
// 2 received with a large or negative delta (2 bytes, signed, x 250 µs).
// Chunks: run length (0 SS LLLLLLLLLLLLL) or status vector (1 0 + 14 one-bit symbols,
// 1 1 + 7 two-bit symbols).
import { put16, put24, put32 } from './bytes.js';
import { RtpError } from './errors.js';
import { seqDiff } from './seq.js';

/** Per-status symbols of the feedback being written (module scratch: no per-call allocation). */
const symbols = new Uint8Array(0x10000);

const TICK_US = 250;
const REF_US = 64000;

/** Picks and (if write) writes the chunks for symbols[0..n) at p; returns the chunk count. */
function chunkPass(n: number, out: Uint8Array, p: number, write: boolean): number {
  let chunks = 0;
  let i = 0;
  while (i < n) {
    const s = symbols[i];
    let run = 1;
    while (i + run < n && run < 0x1fff && symbols[i + run] === s) run++;
    let word: number;
    let used: number;
    const window14 = Math.min(14, n - i);
    let smallOnly = true;
    for (let k = 0; k < window14; k++) if (symbols[i + k] > 1) smallOnly = false;
    if (run >= 14 || i + run === n || (run >= 7 && !smallOnly)) {
      word = (s << 13) | run;
      used = run;
    } else if (smallOnly) {
      word = 0x8000;
      for (let k = 0; k < window14; k++) word |= symbols[i + k] << (13 - k);
      used = window14;
    } else {
      used = Math.min(7, n - i);
      word = 0xc000;
      for (let k = 0; k < used; k++) word |= symbols[i + k] << (12 - 2 * k);
    }
    if (write) put16(out, p + 2 * chunks, word);
    chunks++;
    i += used;
  }
  return chunks;
}

/**
 * transport-cc feedback for received packets: seqs[i] received at arrivalUs[i] (µs, monotonic);
 * seqs strictly ascending mod 2^16 (may wrap), gaps are reported lost. The reference time is
 * floor(arrivalUs[0] / 64 ms); deltas are rounded to 250 µs against the absolute arrival times, so
 * the error does not accumulate. Chooses run-length chunks for runs of 14 or more (or 7 or more
 * among 2-bit symbols) and status vectors otherwise; 1-byte deltas when 0..63.75 ms, 2-byte
 * signed deltas otherwise. Pads to 32 bits with the P bit set. Splits nothing: throws RtpError if
 * a delta does not fit 16 bits (±8.19 s), seqs are not ascending, or the output does not fit.
 */
export function writeTransportCc(
  out: Uint8Array, off: number,
  senderSsrc: number, mediaSsrc: number, fbCount: number,
  seqs: ArrayLike<number>, arrivalUs: ArrayLike<number>, count: number,
): number {
  if (count < 1 || count > seqs.length || count > arrivalUs.length) throw new RtpError('RTCP: transport-cc needs 1..seqs.length packets');
  const base = seqs[0] & 0xffff;
  let statusCount = 1;
  for (let i = 1; i < count; i++) {
    const d = seqDiff(seqs[i], seqs[i - 1]);
    if (d < 1) throw new RtpError('RTCP: transport-cc sequence numbers must be strictly ascending');
    statusCount += d;
    if (statusCount > 0xffff) throw new RtpError('RTCP: transport-cc spans more than 65535 sequence numbers');
  }
  const refTicks64 = Math.floor(arrivalUs[0] / REF_US);
  const refUs = refTicks64 * REF_US;
  symbols.fill(0, 0, statusCount);
  let deltaBytes = 0;
  let prevTicks = 0;
  let idx = 0;
  for (let i = 0; i < count; i++) {
    if (i > 0) idx += seqDiff(seqs[i], seqs[i - 1]);
    const ticks = Math.round((arrivalUs[i] - refUs) / TICK_US);
    const d = ticks - prevTicks;
    prevTicks = ticks;
    if (d >= 0 && d <= 255) {
      symbols[idx] = 1;
      deltaBytes += 1;
    } else if (d >= -32768 && d <= 32767) {
      symbols[idx] = 2;
      deltaBytes += 2;
    } else {
      throw new RtpError(`RTCP: transport-cc delta of ${d * TICK_US} µs does not fit 16 bits`);
    }
  }
  const chunks = chunkPass(statusCount, out, 0, false);
  const unpadded = 20 + 2 * chunks + deltaBytes;
  const total = (unpadded + 3) & ~3;
  const pad = total - unpadded;
  if (!(off >= 0 && off + total <= out.length)) throw new RtpError(`RTCP: ${total} bytes do not fit at offset ${off}`);
  out[off] = 0x80 | (pad ? 0x20 : 0) | 15;
  out[off + 1] = 205;
  put16(out, off + 2, total / 4 - 1);
  put32(out, off + 4, senderSsrc);
  put32(out, off + 8, mediaSsrc);
  put16(out, off + 12, base);
  put16(out, off + 14, statusCount);
  put24(out, off + 16, refTicks64 & 0xffffff);
  out[off + 19] = fbCount & 0xff;
  chunkPass(statusCount, out, off + 20, true);
  let p = off + 20 + 2 * chunks;
  prevTicks = 0;
  for (let i = 0; i < count; i++) {
    const ticks = Math.round((arrivalUs[i] - refUs) / TICK_US);
    const d = ticks - prevTicks;
    prevTicks = ticks;
    if (d >= 0 && d <= 255) {
      out[p++] = d;
    } else {
      put16(out, p, d & 0xffff);
      p += 2;
    }
  }
  for (let k = 0; k < pad; k++) out[p++] = k === pad - 1 ? pad : 0;
  return total;
}
