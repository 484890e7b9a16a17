// parseCandidate / writeCandidate (RFC 8839 §5.1): host, srflx, relay, TCP, prefixes, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseCandidate, writeCandidate } from '../src/index.js';
import type { Candidate } from '../src/index.js';
import { throwsSdp } from './helpers.js';

test('host udp candidate from Chromium, with and without prefixes', () => {
  const text = 'candidate:1469376494 1 udp 2122194687 127.0.0.1 56649 typ host generation 0 network-id 3 network-cost 50';
  const c = parseCandidate(text);
  assert.equal(c.foundation, '1469376494');
  assert.equal(c.type, 'host');
  assert.deepEqual(parseCandidate(`a=${text}`), c);
  assert.deepEqual(parseCandidate(text.slice('candidate:'.length)), c);
  assert.deepEqual(parseCandidate(`a=${text}\r\n`), c);
  assert.equal(writeCandidate(c), text);
});

test('relay candidate with raddr/rport and ufrag (as in trickled candidates)', () => {
  const text = 'candidate:3 1 UDP 41885439 203.0.113.7 3478 typ relay raddr 198.51.100.2 rport 51234 generation 0 ufrag Xgot network-id 1';
  const c = parseCandidate(text);
  assert.deepEqual(c, {
    foundation: '3',
    component: 1,
    transport: 'udp',
    priority: 41885439,
    address: '203.0.113.7',
    port: 3478,
    type: 'relay',
    relatedAddress: '198.51.100.2',
    relatedPort: 51234,
    extensions: [
      { name: 'generation', value: '0' },
      { name: 'ufrag', value: 'Xgot' },
      { name: 'network-id', value: '1' },
    ],
  });
  assert.equal(writeCandidate(c), text.replace('UDP', 'udp'));
});

test('tcp candidates: active, passive, so; srflx; prflx; mDNS host name; IPv6', () => {
  const active = parseCandidate('candidate:693831030 1 tcp 1518214911 127.0.0.1 9 typ host tcptype active generation 0 network-id 3');
  assert.equal(active.transport, 'tcp');
  assert.equal(active.tcpType, 'active');
  assert.equal(active.port, 9);
  const passive = parseCandidate('candidate:2 1 TCP 2105458943 2001:db8::1 3478 typ host tcptype passive');
  assert.deepEqual(passive, {
    foundation: '2',
    component: 1,
    transport: 'tcp',
    priority: 2105458943,
    address: '2001:db8::1',
    port: 3478,
    type: 'host',
    tcpType: 'passive',
    extensions: [],
  });
  assert.equal(writeCandidate(passive), 'candidate:2 1 tcp 2105458943 2001:db8::1 3478 typ host tcptype passive');
  assert.equal(parseCandidate('candidate:4 2 tcp 1 192.0.2.1 40000 typ srflx raddr 10.0.0.1 rport 40000 tcptype so').tcpType, 'so');
  assert.equal(parseCandidate('candidate:5 1 udp 1845501695 192.0.2.9 61000 typ prflx').type, 'prflx');
  assert.equal(parseCandidate('candidate:6 1 udp 2113937151 4f1e6a2c-3b7d-4e0f-9a5b-1c2d3e4f5a6b.local 54400 typ host').address, '4f1e6a2c-3b7d-4e0f-9a5b-1c2d3e4f5a6b.local');
  const srflx = parseCandidate('candidate:842163049 1 udp 1677729535 198.51.100.1 53760 typ srflx raddr 0.0.0.0 rport 0 generation 0');
  assert.equal(writeCandidate(srflx), 'candidate:842163049 1 udp 1677729535 198.51.100.1 53760 typ srflx raddr 0.0.0.0 rport 0 generation 0');
});

