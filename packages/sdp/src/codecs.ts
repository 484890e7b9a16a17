import { getAttributes } from './attributes.js';
import { SdpError } from './errors.js';
import type { MediaDescription } from './types.js';
import { parseUint, quote, splitHead } from './util.js';

export interface RtpCodec {
  payloadType: number;
  /** As written in a=rtpmap (e.g. "opus", "VP8", "rtx"). */
  name: string;
  clockRate: number;
  channels?: number;
  /** The a=fmtp parameters as written (see parseFmtp). */
  fmtp?: string;
  rtcpFb: { type: string; parameter?: string }[];
}

/** RFC 3551 static payload types used without a=rtpmap. */
const STATIC: Record<number, [string, number, number?]> = {
  0: ['PCMU', 8000],
  3: ['GSM', 8000],
  4: ['G723', 8000],
  5: ['DVI4', 8000],
  6: ['DVI4', 16000],
  7: ['LPC', 8000],
  8: ['PCMA', 8000],
  9: ['G722', 8000],
  10: ['L16', 44100, 2],
  11: ['L16', 44100],
  12: ['QCELP', 8000],
  13: ['CN', 8000],
  14: ['MPA', 90000],
  15: ['G728', 8000],
  16: ['DVI4', 11025],
  17: ['DVI4', 22050],
  18: ['G729', 8000],
  25: ['CelB', 90000],
  26: ['JPEG', 90000],
  28: ['nv', 90000],
  31: ['H261', 90000],
  32: ['MPV', 90000],
  33: ['MP2T', 90000],
  34: ['H263', 90000],
};

function payloadType(s: string | undefined, what: string): number {
  return parseUint(s, what, 127);
}

/**
 * The RTP codecs of an RTP media section, in m= format order, from a=rtpmap, a=fmtp and
 * a=rtcp-fb ("a=rtcp-fb:*" applies to every codec). Static payload types without a=rtpmap get
 * their RFC 3551 defaults; dynamic ones without a=rtpmap are left out. Non-RTP sections (no
 * "RTP" in the protocol, e.g. UDP/DTLS/SCTP) have no codecs.
 */
export function getCodecs(m: MediaDescription): RtpCodec[] {
  if (!m.protocol.toUpperCase().includes('RTP')) return [];
  const rtpmap = new Map<number, { name: string; clockRate: number; channels?: number }>();
  for (const v of getAttributes(m, 'rtpmap')) {
    const { head, rest } = splitHead(v, 1);
    const pt = payloadType(head[0], 'a=rtpmap payload type');
    const parts = rest === undefined ? [] : rest.split('/');
    if (parts.length < 2 || parts.length > 3 || parts[0]!.length === 0 || /\s/.test(rest!)) {
      throw new SdpError(`a=rtpmap needs "pt name/clock[/channels]", got ${quote(v)}`);
    }
    if (rtpmap.has(pt)) continue;
    const entry: { name: string; clockRate: number; channels?: number } = {
      name: parts[0]!,
      clockRate: parseUint(parts[1], 'a=rtpmap clock rate', 0xffffffff),
    };
    if (parts[2] !== undefined) entry.channels = parseUint(parts[2], 'a=rtpmap channels', 0xffff);
    rtpmap.set(pt, entry);
  }
  const fmtp = new Map<number, string>();
  for (const v of getAttributes(m, 'fmtp')) {
    const { head, rest } = splitHead(v, 1);
    const pt = payloadType(head[0], 'a=fmtp payload type');
    if (!fmtp.has(pt)) fmtp.set(pt, rest ?? '');
  }
  const fb: { pt: number | '*'; type: string; parameter?: string }[] = [];
  for (const v of getAttributes(m, 'rtcp-fb')) {
    const { head, rest } = splitHead(v, 2);
    if (head.length < 2) throw new SdpError(`a=rtcp-fb needs "pt type [parameter]", got ${quote(v)}`);
    const pt = head[0] === '*' ? '*' : payloadType(head[0], 'a=rtcp-fb payload type');
    fb.push(rest === undefined ? { pt, type: head[1]! } : { pt, type: head[1]!, parameter: rest });
  }

  const out: RtpCodec[] = [];
  const seen = new Set<number>();
  for (const f of m.formats) {
    const pt = payloadType(f, 'm= payload type');
    if (seen.has(pt)) continue;
    seen.add(pt);
    let map = rtpmap.get(pt);
    if (!map) {
      const s = STATIC[pt];
      if (!s) continue;
      map = s[2] === undefined ? { name: s[0], clockRate: s[1] } : { name: s[0], clockRate: s[1], channels: s[2] };
    }
    const codec: RtpCodec = { payloadType: pt, name: map.name, clockRate: map.clockRate, rtcpFb: [] };
    if (map.channels !== undefined) codec.channels = map.channels;
    const params = fmtp.get(pt);
    if (params !== undefined) codec.fmtp = params;
    for (const f of fb) {
      if (f.pt === '*' || f.pt === pt) {
        codec.rtcpFb.push(f.parameter === undefined ? { type: f.type } : { type: f.type, parameter: f.parameter });
      }
    }
    out.push(codec);
  }
  return out;
}

/**
 * Splits fmtp parameters "minptime=10;useinbandfec=1" into {minptime: '10', useinbandfec: '1'}.
 * Keys and values are kept as written (trimmed); a part without '=' (e.g. RED's "111/111")
 * becomes a key with value ''. The first occurrence of a key wins. Never throws.
 */
export function parseFmtp(fmtp: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of fmtp.split(';')) {
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (key.length === 0 || Object.prototype.hasOwnProperty.call(out, key)) continue;
    const value = eq < 0 ? '' : part.slice(eq + 1).trim();
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
