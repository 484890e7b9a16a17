// Compound RTCP parsing. RTCP is low rate, so this allocates plain objects.
import { u16, u24, u32 } from './bytes.js';
import { RtpError } from './errors.js';
import type { ReportBlock, RtcpPacket, TwccPacketStatus } from './rtcp-types.js';

function fail(msg: string): never {
  throw new RtpError(`RTCP: ${msg}`);
}

function readReports(buf: Uint8Array, p: number, n: number, end: number): ReportBlock[] {
  if (p + 24 * n > end) fail('report blocks overrun the packet');
  const out: ReportBlock[] = [];
  for (let i = 0; i < n; i++, p += 24) {
    const c = u24(buf, p + 5);
    out.push({
      ssrc: u32(buf, p),
      fractionLost: buf[p + 4],
      cumulativeLost: c & 0x800000 ? c - 0x1000000 : c,
      highestSeq: u32(buf, p + 8),
      jitter: u32(buf, p + 12),
      lsr: u32(buf, p + 16),
      dlsr: u32(buf, p + 20),
    });
  }
  return out;
}

let utf8: TextDecoder | undefined;

function parseSdes(buf: Uint8Array, start: number, sc: number, end: number): RtcpPacket {
  const chunks: { ssrc: number; cname?: string }[] = [];
  let p = start + 4;
  for (let i = 0; i < sc; i++) {
    if (p + 4 > end) fail('SDES chunk overruns the packet');
    const chunk: { ssrc: number; cname?: string } = { ssrc: u32(buf, p) };
    p += 4;
    for (;;) {
      if (p >= end) fail('SDES items not terminated');
      const type = buf[p];
      if (type === 0) {
        p++;
        while ((p - start) & 3) p++; // to the next 32-bit boundary
        break;
      }
      if (p + 2 > end) fail('SDES item overruns the packet');
      const l = buf[p + 1];
      if (p + 2 + l > end) fail('SDES item overruns the packet');
      if (type === 1) {
        utf8 ??= new TextDecoder('utf-8');
        chunk.cname = utf8.decode(buf.subarray(p + 2, p + 2 + l));
      }
      p += 2 + l;
    }
    chunks.push(chunk);
  }
  return { type: 'sdes', chunks };
}

function parseTwcc(buf: Uint8Array, p: number, end: number): RtcpPacket {
  if (p + 20 > end) fail('transport-cc feedback too short');
  const baseSeq = u16(buf, p + 12);
  const statusCount = u16(buf, p + 14);
  const r = u24(buf, p + 16);
  const referenceTime = r & 0x800000 ? r - 0x1000000 : r;
  const fbCount = buf[p + 19];
  const symbols = new Uint8Array(statusCount);
  let q = p + 20;
  let i = 0;
  while (i < statusCount) {
    if (q + 2 > end) fail('transport-cc chunks overrun the packet');
    const chunk = u16(buf, q);
    q += 2;
    if ((chunk & 0x8000) === 0) {
      const sym = (chunk >> 13) & 3;
      const run = chunk & 0x1fff;
      for (let k = 0; k < run && i < statusCount; k++) symbols[i++] = sym;
    } else if ((chunk & 0x4000) === 0) {
      for (let k = 13; k >= 0 && i < statusCount; k--) symbols[i++] = (chunk >> k) & 1;
    } else {
      for (let k = 12; k >= 0 && i < statusCount; k -= 2) symbols[i++] = (chunk >> k) & 3;
    }
  }
  const packets: TwccPacketStatus[] = new Array(statusCount);
  for (i = 0; i < statusCount; i++) {
    const sym = symbols[i];
    let deltaUs = 0;
    if (sym === 1) {
      if (q + 1 > end) fail('transport-cc deltas overrun the packet');
      deltaUs = buf[q] * 250;
      q += 1;
    } else if (sym === 2) {
      if (q + 2 > end) fail('transport-cc deltas overrun the packet');
      const d = u16(buf, q);
      deltaUs = (d & 0x8000 ? d - 0x10000 : d) * 250;
      q += 2;
    } else if (sym === 3) {
      fail('transport-cc reserved status symbol');
    }
    packets[i] = { seq: (baseSeq + i) & 0xffff, received: sym !== 0, deltaUs };
  }
  return { type: 'twcc', senderSsrc: u32(buf, p + 4), mediaSsrc: u32(buf, p + 8), baseSeq, referenceTime, fbCount, packets };
}

