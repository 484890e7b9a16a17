// Readers for /proc: process and thread CPU time, machine CPU time, UDP counters and per-socket drops.
// All synchronous and cheap (a few small files, read about once a second).

import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second (USER_HZ) for /proc CPU times: the load tool's reader. */
export { clockTicksPerSecond as ticksPerSecond } from '../../packages/load-test/src/index.js';

/** utime+stime (ticks) from a /proc/.../stat file's text; fields after the ')' of comm. */
function statTicks(text: string): number {
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  return Number(rest[11]) + Number(rest[12]);
}

/** [utime, stime] (ticks) of a whole process, all its threads included; NaNs if it is gone. */
export function processUserSys(pid: number): [number, number] {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return [Number(rest[11]), Number(rest[12])];
  } catch {
    return [NaN, NaN];
  }
}

/** CPU ticks (user+system) of a whole process, all its threads included; NaN if it is gone. */
export function processTicks(pid: number): number {
  try {
    return statTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return NaN;
  }
}

export interface ThreadTicks {
  tid: number;
  comm: string;
  ticks: number;
}

/** CPU ticks per thread of a process. */
export function threadTicks(pid: number): ThreadTicks[] {
  const out: ThreadTicks[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
      out.push({ tid: Number(tid), comm, ticks: statTicks(text) });
    } catch {
      // thread ended
    }
  }
  return out;
}

/**
 * CPU ticks of every process on the machine (pid -> ticks), from /proc/[pid]/stat. The kernel's
 * per-process times are precise, unlike /proc/stat's tick-sampled busy time, which on this tickless
 * VM misses most of a packet-heavy load. Only the network is private here: this sees all processes.
 */
export function allProcessTicks(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    try {
      out.set(Number(name), statTicks(readFileSync(`/proc/${name}/stat`, 'utf8')));
    } catch {
      // exited
    }
  }
  return out;
}

/** Ticks used between two allProcessTicks() snapshots (processes born in between count in full). */
export function ticksBetween(a: Map<number, number>, b: Map<number, number>): number {
  let sum = 0;
  for (const [pid, t] of b) sum += t - (a.get(pid) ?? 0);
  return sum;
}

export type UdpSnmp = Record<string, number>;

/** The Udp: counters of /proc/net/snmp (per network namespace). */
export function udpSnmp(): UdpSnmp {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0].split(/\s+/).slice(1);
  const vals = lines[1].split(/\s+/).slice(1).map(Number);
  const out: UdpSnmp = {};
  names.forEach((n, i) => (out[n] = vals[i]));
  return out;
}

export function snmpDelta(a: UdpSnmp, b: UdpSnmp): UdpSnmp {
  const out: UdpSnmp = {};
  for (const k of Object.keys(b)) out[k] = b[k] - (a[k] ?? 0);
  return out;
}

export interface UdpSocket {
  inode: number;
  localPort: number;
  remotePort: number;
  txQueue: number;
  rxQueue: number;
  drops: number;
}

/** IPv4 UDP sockets of this network namespace, from /proc/net/udp. */
export function udpSockets(): UdpSocket[] {
  const out: UdpSocket[] = [];
  const lines = readFileSync('/proc/net/udp', 'utf8').split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i].trim().split(/\s+/);
    if (f.length < 13) continue;
    const [, lport] = f[1].split(':');
    const [, rport] = f[2].split(':');
    const [tx, rx] = f[4].split(':');
    out.push({
      inode: Number(f[9]),
      localPort: parseInt(lport, 16),
      remotePort: parseInt(rport, 16),
      txQueue: parseInt(tx, 16),
      rxQueue: parseInt(rx, 16),
      drops: Number(f[12]),
    });
  }
  return out;
}

/**
 * Which part of the setup a UDP socket belongs to: by its local port (server listener, relay range,
 * the peer's port and the one above it), or, for uclient's sockets, by being connected to the server
 * port. 'other' is anything else (probes; on the host network, everyone else's sockets).
 */
export type SocketRole = 'listener' | 'relay' | 'peer' | 'client' | 'other';

export interface DropTracker {
  /** Takes one snapshot of /proc/net/udp. */
  sample(): void;
  /** The highest drop count seen per socket, added up per role. */
  totals(): Record<SocketRole, number>;
  /** How many sockets were seen per role. */
  counts(): Record<SocketRole, number>;
}

export function dropTracker(ports: { listener: number; relayMin: number; relayMax: number; peer: number }): DropTracker {
  const seen = new Map<number, { role: SocketRole; drops: number }>();
  const role = (s: UdpSocket): SocketRole =>
    s.localPort === ports.listener
      ? 'listener'
      : s.localPort === ports.peer || s.localPort === ports.peer + 1
        ? 'peer'
        : s.localPort >= ports.relayMin && s.localPort <= ports.relayMax
          ? 'relay'
          : s.remotePort === ports.listener
            ? 'client'
            : 'other';
  const zero = (): Record<SocketRole, number> => ({ listener: 0, relay: 0, peer: 0, client: 0, other: 0 });
  return {
    sample() {
      try {
        for (const s of udpSockets()) {
          const prev = seen.get(s.inode);
          if (!prev) seen.set(s.inode, { role: role(s), drops: s.drops });
          else if (s.drops > prev.drops) prev.drops = s.drops;
        }
      } catch {
        // /proc/net/udp unreadable: leave the figures as they are
      }
    },
    totals() {
      const t = zero();
      for (const v of seen.values()) t[v.role] += v.drops;
      return t;
    },
    counts() {
      const t = zero();
      for (const v of seen.values()) t[v.role]++;
      return t;
    },
  };
}
