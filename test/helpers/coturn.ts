/**
 * coturn (Debian package `coturn`) as a reference TURN server and its tools as
 * third-party STUN/TURN clients: turnutils_stunclient, turnutils_uclient, turnutils_peer.
 *
 * All of them bind/target 127.0.0.1 only.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  LOOPBACK,
  runToCompletion,
  startProcess,
  waitForTcpPort,
  which,
  type ManagedProcess,
  type StartProcessOptions,
} from './processes.js';

export const COTURN_TOOLS = ['turnserver', 'turnutils_uclient', 'turnutils_peer', 'turnutils_stunclient'] as const;

/** A skip reason if some coturn program is missing, else false (for `{ skip: ... }`). */
export function coturnToolsSkipReason(tools: readonly string[] = COTURN_TOOLS): string | false {
  const missing = tools.filter((t) => !which(t));
  return missing.length
    ? `coturn tools missing (${missing.join(', ')}): install with 'apt-get install -y coturn' (scripts/test.sh does it)`
    : false;
}

// ---------------------------------------------------------------------------
// turnutils_stunclient

export interface StunClientResult {
  exitCode: number | null;
  /** Reflexive address as printed, e.g. "127.0.0.1". */
  address: string;
  port: number;
  stdout: string;
  stderr: string;
}

/**
 * `turnutils_stunclient -p PORT 127.0.0.1` and parse its
 * `IPv4. UDP reflexive addr: 127.0.0.1:54067` line.
 */
export async function runStunClient(port: number, opts: { host?: string; timeoutMs?: number } = {}): Promise<StunClientResult> {
  const host = opts.host ?? LOOPBACK;
  const r = await runToCompletion('turnutils_stunclient', ['-p', String(port), host], { timeoutMs: opts.timeoutMs ?? 15_000 });
  const m = /UDP reflexive addr:\s*(\d{1,3}(?:\.\d{1,3}){3}):(\d+)/.exec(r.stdout + r.stderr);
  if (!m) {
    throw new Error(
      `turnutils_stunclient printed no reflexive address (exit ${r.code ?? r.signal}${r.timedOut ? ', timed out' : ''})\n${r.stdout}${r.stderr}`,
    );
  }
  return { exitCode: r.code, address: m[1]!, port: Number(m[2]), stdout: r.stdout, stderr: r.stderr };
}

// ---------------------------------------------------------------------------
// turnutils_uclient

export interface UclientOptions {
  /** -u */
  user: string;
  /** -w (long-term password). Omit when using `restSecret`. */
  password?: string;
  /** -W: TURN REST API shared secret; uclient derives "timestamp:user" and the HMAC itself. */
  restSecret?: string;
  /** -p */
  serverPort: number;
  /** Positional server address (default 127.0.0.1). */
  serverHost?: string;
  /** -r; the peer address (-e) is 127.0.0.1 unless `peerHost` is given. Ignored with clientToClient. */
  peerPort?: number;
  peerHost?: string;
  /** -t: TCP to the TURN server (default UDP). */
  tcp?: boolean;
  /** -s: Send indications instead of ChannelData. */
  sendIndications?: boolean;
  /** -y: client to client (relay to relay), no peer needed. */
  clientToClient?: boolean;
  /** -c: no RTCP allocations. */
  noRtcp?: boolean;
  /** -m: number of clients (allocations). */
  allocations: number;
  /** -n: messages per client. */
  messages: number;
  /** -z: interval between messages of one client, ms. */
  intervalMs: number;
  /** -l: message length in bytes. */
  length: number;
  /** More flags, e.g. ['-X']. */
  extraArgs?: string[];
  /** Kill after this long (default: generous, from the load). */
  timeoutMs?: number;
}

/** One once-a-second progress line: `N: : start_mclient: msz=10, tot_send_msgs=504, tot_recv_msgs=503, tot_send_bytes ~ 85680, tot_recv_bytes ~ 85510`. */
export interface UclientProgress {
  /** Seconds since uclient started (the leading "N:"). */
  t: number;
  clients: number;
  sentPackets: number;
  receivedPackets: number;
  sentBytes: number;
  receivedBytes: number;
}

