/**
 * The TURN server under test: Switchboard's (`node bin/switchboard.js turn ...`) by
 * default, or real coturn with TURN_UNDER_TEST=coturn, so that every interop test
 * can be validated against the reference implementation.
 *
 * Both take coturn's option names; Switchboard prints a JSON log line with
 * "msg":"turn listening" when it is ready.
 *
 * Env:
 *   TURN_UNDER_TEST=switchboard|coturn   which server (default switchboard)
 *   SWITCHBOARD_FROM_SOURCE=1            run bin/switchboard.js with --conditions=source --import tsx
 *                                        (no build needed); default runs it as users do: node bin/switchboard.js
 *   TEST_VERBOSE=1                       copy the server's output to stderr
 */
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { coturnToolsSkipReason, startCoturn, type TurnServerOptions } from './coturn.js';
import {
  LOOPBACK,
  freePort,
  freePortRange,
  startProcess,
  waitForTcpPort,
  waitForUdpStun,
  type ManagedProcess,
  type StartProcessOptions,
} from './processes.js';

export type TurnImplementation = 'switchboard' | 'coturn';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SWITCHBOARD_BIN = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));

export function turnImplementation(): TurnImplementation {
  const v = (process.env.TURN_UNDER_TEST ?? 'switchboard').trim().toLowerCase();
  if (v === 'switchboard' || v === 'coturn') return v;
  throw new Error(`TURN_UNDER_TEST must be 'switchboard' or 'coturn', not '${v}'`);
}

/** A skip reason when the server under test cannot be run on this machine, else false. */
export function turnUnderTestSkipReason(): string | false {
  if (turnImplementation() === 'coturn') return coturnToolsSkipReason(['turnserver']);
  if (!existsSync(SWITCHBOARD_BIN)) {
    return `${SWITCHBOARD_BIN} does not exist yet (set TURN_UNDER_TEST=coturn to run these tests against coturn)`;
  }
  return false;
}

export interface TurnUnderTestOptions extends Partial<Omit<TurnServerOptions, 'port'>> {
  /** listening-port; default: a free port. */
  port?: number;
  /** Number of relay ports when minPort/maxPort are not given (default 400). */
  relayPorts?: number;
  /** Extra CLI arguments for the server. */
  extraArgs?: string[];
  /** Readiness bound (default 15 s). */
  timeoutMs?: number;
  cleanup?: StartProcessOptions['cleanup'];
  echo?: boolean;
}

export interface TurnUnderTest {
  impl: TurnImplementation;
  host: string;
  port: number;
  realm: string;
  minPort: number;
  maxPort: number;
  users: Array<{ name: string; password: string }>;
  authSecret?: string;
  process: ManagedProcess;
  /** `turn:127.0.0.1:PORT?transport=udp|tcp` */
  url(transport?: 'udp' | 'tcp'): string;
  output(): string;
  stop(): Promise<void>;
}

/** Command-line arguments in coturn's option names, shared by both implementations. */
export function turnCliArgs(o: TurnServerOptions): string[] {
  const a = [
    '--listening-ip', o.host ?? LOOPBACK,
    '--listening-port', String(o.port),
    '--realm', o.realm ?? 'example.org',
    '--min-port', String(o.minPort),
    '--max-port', String(o.maxPort),
  ];
  for (const u of o.users ?? []) a.push('--user', `${u.name}:${u.password}`);
  if (o.authSecret !== undefined) a.push('--use-auth-secret', '--static-auth-secret', o.authSecret);
  if (o.allowLoopbackPeers ?? true) a.push('--allow-loopback-peers');
  for (const r of o.deniedPeerIps ?? []) a.push('--denied-peer-ip', r);
  for (const r of o.allowedPeerIps ?? []) a.push('--allowed-peer-ip', r);
  if (o.userQuota !== undefined) a.push('--user-quota', String(o.userQuota));
  if (o.totalQuota !== undefined) a.push('--total-quota', String(o.totalQuota));
  if (o.maxBps !== undefined) a.push('--max-bps', String(o.maxBps));
  if (o.cert && o.pkey) {
    a.push('--cert', o.cert, '--pkey', o.pkey);
    if (o.tlsPort !== undefined) a.push('--tls-listening-port', String(o.tlsPort));
  }
  return a;
}

/**
 * Start the TURN server under test on 127.0.0.1 with its own listening port and relay
 * port range. Resolves when it answers STUN over UDP and accepts TCP.
 * Default credentials: user test:test (none when `authSecret` is set), realm example.org.
 */
export async function startTurnUnderTest(opts: TurnUnderTestOptions = {}): Promise<TurnUnderTest> {
  const impl = turnImplementation();
  const host = opts.host ?? LOOPBACK;
  const port = opts.port ?? (await freePort());
  let { minPort, maxPort } = opts;
  if (minPort === undefined || maxPort === undefined) {
    const n = opts.relayPorts ?? 400;
    minPort = await freePortRange(n);
    maxPort = minPort + n - 1;
  }
  const realm = opts.realm ?? 'example.org';
  const users = opts.users ?? (opts.authSecret !== undefined ? [] : [{ name: 'test', password: 'test' }]);
  const serverOpts: TurnServerOptions = { ...opts, host, port, minPort, maxPort, realm, users };
  const timeoutMs = opts.timeoutMs ?? 15_000;

  let proc: ManagedProcess;
  let stopExtra = async () => {};
  if (impl === 'coturn') {
    const c = await startCoturn({ ...serverOpts, extraArgs: opts.extraArgs, timeoutMs, cleanup: opts.cleanup, echo: opts.echo });
    proc = c.process;
    stopExtra = () => c.stop();
  } else {
    const nodeArgs = process.env.SWITCHBOARD_FROM_SOURCE === '1' ? ['--conditions=source', '--import', 'tsx'] : [];
    proc = await startProcess(process.execPath, [...nodeArgs, SWITCHBOARD_BIN, 'turn', ...turnCliArgs(serverOpts), ...(opts.extraArgs ?? [])], {
      name: `switchboard-turn:${port}`,
      cwd: REPO_ROOT,
      readyPattern: /"msg"\s*:\s*"turn listening"/,
      timeoutMs,
      cleanup: opts.cleanup,
      echo: opts.echo,
    });
    try {
      await waitForUdpStun(port, { host, timeoutMs });
      await waitForTcpPort(port, { host, timeoutMs });
    } catch (e) {
      await proc.stop();
      throw new Error(`switchboard turn printed "turn listening" but is not reachable: ${(e as Error).message}\n${proc.tail()}`);
    }
  }
  return {
    impl,
    host,
    port,
    realm,
    minPort,
    maxPort,
    users,
    authSecret: opts.authSecret,
    process: proc,
    url: (transport = 'udp') => `turn:${host}:${port}?transport=${transport}`,
    output: () => proc.output(),
    async stop() {
      await proc.stop();
      await stopExtra();
    },
  };
}

/**
 * TURN REST API ephemeral credentials (draft-uberti-behave-turn-rest, as coturn's
 * use-auth-secret): username "<expiry unix seconds>:<user>", password
 * base64(HMAC-SHA1(secret, username)).
 */
export function turnRestCredentials(secret: string, user: string, ttlSeconds = 3600, nowMs = Date.now()): { username: string; credential: string } {
  const username = `${Math.floor(nowMs / 1000) + ttlSeconds}:${user}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential };
}
