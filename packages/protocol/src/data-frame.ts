// The frame of a data message on an SFU data channel (binary): the SDK sends
// [0x53 'S'][0x01 version][u16 header length][header JSON, UTF-8][payload] with the header
// { topic?, to?: Sid[] }; the server relays it to the others with the header { from, topic? }.
// Bytes in, values out; bad frames decode to null.

export interface DataFrameHeader {
  /** Sender participant sid (server -> client). */
  from?: string;
  /** Application topic. */
  topic?: string;
  /** Destination participant sids (client -> server); omitted = everyone else. */
  to?: string[];
}

const MAGIC = 0x53;
const VERSION = 1;
/** Header JSON at most this long. */
export const MAX_DATA_FRAME_HEADER = 4096;

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export function encodeDataFrame(header: DataFrameHeader, payload: Uint8Array): Uint8Array {
  const h = enc.encode(JSON.stringify(header));
  if (h.length > MAX_DATA_FRAME_HEADER) throw new RangeError(`data frame header of ${h.length} bytes`);
  const out = new Uint8Array(4 + h.length + payload.length);
  out[0] = MAGIC;
  out[1] = VERSION;
  out[2] = h.length >>> 8;
  out[3] = h.length & 0xff;
  out.set(h, 4);
  out.set(payload, 4 + h.length);
  return out;
}

export function decodeDataFrame(frame: Uint8Array): { header: DataFrameHeader; payload: Uint8Array } | null {
  if (frame.length < 4 || frame[0] !== MAGIC || frame[1] !== VERSION) return null;
  const hl = (frame[2] << 8) | frame[3];
  if (hl > MAX_DATA_FRAME_HEADER || 4 + hl > frame.length) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(dec.decode(frame.subarray(4, 4 + hl)));
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const r = raw as Record<string, unknown>;
  const header: DataFrameHeader = {};
  if (typeof r.from === 'string' && r.from.length <= 64) header.from = r.from;
  if (typeof r.topic === 'string' && r.topic.length <= 128) header.topic = r.topic;
  if (Array.isArray(r.to)) {
    if (r.to.length > 100 || !r.to.every((x) => typeof x === 'string' && x.length <= 64)) return null;
    header.to = r.to as string[];
  }
  return { header, payload: frame.subarray(4 + hl) };
}
