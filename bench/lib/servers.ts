// Starting the two TURN servers and the echo peer, each fresh for one run, and knowing when they are ready.

import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { programPid, sleep, startChild, stopChild, type Child } from './children.js';

export type ServerKind = 'switchboard' | 'coturn';

export interface ServerSpec {
  kind: ServerKind;
  port: number;
  relayMin: number;
  relayMax: number;
  threads: number;
  /** Longest the server may live (the `timeout` wrapper's bound). */
  lifetimeSec: number;
  repoRoot: string;
  tmpDir: string;
  /** Extra command-line arguments for this server. */
  extraArgs?: string[];
}

export interface RunningServer {
  kind: ServerKind;
  child: Child;
  pid: number;
  /** Relay threads the server reports it runs (from its startup log), or null if it did not say. */
  threadsReported: number | null;
  /** Switchboard's `turn listening` log line, parsed (null for coturn). */
  startupInfo: Record<string, unknown> | null;
  command: string[];
  stop(): Promise<void>;
}

const REALM = 'example.org';
const USER = 'test:test';

export function serverCommand(spec: ServerSpec): { cmd: string; args: string[]; program: string } {
  if (spec.kind === 'switchboard') {
    return {
      cmd: process.execPath,
      program: 'node',
      args: [
        path.join(spec.repoRoot, 'bin', 'switchboard.js'),
        'turn',
        '--listening-ip', '127.0.0.1',
        '--listening-port', String(spec.port),
        '--realm', REALM,
        '--user', USER,
        '--allow-loopback-peers',
        '--min-port', String(spec.relayMin),
        '--max-port', String(spec.relayMax),
        '--relay-threads', String(spec.threads),
        ...(spec.extraArgs ?? []),
      ],
    };
  }
  mkdirSync(spec.tmpDir, { recursive: true });
  return {
    cmd: 'turnserver',
    program: 'turnserver',
    args: [
      '-n', // no config file lookup: everything is on the command line
      '--listening-ip', '127.0.0.1',
      '--listening-port', String(spec.port),
      '--relay-ip', '127.0.0.1',
      '--realm', REALM,
      '--user', USER,
      '--lt-cred-mech',
      '--allow-loopback-peers',
      '--min-port', String(spec.relayMin),
      '--max-port', String(spec.relayMax),
      '--relay-threads', String(spec.threads),
      '--no-cli',
      '--no-tls',
      '--no-dtls',
      '--no-multicast-peers',
      '--pidfile', path.join(spec.tmpDir, `turnserver-${spec.port}.pid`),
      '--log-file', 'stdout',
      '--simple-log',
      ...(spec.extraArgs ?? []),
    ],
  };
}

