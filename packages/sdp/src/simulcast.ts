import { getAttribute, getAttributes } from './attributes.js';
import { SdpError } from './errors.js';
import type { MediaDescription } from './types.js';
import { quote, splitHead, tokens } from './util.js';

const RID_ID = /^[A-Za-z0-9_-]+$/;

/** RFC 8851 rid-id: letters, digits, '-' and '_'. */
export function isRidId(s: string): boolean {
  return RID_ID.test(s);
}

/** RFC 8851 a=rid. */
export interface Rid {
  id: string;
  direction: 'send' | 'recv';
  /** Restrictions as written, e.g. "pt=96;max-width=1280". */
  params?: string;
}

/** a=rid lines (RFC 8851), in order. */
export function getRids(m: MediaDescription): Rid[] {
  return getAttributes(m, 'rid').map((v) => {
    const { head, rest } = splitHead(v, 2);
    if (head.length < 2) throw new SdpError(`a=rid needs "id send|recv [params]", got ${quote(v)}`);
    const [id, direction] = head as [string, string];
    if (!isRidId(id)) throw new SdpError(`a=rid id is not a rid-id: ${quote(id)}`);
    if (direction !== 'send' && direction !== 'recv') throw new SdpError(`a=rid direction must be send or recv, got ${quote(direction)}`);
    return rest === undefined ? { id, direction } : { id, direction, params: rest };
  });
}

export type SimulcastStream = { rid: string; paused: boolean }[];

/**
 * RFC 8853 a=simulcast: per direction, a list of streams, each a list of alternative rids
 * ("send 1;~2;3,4" -> send: [[1], [~2], [3, 4]]).
 */
export interface Simulcast {
  send?: SimulcastStream[];
  recv?: SimulcastStream[];
}

function parseStreams(list: string, v: string): SimulcastStream[] {
  // draft-ietf-mmusic-sdp-simulcast-03 and older wrote "rid=" before the list.
  const body = list.startsWith('rid=') ? list.slice(4) : list;
  return body.split(';').map((alts) =>
    alts.split(',').map((alt) => {
      const paused = alt.startsWith('~');
      const rid = paused ? alt.slice(1) : alt;
      if (!isRidId(rid)) throw new SdpError(`a=simulcast has a bad rid ${quote(alt)} in ${quote(v)}`);
      return { rid, paused };
    }),
  );
}

/** a=simulcast of the section, undefined when absent. */
export function getSimulcast(m: MediaDescription): Simulcast | undefined {
  const v = getAttribute(m, 'simulcast');
  if (v === undefined) return undefined;
  const t = tokens(v);
  if (t.length !== 2 && t.length !== 4) throw new SdpError(`a=simulcast needs "send|recv list [send|recv list]", got ${quote(v)}`);
  const out: Simulcast = {};
  for (let i = 0; i < t.length; i += 2) {
    const dir = t[i]!;
    if (dir !== 'send' && dir !== 'recv') throw new SdpError(`a=simulcast direction must be send or recv, got ${quote(dir)}`);
    if (out[dir]) throw new SdpError(`a=simulcast repeats ${dir}: ${quote(v)}`);
    out[dir] = parseStreams(t[i + 1]!, v);
  }
  return out;
}

function writeStreams(streams: SimulcastStream[]): string {
  if (streams.length === 0) throw new SdpError('a simulcast direction needs at least one stream');
  return streams
    .map((alts) => {
      if (alts.length === 0) throw new SdpError('a simulcast stream needs at least one rid');
      return alts
        .map(({ rid, paused }) => {
          if (typeof rid !== 'string' || !isRidId(rid)) throw new SdpError(`not a rid-id: ${quote(String(rid))}`);
          return paused ? `~${rid}` : rid;
        })
        .join(',');
    })
    .join(';');
}

/** The a=simulcast value for `s` (send first), e.g. "send q;h;f". */
export function writeSimulcast(s: Simulcast): string {
  const parts: string[] = [];
  if (s.send) parts.push(`send ${writeStreams(s.send)}`);
  if (s.recv) parts.push(`recv ${writeStreams(s.recv)}`);
  if (parts.length === 0) throw new SdpError('a simulcast needs send or recv streams');
  return parts.join(' ');
}
