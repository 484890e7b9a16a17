import { SdpError } from './errors.js';
import { MAX_MEDIA_SECTIONS, MAX_SDP_BYTES, MAX_SDP_LINES } from './limits.js';
import type { MediaDescription, SdpAttribute, SdpBandwidth, SessionDescription } from './types.js';
import { parseUint, quote, tokens } from './util.js';

/** UTF-8 length of `s`, stopping early once it exceeds `limit`. */
function utf8Length(s: string, limit: number): number {
  let n = 0;
  for (let i = 0; i < s.length && n <= limit; i++) {
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

export function parseAttribute(value: string): SdpAttribute {
  const colon = value.indexOf(':');
  const name = colon < 0 ? value : value.slice(0, colon);
  if (name.length === 0) throw new SdpError(`a= line without an attribute name: ${quote(value)}`);
  return colon < 0 ? { name } : { name, value: value.slice(colon + 1) };
}

function parseBandwidth(value: string): SdpBandwidth {
  const colon = value.indexOf(':');
  if (colon <= 0) throw new SdpError(`b= line is not "type:value": ${quote(value)}`);
  return { type: value.slice(0, colon), value: parseUint(value.slice(colon + 1), 'b= value') };
}

function parseMediaLine(value: string): MediaDescription {
  const t = tokens(value);
  if (t.length < 3) throw new SdpError(`m= line needs "kind port protocol formats...": ${quote(value)}`);
  if (t[1]!.includes('/')) throw new SdpError(`m= line with a port count is not supported: ${quote(value)}`);
  return {
    kind: t[0]!,
    port: parseUint(t[1], 'm= port', 65535),
    protocol: t[2]!,
    formats: t.slice(3),
    bandwidths: [],
    attributes: [],
  };
}

/**
 * Parses SDP text (CRLF or LF line endings). Session-level i=, u=, e=, p=, z=, k=, r= lines and
 * unknown line types are ignored; media-level i= becomes `information`. Throws SdpError on
 * structural errors and when the text exceeds the limits in limits.ts.
 */
export function parseSdp(text: string): SessionDescription {
  if (typeof text !== 'string') throw new SdpError('SDP must be a string');
  if (text.length > MAX_SDP_BYTES || utf8Length(text, MAX_SDP_BYTES) > MAX_SDP_BYTES) {
    throw new SdpError(`SDP is larger than ${MAX_SDP_BYTES} bytes`);
  }
  if (text.includes('\0')) throw new SdpError('SDP contains a NUL character');
  const lines = text.split('\n');
  if (lines.length > MAX_SDP_LINES + 1 || (lines.length === MAX_SDP_LINES + 1 && lines[MAX_SDP_LINES] !== '')) {
    throw new SdpError(`SDP has more than ${MAX_SDP_LINES} lines`);
  }

  let version: number | undefined;
  let origin: SessionDescription['origin'] | undefined;
  let sessionName: string | undefined;
  let connection: string | undefined;
  const bandwidths: SdpBandwidth[] = [];
  const timing: SessionDescription['timing'] = [];
  const attributes: SdpAttribute[] = [];
  const media: MediaDescription[] = [];
  let current: MediaDescription | undefined;

  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length === 0) continue;
    if (line.includes('\r')) throw new SdpError(`line ${i + 1} contains a CR that does not end it`);
    if (line.length < 2 || line.charCodeAt(1) !== 61 /* = */) {
      throw new SdpError(`line ${i + 1} is not "x=value": ${quote(line)}`);
    }
    const type = line[0]!;
    const value = line.slice(2);
    if (version === undefined) {
      if (type !== 'v') throw new SdpError(`SDP must start with v=, got ${quote(line)}`);
      version = parseUint(value, 'v=');
      continue;
    }
    if (current) {
      switch (type) {
        case 'm':
          break; // handled below
        case 'a':
          current.attributes.push(parseAttribute(value));
          continue;
        case 'b':
          current.bandwidths.push(parseBandwidth(value));
          continue;
        case 'c':
          current.connection ??= value;
          continue;
        case 'i':
          current.information ??= value;
          continue;
        case 'v':
        case 'o':
        case 's':
        case 't':
          throw new SdpError(`${type}= line inside a media section (line ${i + 1})`);
        default:
          continue; // k= and unknown types
      }
    }
    switch (type) {
      case 'm':
        if (origin === undefined || sessionName === undefined) {
          throw new SdpError('m= line before the o= and s= lines');
        }
        if (media.length >= MAX_MEDIA_SECTIONS) throw new SdpError(`more than ${MAX_MEDIA_SECTIONS} media sections`);
        current = parseMediaLine(value);
        media.push(current);
        break;
      case 'v':
        throw new SdpError(`second v= line (line ${i + 1})`);
      case 'o': {
        if (origin) throw new SdpError(`second o= line (line ${i + 1})`);
        const t = tokens(value);
        if (t.length !== 6) throw new SdpError(`o= line needs 6 fields: ${quote(value)}`);
        origin = {
          username: t[0]!,
          sessionId: t[1]!,
          sessionVersion: t[2]!,
          netType: t[3]!,
          addrType: t[4]!,
          address: t[5]!,
        };
        break;
      }
      case 's':
        if (sessionName !== undefined) throw new SdpError(`second s= line (line ${i + 1})`);
        sessionName = value;
        break;
      case 'c':
        connection ??= value;
        break;
      case 'b':
        bandwidths.push(parseBandwidth(value));
        break;
      case 't': {
        const t = tokens(value);
        if (t.length !== 2) throw new SdpError(`t= line needs "start stop": ${quote(value)}`);
        timing.push({ start: t[0]!, stop: t[1]! });
        break;
      }
      case 'a':
        attributes.push(parseAttribute(value));
        break;
      default:
        break; // i= u= e= p= z= k= r= and unknown types
    }
  }

  if (version === undefined) throw new SdpError('SDP has no v= line');
  if (origin === undefined) throw new SdpError('SDP has no o= line');
  if (sessionName === undefined) throw new SdpError('SDP has no s= line');
  if (timing.length === 0) timing.push({ start: '0', stop: '0' });
  const desc: SessionDescription = { version, origin, sessionName, bandwidths, timing, attributes, media };
  if (connection !== undefined) desc.connection = connection;
  return desc;
}