/** The most telling line of a failed process's output: the last one naming an error, else the last one. */
export function errorLine(tail: string[]): string {
  const lines = tail.map((l) => l.trim()).filter(Boolean);
  const err = [...lines].reverse().find((l) => /error|cannot|can't|fail|refus|denied|not found/i.test(l) && !/^at /.test(l));
  return (err ?? lines[lines.length - 1] ?? '(no output)').slice(0, 300);
}

export async function startServer(spec: ServerSpec): Promise<RunningServer> {
  const { cmd, args, program } = serverCommand(spec);
  // The built Switchboard runs without the `source` condition: it must not inherit tsx or
  // --conditions from this process's NODE_OPTIONS.
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = startChild(spec.kind, cmd, args, { timeoutSec: spec.lifetimeSec, cwd: spec.repoRoot, env });
  let threadsReported: number | null = null;
  let startupInfo: Record<string, unknown> | null = null;
  let listening = false;
  child.onLine((l) => {
    if (spec.kind === 'switchboard' && l.text.includes('"msg":"turn listening"')) {
      listening = true;
      try {
        const j = JSON.parse(l.text) as { threads?: number };
        startupInfo = j;
        if (typeof j.threads === 'number') threadsReported = j.threads;
      } catch {
        // not JSON after all
      }
    }
    if (spec.kind === 'coturn') {
      const m = /Total General servers: (\d+)/.exec(l.text);
      if (m) {
        threadsReported = Number(m[1]);
        listening = true;
      }
    }
  });
  try {
    const pid = await programPid(child, program);
    const until = performance.now() + 20_000;
    while (!listening) {
      if (!child.isRunning()) throw new Error(`${spec.kind} exited while starting: ${errorLine(child.tail)}`);
      if (performance.now() > until) throw new Error(`${spec.kind} did not report it was listening within 20 s: ${errorLine(child.tail)}`);
      await sleep(20);
    }
    await stunReady(spec.port, 10_000);
    await tcpReady(spec.port, 10_000);
    return {
      kind: spec.kind,
      child,
      pid,
      threadsReported,
      startupInfo,
      command: [cmd, ...args],
      stop: () => stopChild(child),
    };
  } catch (err) {
    await stopChild(child);
    throw err;
  }
}

/** Waits until a STUN Binding request to 127.0.0.1:port gets a success response. */
export async function stunReady(port: number, waitMs: number): Promise<void> {
  const sock = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      const txid = randomBytes(12);
      const req = Buffer.alloc(20);
      req.writeUInt16BE(0x0001, 0);
      req.writeUInt16BE(0, 2);
      req.writeUInt32BE(0x2112a442, 4);
      txid.copy(req, 8);
      const timer = setInterval(() => sock.send(req, port, '127.0.0.1'), 100);
      const deadline = setTimeout(() => {
        clearInterval(timer);
        reject(new Error(`no STUN Binding response from 127.0.0.1:${port} within ${waitMs} ms`));
      }, waitMs);
      sock.on('message', (msg) => {
        if (msg.length >= 20 && msg.readUInt16BE(0) === 0x0101 && msg.subarray(8, 20).equals(txid)) {
          clearInterval(timer);
          clearTimeout(deadline);
          resolve();
        }
      });
      sock.on('error', () => {});
      sock.send(req, port, '127.0.0.1');
    });
  } finally {
    sock.close();
  }
}

/** Waits until a TCP connection to 127.0.0.1:port is accepted. */
export async function tcpReady(port: number, waitMs: number): Promise<void> {
  const until = performance.now() + waitMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (performance.now() > until) throw new Error(`no TCP listener on 127.0.0.1:${port} within ${waitMs} ms`);
    await sleep(50);
  }
}

export interface RunningPeer {
  child: Child;
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/** `turnutils_peer -L 127.0.0.1 -p port`, the UDP echo peer; ready when it echoes. */
export async function startPeer(port: number, lifetimeSec: number): Promise<RunningPeer> {
  const child = startChild('peer', 'turnutils_peer', ['-L', '127.0.0.1', '-p', String(port)], { timeoutSec: lifetimeSec });
  try {
    const pid = await programPid(child, 'turnutils_peer');
    await echoReady(port, 10_000);
    return { child, pid, port, stop: () => stopChild(child) };
  } catch (err) {
    await stopChild(child);
    throw err;
  }
}

async function echoReady(port: number, waitMs: number): Promise<void> {
  const sock = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      const probe = Buffer.from('switchboard-bench-probe');
      const timer = setInterval(() => sock.send(probe, port, '127.0.0.1'), 100);
      const deadline = setTimeout(() => {
        clearInterval(timer);
        reject(new Error(`turnutils_peer on 127.0.0.1:${port} did not echo within ${waitMs} ms`));
      }, waitMs);
      sock.on('message', (msg) => {
        if (msg.equals(probe)) {
          clearInterval(timer);
          clearTimeout(deadline);
          resolve();
        }
      });
      sock.on('error', () => {});
      sock.send(probe, port, '127.0.0.1');
    });
  } finally {
    sock.close();
  }
}
