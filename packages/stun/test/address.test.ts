// IP text parsing/printing, checked against Node's own parser and printer (node:net).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../src/index.js';
import { ipv6BytesArb } from './arbitraries.js';

/** How Node prints an IPv6 address (through libuv's inet_ntop). */
function nodePrints(text: string): string {
  return new net.SocketAddress({ address: text, family: 'ipv6' }).address;
}

test('formatIPv6 prints exactly what Node prints, and parseIPv6 reads it back', () => {
  fc.assert(
    fc.property(ipv6BytesArb, (bytes) => {
      const text = formatIPv6(bytes);
      assert.equal(text, nodePrints(text));
      assert.equal(net.isIPv6(text), true);
      assert.deepEqual(parseIPv6(text), bytes);
    }),
    { numRuns: 3000 },
  );
});

test('formatIPv6 examples', () => {
  const cases: [string, string][] = [
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:0DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['1:0:2:0:3:0:4:0', '1:0:2:0:3:0:4:0'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['::ffff:c000:201', '::ffff:192.0.2.1'],
    ['::192.0.2.1', '::192.0.2.1'],
    ['::2', '::2'],
    ['1::', '1::'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['2001:db8:1234:5678:11:2233:4455:6677', '2001:db8:1234:5678:11:2233:4455:6677'],
  ];
  for (const [input, printed] of cases) {
    const b = parseIPv6(input);
    assert.ok(b, input);
    assert.equal(formatIPv6(b), printed, input);
    assert.equal(printed, nodePrints(input), `node agrees on ${input}`);
  }
});

test('parseIPv6 rejects what Node rejects', () => {
  for (const bad of [
    '', ':', ':::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1::2::3', ':1::2', '1::2:', '12345::', 'g::',
    '::1.2.3', '::1.2.3.4.5', '::256.1.1.1', '::01.2.3.4', '1.2.3.4', '::1.2.3.4:1', '1:2:3:4:5:6:7:1.2.3.4',
    'fe80::1%', ' ::1', '::1 ',
  ]) {
    assert.equal(parseIPv6(bad), null, JSON.stringify(bad));
    assert.equal(net.isIPv6(bad), false, `node also rejects ${JSON.stringify(bad)}`);
  }
});

test('parseIPv6 accepts exactly what Node accepts on random IPv6-ish text', () => {
  const ch = fc.constantFrom(...'0123456789abcdefABCDEF::::....'.split(''));
  fc.assert(
    fc.property(fc.array(ch, { maxLength: 45 }).map((a) => a.join('')), (text) => {
      assert.equal(parseIPv6(text) !== null, net.isIPv6(text), JSON.stringify(text));
    }),
    { numRuns: 20000 },
  );
  // Also well-formed addresses with a random group of the text knocked out or doubled.
  fc.assert(
    fc.property(ipv6BytesArb, fc.nat(), fc.constantFrom('', ':', '::', '0', '00000', '.1'), (bytes, at, insert) => {
      const text = formatIPv6(bytes);
      const i = at % (text.length + 1);
      const mutated = text.slice(0, i) + insert + text.slice(i);
      assert.equal(parseIPv6(mutated) !== null, net.isIPv6(mutated), JSON.stringify(mutated));
    }),
    { numRuns: 5000 },
  );
});

test('IPv4 text', () => {
  assert.deepEqual(parseIPv4('192.0.2.1'), new Uint8Array([192, 0, 2, 1]));
  assert.deepEqual(parseIPv4('0.0.0.0'), new Uint8Array(4));
  assert.deepEqual(parseIPv4('255.255.255.255'), new Uint8Array([255, 255, 255, 255]));
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1..2.3', '1.2.3.4 ', 'a.b.c.d', '::1', '1.2.3.-4', '1234.1.1.1']) {
    assert.equal(parseIPv4(bad), null, JSON.stringify(bad));
    assert.equal(net.isIPv4(bad), false);
  }
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (b) => {
      const text = formatIPv4(b);
      assert.equal(net.isIPv4(text), true);
      assert.deepEqual(parseIPv4(text), b);
    }),
    { numRuns: 1000 },
  );
});