export interface UclientResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** True when the final report (the "Total lost packets" line) was printed. */
  complete: boolean;
  /** tot_send_msgs / tot_recv_msgs of the final `start_mclient: tot_send_msgs=X, tot_recv_msgs=Y` line. */
  sentPackets: number;
  receivedPackets: number;
  sentBytes: number;
  receivedBytes: number;
  /** `Total lost packets L (P%), total send dropped D (Q%)` */
  lostPackets: number;
  lossPercent: number;
  sendDropped: number;
  sendDroppedPercent: number;
  /** `Total transmit time is S` (seconds, includes uclient's random 1–6 s start delay). */
  transmitTimeS: number;
  /** `Average round trip delay A ms; min = X ms, max = Y ms` */
  rttAvgMs: number;
  rttMaxMs: number;
  /** `Average jitter A ms; ...` */
  jitterAvgMs: number;
  progress: UclientProgress[];
  /** Lines mentioning "error" (e.g. "ERROR: Cannot complete Allocation", "channel bind: error 403 (Forbidden IP)"), deduplicated. */
  errors: string[];
  stdout: string;
  stderr: string;
  /** The command line, for messages. */
  command: string;
}

export function uclientArgs(o: UclientOptions): string[] {
  const args: string[] = [];
  if (o.tcp) args.push('-t');
  if (o.sendIndications) args.push('-s');
  if (o.clientToClient) args.push('-y');
  if (o.noRtcp) args.push('-c');
  args.push('-u', o.user);
  if (o.password !== undefined) args.push('-w', o.password);
  if (o.restSecret !== undefined) args.push('-W', o.restSecret);
  args.push('-p', String(o.serverPort));
  if (!o.clientToClient) {
    args.push('-e', o.peerHost ?? LOOPBACK);
    if (o.peerPort !== undefined) args.push('-r', String(o.peerPort));
  }
  args.push('-m', String(o.allocations), '-n', String(o.messages), '-z', String(o.intervalMs), '-l', String(o.length));
  args.push(...(o.extraArgs ?? []));
  args.push(o.serverHost ?? LOOPBACK);
  return args;
}

const num = (s: string | undefined): number => (s === undefined ? NaN : Number(s));

function lastMatch(re: RegExp, text: string): RegExpExecArray | undefined {
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
  let m: RegExpExecArray | null;
  let last: RegExpExecArray | undefined;
  while ((m = g.exec(text))) last = m;
  return last;
}

/**
 * Parse turnutils_uclient's output (coturn 4.6). The tail of a run looks like:
 *
 *     7: : start_mclient: msz=10, tot_send_msgs=1903, tot_recv_msgs=1902, tot_send_bytes ~ 323510, tot_recv_bytes ~ 323340
 *     7: : start_mclient: tot_send_msgs=2000, tot_recv_msgs=2000
 *     7: : start_mclient: tot_send_bytes ~ 340000, tot_recv_bytes ~ 340000
 *     7: : Total transmit time is 7
 *     7: : Total lost packets 0 (0.000000%), total send dropped 0 (0.000000%)
 *     7: : Average round trip delay 0.000000 ms; min = 0 ms, max = 0 ms
 *     7: : Average jitter 2.035000 ms; min = 0 ms, max = 7 ms
 *
 * and a failed one (wrong password), exit code 255:
 *
 *     0: : ERROR: Cannot complete Allocation
 */
export function parseUclientOutput(text: string): Omit<UclientResult, 'exitCode' | 'signal' | 'timedOut' | 'stdout' | 'stderr' | 'command'> {
  const progress: UclientProgress[] = [];
  const progRe =
    /^(\d+): : start_mclient: msz=(\d+), tot_send_msgs=(\d+), tot_recv_msgs=(\d+), tot_send_bytes ~ (\d+), tot_recv_bytes ~ (\d+)/gm;
  let m: RegExpExecArray | null;
  while ((m = progRe.exec(text))) {
    progress.push({
      t: num(m[1]),
      clients: num(m[2]),
      sentPackets: num(m[3]),
      receivedPackets: num(m[4]),
      sentBytes: num(m[5]),
      receivedBytes: num(m[6]),
    });
  }
  const msgs = lastMatch(/start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\s*$/m, text);
  const bytes = lastMatch(/start_mclient: tot_send_bytes ~ (\d+), tot_recv_bytes ~ (\d+)\s*$/m, text);
  const lost = lastMatch(/Total lost packets (\d+) \(([\d.]+)%\), total send dropped (\d+) \(([\d.]+)%\)/, text);
  const time = lastMatch(/Total transmit time is (\d+)/, text);
  const rtt = lastMatch(/Average round trip delay ([\d.]+) ms; min = ([\d.]+) ms, max = ([\d.]+) ms/, text);
  const jitter = lastMatch(/Average jitter ([\d.]+) ms/, text);
  const errors = [...new Set(text.split('\n').filter((l) => /\berror\b/i.test(l)).map((l) => l.replace(/^\d+: : /, '').trim()))];
  return {
    complete: lost !== undefined,
    sentPackets: num(msgs?.[1]),
    receivedPackets: num(msgs?.[2]),
    sentBytes: num(bytes?.[1]),
    receivedBytes: num(bytes?.[2]),
    lostPackets: num(lost?.[1]),
    lossPercent: num(lost?.[2]),
    sendDropped: num(lost?.[3]),
    sendDroppedPercent: num(lost?.[4]),
    transmitTimeS: num(time?.[1]),
    rttAvgMs: num(rtt?.[1]),
    rttMaxMs: num(rtt?.[3]),
    jitterAvgMs: num(jitter?.[1]),
    progress,
    errors,
  };
}

