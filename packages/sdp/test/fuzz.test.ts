// Fuzz: random strings, random SDP-shaped lines and randomly damaged Chromium fixtures. parseSdp
// and every reader either return or throw SdpError (never anything else, never hang); whatever
// parseSdp returns, writeSdp writes and parseSdp reads back the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  SdpError,
  getBundleGroups,
  getCandidates,
  getCodecs,
  getDirection,
  getExtMaps,
  getFingerprint,
  getIceParameters,
  getMaxMessageSize,
  getMid,
  getMsid,
  getRids,
  getSctpPort,
  getSetup,
  getSimulcast,
  getSsrcGroups,
  getSsrcs,
  parseCandidate,
  parseFmtp,
  parseSdp,
  writeSdp,
  writeSimulcast,
} from '../src/index.js';
import type { SessionDescription } from '../src/index.js';
import { FIXTURE_NAMES, fixtureText } from './helpers.js';

const RUNS = 3000;

/** Runs f; passes if it returns or throws an SdpError with the package's code. */
function sdpErrorOrValue<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof SdpError)) throw e;
    assert.equal(e.code, 'SB_ERR_SDP_INVALID');
    return undefined;
  }
}

/** parseSdp, then every reader on every section, then the write/parse fixed point. */
function exercise(text: string): void {
  const sdp = sdpErrorOrValue(() => parseSdp(text));
  if (!sdp) return;
  sdpErrorOrValue(() => getBundleGroups(sdp));
  for (const m of sdp.media) {
    sdpErrorOrValue(() => getDirection(m));
    sdpErrorOrValue(() => getMid(m));
    sdpErrorOrValue(() => getMsid(m));
    const codecs = sdpErrorOrValue(() => getCodecs(m));
    for (const c of codecs ?? []) if (c.fmtp !== undefined) parseFmtp(c.fmtp); // never throws
    sdpErrorOrValue(() => getExtMaps(m));
    sdpErrorOrValue(() => getSsrcs(m));
    sdpErrorOrValue(() => getSsrcGroups(m));
    sdpErrorOrValue(() => getRids(m));
    const sc = sdpErrorOrValue(() => getSimulcast(m));
    if (sc) sdpErrorOrValue(() => writeSimulcast(sc));
    sdpErrorOrValue(() => getIceParameters(sdp, m));
    sdpErrorOrValue(() => getFingerprint(sdp, m));
    sdpErrorOrValue(() => getSetup(sdp, m));
    sdpErrorOrValue(() => getSctpPort(m));
    sdpErrorOrValue(() => getMaxMessageSize(m));
    sdpErrorOrValue(() => getCandidates(m));
  }
  const again: SessionDescription = parseSdp(writeSdp(sdp));
  assert.deepEqual(again, sdp);
}

