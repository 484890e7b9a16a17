// Big-endian helpers on plain Uint8Array (no DataView, no Buffer, no allocation).

export function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

export function u24(b: Uint8Array, o: number): number {
  return (b[o] << 16) | (b[o + 1] << 8) | b[o + 2];
}

export function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

export function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

export function put24(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 16) & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = v & 0xff;
}

export function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/**
 * memmove: copies n bytes from src[so..] to dst[do..], correct when both views share an
 * ArrayBuffer and the ranges overlap. Byte loop, so no subarray views are allocated.
 */
export function copyBytes(src: Uint8Array, so: number, dst: Uint8Array, dOff: number, n: number): void {
  if (n <= 0) return;
  if (src.buffer === dst.buffer) {
    const sAbs = src.byteOffset + so;
    const dAbs = dst.byteOffset + dOff;
    if (dAbs === sAbs) return;
    if (dAbs > sAbs && dAbs < sAbs + n) {
      for (let i = n - 1; i >= 0; i--) dst[dOff + i] = src[so + i];
      return;
    }
  }
  for (let i = 0; i < n; i++) dst[dOff + i] = src[so + i];
}
