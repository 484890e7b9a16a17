// Child processes of the benchmark: every one runs under `timeout` (so it dies by itself even if
// this process is SIGKILLed), in its own process group (so one kill reaches all it started), and
// is remembered here so that exit, errors and signals kill whatever is still running.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import net from 'node:net';
import readline from 'node:readline';

export interface Line {
  /** performance.now() when the line arrived. */
  t: number;
  stream: 'out' | 'err';
  text: string;
}

export interface Child {
  name: string;
  /** The `timeout` wrapper's pid, which is also the process group id. */
  pgid: number;
  proc: ChildProcess;
  /** Last lines of output (both streams), for diagnostics. */
  tail: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  onLine(cb: (line: Line) => void): void;
}

const live = new Set<Child>();
const TAIL = 60;

/**
 * Starts `cmd args` under `timeout -k 3 timeoutSec`, in a new process group, stdout/stderr piped
 * and split into lines.
 */
export function startChild(name: string, cmd: string, args: string[], opts: { timeoutSec: number; cwd?: string; env?: NodeJS.ProcessEnv }): Child {
  const proc = spawn('timeout', ['-k', '3', String(Math.ceil(opts.timeoutSec)), cmd, ...args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`could not start ${name} (${cmd})`);
  const listeners: Array<(l: Line) => void> = [];
  const tail: string[] = [];
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => {
      running = false;
      live.delete(child);
      resolve({ code, signal });
    });
    proc.once('error', () => {
      running = false;
      live.delete(child);
      resolve({ code: -1, signal: null });
    });
  });
  const wire = (stream: NodeJS.ReadableStream, which: 'out' | 'err') => {
    const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
    rl.on('line', (text) => {
      const line: Line = { t: performance.now(), stream: which, text };
      tail.push(text);
      if (tail.length > TAIL) tail.shift();
      for (const l of listeners) l(line);
    });
  };
  wire(proc.stdout!, 'out');
  wire(proc.stderr!, 'err');
  const child: Child = {
    name,
    pgid: proc.pid,
    proc,
    tail,
    exited,
    isRunning: () => running,
    onLine: (cb) => void listeners.push(cb),
  };
  live.add(child);
  return child;
}

/** The pid of the real program (the child of the `timeout` wrapper), once it has been exec'd. */
export async function programPid(child: Child, program: string, waitMs = 5000): Promise<number> {
  const until = performance.now() + waitMs;
  while (performance.now() < until) {
    if (!child.isRunning()) break;
    try {
      const kids = readFileSync(`/proc/${child.pgid}/task/${child.pgid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      for (const k of kids) {
        const comm = readFileSync(`/proc/${k}/comm`, 'utf8').trim();
        if (comm !== 'timeout' && (program === '' || comm.startsWith(program.slice(0, 15)))) return Number(k);
      }
    } catch {
      // not there yet
    }
    await sleep(20);
  }
  throw new Error(`${child.name}: could not find the ${program} process (${child.tail.slice(-5).join(' | ')})`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function signalGroup(child: Child, sig: NodeJS.Signals): void {
  try {
    process.kill(-child.pgid, sig);
  } catch {
    // already gone
  }
}

/** SIGTERM to the group, then SIGKILL if it is still there after graceMs. */
export async function stopChild(child: Child, graceMs = 2000): Promise<void> {
  if (!child.isRunning()) {
    signalGroup(child, 'SIGKILL'); // stragglers of an exited wrapper
    return;
  }
  signalGroup(child, 'SIGTERM');
  const done = await Promise.race([child.exited.then(() => true), sleep(graceMs).then(() => false)]);
  signalGroup(child, 'SIGKILL');
  if (!done) await Promise.race([child.exited, sleep(1000)]);
}

/** Synchronous last resort: SIGKILL every group still alive. */
export function killAllNow(): void {
  for (const c of live) signalGroup(c, 'SIGKILL');
  live.clear();
}

export function liveChildren(): string[] {
  return [...live].map((c) => `${c.name}(${c.pgid})`);
}

let installed = false;
/** Kills every child on exit, on an uncaught error and on SIGINT/SIGTERM/SIGHUP. */
export function installCleanup(onSignal?: (sig: string) => void): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      onSignal?.(sig);
      killAllNow();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
  process.on('uncaughtException', (err) => {
    console.error(err);
    killAllNow();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    console.error(err);
    killAllNow();
    process.exit(1);
  });
}

/** A free TCP port on 127.0.0.1 (bound and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Waits until host:port accepts TCP connections; fails at once if the child exits. */
export async function waitTcp(port: number, host: string, ms: number, child: Child): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    if (!child.isRunning()) throw new Error(`${child.name} exited: ${child.tail.slice(-8).join(' | ')}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${child.name}: port ${port} not open after ${ms} ms (${child.tail.slice(-8).join(' | ')})`);
}
