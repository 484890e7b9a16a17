// NTP timestamps (RFC 3550 §4): 32.32 fixed point seconds since 1900-01-01.

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
export const NTP_UNIX_OFFSET = 2208988800;

/** Wall-clock milliseconds (Date.now()) to NTP 32.32. Allocates; for SR generation only. */
export function ntpNow(nowMs: number): { sec: number; frac: number } {
  const wholeMs = Math.floor(nowMs);
  const s = Math.floor(wholeMs / 1000);
  const ms = nowMs - s * 1000; // 0 <= ms < 1000, keeps sub-ms precision
  let frac = Math.floor((ms / 1000) * 0x100000000);
  if (frac > 0xffffffff) frac = 0xffffffff;
  return { sec: (s + NTP_UNIX_OFFSET) % 0x100000000, frac };
}

/** Middle 32 bits of an NTP timestamp (the LSR field of a report block; DLSR uses the same 16.16 unit). */
export function ntpMiddle(sec: number, frac: number): number {
  return (((sec & 0xffff) << 16) | ((frac >>> 16) & 0xffff)) >>> 0;
}
