// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), RFC 9260 Appendix A.
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32C of `buf`; if `skipFrom` is given, the 4 bytes there are taken as zero. */
export function crc32c(buf: Uint8Array, skipFrom = -1): number {
  let crc = 0xffffffff;
  const skipEnd = skipFrom >= 0 ? skipFrom + 4 : -1;
  for (let i = 0; i < buf.length; i++) {
    const b = i >= skipFrom && i < skipEnd ? 0 : buf[i];
    crc = TABLE[(crc ^ b) & 0xff] ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}
