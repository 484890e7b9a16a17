// The peer address policy and IP ranges: what the relay may reach (RFC 8656 §21.3 asks servers
// not to become a proxy into their own network).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { inRange, parseIp, parseIpRange, PeerPolicy, RESTRICTED_RANGES, TurnError } from '../src/index.js';

const isBadRange = (e: unknown) => e instanceof TurnError && e.code === 'TURN_ERR_BAD_IP_RANGE';

test('Default policy: public IPv4 and IPv6 allowed, restricted ranges refused', () => {
  const p = new PeerPolicy();
  for (const a of ['8.8.8.8', '1.1.1.1', '203.0.113.1', '2001:4860:4860::8888', '2606:4700::1111', '::ffff:8.8.8.8', '172.32.0.1', '100.128.0.1']) {
    assert.equal(p.allows(a), true, a);
  }
  for (const a of [
    '0.0.0.0', '0.1.2.3', '10.0.0.1', '10.255.255.255', '100.64.0.1', '127.0.0.1', '127.255.255.254', '169.254.169.254',
    '172.16.0.1', '172.31.255.255', '192.0.0.8', '192.168.1.1', '198.18.0.1', '198.19.255.255', '224.0.0.1', '239.255.255.250',
    '240.0.0.1', '255.255.255.255', '::', '::1', 'fc00::1', 'fdff::1', 'fe80::1', 'febf::1', 'ff02::1', '64:ff9b:1::1',
  ]) {
    assert.equal(p.allows(a), false, a);
  }
});

test('IPv4-mapped IPv6 is judged as the IPv4 it carries: ::ffff:10.0.0.1 refused', () => {
  const p = new PeerPolicy();
  for (const a of ['::ffff:10.0.0.1', '::ffff:127.0.0.1', '::ffff:a00:1', '::ffff:192.168.0.1', '::ffff:169.254.169.254', '::ffff:0.0.0.0']) {
    assert.equal(p.allows(a), false, a);
  }
  assert.equal(p.allows('::ffff:8.8.8.8'), true);
  const open = new PeerPolicy({ allowedPeerIp: ['10.0.0.0/8'] });
  assert.equal(open.allows('::ffff:10.0.0.1'), true, 'an allowed IPv4 range covers its mapped form');
  const shut = new PeerPolicy({ deniedPeerIp: ['8.8.8.8'] });
  assert.equal(shut.allows('::ffff:8.8.8.8'), false, 'a denied IPv4 range covers its mapped form');
});

test('Text that is not an address is refused', () => {
  const p = new PeerPolicy();
  for (const a of ['', 'localhost', '8.8.8', '8.8.8.8.8', '256.1.1.1', '1::2::3', 'example.com']) assert.equal(p.allows(a), false, a);
});

test('allowLoopbackPeers: 127.0.0.0/8 and ::1 only', () => {
  const p = new PeerPolicy({ allowLoopbackPeers: true });
  assert.equal(p.allows('127.0.0.1'), true);
  assert.equal(p.allows('127.1.2.3'), true);
  assert.equal(p.allows('::1'), true);
  assert.equal(p.allows('::ffff:127.0.0.1'), true);
  assert.equal(p.allows('10.0.0.1'), false);
  assert.equal(p.allows('::'), false);
});

test('deniedPeerIp and allowedPeerIp; allowed wins', () => {
  const p = new PeerPolicy({ deniedPeerIp: ['8.8.8.0/24', '2001:db8::/32'], allowedPeerIp: ['8.8.8.8', '192.168.10.0-192.168.10.20'] });
  assert.equal(p.allows('8.8.8.8'), true);
  assert.equal(p.allows('8.8.8.9'), false);
  assert.equal(p.allows('8.8.4.4'), true);
  assert.equal(p.allows('2001:db8::1'), false);
  assert.equal(p.allows('2001:db9::1'), true);
  assert.equal(p.allows('192.168.10.20'), true);
  assert.equal(p.allows('192.168.10.21'), false);
});