const charArb = fc.oneof(
  fc.constantFrom('\r', '\n', '\r\n', '=', ':', ' ', '\t', '/', ';', ',', '~', '*', '\0', 'v', 'o', 's', 't', 'm', 'a', 'c', 'b', '0', '9'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);

test('fuzz: random strings', () => {
  fc.assert(
    fc.property(fc.string({ unit: charArb, maxLength: 200 }), (s) => exercise(s)),
    { numRuns: RUNS },
  );
});

const fixtures = FIXTURE_NAMES.map((n) => fixtureText(n));
const attrNames = ['rtpmap', 'fmtp', 'rtcp-fb', 'extmap', 'ssrc', 'ssrc-group', 'rid', 'simulcast', 'msid', 'mid', 'ice-ufrag', 'ice-pwd', 'ice-options', 'fingerprint', 'setup', 'group', 'sctp-port', 'sctpmap', 'max-message-size', 'candidate', 'sendonly'];
const valueArb = fc.string({ unit: charArb, maxLength: 40 });
const lineArb = fc.oneof(
  fc.tuple(fc.constantFrom(...attrNames), valueArb).map(([n, v]) => `a=${n}:${v}`),
  fc.tuple(fc.constantFrom('v', 'o', 's', 't', 'm', 'c', 'b', 'i', 'a', 'k', 'x'), valueArb).map(([t, v]) => `${t}=${v}`),
);

test('fuzz: SDP-shaped lines after a valid header', () => {
  fc.assert(
    fc.property(fc.array(lineArb, { maxLength: 30 }), fc.constantFrom('\r\n', '\n'), (lines, eol) => {
      exercise(['v=0', 'o=- 1 1 IN IP4 0.0.0.0', 's=-', 't=0 0', 'm=video 9 UDP/TLS/RTP/SAVPF 96 97 0', ...lines].join(eol) + eol);
    }),
    { numRuns: RUNS },
  );
});

type Damage =
  | { op: 'replace'; at: number; s: string }
  | { op: 'insert'; at: number; s: string }
  | { op: 'delete'; at: number; n: number }
  | { op: 'dupLine'; at: number }
  | { op: 'dropLine'; at: number }
  | { op: 'swapLines'; at: number; with: number }
  | { op: 'truncate'; at: number };

const damageArb: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), s: fc.string({ unit: charArb, minLength: 1, maxLength: 4 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), s: fc.string({ unit: charArb, minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ op: fc.constant('dupLine' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('dropLine' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('swapLines' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);

function damage(text: string, d: Damage): string {
  const at = d.at % (text.length + 1);
  const lines = text.split('\r\n');
  const li = d.at % lines.length;
  switch (d.op) {
    case 'replace':
      return text.slice(0, at) + d.s + text.slice(at + d.s.length);
    case 'insert':
      return text.slice(0, at) + d.s + text.slice(at);
    case 'delete':
      return text.slice(0, at) + text.slice(at + d.n);
    case 'dupLine':
      lines.splice(li, 0, lines[li]!);
      return lines.join('\r\n');
    case 'dropLine':
      lines.splice(li, 1);
      return lines.join('\r\n');
    case 'swapLines': {
      const lj = d.with % lines.length;
      [lines[li], lines[lj]] = [lines[lj]!, lines[li]!];
      return lines.join('\r\n');
    }
    case 'truncate':
      return text.slice(0, at);
  }
}

test('fuzz: damaged Chromium fixtures', () => {
  fc.assert(
    fc.property(fc.constantFrom(...fixtures), fc.array(damageArb, { minLength: 1, maxLength: 6 }), (text, ds) => {
      exercise(ds.reduce(damage, text));
    }),
    { numRuns: RUNS },
  );
});

test('fuzz: random candidate strings', () => {
  const candArb = fc.oneof(
    fc.string({ unit: charArb, maxLength: 80 }),
    fc
      .array(fc.oneof(fc.constantFrom('candidate:1', '1', 'udp', 'tcp', '127.0.0.1', 'typ', 'host', 'relay', 'raddr', 'rport', 'tcptype', 'active', 'generation', '0', '99999999999'), fc.string({ maxLength: 5 })), { maxLength: 16 })
      .map((t) => t.join(' ')),
  );
  fc.assert(fc.property(candArb, (s) => void sdpErrorOrValue(() => parseCandidate(s))), { numRuns: RUNS });
});

test('pathological inputs finish quickly', () => {
  const started = Date.now();
  const big = [
    'v=0\r\n' + 'a'.repeat(250_000),
    'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n' + 'a=x\r\n'.repeat(9_000),
    'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=video 9 RTP/AVP ' + '96 '.repeat(80_000) + '\r\n',
    'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=video 9 RTP/AVP 96\r\na=simulcast:send ' + 'a;'.repeat(100_000) + 'b\r\n',
    'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=video 9 RTP/AVP 96\r\na=fingerprint:sha-256 ' + 'AB:'.repeat(80_000) + 'A\r\n',
    '\n'.repeat(300_000),
  ];
  for (const text of big) exercise(text);
  assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
});
