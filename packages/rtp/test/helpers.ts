// Test helpers: build RTP packets byte by byte (independently of the code under test).

export interface ExtElem {
  id: number;
  data: number[];
}

export interface RtpSpec {
  marker?: boolean;
  pt?: number;
  seq?: number;
  ts?: number;
  ssrc?: number;
  csrcs?: number[];
  /** Header extension: 'one' (0xBEDE) or 'two' (0x1000 | appBits) form, elements, and extra zero padding bytes between elements. */
  ext?: { form: 'one' | 'two'; elems: ExtElem[]; padBetween?: number; appBits?: number };
  /** Raw extension block (profile + data), for malformed cases. */
  rawExt?: { profile: number; data: number[] };
  payload?: number[];
  /** Padding bytes (count includes the last byte), sets the P bit. */
  padding?: number;
}

function be32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

export function buildRtp(s: RtpSpec): Uint8Array {
  const csrcs = s.csrcs ?? [];
  const bytes: number[] = [];
  const hasExt = s.ext !== undefined || s.rawExt !== undefined;
  bytes.push(0x80 | (s.padding ? 0x20 : 0) | (hasExt ? 0x10 : 0) | csrcs.length);
  bytes.push((s.marker ? 0x80 : 0) | ((s.pt ?? 96) & 0x7f));
  bytes.push(((s.seq ?? 1) >> 8) & 0xff, (s.seq ?? 1) & 0xff);
  bytes.push(...be32(s.ts ?? 0x01020304), ...be32(s.ssrc ?? 0x11223344));
  for (const c of csrcs) bytes.push(...be32(c));
  if (s.ext || s.rawExt) {
    let profile: number;
    let data: number[] = [];
    if (s.rawExt) {
      profile = s.rawExt.profile;
      data = s.rawExt.data.slice();
    } else {
      const e = s.ext!;
      profile = e.form === 'one' ? 0xbede : 0x1000 | (e.appBits ?? 0);
      for (const el of e.elems) {
        if (e.form === 'one') data.push((el.id << 4) | (el.data.length - 1), ...el.data);
        else data.push(el.id, el.data.length, ...el.data);
        for (let i = 0; i < (e.padBetween ?? 0); i++) data.push(0);
      }
    }
    while (data.length % 4) data.push(0);
    bytes.push(profile >> 8, profile & 0xff, (data.length / 4) >> 8, (data.length / 4) & 0xff, ...data);
  }
  bytes.push(...(s.payload ?? []));
  if (s.padding) {
    for (let i = 0; i < s.padding - 1; i++) bytes.push(0);
    bytes.push(s.padding);
  }
  return Uint8Array.from(bytes);
}

/** Copies bytes into a larger buffer at `pre`, surrounding them with `fill`. */
export function embed(bytes: Uint8Array, pre: number, post: number, fill: number): Uint8Array {
  const b = new Uint8Array(pre + bytes.length + post).fill(fill);
  b.set(bytes, pre);
  return b;
}

export function hex(s: string): Uint8Array {
  const clean = s.replace(/[^0-9a-fA-F]/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}
