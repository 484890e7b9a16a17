// The only file that touches node:crypto, so a browser build can swap it for WebCrypto or a JS
// implementation. Everything here returns plain Uint8Array views (not Buffers).
import { createHash, createHmac, randomFillSync } from 'node:crypto';

function plain(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export type HmacAlgorithm = 'sha1' | 'sha256';

/** HMAC of the concatenation of parts. */
export function hmac(algorithm: HmacAlgorithm, key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac(algorithm, key);
  for (const p of parts) h.update(p);
  return plain(h.digest());
}

export function md5(data: Uint8Array): Uint8Array {
  return plain(createHash('md5').update(data).digest());
}

export function sha256(data: Uint8Array): Uint8Array {
  return plain(createHash('sha256').update(data).digest());
}

export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  randomFillSync(out);
  return out;
}
