// One `turnutils_uclient` run against a running server and peer, with a sample of the server's
// CPU (process and threads), the peer's and the client's, the machine's and the UDP sockets'
// drops at each of the client's once-a-second rate lines.

import { performance } from 'node:perf_hooks';
import { programPid, stopChild, startChild } from './children.js';
import { allProcessTicks, dropTracker, processTicks, processUserSys, snmpDelta, threadTicks, ticksBetween, ticksPerSecond, udpSnmp, type SocketRole, type UdpSnmp } from './procfs.js';

export type Mode = 'channel' | 'send' | 'tcp';

export const MODE_LABEL: Record<Mode, string> = {
  channel: 'UDP ChannelData',
  send: 'UDP Send indication',
  tcp: 'TCP ChannelData',
};

export interface Load {
  mode: Mode;
  /** Allocations (-m). */
  allocations: number;
  /** Per-allocation interval in ms (-z). */
  intervalMs: number;
  /** Messages per allocation (-n). */
  messages: number;
  /** Message length (-l). */
  length: number;
}

export const offeredRate = (l: Load): number => (l.allocations * 1000) / l.intervalMs;

export function uclientArgs(load: Load, serverPort: number, peerPort: number): string[] {
  const args = ['-u', 'test', '-w', 'test', '-e', '127.0.0.1', '-r', String(peerPort), '-p', String(serverPort)];
  args.push('-m', String(load.allocations), '-n', String(load.messages), '-z', String(load.intervalMs), '-l', String(load.length), '-c');
  if (load.mode === 'send') args.push('-s');
  if (load.mode === 'tcp') args.push('-t');
  args.push('127.0.0.1');
  return args;
}

interface Sample {
  t: number;
  send: number;
  recv: number;
  server: number;
  serverUser: number;
  serverSys: number;
  serverThreads: Map<number, { comm: string; ticks: number }>;
  peer: number;
  client: number;
  machine: Map<number, number>;
}

export interface Interval {
  /** Seconds. */
  dt: number;
  sendRate: number;
  recvRate: number;
  serverCpuPct: number;
  peerCpuPct: number;
  clientCpuPct: number;
  /** Every process on the machine, 100 = one core. */
  machineCpuPct: number;
}

export interface ThreadUse {
  tid: number;
  comm: string;
  main: boolean;
  cpuPct: number;
}

export interface Steady {
  /** How many once-a-second intervals counted as steady (all allocations sending). */
  intervals: number;
  seconds: number;
  sendRate: number;
  recvRate: number;
  /** Highest delivered rate in any one interval. */
  peakRecvRate: number;
  serverCpuPct: number;
  /** The user-space and kernel parts of serverCpuPct (utime and stime). */
  serverUserPct: number;
  serverSysPct: number;
  /** Server CPU time per delivered message (µs); each message is relayed twice. */
  serverUsPerMsg: number;
  peerCpuPct: number;
  clientCpuPct: number;
  /** CPU of every process on the machine (this benchmark's and anyone else's), 100 = one core. */
  machineCpuPct: number;
  /** machineCpuPct less the server, peer and client: this benchmark's own process and other work on the machine. */
  otherCpuPct: number;
  /** Server threads above 1% over the steady window, busiest first. */
  serverThreads: ThreadUse[];
  /** True when the client never sent at >= 90% of the offered rate (the client, not the server, limits). */
  clientLimited: boolean;
}

export interface UclientResult {
  load: Load;
  offered: number;
  args: string[];
  exitCode: number | null;
  timedOut: boolean;
  /** The client was stopped after sending everything while it waited for lost messages. */
  stoppedEarly: boolean;
  /** The client's last once-a-second line, and how long after the first line showing every message sent. */
  lastRateLine: { send: number; recv: number; secondsAfterAllSent: number | null } | null;
  /** From the final lines (null when the client did not print them). */
  totSend: number | null;
  totRecv: number | null;
  lost: number | null;
  lostPct: number | null;
  sendDropped: number | null;
  sendDroppedPct: number | null;
  rttAvgMs: number | null;
  rttMaxMs: number | null;
  /** Loss as a fraction of sent, counting send-dropped ones too; from the last rate line if no final lines. */
  lossPct: number;
  lossless: boolean;
  steady: Steady | null;
  intervals: Interval[];
  /** Server CPU over the whole client run (connect, ramp and tail included), 100% = one core. */
  serverCpuRunPct: number;
  wallSec: number;
  udpSnmp: UdpSnmp;
  socketDrops: Record<SocketRole, number>;
  sockets: Record<SocketRole, number>;
  tail: string[];
}

const STATS = /start_mclient: msz=(\d+), tot_send_msgs=(\d+), tot_recv_msgs=(\d+)/;
const FINAL = /start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)/;
const LOSS = /Total lost packets (\d+) \(([-\d.naif]+)%\), total send dropped (\d+) \(([-\d.naif]+)%\)/;
const RTT = /Average round trip delay ([\d.]+) ms; min = (\d+) ms, max = (\d+) ms/;

