// Shared test helpers (not a test file itself).
export function hex(s: string): Uint8Array {
  const digits = s.replace(/[^0-9a-fA-F]/g, '');
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
