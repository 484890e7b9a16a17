import { SdpError } from './errors.js';

/** Splits on runs of spaces/tabs, dropping empty tokens. */
export function tokens(s: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 32;
    if (c === 32 || c === 9) {
      if (start >= 0) {
        out.push(s.slice(start, i));
        start = -1;
      }
    } else if (start < 0) {
      start = i;
    }
  }
  return out;
}

/**
 * The first `n` space-separated tokens of `s` and the rest (from the first non-blank character
 * after them, trailing blanks removed; undefined when nothing follows).
 */
export function splitHead(s: string, n: number): { head: string[]; rest?: string } {
  const head: string[] = [];
  let i = 0;
  const len = s.length;
  const blank = (k: number) => s.charCodeAt(k) === 32 || s.charCodeAt(k) === 9;
  while (head.length < n) {
    while (i < len && blank(i)) i++;
    if (i >= len) return { head };
    const start = i;
    while (i < len && !blank(i)) i++;
    head.push(s.slice(start, i));
  }
  while (i < len && blank(i)) i++;
  let end = len;
  while (end > i && blank(end - 1)) end--;
  return end > i ? { head, rest: s.slice(i, end) } : { head };
}

const DIGITS = /^[0-9]+$/;

/** A decimal integer in [min, max] (at most 16 digits), else SdpError naming `what`. */
export function parseUint(s: string | undefined, what: string, max = Number.MAX_SAFE_INTEGER, min = 0): number {
  if (s === undefined || s.length === 0 || s.length > 16 || !DIGITS.test(s)) {
    throw new SdpError(`${what}: expected an integer, got ${quote(s)}`);
  }
  const n = Number(s);
  if (n < min || n > max) throw new SdpError(`${what}: ${n} is out of range [${min}, ${max}]`);
  return n;
}

/** A short printable rendering of a value for error messages. */
export function quote(s: string | undefined): string {
  if (s === undefined) return 'nothing';
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}...` : s);
}

/** True when `s` is non-empty without space, tab, CR, LF or NUL (a token the parser reads back as one). */
export function isToken(s: unknown): s is string {
  return typeof s === 'string' && s.length > 0 && !/[ \t\r\n\0]/.test(s);
}

/** True when `s` is a string without CR, LF or NUL (safe inside one SDP line). */
export function isLineText(s: unknown): s is string {
  return typeof s === 'string' && !/[\r\n\0]/.test(s);
}