export async function runUclient(opts: {
  load: Load;
  serverPort: number;
  serverPid: number;
  peerPort: number;
  peerPid: number;
  relayMin: number;
  relayMax: number;
  timeoutSec: number;
  /**
   * Once every message is sent and nothing more arrives for this many seconds, stop the client
   * instead of letting it wait its 10 s for lost messages (loss then comes from its last rate line).
   * 0 = let it finish and print its final lines.
   */
  earlyStopSec: number;
}): Promise<UclientResult> {
  const { load } = opts;
  const offered = offeredRate(load);
  const args = uclientArgs(load, opts.serverPort, opts.peerPort);
  const hz = ticksPerSecond();
  const drops = dropTracker({ listener: opts.serverPort, relayMin: opts.relayMin, relayMax: opts.relayMax, peer: opts.peerPort });
  const snmp0 = udpSnmp();
  const t0 = performance.now();
  const server0 = processTicks(opts.serverPid);
  const child = startChild('uclient', 'turnutils_uclient', args, { timeoutSec: opts.timeoutSec });
  let clientPid = 0;
  programPid(child, 'turnutils_uclient').then(
    (p) => (clientPid = p),
    () => {},
  );
  const samples: Sample[] = [];
  let totSend: number | null = null;
  let totRecv: number | null = null;
  let lost: number | null = null;
  let lostPct: number | null = null;
  let sendDropped: number | null = null;
  let sendDroppedPct: number | null = null;
  let rttAvgMs: number | null = null;
  let rttMaxMs: number | null = null;
  let lastStats: { send: number; recv: number } | null = null;
  const expected = load.allocations * load.messages;
  let allSentAt = 0;
  let lastRecvChangeAt = 0;
  let lastLineAt = 0;
  let stoppedEarly = false;
  const takeSample = (send: number, recv: number) => {
    const threads = new Map<number, { comm: string; ticks: number }>();
    for (const th of threadTicks(opts.serverPid)) threads.set(th.tid, { comm: th.comm, ticks: th.ticks });
    const [serverUser, serverSys] = processUserSys(opts.serverPid);
    samples.push({
      t: performance.now(),
      send,
      recv,
      server: serverUser + serverSys,
      serverUser,
      serverSys,
      serverThreads: threads,
      peer: processTicks(opts.peerPid),
      client: clientPid ? processTicks(clientPid) : NaN,
      machine: allProcessTicks(),
    });
    drops.sample();
  };
  child.onLine((l) => {
    let m = STATS.exec(l.text);
    if (m) {
      const prev = lastStats as { send: number; recv: number } | null;
      lastStats = { send: Number(m[2]), recv: Number(m[3]) };
      takeSample(lastStats.send, lastStats.recv);
      if (!prev || prev.recv !== lastStats.recv) lastRecvChangeAt = l.t;
      lastLineAt = l.t;
      if (lastStats.send >= expected && !allSentAt) allSentAt = l.t;
      if (opts.earlyStopSec > 0 && allSentAt) {
        const quiet = Math.min(l.t - allSentAt, l.t - lastRecvChangeAt) / 1000;
        if (!stoppedEarly && quiet >= opts.earlyStopSec) {
          stoppedEarly = true;
          void stopChild(child, 1000);
        }
      }
      return;
    }
    m = FINAL.exec(l.text);
    if (m) {
      totSend = Number(m[1]);
      totRecv = Number(m[2]);
      drops.sample();
      return;
    }
    m = LOSS.exec(l.text);
    if (m) {
      lost = Number(m[1]);
      lostPct = Number(m[2]);
      sendDropped = Number(m[3]);
      sendDroppedPct = Number(m[4]);
      return;
    }
    m = RTT.exec(l.text);
    if (m) {
      rttAvgMs = Number(m[1]);
      rttMaxMs = Number(m[3]);
    }
  });
  const exit = await child.exited;
  await stopChild(child); // the wrapper is gone; make sure nothing of it is left
  const wallSec = (performance.now() - t0) / 1000;
  const server1 = processTicks(opts.serverPid);
  drops.sample();
  const snmp = snmpDelta(snmp0, udpSnmp());
  const timedOut = !stoppedEarly && (exit.code === 124 || exit.code === 137);

  // Loss: uclient's own final figures; without them, the last once-a-second line.
  let lossPct: number;
  const ls = lastStats as { send: number; recv: number } | null;
  if (lost !== null && totSend !== null) {
    const dropped = sendDropped ?? 0;
    lossPct = totSend + dropped > 0 ? ((lost + dropped) / (totSend + dropped)) * 100 : 100;
  } else if (ls && ls.send > 0) {
    lossPct = ((ls.send - ls.recv) / ls.send) * 100;
  } else {
    lossPct = 100;
  }
  const complete = totSend !== null && totSend >= expected;
  const lossless = !timedOut && exit.code === 0 && complete && lost === 0 && (sendDropped ?? 0) === 0;

  const intervals: Interval[] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    const dt = (b.t - a.t) / 1000;
    if (dt <= 0.05) continue;
    intervals.push({
      dt,
      sendRate: (b.send - a.send) / dt,
      recvRate: (b.recv - a.recv) / dt,
      serverCpuPct: ((b.server - a.server) / hz / dt) * 100,
      peerCpuPct: ((b.peer - a.peer) / hz / dt) * 100,
      clientCpuPct: ((b.client - a.client) / hz / dt) * 100,
      machineCpuPct: (ticksBetween(a.machine, b.machine) / hz / dt) * 100,
    });
  }
  const steady = steadyWindow(samples, offered, hz, opts.serverPid);
  const serverCpuRunPct = ((server1 - server0) / hz / wallSec) * 100;
  return {
    load,
    offered,
    args,
    exitCode: exit.code,
    timedOut,
    stoppedEarly,
    lastRateLine: ls ? { send: ls.send, recv: ls.recv, secondsAfterAllSent: allSentAt ? Math.round(lastLineAt - allSentAt) / 1000 : null } : null,
    totSend,
    totRecv,
    lost,
    lostPct,
    sendDropped,
    sendDroppedPct,
    rttAvgMs,
    rttMaxMs,
    lossPct,
    lossless,
    steady,
    intervals,
    serverCpuRunPct,
    wallSec,
    udpSnmp: snmp,
    socketDrops: drops.totals(),
    sockets: drops.counts(),
    tail: child.tail.slice(-12),
  };
}