/** Run turnutils_uclient to completion and parse its final report. Never throws on a failed run: check exitCode. */
export async function runUclient(opts: UclientOptions): Promise<UclientResult> {
  const args = uclientArgs(opts);
  // Start delay is random up to ~6 s, then messages*interval of sending, then draining.
  const timeoutMs = opts.timeoutMs ?? 20_000 + opts.messages * opts.intervalMs * 2;
  const r = await runToCompletion('turnutils_uclient', args, { timeoutMs });
  return {
    exitCode: r.code,
    signal: r.signal,
    timedOut: r.timedOut,
    ...parseUclientOutput(r.stdout + '\n' + r.stderr),
    stdout: r.stdout,
    stderr: r.stderr,
    command: ['turnutils_uclient', ...args].join(' '),
  };
}

/** A short human summary of a uclient result, for assertion messages. */
export function describeUclient(r: UclientResult): string {
  return (
    `${r.command}\n  exit=${r.exitCode ?? r.signal}${r.timedOut ? ' (timed out)' : ''} sent=${r.sentPackets} received=${r.receivedPackets} ` +
    `lost=${r.lostPackets} (${r.lossPercent}%) sendDropped=${r.sendDropped} errors=${JSON.stringify(r.errors.slice(0, 5))}\n` +
    r.stdout.split('\n').slice(-12).join('\n')
  );
}

// ---------------------------------------------------------------------------
// turnutils_peer

/** `turnutils_peer -L 127.0.0.1 -p PORT`: a UDP echo peer. Ready when it echoes a probe. */
export function startPeer(port: number, opts: Partial<StartProcessOptions> & { host?: string } = {}): Promise<ManagedProcess> {
  const host = opts.host ?? LOOPBACK;
  return startProcess('turnutils_peer', ['-L', host, '-p', String(port)], {
    name: `turnutils_peer:${port}`,
    readyUdpPort: port,
    readyHost: host,
    timeoutMs: 10_000,
    ...opts,
  });
}

// ---------------------------------------------------------------------------
// turnserver

/** Options of a TURN server, named after coturn's long options. */
export interface TurnServerOptions {
  /** listening-port (UDP and TCP). */
  port: number;
  /** listening-ip / relay-ip (default 127.0.0.1). */
  host?: string;
  /** min-port / max-port of relayed addresses. */
  minPort: number;
  maxPort: number;
  realm?: string;
  /** user=NAME:PASS (long-term credentials). Default: none when authSecret is set, else test:test. */
  users?: Array<{ name: string; password: string }>;
  /** use-auth-secret + static-auth-secret (TURN REST API ephemeral credentials). */
  authSecret?: string;
  /** allow-loopback-peers (default true: every peer here is on loopback). */
  allowLoopbackPeers?: boolean;
  deniedPeerIps?: string[];
  allowedPeerIps?: string[];
  userQuota?: number;
  totalQuota?: number;
  maxBps?: number;
  /** TLS: cert/pkey files, and tls-listening-port. */
  cert?: string;
  pkey?: string;
  tlsPort?: number;
}

export interface CoturnOptions extends TurnServerOptions {
  /** Extra config lines (`key=value` or `flag`), appended last. */
  extraConfig?: string[];
  /** Extra command-line arguments. */
  extraArgs?: string[];
  /** Readiness bound (default 10 s). */
  timeoutMs?: number;
  cleanup?: StartProcessOptions['cleanup'];
  echo?: boolean;
}

export interface CoturnServer {
  process: ManagedProcess;
  host: string;
  port: number;
  /** The temp dir holding turnserver.conf, pid file and user db (removed by stop()). */
  dir: string;
  configPath: string;
  stop(): Promise<void>;
}

const here = fileURLToPath(new URL('.', import.meta.url));

/** Copy of /work/shared/peers/coturn/turnserver.conf, used when that file is not beside the repo. */
const EMBEDDED_BASE_CONF = `# coturn config for loopback-only lab use (@RUNDIR@/turnserver.conf)
listening-port=3478
listening-ip=127.0.0.1
relay-ip=127.0.0.1
min-port=49152
max-port=65535
lt-cred-mech
user=test:test
realm=example.org
no-tls
no-dtls
allow-loopback-peers
no-cli
no-multicast-peers
fingerprint
pidfile=@RUNDIR@/turnserver.pid
log-file=@RUNDIR@/turnserver.log
simple-log
`;

