/**
 * Child processes, ports and readiness probes for interop tests.
 *
 * Everything here targets 127.0.0.1 only, and every wait is bounded.
 * Processes started with startProcess() are always cleaned up: explicitly with
 * stop(), through the optional `cleanup` registrar (e.g. `t.after`), by a root
 * `after()` hook registered when this module is imported (end of the test file),
 * by SIGKILL when the test process exits, and, when even that cannot run (the test
 * process was killed), by the kernel: children get SIGKILL when their parent dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { accessSync, constants as fsConstants } from 'node:fs';
import { after } from 'node:test';

export const LOOPBACK = '127.0.0.1';

/** Keep at most this many characters of a process's output (the tail). */
const MAX_OUTPUT_CHARS = 4 * 1024 * 1024;

const verbose = process.env.TEST_VERBOSE === '1';

/**
 * Spawn arguments that make the kernel SIGKILL the child when this process dies, even
 * by SIGKILL (util-linux `setpriv --pdeathsig KILL`, which then execs the command, so
 * the pid is the command's). Without setpriv, the command is spawned as is.
 */
let setprivPath: string | undefined | null = null;
export function withParentDeathSignal(cmd: string, args: readonly string[]): [string, string[]] {
  if (setprivPath === null) setprivPath = process.platform === 'linux' ? which('setpriv') : undefined;
  return setprivPath ? [setprivPath, ['--pdeathsig', 'KILL', '--', cmd, ...args]] : [cmd, [...args]];
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartProcessOptions {
  /** Resolve once the combined stdout/stderr matches this. */
  readyPattern?: RegExp;
  /** Resolve once 127.0.0.1:port answers a STUN binding request over UDP (any reply). */
  readyUdpPort?: number;
  /** Address the readiness probes target (default 127.0.0.1). */
  readyHost?: string;
  /** Resolve once 127.0.0.1:port accepts a TCP connection. */
  readyTcpPort?: number;
  /** Bound for reaching readiness (default 10 s). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Name used in messages (default: the command's base name). */
  name?: string;
  /** Registers the stop function, e.g. `t.after` or a suite's `after`. */
  cleanup?: (fn: () => Promise<void>) => void;
  /** Copy the output to this process's stderr as it arrives (also on with TEST_VERBOSE=1). */
  echo?: boolean;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number | undefined;
  readonly child: ChildProcess;
  /** Settles when the process has exited. */
  readonly exited: Promise<ExitInfo>;
  /** stdout and stderr interleaved as received. */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** The last `lines` lines of output(), for error messages. */
  tail(lines?: number): string;
  isRunning(): boolean;
  /** Wait until the output matches `pattern` (searching everything received so far first). */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGTERM, then SIGKILL after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<ExitInfo>;
}

const running = new Set<ManagedProcess>();

/** Stop every process started by startProcess() that is still running. */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop().catch(() => undefined)));
}