test('malformed candidates throw SdpError', () => {
  const bad = [
    '',
    'candidate:',
    'candidate:1 1 udp 1 1.2.3.4 5',
    'candidate:1 1 udp 1 1.2.3.4 5 typ',
    'candidate:1 1 udp 1 1.2.3.4 5 type host',
    'candidate:1 1 udp 1 1.2.3.4 5 typ nat',
    'candidate:1 0 udp 1 1.2.3.4 5 typ host',
    'candidate:1 257 udp 1 1.2.3.4 5 typ host',
    'candidate:1 1 udp 4294967296 1.2.3.4 5 typ host',
    'candidate:1 1 udp -1 1.2.3.4 5 typ host',
    'candidate:1 1 udp 1 1.2.3.4 65536 typ host',
    'candidate:1 1 udp 1 1.2.3.4 port typ host',
    'candidate:1 1 udp 1 1.2.3.4 5 typ host generation',
    'candidate:1 1 udp 1 1.2.3.4 5 typ srflx raddr 1.1.1.1 rport x',
    'candidate:1 1 udp 1 1.2.3.4 5 typ srflx raddr 1.1.1.1 raddr 2.2.2.2',
    'candidate:1 1 tcp 1 1.2.3.4 5 typ host tcptype both',
    'candidate:1 1 udp 1 1.2.3.4 5 typ host typ relay',
  ];
  for (const b of bad) throwsSdp(() => parseCandidate(b), /candidate/);
  throwsSdp(() => parseCandidate(undefined as unknown as string));
  const ok = parseCandidate('candidate:1 1 udp 1 1.2.3.4 5 typ host');
  for (const change of [
    (c: Candidate) => (c.foundation = ''),
    (c: Candidate) => (c.address = 'a b'),
    (c: Candidate) => (c.transport = 'UDP'),
    (c: Candidate) => (c.port = 1e6),
    (c: Candidate) => (c.type = 'nat' as Candidate['type']),
    (c: Candidate) => (c.tcpType = 'x' as Candidate['tcpType']),
    (c: Candidate) => c.extensions.push({ name: 'raddr', value: '1' }),
    (c: Candidate) => c.extensions.push({ name: 'x', value: '' }),
  ]) {
    const c = structuredClone(ok);
    change(c);
    throwsSdp(() => writeCandidate(c));
  }
});

const tokenArb = fc.stringMatching(/^[A-Za-z0-9+/.:_-]{1,12}$/);
const candidateArb: fc.Arbitrary<Candidate> = fc
  .record({
    foundation: tokenArb,
    component: fc.integer({ min: 1, max: 256 }),
    transport: fc.constantFrom('udp', 'tcp'),
    priority: fc.integer({ min: 0, max: 0xffffffff }),
    address: tokenArb,
    port: fc.integer({ min: 0, max: 65535 }),
    type: fc.constantFrom<Candidate['type']>('host', 'srflx', 'prflx', 'relay'),
    relatedAddress: fc.option(tokenArb, { nil: undefined }),
    relatedPort: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
    tcpType: fc.option(fc.constantFrom<NonNullable<Candidate['tcpType']>>('active', 'passive', 'so'), { nil: undefined }),
    extensions: fc.array(
      fc.record({ name: tokenArb.filter((n) => !['typ', 'raddr', 'rport', 'tcptype'].includes(n)), value: tokenArb }).map((e) => ({ ...e })),
      { maxLength: 4 },
    ),
  })
  .map((r) => {
    const c: Candidate = { ...r, extensions: r.extensions };
    for (const k of ['relatedAddress', 'relatedPort', 'tcpType'] as const) if (c[k] === undefined) delete c[k];
    return c;
  });

test('property: parseCandidate(writeCandidate(c)) equals c', () => {
  fc.assert(
    fc.property(candidateArb, (c) => {
      const text = writeCandidate(c);
      assert.deepEqual(parseCandidate(text), c);
      assert.deepEqual(parseCandidate(`a=${text}`), c);
    }),
    { numRuns: 1000 },
  );
});