/** Parses one RTCP packet whose bytes are [p, end) (padding already removed). */
function parseOne(buf: Uint8Array, p: number, end: number): RtcpPacket {
  const count = buf[p] & 0x1f;
  const pt = buf[p + 1];
  switch (pt) {
    case 200: {
      if (p + 28 > end) fail('SR too short');
      return {
        type: 'sr',
        ssrc: u32(buf, p + 4),
        ntpSec: u32(buf, p + 8),
        ntpFrac: u32(buf, p + 12),
        rtpTimestamp: u32(buf, p + 16),
        packetCount: u32(buf, p + 20),
        octetCount: u32(buf, p + 24),
        reports: readReports(buf, p + 28, count, end),
      };
    }
    case 201: {
      if (p + 8 > end) fail('RR too short');
      return { type: 'rr', ssrc: u32(buf, p + 4), reports: readReports(buf, p + 8, count, end) };
    }
    case 202:
      return parseSdes(buf, p, count, end);
    case 203: {
      if (p + 4 + 4 * count > end) fail('BYE overruns the packet');
      const ssrcs: number[] = [];
      for (let i = 0; i < count; i++) ssrcs.push(u32(buf, p + 4 + 4 * i));
      return { type: 'bye', ssrcs };
    }
    case 205: {
      if (count === 1) {
        if (p + 12 > end) fail('NACK too short');
        const seqs: number[] = [];
        for (let q = p + 12; q + 4 <= end; q += 4) {
          const pid = u16(buf, q);
          const blp = u16(buf, q + 2);
          seqs.push(pid);
          for (let k = 0; k < 16; k++) if (blp & (1 << k)) seqs.push((pid + k + 1) & 0xffff);
        }
        return { type: 'nack', senderSsrc: u32(buf, p + 4), mediaSsrc: u32(buf, p + 8), seqs };
      }
      if (count === 15) return parseTwcc(buf, p, end);
      break;
    }
    case 206: {
      if (count === 1) {
        if (p + 12 > end) fail('PLI too short');
        return { type: 'pli', senderSsrc: u32(buf, p + 4), mediaSsrc: u32(buf, p + 8) };
      }
      if (count === 4) {
        if (p + 12 > end) fail('FIR too short');
        const entries: { ssrc: number; seq: number }[] = [];
        for (let q = p + 12; q + 8 <= end; q += 8) entries.push({ ssrc: u32(buf, q), seq: buf[q + 4] });
        return { type: 'fir', senderSsrc: u32(buf, p + 4), entries };
      }
      // REMB (draft-alvestrand-rmcat-remb): AFB with the 'REMB' identifier.
      if (count === 15 && p + 20 <= end && buf[p + 12] === 0x52 && buf[p + 13] === 0x45 && buf[p + 14] === 0x4d && buf[p + 15] === 0x42) {
        const n = buf[p + 16];
        const exp = buf[p + 17] >> 2;
        const mantissa = ((buf[p + 17] & 3) << 16) | u16(buf, p + 18);
        if (p + 20 + 4 * n > end) fail('REMB SSRC list overruns the packet');
        const ssrcs: number[] = [];
        for (let i = 0; i < n; i++) ssrcs.push(u32(buf, p + 20 + 4 * i));
        return { type: 'remb', senderSsrc: u32(buf, p + 4), bitrate: mantissa * 2 ** exp, ssrcs };
      }
      break;
    }
  }
  return { type: 'unknown', packetType: pt, fmt: count };
}

/**
 * Parses a compound RTCP packet (already decrypted). Throws RtpError on malformed input (bad
 * version, length beyond the buffer, bad padding, a body shorter than its type needs).
 * Unknown packet types and feedback formats come back as { type: 'unknown' }.
 */
export function parseRtcp(buf: Uint8Array, off: number, len: number): RtcpPacket[] {
  if (!(off >= 0 && len >= 0 && off + len <= buf.length)) fail('range outside the buffer');
  if (len < 4) fail('too short');
  const out: RtcpPacket[] = [];
  const end = off + len;
  let p = off;
  while (p < end) {
    if (p + 4 > end) fail('truncated header');
    if ((buf[p] & 0xc0) !== 0x80) fail('bad version');
    const plen = (u16(buf, p + 2) + 1) * 4;
    if (p + plen > end) fail('length beyond the buffer');
    let bodyEnd = p + plen;
    if (buf[p] & 0x20) {
      const pad = buf[bodyEnd - 1];
      if (pad === 0 || pad > plen - 4) fail('bad padding');
      bodyEnd -= pad;
    }
    out.push(parseOne(buf, p, bodyEnd));
    p += plen;
  }
  return out;
}
