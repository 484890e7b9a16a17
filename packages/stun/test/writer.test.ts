// StunWriter's own contract: argument checks, growth, view vs copy, FINGERPRINT last.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Attr,
  HEADER_LENGTH,
  Method,
  StunClass,
  StunError,
  StunWriter,
  decodeAddress,
  decodeStun,
  decodeString,
  decodeXorAddress,
  getAttribute,
  isStunMessage,
  randomTransactionId,
  verifyFingerprint,
} from '../src/index.js';
import type { StunErrorCode } from '../src/index.js';

const TID = new Uint8Array(12).fill(7);

function throwsCode(f: () => unknown, code: StunErrorCode): void {
  assert.throws(f, (e: unknown) => e instanceof StunError && e.code === code);
}

test('argument checks throw StunError STUN_ERR_INVALID_ARGUMENT', () => {
  const w = new StunWriter();
  throwsCode(() => w.addFlag(Attr.DontFragment), 'STUN_ERR_INVALID_ARGUMENT'); // before start()
  throwsCode(() => w.start(0x1000, 0, TID), 'STUN_ERR_INVALID_ARGUMENT');
  throwsCode(() => w.start(1, 4 as never, TID), 'STUN_ERR_INVALID_ARGUMENT');
  throwsCode(() => w.start(1, 0, new Uint8Array(11)), 'STUN_ERR_INVALID_ARGUMENT');
  w.start(Method.Allocate, StunClass.Request, TID);
  throwsCode(() => w.addU32(Attr.Lifetime, -1), 'STUN_ERR_INVALID_ARGUMENT');
  throwsCode(() => w.addU32(Attr.Lifetime, 2 ** 32), 'STUN_ERR_INVALID_ARGUMENT');
  throwsCode(() => w.addErrorCode(299, 'x'), 'STUN_ERR_INVALID_ARGUMENT');
  throwsCode(() => w.addErrorCode(700, 'x'), 'STUN_ERR_INVALID_ARGUMENT');
  throwsCode(() => w.addChannelNumber(0x10000), 'STUN_ERR_INVALID_ARGUMENT');
  throwsCode(() => w.addRequestedTransport(256), 'STUN_ERR_INVALID_ARGUMENT');
  throwsCode(() => w.addRequestedAddressFamily(5 as never), 'STUN_ERR_INVALID_ARGUMENT');
  throwsCode(() => w.addUnknownAttributes([0x10000]), 'STUN_ERR_INVALID_ARGUMENT');
  throwsCode(() => w.addBytes(0x10000, new Uint8Array(0)), 'STUN_ERR_INVALID_ARGUMENT');
  throwsCode(() => w.addXorAddress(Attr.XorPeerAddress, { family: 4, address: '::1', port: 1 }), 'STUN_ERR_INVALID_ARGUMENT');
  throwsCode(() => w.addXorAddress(Attr.XorPeerAddress, { family: 6, address: '1.2.3.4', port: 1 }), 'STUN_ERR_INVALID_ARGUMENT');
  throwsCode(() => w.addAddress(Attr.MappedAddress, { family: 4, address: '1.2.3.4', port: 65536 }), 'STUN_ERR_INVALID_ARGUMENT');
  throwsCode(() => w.addAddress(Attr.MappedAddress, { family: 5 as never, address: '1.2.3.4', port: 1 }), 'STUN_ERR_INVALID_ARGUMENT');
  // None of the failed calls left anything behind.
  assert.equal(w.view().length, HEADER_LENGTH);
  assert.deepEqual(decodeStun(w.view()).attributes, []);
});

