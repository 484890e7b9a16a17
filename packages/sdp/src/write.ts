import { SdpError } from './errors.js';
import type { MediaDescription, SdpAttribute, SdpBandwidth, SessionDescription } from './types.js';
import { isLineText, isToken, quote } from './util.js';

function token(s: unknown, what: string): string {
  if (!isToken(s)) throw new SdpError(`${what} must be a non-empty string without spaces, tabs, CR, LF or NUL, got ${quote(String(s))}`);
  return s;
}

function text(s: unknown, what: string): string {
  if (!isLineText(s)) throw new SdpError(`${what} must be a string without CR, LF or NUL`);
  return s;
}

function uint(n: unknown, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) {
    throw new SdpError(`${what} must be an integer in [0, ${max}], got ${String(n)}`);
  }
  return n;
}

function writeAttribute(a: SdpAttribute): string {
  const name = text(a.name, 'attribute name');
  if (name.length === 0 || name.includes(':')) throw new SdpError(`attribute name must be non-empty without ':', got ${quote(name)}`);
  return a.value === undefined ? `a=${name}\r\n` : `a=${name}:${text(a.value, `a=${name} value`)}\r\n`;
}

function writeBandwidth(b: SdpBandwidth): string {
  const type = text(b.type, 'bandwidth type');
  if (type.length === 0 || type.includes(':')) throw new SdpError(`bandwidth type must be non-empty without ':', got ${quote(type)}`);
  return `b=${type}:${uint(b.value, 'bandwidth value')}\r\n`;
}

function writeMedia(m: MediaDescription): string {
  const formats = m.formats.map((f) => ` ${token(f, 'm= format')}`).join('');
  let out = `m=${token(m.kind, 'm= kind')} ${uint(m.port, 'm= port', 65535)} ${token(m.protocol, 'm= protocol')}${formats}\r\n`;
  if (m.information !== undefined) out += `i=${text(m.information, 'i=')}\r\n`;
  if (m.connection !== undefined) out += `c=${text(m.connection, 'c=')}\r\n`;
  for (const b of m.bandwidths) out += writeBandwidth(b);
  for (const a of m.attributes) out += writeAttribute(a);
  return out;
}

/**
 * Writes a session description as SDP text: CRLF line endings, a trailing CRLF, "t=0 0" when
 * `timing` is empty. Throws SdpError on a value that would not read back the same (whitespace
 * inside a token, CR/LF inside a value, a port out of range...).
 */
export function writeSdp(desc: SessionDescription): string {
  const o = desc.origin;
  let out = `v=${uint(desc.version, 'v=')}\r\n`;
  out += `o=${token(o.username, 'o= username')} ${token(o.sessionId, 'o= session id')} ${token(o.sessionVersion, 'o= session version')} ${token(o.netType, 'o= net type')} ${token(o.addrType, 'o= address type')} ${token(o.address, 'o= address')}\r\n`;
  out += `s=${text(desc.sessionName, 's=')}\r\n`;
  if (desc.connection !== undefined) out += `c=${text(desc.connection, 'c=')}\r\n`;
  for (const b of desc.bandwidths) out += writeBandwidth(b);
  if (desc.timing.length === 0) out += 't=0 0\r\n';
  for (const t of desc.timing) out += `t=${token(t.start, 't= start')} ${token(t.stop, 't= stop')}\r\n`;
  for (const a of desc.attributes) out += writeAttribute(a);
  for (const m of desc.media) out += writeMedia(m);
  return out;
}