// Root-level hook: runs when all tests of the importing file are done.
try {
  after(stopAllProcesses);
} catch {
  // Not under node:test; the exit handler below still applies.
}
process.once('exit', () => {
  for (const p of running) {
    try {
      p.child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

class Output {
  private parts = '';
  append(s: string): void {
    this.parts += s;
    if (this.parts.length > MAX_OUTPUT_CHARS) this.parts = this.parts.slice(-MAX_OUTPUT_CHARS / 2);
  }
  toString(): string {
    return this.parts;
  }
}

function lastLines(s: string, n: number): string {
  const lines = s.split('\n');
  return lines.slice(Math.max(0, lines.length - n - 1)).join('\n');
}

/**
 * Spawn `cmd args`, collect its output, and resolve once it is ready:
 * when `readyPattern` appears, and/or the UDP/TCP port answers. With none of
 * these it resolves as soon as the process has spawned. Rejects (after killing
 * it) if it exits first or is not ready within `timeoutMs`.
 */
export async function startProcess(cmd: string, args: readonly string[], opts: StartProcessOptions = {}): Promise<ManagedProcess> {
  const name = opts.name ?? cmd.split('/').pop() ?? cmd;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const echo = opts.echo ?? verbose;
  const [file, argv] = withParentDeathSignal(cmd, args);
  const child = spawn(file, argv, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const all = new Output();
  const out = new Output();
  const err = new Output();
  const watchers = new Set<() => void>();
  let exitInfo: ExitInfo | undefined;

  const onData = (target: Output) => (chunk: Buffer) => {
    const s = chunk.toString('utf8');
    target.append(s);
    all.append(s);
    if (echo) process.stderr.write(s.replace(/^(?=.)/gm, `[${name}] `));
    for (const w of watchers) w();
  };
  child.stdout!.on('data', onData(out));
  child.stderr!.on('data', onData(err));

  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('error', (e) => {
      all.append(`\n[spawn error] ${e.message}\n`);
      exitInfo ??= { code: null, signal: null };
      resolve(exitInfo);
      for (const w of watchers) w();
    });
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
      for (const w of watchers) w();
    });
  });

  let stopping: Promise<ExitInfo> | undefined;
  const proc: ManagedProcess = {
    name,
    pid: child.pid,
    child,
    exited,
    output: () => all.toString(),
    stdout: () => out.toString(),
    stderr: () => err.toString(),
    tail: (lines = 30) => lastLines(all.toString(), lines),
    isRunning: () => exitInfo === undefined,
    waitForOutput(pattern, waitMs = timeoutMs) {
      return new Promise<RegExpMatchArray>((resolve, reject) => {
        const check = () => {
          const m = all.toString().match(pattern);
          if (m) {
            done();
            resolve(m);
          } else if (exitInfo !== undefined) {
            done();
            reject(new Error(`${name} exited (${describeExit(exitInfo)}) before printing ${pattern}\n${proc.tail()}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name}: ${pattern} not seen within ${waitMs} ms\n${proc.tail()}`));
        }, waitMs);
        const done = () => {
          clearTimeout(timer);
          watchers.delete(check);
        };
        watchers.add(check);
        check();
      });
    },
    stop(graceMs = 3000) {
      if (stopping) return stopping;
      stopping = (async () => {
        if (exitInfo === undefined && child.pid !== undefined) {
          child.kill('SIGTERM');
          const killTimer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(killTimer);
        }
        running.delete(proc);
        return exitInfo ?? { code: null, signal: null };
      })();
      return stopping;
    },
  };
  running.add(proc);
  opts.cleanup?.(async () => {
    await proc.stop();
  });

  try {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    const deadline = Date.now() + timeoutMs;
    const remaining = () => Math.max(1, deadline - Date.now());
    const exitedEarly = exited.then((e) => {
      throw new Error(`${name} exited (${describeExit(e)}) before it was ready\n${proc.tail()}`);
    });
    exitedEarly.catch(() => undefined);
    if (opts.readyPattern) await proc.waitForOutput(opts.readyPattern, remaining());
    if (opts.readyUdpPort !== undefined) {
      await Promise.race([waitForUdpStun(opts.readyUdpPort, { host: opts.readyHost, timeoutMs: remaining() }), exitedEarly]);
    }
    if (opts.readyTcpPort !== undefined) {
      await Promise.race([waitForTcpPort(opts.readyTcpPort, { timeoutMs: remaining() }), exitedEarly]);
    }
  } catch (e) {
    await proc.stop();
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(`could not start ${name} (${cmd} ${args.join(' ')}): ${msg}${msg.includes(proc.tail()) ? '' : '\n' + proc.tail()}`);
  }
  return proc;
}

export function describeExit(e: ExitInfo): string {
  return e.signal ? `signal ${e.signal}` : `code ${e.code}`;
}

export interface RunResult extends ExitInfo {
  stdout: string;
  stderr: string;
  /** True if the process was killed because it outlived timeoutMs. */
  timedOut: boolean;
}

/** Run a command to completion (killed after `timeoutMs`, default 60 s) and collect its output. */
export async function runToCompletion(
  cmd: string,
  args: readonly string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<RunResult> {
  const [file, argv] = withParentDeathSignal(cmd, args);
  const child = spawn(file, argv, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = new Output();
  const err = new Output();
  child.stdout.on('data', (c: Buffer) => out.append(c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => err.append(c.toString('utf8')));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 2000).unref();
  }, opts.timeoutMs ?? 60_000);
  const result = await new Promise<ExitInfo>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  }).finally(() => clearTimeout(timer));
  return { ...result, stdout: out.toString(), stderr: err.toString(), timedOut };
}

