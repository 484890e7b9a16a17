// Plain-text tables for the terminal.

import os from 'node:os';
import type { ServerKind } from './servers.js';
import type { Mode, UclientResult } from './uclient.js';

export interface RunRecord {
  /** Order in the session (0-based). */
  seq: number;
  phase: 'search' | 'refine' | 'secondary';
  mode: Mode;
  server: ServerKind;
  offered: number;
  serverThreads: number | null;
  serverPid: number;
  /** The server's command line, and Switchboard's startup log line. */
  command?: string[];
  startupInfo?: Record<string, unknown> | null;
  startedAt: string;
  /** Milliseconds: starting server and peer, the client run, stopping them. */
  timing?: { start: number; client: number; stop: number };
  error?: string;
  result?: UclientResult;
}

export const fmtInt = (n: number | null | undefined): string =>
  n === null || n === undefined || !Number.isFinite(n) ? '-' : Math.round(n).toLocaleString('en-US');

export const fmtPct = (n: number | null | undefined, digits = 1): string =>
  n === null || n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits);

function fmtLoss(r: UclientResult): string {
  if (r.lossless) return '0';
  const parts: string[] = [];
  if (r.lost !== null) parts.push(`${r.lost.toLocaleString('en-US')} (${fmtLossPct(r.lossPct)}%)`);
  else parts.push(`~${fmtLossPct(r.lossPct)}%`);
  if (r.sendDropped) parts.push(`+${r.sendDropped} send-dropped`);
  if (r.stoppedEarly) parts.push('(last rate line)');
  if (r.timedOut) parts.push('TIMEOUT');
  else if (!r.stoppedEarly && r.exitCode !== 0) parts.push(`exit ${r.exitCode}`);
  return parts.join(' ');
}

function fmtLossPct(p: number): string {
  if (p === 0) return '0';
  if (p < 0.01) return p.toFixed(4);
  if (p < 1) return p.toFixed(3);
  return p.toFixed(1);
}

export function table(headers: string[], rows: string[][], alignLeft: Set<number> = new Set()): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (alignLeft.has(i) ? (c ?? '').padEnd(widths[i]) : (c ?? '').padStart(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Other work on the machine above this (100 = one core) makes a run suspect. */
export const BUSY_OTHER_PCT = 25;

export const RUN_HEADERS = [
  'offered/s',
  'm x z',
  'server',
  'thr',
  'sent/s',
  'delivered/s',
  'peak/s',
  'lost',
  'srv CPU%',
  'us/msg',
  'threads CPU%',
  'peer%',
  'client%',
  'other%',
  'drops L/R/P/C',
  'rcvbuf/sndbuf err',
];

export function runRow(rec: RunRecord): string[] {
  const r = rec.result;
  if (!r) {
    const row = RUN_HEADERS.map(() => '');
    row[0] = fmtInt(rec.offered);
    row[2] = rec.server;
    row[3] = fmtInt(rec.serverThreads);
    row[7] = `ERROR: ${rec.error ?? '?'}`.slice(0, 70);
    return row;
  }
  const s = r.steady;
  const d = r.socketDrops;
  const threads = s
    ? s.serverThreads
        .slice(0, 3)
        .map((t) => `${Math.round(t.cpuPct)}${t.main ? 'm' : ''}`)
        .join('/')
    : '-';
  return [
    fmtInt(r.offered),
    `${r.load.allocations}x${r.load.intervalMs}`,
    rec.server,
    fmtInt(rec.serverThreads),
    s ? fmtInt(s.sendRate) + (s.clientLimited ? '*' : '') : '-',
    s ? fmtInt(s.recvRate) : '-',
    s ? fmtInt(s.peakRecvRate) : '-',
    fmtLoss(r),
    s ? fmtPct(s.serverCpuPct, 0) : '-',
    s ? fmtPct(s.serverUsPerMsg, 1) : '-',
    threads,
    s ? fmtPct(s.peerCpuPct, 0) : '-',
    s ? fmtPct(s.clientCpuPct, 0) : '-',
    s ? fmtPct(s.otherCpuPct, 0) + (s.otherCpuPct > BUSY_OTHER_PCT ? '!' : '') : '-',
    `${d.listener}/${d.relay}/${d.peer}/${d.client}`,
    `${r.udpSnmp.RcvbufErrors ?? '-'}/${r.udpSnmp.SndbufErrors ?? '-'}`,
  ];
}

export const RUN_LEGEND = [
  'offered/s = allocations x 1000 / interval; every message crosses the server twice (client->peer and back).',
  'sent/s, delivered/s: from uclient\'s once-a-second lines over the steady window (all allocations sending); peak/s: best second.',
  '  * = the client never reached 90% of the offered rate (client-limited).',
  'lost: uclient\'s final "Total lost packets" (and send dropped); 0 = no loss. "(last rate line)": a lossy client was stopped 3 s',
  '  after its last message instead of waiting 10 s for lost ones; the loss is sent - received from its last once-a-second line.',
  'srv CPU%: server process (all threads, utime+stime of /proc/PID/stat) over the steady window, 100 = one core;',
  '  us/msg: server CPU time per delivered message (two relays each); threads CPU%: busiest server threads (m = main thread).',
  'peer%, client%: turnutils_peer and turnutils_uclient CPU; other%: every other process on the machine (this script, other users),',
  '  from /proc/[pid]/stat; the machine has ' + os.cpus().length + ' cores (' + os.cpus().length * 100 + '%); "!" = above ' + BUSY_OTHER_PCT + '%: the run competed with other work.',
  'drops L/R/P/C: kernel receive drops per UDP socket (/proc/net/udp) at the server listener(s), relay sockets, peer, clients.',
  'rcvbuf/sndbuf err: Udp RcvbufErrors/SndbufErrors of this network namespace over the run (/proc/net/snmp).',
];