test('size limits throw STUN_ERR_TOO_LARGE and leave the message intact', () => {
  const w = new StunWriter().start(Method.Send, StunClass.Indication, TID);
  throwsCode(() => w.addBytes(Attr.Data, new Uint8Array(0x10000)), 'STUN_ERR_TOO_LARGE');
  throwsCode(() => w.addString(Attr.Software, 'x'.repeat(0x10000)), 'STUN_ERR_TOO_LARGE');
  throwsCode(() => w.addString(Attr.Software, '\u00e9'.repeat(0x8000)), 'STUN_ERR_TOO_LARGE'); // 65536 bytes
  // The largest message: length 65532 (the largest multiple of 4 under 65536).
  w.addBytes(Attr.Data, new Uint8Array(65527)); // 4 + 65527 + 1 padding
  assert.equal(w.view().length, HEADER_LENGTH + 65532);
  throwsCode(() => w.addFlag(Attr.DontFragment), 'STUN_ERR_TOO_LARGE');
  throwsCode(() => w.addBytes(Attr.Data, new Uint8Array(1)), 'STUN_ERR_TOO_LARGE');
  assert.equal(w.view().length, HEADER_LENGTH + 65532);
  assert.equal(decodeStun(w.view()).attributes.length, 1);
});

test('FINGERPRINT must be last', () => {
  const w = new StunWriter().start(Method.Binding, StunClass.Request, TID).addFingerprint();
  throwsCode(() => w.addFlag(Attr.UseCandidate), 'STUN_ERR_INVALID_ARGUMENT');
  throwsCode(() => w.addFingerprint(), 'STUN_ERR_INVALID_ARGUMENT');
  assert.equal(verifyFingerprint(decodeStun(w.view())), true);
  w.start(Method.Binding, StunClass.Request, TID).addFlag(Attr.UseCandidate); // start() clears it
});

test('view() is a view that the next start() reuses; toBytes() is a copy', () => {
  const w = new StunWriter();
  const a = w.start(Method.Binding, StunClass.Request, TID).addString(Attr.Software, 'one').view();
  const copy = w.toBytes();
  assert.deepEqual(a, copy);
  w.start(Method.Binding, StunClass.Request, new Uint8Array(12)).addString(Attr.Software, 'two');
  assert.equal(decodeString(getAttribute(decodeStun(copy), Attr.Software)!), 'one');
  assert.notDeepEqual(a.subarray(8, 20), copy.subarray(8, 20), 'the old view now shows the new message');
});

test('grows past its capacity', () => {
  const w = new StunWriter(24);
  w.start(Method.Send, StunClass.Indication, TID);
  const data = new Uint8Array(5000).map((_, i) => i & 0xff);
  w.addXorAddress(Attr.XorPeerAddress, { family: 6, address: '2001:db8::5', port: 9 });
  w.addBytes(Attr.Data, data).addString(Attr.Software, '\u30de'.repeat(1000)).addErrorCode(420, '\u00e9'.repeat(3000));
  const msg = decodeStun(w.view());
  assert.deepEqual(getAttribute(msg, Attr.Data), data);
  assert.deepEqual(decodeXorAddress(getAttribute(msg, Attr.XorPeerAddress)!, msg.transactionId), {
    family: 6,
    address: '2001:db8::5',
    port: 9,
  });
  assert.equal(decodeString(getAttribute(msg, Attr.Software)!), '\u30de'.repeat(1000));
});

test('addresses are written in canonical form whatever text they came in', () => {
  const w = new StunWriter().start(Method.Binding, StunClass.SuccessResponse, TID);
  w.addAddress(Attr.MappedAddress, { family: 6, address: '2001:0DB8:0000::0001', port: 1 });
  w.addXorAddress(Attr.XorMappedAddress, { family: 6, address: '::FFFF:10.0.0.1', port: 2 });
  const msg = decodeStun(w.view());
  assert.equal(decodeAddress(msg.attributes[0].value).address, '2001:db8::1');
  assert.equal(decodeXorAddress(msg.attributes[1].value, TID).address, '::ffff:10.0.0.1');
});

test('randomTransactionId gives 12 fresh bytes', () => {
  const a = randomTransactionId();
  const b = randomTransactionId();
  assert.equal(a.length, 12);
  assert.equal(Object.getPrototypeOf(a), Uint8Array.prototype);
  assert.notDeepEqual(a, b);
  assert.equal(isStunMessage(new StunWriter().start(1, 0, a).view()), true);
});
