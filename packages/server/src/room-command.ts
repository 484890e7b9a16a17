// `switchboard room create|list|get|close`: the admin API from the command line, with an admin
// token signed by the same keys `serve` uses.

import { parseArgs } from 'node:util';
import { createToken } from '@switchboard/tokens';
import { ConfigError } from './config.js';
import { signingKey } from './token-command.js';

export const ROOM_HELP = `switchboard room: manage rooms through the admin API

  switchboard room create NAME [--topology mesh] [--max-participants N] [--empty-timeout 300]
  switchboard room list
  switchboard room get NAME
  switchboard room close NAME
  switchboard room remove NAME IDENTITY

  --url URL          the server (default http://127.0.0.1:7880)
  -c, --config FILE  where the API keys are (as for serve); SWITCHBOARD_AUTH_KEYS works too
`;

export async function roomCommand(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        url: { type: 'string', default: 'http://127.0.0.1:7880' },
        topology: { type: 'string', default: 'mesh' },
        'max-participants': { type: 'string' },
        'empty-timeout': { type: 'string' },
        config: { type: 'string', short: 'c' },
        'api-key': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (see: switchboard room --help)`);
  }
  const { values, positionals } = parsed;
  const [sub, name, identity] = positionals;
  if (values.help || !sub) {
    out(ROOM_HELP);
    return 0;
  }
  const need = (v: string | undefined, what: string) => {
    if (!v) throw new ConfigError(`room ${sub}: ${what} is required`);
    return v;
  };
  const int = (v: string | undefined, flag: string) => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new ConfigError(`--${flag}: expected a whole number`);
    return Number(v);
  };
  let method = 'GET';
  let path = '/api/rooms';
  let body: unknown;
  switch (sub) {
    case 'create': {
      const timeout = int(values['empty-timeout'], 'empty-timeout');
      body = { name: need(name, 'NAME'), topology: values.topology, maxParticipants: int(values['max-participants'], 'max-participants'), emptyTimeoutMs: timeout === undefined ? undefined : timeout * 1000 };
      method = 'POST';
      break;
    }
    case 'list':
      break;
    case 'get':
      path += `/${encodeURIComponent(need(name, 'NAME'))}`;
      break;
    case 'close':
      method = 'DELETE';
      path += `/${encodeURIComponent(need(name, 'NAME'))}`;
      break;
    case 'remove':
      method = 'DELETE';
      path += `/${encodeURIComponent(need(name, 'NAME'))}/participants/${encodeURIComponent(need(identity, 'IDENTITY'))}`;
      break;
    default:
      throw new ConfigError(`room: unknown subcommand ${JSON.stringify(sub)} (see: switchboard room --help)`);
  }
  const { apiKey, secret } = signingKey(values.config, env, values['api-key']);
  const token = await createToken(apiKey, secret, { identity: 'switchboard-cli', ttlSeconds: 60, grants: { roomAdmin: true, roomList: true } });
  let res: Response;
  try {
    res = await fetch(`${values.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    throw new ConfigError(`cannot reach ${values.url}: ${(err as Error).message}`);
  }
  const text = res.status === 204 ? '' : await res.text();
  if (!res.ok) {
    process.stderr.write(`switchboard room ${sub}: ${res.status} ${text}\n`);
    return 1;
  }
  out(text ? `${JSON.stringify(JSON.parse(text), null, 2)}\n` : `ok\n`);
  return 0;
}