test('parseIpRange: CIDR', () => {
  const r = parseIpRange('10.0.0.0/8');
  assert.deepEqual(r.first, new Uint8Array([10, 0, 0, 0]));
  assert.deepEqual(r.last, new Uint8Array([10, 255, 255, 255]));
  // Host bits in the base are masked off.
  const odd = parseIpRange('192.168.1.77/22');
  assert.deepEqual(odd.first, new Uint8Array([192, 168, 0, 0]));
  assert.deepEqual(odd.last, new Uint8Array([192, 168, 3, 255]));
  assert.deepEqual(parseIpRange('0.0.0.0/0').last, new Uint8Array([255, 255, 255, 255]));
  const one = parseIpRange('1.2.3.4/32');
  assert.deepEqual(one.first, one.last);
  const v6 = parseIpRange('2001:db8::/32');
  assert.deepEqual(parseIp('2001:db8::'), v6.first);
  assert.deepEqual(parseIp('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff'), v6.last);
  const ll = parseIpRange('fe80::/10');
  assert.deepEqual(parseIp('febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), ll.last);
  assert.equal(parseIpRange(' 10.0.0.0/8 ').text, '10.0.0.0/8');
});

test('parseIpRange: a-b ranges as coturn writes them, and single addresses', () => {
  const r = parseIpRange('10.0.0.5-10.0.1.4');
  assert.equal(inRange(parseIp('10.0.0.5')!, r), true);
  assert.equal(inRange(parseIp('10.0.0.255')!, r), true);
  assert.equal(inRange(parseIp('10.0.1.4')!, r), true);
  assert.equal(inRange(parseIp('10.0.0.4')!, r), false);
  assert.equal(inRange(parseIp('10.0.1.5')!, r), false);
  const spaced = parseIpRange('10.0.0.1 - 10.0.0.2');
  assert.equal(inRange(parseIp('10.0.0.2')!, spaced), true);
  const v6 = parseIpRange('2001:db8::1-2001:db8::ff');
  assert.equal(inRange(parseIp('2001:db8::80')!, v6), true);
  assert.equal(inRange(parseIp('2001:db8::100')!, v6), false);
  const single = parseIpRange('203.0.113.9');
  assert.equal(inRange(parseIp('203.0.113.9')!, single), true);
  assert.equal(inRange(parseIp('203.0.113.10')!, single), false);
  assert.equal(inRange(parseIp('::1')!, parseIpRange('::1')), true);
});

test('inRange never matches across families', () => {
  assert.equal(inRange(parseIp('::a00:1')!, parseIpRange('10.0.0.0/8')), false);
  assert.equal(inRange(parseIp('10.0.0.1')!, parseIpRange('::/0')), false);
});

test('parseIpRange: bad ranges throw TurnError TURN_ERR_BAD_IP_RANGE', () => {
  for (const bad of [
    '', 'nonsense', '10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/x', '10.0.0.0/-1', '/8', '10.0.0/8',
    '10.0.0.2-10.0.0.1', '10.0.0.1-::1', '10.0.0.1-', '-10.0.0.1', '300.0.0.1', '1.2.3.4/8/8', '10.0.0.0/1234',
  ]) {
    assert.throws(() => parseIpRange(bad), isBadRange, JSON.stringify(bad));
  }
  assert.throws(() => new PeerPolicy({ deniedPeerIp: ['not a range'] }), isBadRange);
  assert.throws(() => new PeerPolicy({ allowedPeerIp: ['10.0.0.0/40'] }), isBadRange);
});

test('parseIp: IPv4, IPv6, bracketed IPv6, garbage', () => {
  assert.deepEqual(parseIp('192.0.2.1'), new Uint8Array([192, 0, 2, 1]));
  assert.equal(parseIp('::1')?.length, 16);
  assert.deepEqual(parseIp('[::1]'), parseIp('::1'));
  assert.equal(parseIp('nope'), null);
  assert.equal(parseIp('01.2.3.4'), null, 'no leading zeros, like inet_pton');
});

test('Every restricted range is refused at both ends; a CIDR contains exactly its addresses (property)', () => {
  const p = new PeerPolicy();
  for (const r of RESTRICTED_RANGES) {
    assert.equal(inRange(r.first, r), true, r.text);
    assert.equal(inRange(r.last, r), true, r.text);
  }
  assert.equal(p.allows('9.255.255.255'), true);
  assert.equal(p.allows('11.0.0.0'), true);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 0xffffffff }), (base, bits, ip) => {
      const text = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
      const range = parseIpRange(`${text(base)}/${bits}`);
      const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
      const expected = ((ip & mask) >>> 0) === ((base & mask) >>> 0);
      assert.equal(inRange(parseIp(text(ip))!, range), expected);
    }),
    { numRuns: 2000 },
  );
});

test('The policy gives the same verdict from its cache', () => {
  const p = new PeerPolicy();
  for (let i = 0; i < 3; i++) {
    assert.equal(p.allows('10.0.0.1'), false);
    assert.equal(p.allows('8.8.8.8'), true);
  }
});
