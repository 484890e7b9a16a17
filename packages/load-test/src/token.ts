// HS256 access tokens for Switchboard (the claims @switchboard/tokens' createToken writes), so
// the load generator can give publishers publish-only and subscribers subscribe-only grants.
import { createHmac, randomBytes } from 'node:crypto';

export interface LoadTestGrants {
  join: boolean;
  publish: boolean;
  subscribe: boolean;
  publishData: boolean;
  roomAdmin: boolean;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export function createHs256Token(apiKey: string, apiSecret: string, opts: { identity: string; room: string; grants: Partial<LoadTestGrants>; ttlSeconds?: number }): string {
  const iat = Math.floor(Date.now() / 1000);
  const grants: LoadTestGrants = { join: true, publish: false, subscribe: false, publishData: false, roomAdmin: false, ...opts.grants };
  const claims = { iss: apiKey, sub: opts.identity, iat, nbf: iat, exp: iat + (opts.ttlSeconds ?? 6 * 3600), jti: randomBytes(12).toString('hex'), grants, room: opts.room, name: opts.identity };
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  const sig = createHmac('sha256', apiSecret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}
