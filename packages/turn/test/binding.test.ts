// Binding requests (RFC 8489 §6.3, §14.2), unknown attributes (§6.3.1, §14.9), and what is
// dropped before any processing: malformed bytes, a bad FINGERPRINT (§14.7).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attr, decodeAddress, getAttribute, Method, StunClass, StunWriter } from '@switchboard/stun';
import { C } from '../src/index.js';
import {
  assertError,
  assertSigned,
  assertSuccess,
  assertUnsigned,
  buildMessage,
  clientRef,
  setup,
  stringAttr,
  TestClient,
  unknownAttributes,
  xorAddress,
} from './harness.js';

test('Binding: XOR-MAPPED-ADDRESS is the client address, with SOFTWARE and a FINGERPRINT that verifies', () => {
  const h = setup({ software: 'Switchboard test' });
  const ref = clientRef({ address: '198.51.100.7', port: 61000 });
  const c = new TestClient(h, 'alice', 'alice-pass', ref);
  const tx = new Uint8Array(12).fill(7);
  const res = c.send(buildMessage(Method.Binding, { tx }));
  assert.ok(res);
  assertSuccess(res, Method.Binding);
  assert.deepEqual(res.transactionId, tx, 'same transaction id');
  assert.deepEqual(xorAddress(res, Attr.XorMappedAddress), { family: 4, address: '198.51.100.7', port: 61000 });
  const mapped = getAttribute(res, Attr.MappedAddress);
  assert.ok(mapped, 'MAPPED-ADDRESS for RFC 3489 clients');
  assert.deepEqual(decodeAddress(mapped), { family: 4, address: '198.51.100.7', port: 61000 });
  assert.equal(stringAttr(res, Attr.Software), 'Switchboard test');
  assertUnsigned(res); // decodeResponse already checked FINGERPRINT
  assert.equal(h.core.counters[C.stunRequests], 1);
  assert.equal(h.core.allocationCount, 0, 'Binding allocates nothing');
});

test('Binding: IPv6 client gets an IPv6 XOR-MAPPED-ADDRESS; a request without FINGERPRINT is answered too', () => {
  const h = setup();
  const ref = clientRef({ address: '2001:db8::42', port: 5555 });
  const c = new TestClient(h, 'alice', 'alice-pass', ref);
  const res = c.send(buildMessage(Method.Binding, { fingerprint: false }));
  assert.ok(res);
  assertSuccess(res, Method.Binding);
  assert.deepEqual(xorAddress(res, Attr.XorMappedAddress), { family: 6, address: '2001:db8::42', port: 5555 });
});

test('Binding: default SOFTWARE is "Switchboard"', () => {
  const h = setup();
  const res = new TestClient(h).send(buildMessage(Method.Binding));
  assert.ok(res);
  assert.equal(stringAttr(res, Attr.Software), 'Switchboard');
});

test('Binding with long-term MESSAGE-INTEGRITY gets a response signed with the same key', () => {
  const h = setup();
  const c = new TestClient(h);
  c.challenge(); // Binding is not challenged; an Allocate's 401 gives the REALM and NONCE
  const res = c.request(Method.Binding);
  assertSuccess(res, Method.Binding);
  assertSigned(res, c.key);
  assert.deepEqual(xorAddress(res, Attr.XorMappedAddress), { family: 4, address: c.ref.address, port: c.ref.port });
});

test('Binding with MESSAGE-INTEGRITY-SHA256 gets an MI-SHA256 response', () => {
  const h = setup();
  const c = new TestClient(h, 'alice', 'alice-pass', clientRef(), true);
  c.challenge(); // Binding is not challenged; an Allocate's 401 gives the REALM and NONCE
  const res = c.request(Method.Binding);
  assertSuccess(res, Method.Binding);
  assertSigned(res, c.key, true);
  assert.equal(getAttribute(res, Attr.MessageIntegrity), undefined);
});

test('Binding with a wrong password is challenged again (401), not answered', () => {
  const h = setup();
  const c = new TestClient(h, 'alice', 'not-the-password');
  c.challenge(); // Binding is not challenged; an Allocate's 401 gives the REALM and NONCE
  const res = c.request(Method.Binding);
  assertError(res, Method.Binding, 401);
  assert.equal(getAttribute(res, Attr.XorMappedAddress), undefined);
  assertUnsigned(res);
  assert.equal(h.core.counters[C.authFailBadIntegrity], 1);
});

