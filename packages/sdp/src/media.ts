import { getAttribute, getAttributes } from './attributes.js';
import { SdpError } from './errors.js';
import type { MediaDescription } from './types.js';
import { parseUint, quote, splitHead, tokens } from './util.js';

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
const DIRECTIONS: readonly string[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

export function isDirection(s: string): s is Direction {
  return DIRECTIONS.includes(s);
}

/** The first direction attribute of the section; sendrecv when there is none. */
export function getDirection(m: MediaDescription): Direction {
  for (const a of m.attributes) {
    if (isDirection(a.name)) {
      if (a.value !== undefined) throw new SdpError(`a=${a.name} takes no value, got ${quote(a.value)}`);
      return a.name;
    }
  }
  return 'sendrecv';
}

/** a=mid (RFC 9143). */
export function getMid(m: MediaDescription): string | undefined {
  const mid = getAttribute(m, 'mid');
  if (mid === undefined) return undefined;
  if (mid.length === 0 || /\s/.test(mid)) throw new SdpError(`a=mid must be a non-empty token, got ${quote(mid)}`);
  return mid;
}

/** a=msid (RFC 8830): stream id ("-" for none) and optional track id. */
export function getMsid(m: MediaDescription): { stream: string; track?: string } | undefined {
  const v = getAttribute(m, 'msid');
  if (v === undefined) return undefined;
  const t = tokens(v);
  if (t.length < 1 || t.length > 2) throw new SdpError(`a=msid needs "stream [track]", got ${quote(v)}`);
  return t.length === 2 ? { stream: t[0]!, track: t[1]! } : { stream: t[0]! };
}

export interface ExtMap {
  id: number;
  uri: string;
  direction?: Direction;
  /** Whatever follows the URI (extension attributes), as written. */
  attributes?: string;
}

/** a=extmap lines (RFC 8285), in order. */
export function getExtMaps(m: MediaDescription): ExtMap[] {
  return getAttributes(m, 'extmap').map((v) => {
    const { head, rest } = splitHead(v, 2);
    if (head.length < 2) throw new SdpError(`a=extmap needs "id[/direction] uri", got ${quote(v)}`);
    const [idText, dir] = head[0]!.split('/', 3);
    if (head[0]!.split('/').length > 2) throw new SdpError(`a=extmap id is malformed: ${quote(head[0])}`);
    const ext: ExtMap = { id: parseUint(idText, 'a=extmap id', 4351, 1), uri: head[1]! };
    if (dir !== undefined) {
      if (!isDirection(dir)) throw new SdpError(`a=extmap direction is not a direction: ${quote(dir)}`);
      ext.direction = dir;
    }
    if (rest !== undefined) ext.attributes = rest;
    return ext;
  });
}

export interface SsrcAttribute {
  ssrc: number;
  attribute: string;
  value?: string;
}

/** An unsigned 32-bit SSRC in decimal. */
export function parseSsrc(s: string | undefined, what: string): number {
  return parseUint(s, what, 0xffffffff) >>> 0;
}

/** a=ssrc lines (RFC 5576): "ssrc attribute[:value]", in order. */
export function getSsrcs(m: MediaDescription): SsrcAttribute[] {
  return getAttributes(m, 'ssrc').map((v) => {
    const { head, rest } = splitHead(v, 1);
    if (head.length < 1 || rest === undefined) throw new SdpError(`a=ssrc needs "ssrc attribute[:value]", got ${quote(v)}`);
    const ssrc = parseSsrc(head[0], 'a=ssrc ssrc');
    const colon = rest.indexOf(':');
    if (colon === 0) throw new SdpError(`a=ssrc attribute name is empty: ${quote(v)}`);
    return colon < 0 ? { ssrc, attribute: rest } : { ssrc, attribute: rest.slice(0, colon), value: rest.slice(colon + 1) };
  });
}

export interface SsrcGroup {
  semantics: string;
  ssrcs: number[];
}

/** a=ssrc-group lines (RFC 5576), e.g. FID (RTX) and SIM. */
export function getSsrcGroups(m: MediaDescription): SsrcGroup[] {
  return getAttributes(m, 'ssrc-group').map((v) => {
    const t = tokens(v);
    if (t.length < 1) throw new SdpError(`a=ssrc-group needs "semantics ssrc...", got ${quote(v)}`);
    return { semantics: t[0]!, ssrcs: t.slice(1).map((s) => parseSsrc(s, 'a=ssrc-group ssrc')) };
  });
}