/** A STUN Binding request (RFC 5389) with a random transaction id. */
export function stunBindingRequest(): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16BE(0x0001, 0);
  b.writeUInt16BE(0, 2);
  b.writeUInt32BE(0x2112a442, 4);
  randomBytes(12).copy(b, 8);
  return b;
}

/**
 * Send STUN binding requests to host:port over UDP every `intervalMs` until any
 * datagram comes back (a STUN server answers, an echo peer echoes). Resolves with
 * the reply; rejects after `timeoutMs` (default 10 s).
 */
export function waitForUdpStun(
  port: number,
  opts: { host?: string; timeoutMs?: number; intervalMs?: number } = {},
): Promise<Buffer> {
  const host = opts.host ?? LOOPBACK;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 100;
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    let settled = false;
    const finish = (err: Error | null, msg?: Buffer) => {
      if (settled) return;
      settled = true;
      clearInterval(ticker);
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(msg!);
    };
    const send = () => {
      if (!settled) sock.send(stunBindingRequest(), port, host, () => undefined);
    };
    sock.on('message', (msg) => finish(null, msg));
    // ICMP port unreachable surfaces as an error on some systems: keep trying.
    sock.on('error', () => undefined);
    const ticker = setInterval(send, intervalMs);
    const timer = setTimeout(() => finish(new Error(`no UDP reply from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    sock.bind(0, host, send);
  });
}

/** Retry TCP connects to host:port until one succeeds (bounded by `timeoutMs`, default 10 s). */
export async function waitForTcpPort(port: number, opts: { host?: string; timeoutMs?: number } = {}): Promise<void> {
  const host = opts.host ?? LOOPBACK;
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      await new Promise<void>((resolve, reject) => {
        const s = net.connect({ host, port });
        s.setTimeout(1000, () => s.destroy(new Error('connect timeout')));
        s.once('connect', () => {
          s.destroy();
          resolve();
        });
        s.once('error', reject);
      });
      return;
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
      await sleep(100);
    }
  }
  throw new Error(`TCP ${host}:${port} not reachable within ${opts.timeoutMs ?? 10_000} ms (${lastError})`);
}

function canBindUdp(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, host, () => s.close(() => resolve(true)));
  });
}

function canBindTcp(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** Ports handed out by this process, so two calls never return overlapping ranges. */
const handedOut: Array<[number, number]> = [];

/**
 * Find `count` consecutive ports that are free for both UDP and TCP on 127.0.0.1 and
 * return the first. Chosen at random in 20000–32000, below Linux's ephemeral range
 * (32768–60999) so that clients' source ports do not collide with them.
 */
export async function freePortRange(count = 1, opts: { host?: string; low?: number; high?: number } = {}): Promise<number> {
  const host = opts.host ?? LOOPBACK;
  const low = opts.low ?? 20_000;
  const high = opts.high ?? 32_000;
  if (count < 1 || count > high - low) throw new Error(`freePortRange: bad count ${count}`);
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = low + Math.floor(Math.random() * (high - low - count));
    if (handedOut.some(([a, b]) => base < b && a < base + count)) continue;
    let ok = true;
    for (let p = base; p < base + count && ok; p++) {
      ok = (await canBindUdp(p, host)) && (await canBindTcp(p, host));
    }
    if (ok) {
      handedOut.push([base, base + count]);
      return base;
    }
  }
  throw new Error(`freePortRange: no ${count} free consecutive ports found`);
}

/** One free UDP+TCP port on 127.0.0.1. */
export const freePort = (): Promise<number> => freePortRange(1);

/** Path of `cmd` if it is an executable on PATH (or an absolute path that exists), else undefined. */
export function which(cmd: string): string | undefined {
  const candidates = cmd.includes('/') ? [cmd] : (process.env.PATH ?? '/usr/bin:/bin').split(':').map((d) => `${d}/${cmd}`);
  for (const c of candidates) {
    try {
      accessSync(c, fsConstants.X_OK);
      return c;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

