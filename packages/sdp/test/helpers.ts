// Shared test helpers (not a test file itself).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { SdpError, parseSdp } from '../src/index.js';
import type { MediaDescription, SessionDescription } from '../src/index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** Captured from Chromium 156 by scripts/capture-fixtures.ts. */
export const FIXTURE_NAMES = ['chromium-offer-av-data.sdp', 'chromium-offer-simulcast.sdp', 'chromium-answer-recvonly.sdp'] as const;

export function fixtureText(name: (typeof FIXTURE_NAMES)[number]): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

export function fixture(name: (typeof FIXTURE_NAMES)[number]): SessionDescription {
  return parseSdp(fixtureText(name));
}

export function media(sdp: SessionDescription, kind: string): MediaDescription {
  const m = sdp.media.find((x) => x.kind === kind);
  assert.ok(m, `no ${kind} section`);
  return m;
}

/** Asserts that f throws an SdpError with code SB_ERR_SDP_INVALID (and a message matching `re`). */
export function throwsSdp(f: () => unknown, re?: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof SdpError, `expected SdpError, got ${String(e)}`);
    assert.equal(e.code, 'SB_ERR_SDP_INVALID');
    assert.equal(e.name, 'SdpError');
    if (re) assert.match(e.message, re);
    return true;
  });
}