/**
 * The steady part of the run: consecutive rate lines whose send rate is at least 90% of the
 * offered rate (all allocations are sending; uclient starts each one 1-6 s late). If the client
 * never gets there, the intervals within 90% of its own best send rate, flagged clientLimited.
 */
function steadyWindow(samples: Sample[], offered: number, hz: number, serverPid: number): Steady | null {
  if (samples.length < 2) return null;
  const rates: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    const dt = (samples[i].t - samples[i - 1].t) / 1000;
    rates.push(dt > 0.05 ? (samples[i].send - samples[i - 1].send) / dt : 0);
  }
  const best = Math.max(...rates);
  let clientLimited = false;
  let threshold = 0.9 * offered;
  if (best < threshold) {
    clientLimited = true;
    threshold = 0.9 * best;
  }
  // Longest run of consecutive intervals above the threshold.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < rates.length; ) {
    if (rates[i] < threshold) {
      i++;
      continue;
    }
    let j = i;
    while (j < rates.length && rates[j] >= threshold) j++;
    if (j - i > bestLen) {
      bestLen = j - i;
      bestStart = i;
    }
    i = j;
  }
  if (bestLen === 0) return null;
  const a = samples[bestStart];
  const b = samples[bestStart + bestLen];
  const dt = (b.t - a.t) / 1000;
  let peakRecvRate = 0;
  for (let i = bestStart + 1; i <= bestStart + bestLen; i++) {
    const d = (samples[i].t - samples[i - 1].t) / 1000;
    if (d > 0.05) peakRecvRate = Math.max(peakRecvRate, (samples[i].recv - samples[i - 1].recv) / d);
  }
  const pct = (ticks: number) => (ticks / hz / dt) * 100;
  const threads: ThreadUse[] = [];
  for (const [tid, end] of b.serverThreads) {
    const start = a.serverThreads.get(tid);
    const used = end.ticks - (start?.ticks ?? 0);
    const cpuPct = pct(used);
    if (cpuPct >= 1) threads.push({ tid, comm: end.comm, main: tid === serverPid, cpuPct: round1(cpuPct) });
  }
  threads.sort((x, y) => y.cpuPct - x.cpuPct);
  const machineCpuPct = pct(ticksBetween(a.machine, b.machine));
  return {
    intervals: bestLen,
    seconds: round1(dt),
    sendRate: Math.round((b.send - a.send) / dt),
    recvRate: Math.round((b.recv - a.recv) / dt),
    peakRecvRate: Math.round(peakRecvRate),
    serverCpuPct: round1(pct(b.server - a.server)),
    serverUserPct: round1(pct(b.serverUser - a.serverUser)),
    serverSysPct: round1(pct(b.serverSys - a.serverSys)),
    serverUsPerMsg: b.recv > a.recv ? round1(((b.server - a.server) / hz / (b.recv - a.recv)) * 1e6) : NaN,
    peerCpuPct: round1(pct(b.peer - a.peer)),
    clientCpuPct: round1(pct(b.client - a.client)),
    machineCpuPct: round1(machineCpuPct),
    otherCpuPct: round1(machineCpuPct - pct(b.server - a.server) - pct(b.peer - a.peer) - pct(b.client - a.client)),
    serverThreads: threads,
    clientLimited,
  };
}

const round1 = (x: number) => Math.round(x * 10) / 10;
