// Stateless nonces: an expiry and an HMAC binding it to the client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NonceIssuer } from '../src/index.js';
import { T0 } from './harness.js';

const SECRET = new Uint8Array(32).fill(1);
const CLIENT = 'udp:203.0.113.5:40000';

test('A fresh nonce is valid for its client until its lifetime ends, then stale', () => {
  const n = new NonceIssuer(SECRET, 60_000);
  assert.equal(n.lifetimeMs, 60_000);
  const nonce = n.issue(CLIENT, T0);
  assert.match(nonce, /^[0-9a-f]{34}$/);
  assert.equal(n.check(nonce, CLIENT, T0), 'valid');
  assert.equal(n.check(nonce, CLIENT, T0 + 59_999), 'valid');
  assert.equal(n.check(nonce, CLIENT, T0 + 60_000), 'stale');
  assert.equal(n.check(nonce, CLIENT, T0 + 3_600_000), 'stale');
});

test('The default lifetime is 10 minutes', () => {
  const n = new NonceIssuer(SECRET);
  const nonce = n.issue(CLIENT, T0);
  assert.equal(n.check(nonce, CLIENT, T0 + 599_999), 'valid');
  assert.equal(n.check(nonce, CLIENT, T0 + 600_000), 'stale');
});

test('A nonce is bound to the client it was issued to', () => {
  const n = new NonceIssuer(SECRET);
  const nonce = n.issue(CLIENT, T0);
  assert.equal(n.check(nonce, 'udp:203.0.113.5:40001', T0), 'invalid');
  assert.equal(n.check(nonce, 'tcp:203.0.113.5:40000', T0), 'invalid');
  assert.equal(n.check(nonce, 'udp:203.0.113.6:40000', T0), 'invalid');
  assert.notEqual(n.issue('udp:203.0.113.6:40000', T0), nonce);
});

test('Tampered, truncated or foreign nonces are invalid', () => {
  const n = new NonceIssuer(SECRET);
  const nonce = n.issue(CLIENT, T0);
  const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === '0' ? '1' : '0') + s.slice(i + 1);
  assert.equal(n.check(flip(nonce, 3), CLIENT, T0), 'invalid', 'a later expiry forged');
  assert.equal(n.check(flip(nonce, 20), CLIENT, T0), 'invalid', 'MAC altered');
  assert.equal(n.check(nonce.slice(0, 33), CLIENT, T0), 'invalid');
  assert.equal(n.check(`${nonce}0`, CLIENT, T0), 'invalid');
  assert.equal(n.check('', CLIENT, T0), 'invalid');
  assert.equal(n.check('x'.repeat(34), CLIENT, T0), 'invalid');
  assert.equal(new NonceIssuer(new Uint8Array(32).fill(2)).check(nonce, CLIENT, T0), 'invalid', 'another secret');
});

test('Issuers sharing a secret accept each other\'s nonces (relay threads); random secrets do not', () => {
  const a = new NonceIssuer(SECRET);
  const b = new NonceIssuer(new Uint8Array(SECRET));
  assert.equal(b.check(a.issue(CLIENT, T0), CLIENT, T0), 'valid');
  const r1 = new NonceIssuer();
  const r2 = new NonceIssuer();
  assert.equal(r2.check(r1.issue(CLIENT, T0), CLIENT, T0), 'invalid');
  assert.equal(r1.check(r1.issue(CLIENT, T0), CLIENT, T0), 'valid');
});
