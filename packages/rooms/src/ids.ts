const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `len` random base62 characters from globalThis.crypto (rejection sampling, no modulo bias). */
export function randomBase62(len: number): string {
  let out = '';
  const buf = new Uint8Array(len * 2);
  while (out.length < len) {
    globalThis.crypto.getRandomValues(buf);
    for (let i = 0; i < buf.length && out.length < len; i++) {
      const b = buf[i]! & 0x3f; // 0..63
      if (b < 62) out += BASE62[b];
    }
  }
  return out;
}

export function defaultIdGenerator(prefix: string): string {
  return prefix + randomBase62(12);
}

/** Compares two strings without an early exit on the first differing character. */
export function safeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
}

const encoder = new TextEncoder();
export function utf8Length(s: string): number {
  return encoder.encode(s).length;
}
