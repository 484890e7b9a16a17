import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SignJWT, base64url, decodeJwt } from 'jose';
import {
  ADMIN_GRANTS,
  DEFAULT_PARTICIPANT_GRANTS,
  TokenError,
  TokenVerifier,
  checkAccess,
  createToken,
  generateApiKeyPair,
  parseTtl,
  type TokenErrorCode,
  type VerifiedToken,
} from '../src/index.js';

const KEY = 'SBtestkey0001';
const SECRET = 'test-secret-0123456789-abcdefghijklmnop';
const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);
const NOW_S = NOW / 1000;
const enc = new TextEncoder();

async function rejectsWith(p: Promise<unknown>, code: TokenErrorCode): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof TokenError, `expected TokenError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

function throwsWith(fn: () => unknown, code: TokenErrorCode): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TokenError, `expected TokenError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

function validClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: KEY,
    sub: 'alice',
    room: 'lobby',
    iat: NOW_S,
    nbf: NOW_S,
    exp: NOW_S + 600,
    jti: 'j1',
    grants: { ...DEFAULT_PARTICIPANT_GRANTS },
    ...overrides,
  };
}

/** Sign arbitrary claims by hand (bypassing createToken's validation). */
function sign(claims: Record<string, unknown>, secret = SECRET, alg = 'HS256'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(enc.encode(secret));
}

function b64json(v: unknown): string {
  return base64url.encode(enc.encode(JSON.stringify(v)));
}

const verifier = new TokenVerifier({ [KEY]: SECRET });

describe('createToken / verify round trip', () => {
  it('carries every claim', async () => {
    const token = await createToken(KEY, SECRET, {
      identity: 'alice',
      room: 'lobby',
      name: 'Alice A.',
      metadata: '{"color":"blue"}',
      ttlSeconds: 120,
      grants: { publish: false, roomList: true },
      now: NOW,
    });
    const v = await verifier.verify(token, NOW + 1000);
    assert.deepEqual(v, {
      apiKey: KEY,
      identity: 'alice',
      name: 'Alice A.',
      room: 'lobby',
      metadata: '{"color":"blue"}',
      grants: { join: true, publish: false, subscribe: true, publishData: true, roomAdmin: false, roomList: true },
      expiresAt: NOW + 120_000,
      issuedAt: NOW,
      jti: v.jti,
    });
    assert.equal(typeof v.jti, 'string');
    const raw = decodeJwt(token);
    assert.equal(raw.nbf, NOW_S);
    assert.equal(raw.iat, NOW_S);
    assert.equal(raw.exp, NOW_S + 120);
  });

  it('applies defaults (participant grants, 1 hour ttl, no name/metadata)', async () => {
    const before = Date.now();
    const token = await createToken(KEY, SECRET, { identity: 'bob', room: 'r' });
    const v = await verifier.verify(token);
    assert.deepEqual(v.grants, { ...DEFAULT_PARTICIPANT_GRANTS });
    assert.equal(v.name, undefined);
    assert.equal(v.metadata, undefined);
    assert.equal(v.expiresAt - v.issuedAt, 3600_000);
    assert.ok(v.issuedAt >= Math.floor(before / 1000) * 1000 - 1000);
    const raw = decodeJwt(token);
    assert.equal('name' in raw, false);
    assert.equal('metadata' in raw, false);
  });

  it('jti is unique per token', async () => {
    const a = decodeJwt(await createToken(KEY, SECRET, { identity: 'a', room: 'r', now: NOW }));
    const b = decodeJwt(await createToken(KEY, SECRET, { identity: 'a', room: 'r', now: NOW }));
    assert.notEqual(a.jti, b.jti);
  });

  it('admin tokens need no room', async () => {
    const token = await createToken(KEY, SECRET, { identity: 'ops', grants: ADMIN_GRANTS, now: NOW });
    const v = await verifier.verify(token, NOW);
    assert.equal(v.room, undefined);
    assert.deepEqual(v.grants, { ...ADMIN_GRANTS });
  });

  it('ttl: valid until exp, expired after exp + tolerance', async () => {
    const token = await createToken(KEY, SECRET, { identity: 'a', room: 'r', ttlSeconds: 60, now: NOW });
    await verifier.verify(token, NOW + 59_000);
    await verifier.verify(token, NOW + 64_000); // within 5 s tolerance
    await rejectsWith(verifier.verify(token, NOW + 66_000), 'SB_ERR_TOKEN_EXPIRED');
    const strict = new TokenVerifier({ [KEY]: SECRET }, { clockToleranceSeconds: 0 });
    await rejectsWith(strict.verify(token, NOW + 60_000), 'SB_ERR_TOKEN_EXPIRED');
  });

  it('rejects bad creation options', async () => {
    await rejectsWith(createToken(KEY, SECRET, { identity: '', room: 'r' }), 'SB_ERR_TOKEN_CLAIMS');
    await rejectsWith(createToken(KEY, SECRET, { identity: 'x'.repeat(129), room: 'r' }), 'SB_ERR_TOKEN_CLAIMS');
    await rejectsWith(createToken(KEY, SECRET, { identity: 'a' }), 'SB_ERR_TOKEN_CLAIMS');
    await rejectsWith(createToken(KEY, SECRET, { identity: 'a', room: 'r', name: 'n'.repeat(129) }), 'SB_ERR_TOKEN_CLAIMS');
    await rejectsWith(
      createToken(KEY, SECRET, { identity: 'a', room: 'r', metadata: 'm'.repeat(4097) }),
      'SB_ERR_TOKEN_CLAIMS',
    );
    await rejectsWith(
      createToken(KEY, SECRET, { identity: 'a', room: 'r', grants: { canPublish: true } as never }),
      'SB_ERR_TOKEN_CLAIMS',
    );
    await rejectsWith(createToken(KEY, SECRET, { identity: 'a', room: 'r', ttlSeconds: 0 }), 'SB_ERR_TOKEN_TTL');
    await rejectsWith(createToken(KEY, SECRET, { identity: 'a', room: 'r', ttlSeconds: 1.5 }), 'SB_ERR_TOKEN_TTL');
    await rejectsWith(createToken('', SECRET, { identity: 'a', room: 'r' }), 'SB_ERR_TOKEN_CONFIG');
    await rejectsWith(createToken(KEY, '', { identity: 'a', room: 'r' }), 'SB_ERR_TOKEN_CONFIG');
  });

  it('accepts limits exactly at the boundary', async () => {
    const token = await createToken(KEY, SECRET, {
      identity: 'i'.repeat(128),
      name: 'n'.repeat(128),
      metadata: 'm'.repeat(4096),
      room: 'r',
      now: NOW,
    });
    const v = await verifier.verify(token, NOW);
    assert.equal(v.identity.length, 128);
    assert.equal(v.metadata?.length, 4096);
  });
});

