// The SFU scenario's subscribers, as a PeerGroup (../../worker-group.ts): run in this process,
// or in a child process through WorkerGroup<GroupConfig, GroupStats>('sfu-subscribers'), so
// that receiving hundreds of streams does not make the load generator itself the bottleneck.
import { LatencyHistogram, type StreamCounters } from './stats.js';
import { SubscriberPeer } from './peers.js';
import type { PeerGroup } from '../../worker-group.js';
import { switchboardSubscribe, type SwitchboardTarget } from '../../targets/switchboard.js';
import { janusSubscribe } from '../../targets/janus.js';
import { directSubscribe } from '../../targets/direct.js';

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

export type SubscriberGroup = PeerGroup<GroupConfig, GroupStats>;

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
