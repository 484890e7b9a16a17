// In-memory back-to-back wiring of two associations with a manual clock and seeded loss.
import { SctpAssociation } from '../src/index.js';
import type { AssociationOptions, DataChannel } from '../src/index.js';

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PairOptions {
  loss?: number;
  seed?: number;
  /** Return false to drop a packet (applied before random loss). */
  filter?: (from: 'client' | 'server', packet: Uint8Array) => boolean;
  client?: Partial<AssociationOptions>;
  server?: Partial<AssociationOptions>;
  /** One-way delay in ms (default 5). */
  delay?: number;
}

export interface Pair {
  client: SctpAssociation;
  server: SctpAssociation;
  now(): number;
  sent: { client: Uint8Array[]; server: Uint8Array[] };
  /** Runs the network and the timers until cond() holds; throws after maxMs of virtual time. */
  run(cond: () => boolean, maxMs?: number): void;
  /** Runs until nothing is in flight and no timer is due within idleMs. */
  settle(maxMs?: number): void;
  loss: number;
}

export function makePair(o: PairOptions = {}): Pair {
  let now = 0;
  const rng = mulberry32(o.seed ?? 1);
  const delay = o.delay ?? 5;
  const wire: { at: number; to: 'client' | 'server'; p: Uint8Array }[] = [];
  const sent = { client: [] as Uint8Array[], server: [] as Uint8Array[] };
  const pair = {} as Pair;
  pair.loss = o.loss ?? 0;
  const push = (from: 'client' | 'server', p: Uint8Array) => {
    sent[from].push(p);
    if (o.filter && !o.filter(from, p)) return;
    if (pair.loss > 0 && rng() < pair.loss) return;
    wire.push({ at: now + delay, to: from === 'client' ? 'server' : 'client', p });
  };
  const client = new SctpAssociation({
    role: 'client',
    send: (p) => push('client', p),
    now: () => now,
    timers: 'manual',
    remoteMaxMessageSize: 262144,
    ...o.client,
  });
  const server = new SctpAssociation({
    role: 'server',
    send: (p) => push('server', p),
    now: () => now,
    timers: 'manual',
    remoteMaxMessageSize: 262144,
    ...o.server,
  });
  const step = (): boolean => {
    // Flush what send() queued (normally a microtask does it), then find the next event.
    client.flush();
    server.flush();
    let t = Infinity;
    for (const w of wire) t = Math.min(t, w.at);
    for (const a of [client, server]) {
      const n = a.nextTimeout();
      if (n !== null) t = Math.min(t, n);
    }
    if (t === Infinity) return false;
    now = Math.max(now, t);
    for (let i = 0; i < wire.length; ) {
      if (wire[i].at <= now) {
        const w = wire.splice(i, 1)[0];
        (w.to === 'client' ? client : server).receive(w.p);
      } else i++;
    }
    client.handleTimeout();
    server.handleTimeout();
    return true;
  };
  Object.assign(pair, {
    client,
    server,
    sent,
    now: () => now,
    run(cond: () => boolean, maxMs = 120_000) {
      const end = now + maxMs;
      while (!cond()) {
        if (now > end) throw new Error(`condition not met after ${maxMs} ms of virtual time`);
        if (!step()) {
          if (cond()) return;
          throw new Error('network idle and no timers, condition not met');
        }
      }
    },
    settle(maxMs = 60_000) {
      const end = now + maxMs;
      while (now <= end && (wire.length > 0 || [client, server].some((a) => (a.nextTimeout() ?? Infinity) <= now + 1000))) {
        if (!step()) return;
      }
    },
  });
  return pair;
}

/** Starts both sides and runs until both are established. */
export function connected(o: PairOptions = {}): Pair {
  const p = makePair(o);
  p.server.start();
  p.client.start();
  p.run(() => p.client.state === 'established' && p.server.state === 'established');
  return p;
}

/** Opens a channel from `from` and returns both ends once open. */
export function openChannel(
  p: Pair,
  from: 'client' | 'server',
  label: string,
  opts?: Parameters<SctpAssociation['createDataChannel']>[1],
): { local: DataChannel; remote: DataChannel } {
  const a = from === 'client' ? p.client : p.server;
  const b = from === 'client' ? p.server : p.client;
  let remote: DataChannel | undefined;
  const prev = b.onchannel;
  b.onchannel = (ch) => {
    remote = ch;
    prev?.(ch);
  };
  const local = a.createDataChannel(label, opts);
  p.run(() => local.readyState === 'open' && remote !== undefined);
  b.onchannel = prev;
  return { local, remote: remote! };
}

export function collect(ch: DataChannel): (string | Uint8Array)[] {
  const out: (string | Uint8Array)[] = [];
  ch.onmessage = (m) => out.push(m);
  return out;
}
