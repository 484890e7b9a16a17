import { base64url } from 'jose';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  globalThis.crypto.getRandomValues(out);
  return out;
}

/** `length` unbiased base62 characters (rejection sampling on bytes >= 248). */
export function randomBase62(length: number): string {
  let s = '';
  while (s.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 248) s += BASE62[b % 62];
      if (s.length === length) break;
    }
  }
  return s;
}

export function randomId(bytes = 16): string {
  return base64url.encode(randomBytes(bytes));
}

/** A fresh API key (`SB` + 12 base62 chars) and secret (32 random bytes, base64url). */
export function generateApiKeyPair(): { apiKey: string; apiSecret: string } {
  return { apiKey: 'SB' + randomBase62(12), apiSecret: base64url.encode(randomBytes(32)) };
}
