// `switchboard turn` takes coturn's option names, so a coturn command line carries over.

import { parseArgs } from 'node:util';
import { ConfigError } from './config.js';

const TURN_OPTIONS = {
  config: { type: 'string', short: 'c' },
  'listening-ip': { type: 'string', short: 'L', multiple: true },
  'listening-port': { type: 'string', short: 'p' },
  'tls-listening-port': { type: 'string' },
  'relay-ip': { type: 'string', short: 'E' },
  'external-ip': { type: 'string', short: 'X' },
  realm: { type: 'string', short: 'r' },
  user: { type: 'string', short: 'u', multiple: true },
  'use-auth-secret': { type: 'boolean' },
  'static-auth-secret': { type: 'string', multiple: true },
  'min-port': { type: 'string' },
  'max-port': { type: 'string' },
  'allow-loopback-peers': { type: 'boolean' },
  'denied-peer-ip': { type: 'string', multiple: true },
  'allowed-peer-ip': { type: 'string', multiple: true },
  'user-quota': { type: 'string' },
  'total-quota': { type: 'string' },
  'max-bps': { type: 'string' },
  cert: { type: 'string' },
  pkey: { type: 'string' },
  'relay-threads': { type: 'string', short: 'm' },
  'udp-io': { type: 'string' },
  prometheus: { type: 'boolean' },
  'prometheus-port': { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  // Accepted for coturn compatibility; they describe what Switchboard does anyway.
  'lt-cred-mech': { type: 'boolean', short: 'a' },
  fingerprint: { type: 'boolean', short: 'f' },
  'no-cli': { type: 'boolean' },
  'no-dtls': { type: 'boolean' },
  'no-tls': { type: 'boolean' },
  'no-stdout-log': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface TurnCommand {
  configFile?: string;
  overrides: Record<string, unknown>;
  prometheusPort: number | null;
  verbose: boolean;
  help: boolean;
}

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new ConfigError(`--${name}: expected a whole number, got ${JSON.stringify(v)}`);
  return Number(v);
}

export function parseTurnArgs(argv: string[]): TurnCommand {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: TURN_OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (see: switchboard turn --help)`);
  }
  const str = (k: string) => values[k] as string | undefined;
  const list = (k: string) => values[k] as string[] | undefined;
  if (values['use-auth-secret'] && !list('static-auth-secret')?.length) {
    throw new ConfigError('--use-auth-secret needs --static-auth-secret');
  }
  if (list('static-auth-secret')?.length && !values['use-auth-secret']) {
    throw new ConfigError('--static-auth-secret needs --use-auth-secret (as in coturn)');
  }
  const turn: Record<string, unknown> = {
    listeningIps: list('listening-ip'),
    listeningPort: int('listening-port', str('listening-port')),
    tlsListeningPort: int('tls-listening-port', str('tls-listening-port')),
    relayIp: str('relay-ip'),
    externalIp: str('external-ip'),
    realm: str('realm'),
    users: list('user'),
    staticAuthSecrets: list('static-auth-secret'),
    minPort: int('min-port', str('min-port')),
    maxPort: int('max-port', str('max-port')),
    allowLoopbackPeers: values['allow-loopback-peers'] ? true : undefined,
    deniedPeerIp: list('denied-peer-ip'),
    allowedPeerIp: list('allowed-peer-ip'),
    userQuota: int('user-quota', str('user-quota')),
    totalQuota: int('total-quota', str('total-quota')),
    maxBps: int('max-bps', str('max-bps')),
    cert: str('cert'),
    pkey: str('pkey'),
    threads: int('relay-threads', str('relay-threads')),
    udpIo: str('udp-io'),
  };
  for (const k of Object.keys(turn)) if (turn[k] === undefined) delete turn[k];
  const prometheus = values.prometheus ? (int('prometheus-port', str('prometheus-port')) ?? 9641) : null;
  return {
    configFile: str('config'),
    overrides: { turn },
    prometheusPort: prometheus,
    verbose: !!values.verbose,
    help: !!values.help,
  };
}

export const TURN_HELP = `switchboard turn: run only the STUN/TURN server (coturn's option names)

  -L, --listening-ip IP        listen on IP (repeatable; default 0.0.0.0)
  -p, --listening-port N       UDP and TCP port (default 3478)
      --tls-listening-port N   TLS port, with --cert and --pkey (default 5349)
  -E, --relay-ip IP            address relay sockets bind to
  -X, --external-ip IP         relayed address announced to clients (behind NAT)
  -r, --realm R                realm (default "switchboard")
  -u, --user NAME:PASS         a long-term user (repeatable)
      --use-auth-secret        TURN REST API credentials ...
      --static-auth-secret S   ... with this secret (repeatable, for rotation)
      --min-port N --max-port N   relay port range (default 49152-65535)
      --allow-loopback-peers   let peers on 127.0.0.0/8 and ::1 through (tests)
      --denied-peer-ip RANGE   refuse peers in RANGE (A-B, CIDR or one IP; repeatable)
      --allowed-peer-ip RANGE  allow peers in RANGE even if restricted (repeatable)
      --user-quota N           allocations per user (0 = unlimited)
      --total-quota N          allocations in all (0 = unlimited)
      --max-bps N              bytes/s per allocation and direction (0 = unlimited)
      --cert FILE --pkey FILE  TLS certificate and key (PEM)
  -m, --relay-threads N        relay threads (default: one per core)
      --udp-io auto|batch|dgram  UDP I/O: batched recvmmsg/sendmmsg (IPv4) or Node's dgram
      --prometheus [--prometheus-port N]   serve /metrics (default port 9641)
  -c, --config FILE            YAML config (the turn: section); flags override it
  -v, --verbose                debug logs
Accepted and implied: --lt-cred-mech --fingerprint --no-cli --no-dtls --no-tls --no-stdout-log
`;