test('Binding with an unknown comprehension-required attribute: 420 listing it', () => {
  const h = setup();
  const c = new TestClient(h);
  const res = c.send(buildMessage(Method.Binding, { attrs: (w) => w.addBytes(0x0031, new Uint8Array([1, 2, 3, 4])) }));
  assert.ok(res);
  assertError(res, Method.Binding, 420);
  assert.deepEqual(unknownAttributes(res), [0x0031]);
  assert.equal(getAttribute(res, Attr.XorMappedAddress), undefined);
});

test('Binding with two unknown comprehension-required attributes lists both', () => {
  const h = setup();
  const res = new TestClient(h).send(
    buildMessage(Method.Binding, {
      attrs: (w) => w.addBytes(0x0031, new Uint8Array(4)).addU32(Attr.Lifetime, 1).addBytes(0x7f00, new Uint8Array(0)),
    }),
  );
  assert.ok(res);
  assertError(res, Method.Binding, 420);
  assert.deepEqual(unknownAttributes(res), [0x0031, 0x7f00]);
});

test('Binding with an unknown comprehension-optional attribute: ignored, success', () => {
  const h = setup();
  const res = new TestClient(h).send(buildMessage(Method.Binding, { attrs: (w) => w.addBytes(0xc0de, new Uint8Array([9, 9])) }));
  assert.ok(res);
  assertSuccess(res, Method.Binding);
});

test('Binding indication (keepalive) and responses from clients get no answer', () => {
  const h = setup();
  const c = new TestClient(h);
  assert.equal(c.sendRaw(buildMessage(Method.Binding, { cls: StunClass.Indication })).length, 0);
  assert.equal(c.sendRaw(buildMessage(Method.Binding, { cls: StunClass.SuccessResponse })).length, 0);
  assert.equal(c.sendRaw(buildMessage(Method.Binding, { cls: StunClass.ErrorResponse })).length, 0);
  assert.equal(h.core.counters[C.droppedMalformed], 0, 'well-formed, so not counted as malformed');
  assert.equal(h.core.counters[C.stunRequests], 0);
});

test('Malformed bytes: no response, droppedMalformed counted', () => {
  const h = setup();
  const c = new TestClient(h);
  const good = buildMessage(Method.Binding);
  const cases: Uint8Array[] = [
    new Uint8Array(0),
    new Uint8Array([0, 1]),
    good.subarray(0, 19), // shorter than a header
    good.subarray(0, good.length - 4), // length field says more than there is
    (() => {
      const b = good.slice();
      b[4] ^= 0xff; // magic cookie
      return b;
    })(),
    (() => {
      const b = good.slice();
      b[3] += 1; // length not a multiple of 4
      return b;
    })(),
    new Uint8Array([0x80, 0, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), // first bits 10
  ];
  for (const b of cases) assert.equal(c.sendRaw(b).length, 0, `no answer to ${Buffer.from(b).toString('hex')}`);
  assert.equal(h.core.counters[C.droppedMalformed], cases.length);
  assert.equal(h.core.counters[C.stunRequests], 0);
});

test('Bad FINGERPRINT: dropped silently and counted as malformed', () => {
  const h = setup();
  const c = new TestClient(h);
  const b = buildMessage(Method.Binding);
  b[b.length - 1] ^= 0x01;
  assert.equal(c.sendRaw(b).length, 0);
  assert.equal(h.core.counters[C.droppedMalformed], 1);
  // And a FINGERPRINT that is not last (something follows it) is not a valid FINGERPRINT.
  const w = new StunWriter().start(Method.Binding, StunClass.Request, new Uint8Array(12));
  w.addFingerprint();
  const withTail = new Uint8Array(w.length + 8);
  withTail.set(w.view());
  withTail[w.length] = 0x80; // a SOFTWARE attribute after FINGERPRINT
  withTail[w.length + 1] = 0x22;
  withTail[w.length + 3] = 4;
  withTail[3] = withTail.length - 20;
  assert.equal(c.sendRaw(withTail).length, 0);
  assert.equal(h.core.counters[C.droppedMalformed], 2);
});

test('A message at an offset inside a larger buffer is read from there', () => {
  const h = setup();
  const c = new TestClient(h);
  const msg = buildMessage(Method.Binding);
  const buf = new Uint8Array(msg.length + 13).fill(0xee);
  buf.set(msg, 7);
  const out = c.sendRaw(buf, 7, msg.length);
  assert.equal(out.length, 1);
});

test('A request with an unknown method: 400, unsigned', () => {
  const h = setup();
  const res = new TestClient(h).send(buildMessage(0x00a));
  assert.ok(res);
  assertError(res, 0x00a, 400);
  assertUnsigned(res);
});
