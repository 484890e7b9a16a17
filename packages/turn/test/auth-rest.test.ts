// Credentials: static users and coturn-compatible TURN REST credentials
// (username "expiry:user", password base64(HMAC-SHA1(secret, username))), end to end through
// the core and as a unit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { longTermKey, Method } from '@switchboard/stun';
import { C, Credentials, md5Key, restPassword, restUsername, TurnError } from '../src/index.js';
import { assertError, assertSigned, assertSuccess, clientRef, REALM, setup, T0, TestClient } from './harness.js';

const SECRET = 'north-wind';
const OLD_SECRET = 'south-wind';

/** What a REST client computes, written out independently of the core's helper. */
function restPass(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

const nowSec = T0 / 1000;

test('REST credentials: "<future>:alice" with base64(HMAC-SHA1(secret, username)) allocates; quotaUser is alice', () => {
  const h = setup({ credentials: { realm: REALM, authSecrets: [SECRET] } });
  const username = `${nowSec + 3600}:alice`;
  const c = new TestClient(h, username, restPass(SECRET, username));
  const { res, alloc } = c.allocateOk();
  assertSigned(res, longTermKey(username, REALM, restPass(SECRET, username)));
  assert.equal(alloc.username, username);
  assert.equal(alloc.quotaUser, 'alice');
});

test('REST credentials: an expired timestamp gets 401 and counts authFailExpired', () => {
  const h = setup({ credentials: { realm: REALM, authSecrets: [SECRET] } });
  for (const stamp of [nowSec - 1, nowSec]) {
    const username = `${stamp}:alice`;
    const c = new TestClient(h, username, restPass(SECRET, username));
    c.challenge();
    const res = c.request(Method.Allocate, { attrs: (w) => w.addRequestedTransport(17) });
    assertError(res, Method.Allocate, 401);
  }
  assert.equal(h.core.counters[C.authFailExpired], 2);
  assert.equal(h.core.counters[C.authFailBadIntegrity], 0);
  assert.equal(h.core.allocationCount, 0);
});

test('REST credentials expire on the core clock: a Refresh after the timestamp gets 401', () => {
  const h = setup({ credentials: { realm: REALM, authSecrets: [SECRET] } });
  const username = `${nowSec + 60}:alice`;
  const c = new TestClient(h, username, restPass(SECRET, username));
  c.allocateOk();
  assertSuccess(c.refresh(), Method.Refresh);
  h.advance(60_000);
  const res = c.request(Method.Refresh);
  assertError(res, Method.Refresh, 401);
  assert.equal(h.core.counters[C.authFailExpired], 1);
});

test('REST credentials with two secrets (rotation): either one works', () => {
  const h = setup({ credentials: { realm: REALM, authSecrets: [OLD_SECRET, SECRET] } });
  const u1 = `${nowSec + 100}:alice`;
  const second = new TestClient(h, u1, restPass(SECRET, u1));
  assertSigned(second.allocateOk().res, second.key);
  const u2 = `${nowSec + 100}:bob`;
  const first = new TestClient(h, u2, restPass(OLD_SECRET, u2));
  assertSigned(first.allocateOk().res, first.key);
  assert.equal(h.core.allocationCount, 2);
});

test('REST credentials signed with an unknown secret: 401, authFailBadIntegrity', () => {
  const h = setup({ credentials: { realm: REALM, authSecrets: [SECRET] } });
  const username = `${nowSec + 100}:alice`;
  const c = new TestClient(h, username, restPass('guess', username));
  c.challenge();
  assertError(c.request(Method.Allocate, { attrs: (w) => w.addRequestedTransport(17) }), Method.Allocate, 401);
  assert.equal(h.core.counters[C.authFailBadIntegrity], 1);
});

test('REST username without a user part: the whole username is the quota user', () => {
  const h = setup({ credentials: { realm: REALM, authSecrets: [SECRET] } });
  const username = String(nowSec + 100);
  const c = new TestClient(h, username, restPass(SECRET, username));
  assert.equal(c.allocateOk().alloc.quotaUser, username);
});

test('Static users and REST credentials side by side', () => {
  const h = setup({ credentials: { realm: REALM, users: { alice: 'alice-pass' }, authSecrets: [SECRET] } });
  assert.equal(new TestClient(h).allocateOk().alloc.quotaUser, 'alice');
  const username = `${nowSec + 100}:carol`;
  const c = new TestClient(h, username, restPass(SECRET, username), clientRef());
  assert.equal(c.allocateOk().alloc.quotaUser, 'carol');
});

test('Credentials.lookup: static, REST, expired, unknown, not a timestamp', () => {
  const creds = new Credentials({ realm: REALM, users: { alice: 'alice-pass' }, authSecrets: [OLD_SECRET, SECRET] });
  assert.equal(creds.usesRest, true);
  const alice = creds.lookup('alice', T0);
  assert.ok(alice.ok);
  assert.deepEqual(alice.keys, [longTermKey('alice', REALM, 'alice-pass')]);
  assert.equal(alice.quotaUser, 'alice');

  const u = `${nowSec + 10}:dave`;
  const rest = creds.lookup(u, T0);
  assert.ok(rest.ok);
  assert.deepEqual(rest.keys, [longTermKey(u, REALM, restPass(OLD_SECRET, u)), longTermKey(u, REALM, restPass(SECRET, u))]);
  assert.equal(rest.quotaUser, 'dave');
  assert.deepEqual(creds.lookup(u, T0 + 10_000), { ok: false, reason: 'expired_credentials' });
  for (const bad of ['mallory', 'abc:dave', '', ':dave', '1234567890123:dave']) {
    assert.deepEqual(creds.lookup(bad, T0), { ok: false, reason: 'unknown_user' }, bad);
  }
  const staticOnly = new Credentials({ realm: REALM, users: { alice: 'x' } });
  assert.equal(staticOnly.usesRest, false);
  assert.deepEqual(staticOnly.lookup(u, T0), { ok: false, reason: 'unknown_user' });
});

test('Credentials: a static user given as 0x + hex of MD5(user:realm:password), as coturn allows', () => {
  const hex = createHash('md5').update(`eve:${REALM}:eve-pass`).digest('hex');
  const creds = new Credentials({ realm: REALM, users: { eve: `0x${hex}` } });
  const r = creds.lookup('eve', T0);
  assert.ok(r.ok);
  assert.deepEqual(r.keys, [longTermKey('eve', REALM, 'eve-pass')]);
  const h = setup({ credentials: { realm: REALM, users: { eve: `0x${hex}` } } });
  new TestClient(h, 'eve', 'eve-pass').allocateOk();
});

test('Credentials: an empty realm is refused with TURN_ERR_CONFIG', () => {
  assert.throws(() => new Credentials({ realm: '' }), (e: unknown) => e instanceof TurnError && e.code === 'TURN_ERR_CONFIG');
});

test('restPassword, restUsername and md5Key match the published formulas', () => {
  assert.equal(restPassword(SECRET, '1700000000:alice'), restPass(SECRET, '1700000000:alice'));
  assert.equal(restUsername(1700000000.9, 'alice'), '1700000000:alice');
  assert.equal(restUsername(1700000000), '1700000000');
  assert.deepEqual(md5Key('alice', REALM, 'pw'), longTermKey('alice', REALM, 'pw'));
});