describe('verify rejections', () => {
  it('accepts a hand-signed valid token (sanity for the helpers)', async () => {
    const v = await verifier.verify(await sign(validClaims()), NOW);
    assert.equal(v.identity, 'alice');
  });

  it('malformed tokens', async () => {
    for (const t of ['', 'abc', 'a.b', 'a.b.c', 'a.b.c.d', '...', `${b64json({ alg: 'HS256' })}.notjson.sig`]) {
      await rejectsWith(verifier.verify(t, NOW), 'SB_ERR_TOKEN_MALFORMED');
    }
    await rejectsWith(verifier.verify('x'.repeat(40_000), NOW), 'SB_ERR_TOKEN_MALFORMED');
    await rejectsWith(verifier.verify(123 as unknown as string, NOW), 'SB_ERR_TOKEN_MALFORMED');
    // payload that is JSON but not an object
    const arr = `${b64json({ alg: 'HS256' })}.${b64json([1, 2])}.sig`;
    await rejectsWith(verifier.verify(arr, NOW), 'SB_ERR_TOKEN_MALFORMED');
  });

  it('alg none', async () => {
    const t = `${b64json({ alg: 'none', typ: 'JWT' })}.${b64json(validClaims())}.`;
    await rejectsWith(verifier.verify(t, NOW), 'SB_ERR_TOKEN_ALG');
  });

  it('other algorithms (HS384/HS512 with the right secret, missing alg)', async () => {
    await rejectsWith(verifier.verify(await sign(validClaims(), SECRET, 'HS384'), NOW), 'SB_ERR_TOKEN_ALG');
    await rejectsWith(verifier.verify(await sign(validClaims(), SECRET, 'HS512'), NOW), 'SB_ERR_TOKEN_ALG');
    const good = await sign(validClaims());
    const [, p, s] = good.split('.');
    await rejectsWith(verifier.verify(`${b64json({ typ: 'JWT' })}.${p}.${s}`, NOW), 'SB_ERR_TOKEN_ALG');
  });

  it('unknown iss', async () => {
    await rejectsWith(verifier.verify(await sign(validClaims({ iss: 'SBother' })), NOW), 'SB_ERR_TOKEN_UNKNOWN_KEY');
    // prototype names are not keys
    await rejectsWith(verifier.verify(await sign(validClaims({ iss: '__proto__' })), NOW), 'SB_ERR_TOKEN_UNKNOWN_KEY');
    await rejectsWith(verifier.verify(await sign(validClaims({ iss: 'constructor' })), NOW), 'SB_ERR_TOKEN_UNKNOWN_KEY');
  });

  it('missing iss is a claims error', async () => {
    const { iss: _iss, ...rest } = validClaims();
    await rejectsWith(verifier.verify(await sign(rest), NOW), 'SB_ERR_TOKEN_CLAIMS');
  });

  it('signature forged with another secret', async () => {
    await rejectsWith(verifier.verify(await sign(validClaims(), 'wrong-secret'), NOW), 'SB_ERR_TOKEN_SIGNATURE');
  });

  it('payload segment edited after signing', async () => {
    const good = await createToken(KEY, SECRET, { identity: 'alice', room: 'lobby', now: NOW });
    const [h, p, s] = good.split('.');
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(p!)));
    claims.room = 'vip';
    claims.grants.roomAdmin = true;
    await rejectsWith(verifier.verify(`${h}.${b64json(claims)}.${s}`, NOW), 'SB_ERR_TOKEN_SIGNATURE');
    // signature segment tampered
    await rejectsWith(verifier.verify(`${h}.${p}.${s!.slice(0, -2)}AA`, NOW), 'SB_ERR_TOKEN_SIGNATURE');
    await rejectsWith(verifier.verify(`${h}.${p}.`, NOW), 'SB_ERR_TOKEN_SIGNATURE');
  });

  it('expired', async () => {
    const t = await sign(validClaims({ iat: NOW_S - 100, nbf: NOW_S - 100, exp: NOW_S - 10 }));
    await rejectsWith(verifier.verify(t, NOW), 'SB_ERR_TOKEN_EXPIRED');
    const t2 = await sign(validClaims({ exp: NOW_S - 3 })); // within tolerance
    await verifier.verify(t2, NOW);
  });

  it('not yet valid', async () => {
    const t = await sign(validClaims({ nbf: NOW_S + 60, exp: NOW_S + 600 }));
    await rejectsWith(verifier.verify(t, NOW), 'SB_ERR_TOKEN_NOT_YET_VALID');
    await verifier.verify(t, NOW + 56_000); // tolerance
    const t2 = await sign(validClaims({ nbf: NOW_S + 3 }));
    await verifier.verify(t2, NOW);
  });

  it('missing or invalid claims', async () => {
    const bad: Record<string, unknown>[] = [
      validClaims({ sub: '' }),
      validClaims({ sub: 's'.repeat(129) }),
      validClaims({ sub: 42 }),
      validClaims({ sub: undefined }),
      validClaims({ exp: undefined }),
      validClaims({ iat: undefined }),
      validClaims({ exp: 'tomorrow' }),
      validClaims({ nbf: 'now' }),
      validClaims({ grants: undefined }),
      validClaims({ grants: 'all' }),
      validClaims({ grants: null }),
      validClaims({ grants: [true] }),
      validClaims({ grants: { join: 'yes' } }),
      validClaims({ grants: { roomList: 1 } }),
      validClaims({ name: 'n'.repeat(129) }),
      validClaims({ name: 7 }),
      validClaims({ metadata: 'm'.repeat(4097) }),
      validClaims({ metadata: { a: 1 } }),
      validClaims({ room: '' }),
      validClaims({ room: 5 }),
      validClaims({ room: undefined }),
    ];
    for (const claims of bad) {
      const clean = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
      await rejectsWith(verifier.verify(await sign(clean), NOW), 'SB_ERR_TOKEN_CLAIMS');
    }
  });

  it('missing grant flags mean not granted', async () => {
    const v = await verifier.verify(await sign(validClaims({ grants: { join: true } })), NOW);
    assert.deepEqual(v.grants, { join: true, publish: false, subscribe: false, publishData: false, roomAdmin: false });
  });

  it('random strings always reject with a TokenError', async () => {
    const header = b64json({ alg: 'HS256', typ: 'JWT' });
    const arbToken = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.tuple(fc.string(), fc.string(), fc.string()).map((parts) => parts.join('.')),
      fc.tuple(fc.base64String(), fc.base64String()).map(([p, s]) => `${header}.${p}.${s}`),
      fc.jsonValue().map((v) => `${header}.${b64json(v)}.c2ln`),
      fc
        .record({ iss: fc.constantFrom(KEY, 'x'), sub: fc.jsonValue(), exp: fc.jsonValue(), grants: fc.jsonValue() })
        .map((v) => `${header}.${b64json(v)}.c2ln`),
    );
    await fc.assert(
      fc.asyncProperty(arbToken, async (t) => {
        try {
          await verifier.verify(t, NOW);
        } catch (err) {
          return err instanceof TokenError && err.code.startsWith('SB_ERR_TOKEN_');
        }
        return false;
      }),
      { numRuns: 500 },
    );
  });

  it('random claims signed with the right key never throw a non-TokenError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom('sub', 'room', 'name', 'metadata', 'grants', 'nbf', 'jti', 'exp', 'iat'),
          fc.jsonValue(),
        ),
        async (extra) => {
          const token = await new SignJWT({ ...validClaims(), ...(extra as Record<string, unknown>) })
            .setProtectedHeader({ alg: 'HS256' })
            .sign(enc.encode(SECRET))
            .catch(() => null); // jose refuses to sign some invalid exp/iat/nbf values
          if (token === null) return true;
          try {
            await verifier.verify(token, NOW);
            return true;
          } catch (err) {
            return err instanceof TokenError;
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('key rotation', () => {
  it('verifies tokens from several keys, with the right apiKey', async () => {
    const old = generateApiKeyPair();
    const cur = generateApiKeyPair();
    const both = new TokenVerifier({ [old.apiKey]: old.apiSecret, [cur.apiKey]: cur.apiSecret });
    const t1 = await createToken(old.apiKey, old.apiSecret, { identity: 'a', room: 'r', now: NOW });
    const t2 = await createToken(cur.apiKey, cur.apiSecret, { identity: 'b', room: 'r', now: NOW });
    assert.equal((await both.verify(t1, NOW)).apiKey, old.apiKey);
    assert.equal((await both.verify(t2, NOW)).apiKey, cur.apiKey);
    // repeated verification uses the cached key
    assert.equal((await both.verify(t1, NOW)).identity, 'a');
    // a token claiming one key but signed with the other's secret
    const cross = await createToken(cur.apiKey, old.apiSecret, { identity: 'c', room: 'r', now: NOW });
    await rejectsWith(both.verify(cross, NOW), 'SB_ERR_TOKEN_SIGNATURE');
    // after retiring the old key
    const only = new TokenVerifier({ [cur.apiKey]: cur.apiSecret });
    await rejectsWith(only.verify(t1, NOW), 'SB_ERR_TOKEN_UNKNOWN_KEY');
    assert.deepEqual(only.apiKeys, [cur.apiKey]);
  });

  it('rejects bad verifier configuration', () => {
    throwsWith(() => new TokenVerifier({ k: '' }), 'SB_ERR_TOKEN_CONFIG');
    throwsWith(() => new TokenVerifier({ '': 's' }), 'SB_ERR_TOKEN_CONFIG');
    throwsWith(() => new TokenVerifier({ k: 's' }, { clockToleranceSeconds: -1 }), 'SB_ERR_TOKEN_CONFIG');
  });
});

describe('checkAccess', () => {
  const base: VerifiedToken = {
    apiKey: KEY,
    identity: 'alice',
    name: undefined,
    room: 'lobby',
    metadata: undefined,
    grants: { ...DEFAULT_PARTICIPANT_GRANTS },
    expiresAt: NOW + 1000,
    issuedAt: NOW,
    jti: undefined,
  };

  it('allows the token room and granted actions', () => {
    checkAccess(base, { room: 'lobby', grant: 'join' });
    checkAccess(base, { room: 'lobby', grant: 'publish' });
    checkAccess(base, {});
    checkAccess(base, { grant: 'subscribe' });
  });

  it('rejects another room', () => {
    throwsWith(() => checkAccess(base, { room: 'vip' }), 'SB_ERR_TOKEN_WRONG_ROOM');
  });

  it('rejects missing grants', () => {
    throwsWith(() => checkAccess(base, { room: 'lobby', grant: 'roomAdmin' }), 'SB_ERR_TOKEN_PERMISSION');
    throwsWith(() => checkAccess(base, { grant: 'roomList' }), 'SB_ERR_TOKEN_PERMISSION');
    const noPub = { ...base, grants: { ...base.grants, publish: false } };
    throwsWith(() => checkAccess(noPub, { room: 'lobby', grant: 'publish' }), 'SB_ERR_TOKEN_PERMISSION');
    throwsWith(() => checkAccess(base, { grant: 'toString' as never }), 'SB_ERR_TOKEN_PERMISSION');
  });

  it('room check happens before the grant check', () => {
    throwsWith(() => checkAccess(base, { room: 'vip', grant: 'roomAdmin' }), 'SB_ERR_TOKEN_WRONG_ROOM');
  });

  it('admin without a room claim may act on any room', () => {
    const admin = { ...base, room: undefined, grants: { ...ADMIN_GRANTS } };
    checkAccess(admin, { room: 'anything', grant: 'roomAdmin' });
    checkAccess(admin, { grant: 'roomList' });
    throwsWith(() => checkAccess(admin, { room: 'x', grant: 'join' }), 'SB_ERR_TOKEN_PERMISSION');
  });

  it('admin with a room claim is limited to that room', () => {
    const admin = { ...base, grants: { ...base.grants, roomAdmin: true } };
    checkAccess(admin, { room: 'lobby', grant: 'roomAdmin' });
    throwsWith(() => checkAccess(admin, { room: 'vip', grant: 'roomAdmin' }), 'SB_ERR_TOKEN_WRONG_ROOM');
  });

  it('roomList-only token without room has no room scope', () => {
    const lister = {
      ...base,
      room: undefined,
      grants: { join: false, publish: false, subscribe: false, publishData: false, roomAdmin: false, roomList: true },
    };
    checkAccess(lister, { grant: 'roomList' });
    throwsWith(() => checkAccess(lister, { room: 'lobby' }), 'SB_ERR_TOKEN_WRONG_ROOM');
  });
});

describe('parseTtl', () => {
  it('accepts the documented forms', () => {
    assert.equal(parseTtl('90'), 90);
    assert.equal(parseTtl('90s'), 90);
    assert.equal(parseTtl('15m'), 900);
    assert.equal(parseTtl('1h'), 3600);
    assert.equal(parseTtl('2d'), 172800);
  });

  it('rejects everything else', () => {
    for (const bad of ['', ' ', '0', '0s', '-5', '1.5h', '1H', '1w', 'h', '1 h', ' 1h', '1h ', '1hh', '1e3', 'abc', '0x10', '1234567890']) {
      throwsWith(() => parseTtl(bad), 'SB_ERR_TOKEN_TTL');
    }
    throwsWith(() => parseTtl(undefined as unknown as string), 'SB_ERR_TOKEN_TTL');
  });

  it('property: n + unit round trips', () => {
    const mult = { '': 1, s: 1, m: 60, h: 3600, d: 86400 } as const;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 999_999 }), fc.constantFrom('', 's', 'm', 'h', 'd'), (n, u) => {
        return parseTtl(`${n}${u}`) === n * mult[u as keyof typeof mult];
      }),
    );
  });
});

describe('generateApiKeyPair', () => {
  it('has the documented shape and is random', () => {
    const a = generateApiKeyPair();
    const b = generateApiKeyPair();
    assert.match(a.apiKey, /^SB[0-9A-Za-z]{12}$/);
    assert.match(a.apiSecret, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(base64url.decode(a.apiSecret).length, 32);
    assert.notEqual(a.apiKey, b.apiKey);
    assert.notEqual(a.apiSecret, b.apiSecret);
  });
});
