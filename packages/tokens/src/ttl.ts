import { TokenError } from './errors.js';

const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };
const TTL_RE = /^(\d{1,9})([smhd]?)$/;

/**
 * Parse a time-to-live such as `90`, `90s`, `15m`, `1h` or `2d` into seconds.
 * Strict: lowercase unit, no whitespace, no fractions, no sign, must be > 0.
 */
export function parseTtl(text: string): number {
  const m = typeof text === 'string' ? TTL_RE.exec(text) : null;
  if (!m) {
    throw new TokenError('SB_ERR_TOKEN_TTL', `invalid ttl ${JSON.stringify(text)} (expected e.g. 90, 90s, 15m, 1h, 2d)`);
  }
  const seconds = Number(m[1]) * UNIT_SECONDS[m[2] ?? '']!;
  if (seconds <= 0) {
    throw new TokenError('SB_ERR_TOKEN_TTL', `ttl must be positive, got ${JSON.stringify(text)}`);
  }
  return seconds;
}