/** The base config: $COTURN_BASE_CONF, else ../shared/peers/coturn/turnserver.conf beside the repo, else an embedded copy. */
export function coturnBaseConfig(): string {
  const candidates = [process.env.COTURN_BASE_CONF, join(here, '../../../shared/peers/coturn/turnserver.conf')];
  for (const c of candidates) {
    if (c && existsSync(c)) return readFileSync(c, 'utf8');
  }
  return EMBEDDED_BASE_CONF;
}

/** Build turnserver.conf text for `opts` from the base config (keys we set are replaced, not duplicated). */
export function coturnConfig(opts: CoturnOptions, dir: string): string {
  const host = opts.host ?? LOOPBACK;
  const set: string[] = [
    `listening-port=${opts.port}`,
    `listening-ip=${host}`,
    `relay-ip=${host}`,
    `min-port=${opts.minPort}`,
    `max-port=${opts.maxPort}`,
    `realm=${opts.realm ?? 'example.org'}`,
    'lt-cred-mech',
    'fingerprint',
    'no-cli',
    'no-dtls',
    'no-multicast-peers',
    // Log to stdout so startProcess collects it; keep the SQLite user db out of /var/lib/turn.
    'log-file=stdout',
    'simple-log',
    `pidfile=${dir}/turnserver.pid`,
    `userdb=${dir}/turndb`,
  ];
  const users = opts.users ?? (opts.authSecret ? [] : [{ name: 'test', password: 'test' }]);
  for (const u of users) set.push(`user=${u.name}:${u.password}`);
  if (opts.authSecret !== undefined) set.push('use-auth-secret', `static-auth-secret=${opts.authSecret}`);
  if (opts.allowLoopbackPeers ?? true) set.push('allow-loopback-peers');
  for (const r of opts.deniedPeerIps ?? []) set.push(`denied-peer-ip=${r}`);
  for (const r of opts.allowedPeerIps ?? []) set.push(`allowed-peer-ip=${r}`);
  if (opts.userQuota !== undefined) set.push(`user-quota=${opts.userQuota}`);
  if (opts.totalQuota !== undefined) set.push(`total-quota=${opts.totalQuota}`);
  if (opts.maxBps !== undefined) set.push(`max-bps=${opts.maxBps}`);
  if (opts.cert && opts.pkey) {
    set.push(`cert=${opts.cert}`, `pkey=${opts.pkey}`);
    if (opts.tlsPort !== undefined) set.push(`tls-listening-port=${opts.tlsPort}`);
  } else {
    set.push('no-tls');
  }
  const keyOf = (line: string) => line.trim().replace(/^--/, '').split('=')[0]!.trim();
  const ours = new Set(set.map(keyOf));
  ours.add('allow-loopback-peers');
  ours.add('no-tls');
  ours.add('log-file');
  const base = coturnBaseConfig()
    .replaceAll('@CONFDIR@', dir)
    .replaceAll('@RUNDIR@', dir)
    .split('\n')
    .filter((l) => l.trim() === '' || l.trim().startsWith('#') || !ours.has(keyOf(l)));
  return [...base, '# --- generated by test/helpers/coturn.ts', ...set, ...(opts.extraConfig ?? []), ''].join('\n');
}

/**
 * Start the real coturn `turnserver` with a generated config in a fresh temp dir.
 * Ready when it answers a STUN binding request on UDP and accepts TCP on `port`.
 */
export async function startCoturn(opts: CoturnOptions): Promise<CoturnServer> {
  const host = opts.host ?? LOOPBACK;
  const dir = mkdtempSync(join(tmpdir(), 'coturn-'));
  const configPath = join(dir, 'turnserver.conf');
  writeFileSync(configPath, coturnConfig(opts, dir));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  let proc: ManagedProcess | undefined;
  try {
    proc = await startProcess('turnserver', ['-c', configPath, ...(opts.extraArgs ?? [])], {
      name: `turnserver:${opts.port}`,
      readyUdpPort: opts.port,
      timeoutMs: opts.timeoutMs ?? 10_000,
      cleanup: opts.cleanup,
      echo: opts.echo,
    });
    await waitForTcpPort(opts.port, { host, timeoutMs: opts.timeoutMs ?? 10_000 });
  } catch (e) {
    await proc?.stop();
    removeDir();
    throw e;
  }
  const started = proc;
  return {
    process: started,
    host,
    port: opts.port,
    dir,
    configPath,
    async stop() {
      await started.stop();
      removeDir();
      process.removeListener('exit', removeDir);
    },
  };
}
