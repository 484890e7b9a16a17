// A set of subscribers, run in this process (LocalSubscriberGroup) or in a child process
// (WorkerSubscriberGroup, same interface over IPC) so that receiving hundreds of streams does not
// make the load generator itself the bottleneck.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LatencyHistogram, type StreamCounters } from './stats.js';
import { SubscriberPeer } from './peers.js';
import { switchboardSubscribe, type SwitchboardTarget } from './switchboard.js';
import { janusSubscribe } from './janus.js';
import { directSubscribe } from './direct.js';

export interface GroupConfig {
  target: 'switchboard' | 'janus' | 'direct';
  /** target 'direct': the DirectSender's signaling URL. */
  direct?: { url: string };
  switchboard?: SwitchboardTarget;
  janus?: { url: string; room: number; feedIds: number[] };
  /** Identities of the subscribers of this group. */
  identities: string[];
  /** SSRCs each subscriber must receive before it counts as connected. */
  expectStreams: number;
  /** Subscribers connecting at the same time. */
  concurrency: number;
  connectTimeoutMs: number;
  /** Local address the subscribers' ICE binds (and gathers); needed for 'direct' (libjuice gathers no loopback candidate otherwise). */
  bindAddress?: string;
}

export interface SubscriberResult {
  identity: string;
  /** Signaling, ICE and DTLS done. */
  connected: boolean;
  /** Connected, and packets arrived on every expected stream. */
  receiving: boolean;
  /** Start of the join -> a packet on every expected stream, ms (NaN when not receiving). */
  setupMs: number;
  /** Start of the join -> connection up, ms. */
  connectMs: number;
  error?: string;
  streams: StreamCounters[];
}

export interface GroupStats {
  subscribers: SubscriberResult[];
  /** Sparse latency histogram: [bin, count] pairs. */
  latency: [number, number][];
  /** process.cpuUsage() of the process running the group, µs. */
  cpuUserUs: number;
  cpuSystemUs: number;
}

export interface SubscriberGroup {
  connect(cfg: GroupConfig, onProgress?: (done: number, total: number) => void): Promise<void>;
  resetWindow(): Promise<void>;
  collect(): Promise<GroupStats>;
  close(): Promise<void>;
}

export class LocalSubscriberGroup implements SubscriberGroup {
  private readonly latency = new LatencyHistogram();
  private readonly subs: { identity: string; peer: SubscriberPeer; session: { close(): void } | null; connectMs: number; error?: string }[] = [];

  async connect(cfg: GroupConfig, onProgress?: (done: number, total: number) => void): Promise<void> {
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < cfg.identities.length) {
        const identity = cfg.identities[next++];
        const peer = new SubscriberPeer(identity, this.latency, { bindAddress: cfg.bindAddress });
        const entry: (typeof this.subs)[number] = { identity, peer, session: null, connectMs: NaN };
        this.subs.push(entry);
        const t0 = performance.now();
        peer.startedAt = t0;
        peer.expectStreams = cfg.expectStreams;
        try {
          if (cfg.target === 'switchboard') entry.session = await switchboardSubscribe(cfg.switchboard!, peer, identity, cfg.expectStreams, cfg.connectTimeoutMs);
          else if (cfg.target === 'direct') entry.session = await directSubscribe(cfg.direct!.url, peer, cfg.expectStreams, cfg.connectTimeoutMs);
          else entry.session = await janusSubscribe(cfg.janus!.url, cfg.janus!.room, cfg.janus!.feedIds, peer, cfg.expectStreams, cfg.connectTimeoutMs);
          entry.connectMs = performance.now() - t0;
        } catch (err) {
          entry.error = (err as Error).message;
        }
        onProgress?.(++done, cfg.identities.length);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, cfg.concurrency) }, worker));
  }

  async resetWindow(): Promise<void> {
    for (const s of this.subs) s.peer.resetWindow();
    this.latency.reset();
  }

  async collect(): Promise<GroupStats> {
    const latency: [number, number][] = [];
    this.latency.bins.forEach((c, i) => {
      if (c !== 0) latency.push([i, c]);
    });
    const cpu = process.cpuUsage();
    return {
      subscribers: this.subs.map((s) => {
        const connected = s.error === undefined && s.session !== null;
        const receiving = connected && !Number.isNaN(s.peer.mediaAt);
        const streams = s.peer.counters();
        let error = s.error;
        if (connected && !receiving) {
          const trace = (s.session as { trace?: string[] } | null)?.trace;
          error = `connected but no media on every stream (streams ${streams.map((c) => `pt${c.payloadType}:${c.packets}`).join(',') || 'none'}, rtcp ${s.peer.rtcpPackets}, connection ${s.peer.connectionState}${trace ? `; ${trace.join(', ')}` : ''})`;
        }
        return { identity: s.identity, connected, receiving, setupMs: receiving ? s.peer.mediaAt - s.peer.startedAt : NaN, connectMs: s.connectMs, error, streams };
      }),
      latency,
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
    };
  }

  async close(): Promise<void> {
    for (const s of this.subs) {
      s.session?.close();
      s.peer.close();
    }
  }
}

type Reply = { id: number; ok: boolean; result?: unknown; error?: string } | { progress: [number, number] };

/** Runs a LocalSubscriberGroup in a child process (worker.ts), forked with this process' loader flags. */
export class WorkerSubscriberGroup implements SubscriberGroup {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private onProgress: ((done: number, total: number) => void) | undefined;
  private exited = false;

  constructor() {
    const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
    const file = fileURLToPath(new URL(`./worker.${ext}`, import.meta.url));
    this.child = fork(file, [], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: Reply) => {
      if ('progress' in m) {
        this.onProgress?.(m.progress[0], m.progress[1]);
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error));
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`subscriber worker exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private call<T>(cmd: string, arg?: unknown): Promise<T> {
    if (this.exited) return Promise.reject(new Error('subscriber worker has exited'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, cmd, arg });
    });
  }

  connect(cfg: GroupConfig, onProgress?: (done: number, total: number) => void): Promise<void> {
    this.onProgress = onProgress;
    return this.call('connect', cfg);
  }
  resetWindow(): Promise<void> {
    return this.call('resetWindow');
  }
  collect(): Promise<GroupStats> {
    return this.call('collect');
  }
  async close(): Promise<void> {
    if (this.exited) return;
    await this.call('close').catch(() => undefined);
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.child.kill('SIGKILL');
        resolve();
      }, 3000);
      this.child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
