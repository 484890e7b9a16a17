// `switchboard token create --room R --identity I [--name N] [--ttl 1h] [--admin]`: prints an
// access token signed with the same keys `serve` uses (config, environment, or the dev pair).

import { parseArgs } from 'node:util';
import { createToken, parseTtl } from '@switchboard/tokens';
import { ConfigError, loadConfig } from './config.js';
import { loadDevKeys } from './dev-keys.js';

export const TOKEN_HELP = `switchboard token create: print an access token (JWT, HS256)

  --room R          the room it admits to (needed unless --admin)
  --identity I      who it is for
  --name N          display name
  --metadata M      participant metadata
  --ttl 1h          lifetime: 90, 90s, 15m, 1h, 2d (default 1h)
  --admin           room admin grant (admin API, any room unless --room)
  --api-key K       which configured key signs it (default: the first)
  -c, --config FILE the same config serve reads; SWITCHBOARD_AUTH_KEYS works too
`;

/** The key pair `serve` would accept: configured keys (the named or first one), else the dev pair. */
export function signingKey(configFile: string | undefined, env: NodeJS.ProcessEnv, wanted?: string): { apiKey: string; secret: string } {
  const config = loadConfig({ file: configFile, env });
  let keys = config.auth.keys;
  if (Object.keys(keys).length === 0) {
    const dev = loadDevKeys().keys;
    keys = { [dev.apiKey]: dev.apiSecret };
  }
  const apiKey = wanted ?? Object.keys(keys)[0];
  const secret = keys[apiKey];
  if (!secret) throw new ConfigError(`no API key ${JSON.stringify(apiKey)} in the configuration`);
  return { apiKey, secret };
}

export async function tokenCommand(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    out(TOKEN_HELP);
    return;
  }
  if (sub !== 'create') throw new ConfigError(`token: unknown subcommand ${JSON.stringify(sub)} (try: switchboard token create --help)`);
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: rest,
      strict: true,
      options: {
        room: { type: 'string' },
        identity: { type: 'string' },
        name: { type: 'string' },
        metadata: { type: 'string' },
        ttl: { type: 'string', default: '1h' },
        admin: { type: 'boolean' },
        'api-key': { type: 'string' },
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (see: switchboard token create --help)`);
  }
  if (values.help) {
    out(TOKEN_HELP);
    return;
  }
  const identity = values.identity as string | undefined;
  const room = values.room as string | undefined;
  if (!identity) throw new ConfigError('token create: --identity is required');
  if (!room && !values.admin) throw new ConfigError('token create: --room is required (or --admin)');
  const { apiKey, secret } = signingKey(values.config as string | undefined, env, values['api-key'] as string | undefined);
  let ttlSeconds: number;
  try {
    ttlSeconds = parseTtl(values.ttl as string);
  } catch (err) {
    throw new ConfigError(`--ttl: ${(err as Error).message}`);
  }
  const token = await createToken(apiKey, secret, {
    identity,
    room,
    name: values.name as string | undefined,
    metadata: values.metadata as string | undefined,
    ttlSeconds,
    grants: values.admin ? { roomAdmin: true, roomList: true } : undefined,
  });
  out(`${token}\n`);
}
