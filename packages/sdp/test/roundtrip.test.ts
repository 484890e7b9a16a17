// Property: for every valid SessionDescription x, parseSdp(writeSdp(x)) deep-equals x, and the
// text is CRLF-terminated lines; likewise for a=simulcast values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { getSimulcast, parseSdp, writeSdp, writeSimulcast } from '../src/index.js';
import type { Simulcast } from '../src/index.js';
import { sessionArb } from './arbitraries.js';

test('property: parseSdp(writeSdp(x)) deep-equals x', () => {
  fc.assert(
    fc.property(sessionArb, (x) => {
      const text = writeSdp(x);
      assert.ok(text.endsWith('\r\n'));
      assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(text), 'only CRLF line endings');
      assert.deepEqual(parseSdp(text), x);
      assert.deepEqual(parseSdp(text.replace(/\r\n/g, '\n')), x);
    }),
    { numRuns: 2000 },
  );
});

const ridArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/);
const streamsArb = fc.array(
  fc.array(fc.record({ rid: ridArb, paused: fc.boolean() }).map((r) => ({ ...r })), { minLength: 1, maxLength: 3 }),
  { minLength: 1, maxLength: 4 },
);
const simulcastArb: fc.Arbitrary<Simulcast> = fc
  .record({ send: fc.option(streamsArb, { nil: undefined }), recv: fc.option(streamsArb, { nil: undefined }) })
  .filter((s) => s.send !== undefined || s.recv !== undefined)
  .map((s) => {
    const out: Simulcast = {};
    if (s.send) out.send = s.send;
    if (s.recv) out.recv = s.recv;
    return out;
  });

test('property: getSimulcast reads back writeSimulcast', () => {
  fc.assert(
    fc.property(simulcastArb, (s) => {
      const sdp = parseSdp(`v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=simulcast:${writeSimulcast(s)}\r\n`);
      assert.deepEqual(getSimulcast(sdp.media[0]!), s);
    }),
    { numRuns: 1000 },
  );
});
