// The SFU scenario: publishers send pre-encoded VP8 + Opus (media/) with a send-time trailer,
// subscribers count what arrives and how late, against Switchboard (SFU rooms), Janus VideoRoom,
// or no server at all ('direct': the generator's own limit). See README.md.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Pacer } from '../../pacer.js';
import { WorkerGroup } from '../../worker-group.js';
import { PublisherPeer } from './peers.js';
import { createSwitchboardRoom, switchboardPublish, type SignalSession, type SwitchboardTarget } from '../../targets/switchboard.js';
import { janusCreateRoom, janusPublish } from '../../targets/janus.js';
import { DirectSender } from '../../targets/direct.js';
import { LocalSubscriberGroup, type GroupConfig, type GroupStats, type SubscriberGroup } from './group.js';
import { LatencyHistogram } from './stats.js';

export interface LoadTestOptions {
  /** http(s)://host:port of Switchboard, or ws://host:8188 of Janus; ignored for 'direct'. */
  url: string;
  /** 'direct': no server, one sending connection per subscriber from this process (measures the generator itself). */
  target: 'switchboard' | 'janus' | 'direct';
  /** Room name (Switchboard); for Janus a numeric room id is derived from it unless it is a number. */
  room: string;
  publishers: number;
  subscribers: number;
  /** Length of the measurement window (after everyone is connected), seconds. */
  durationSec: number;
  /** Switchboard API key/secret: tokens are signed here with exact grants. Else the dev token endpoint. */
  apiKey?: string;
  apiSecret?: string;
  onProgress?: (line: string) => void;
  /** Child processes for the subscribers (0 = in this process). Default: 0 up to 20 subscribers, else min(2, CPUs). */
  workers?: number;
  /** Subscribers connecting at once (per worker). Default 8. */
  concurrency?: number;
  /** Seconds between the last subscriber connecting and the window. Default 2.5. */
  warmupSec?: number;
  /** How long one subscriber may take to connect and receive all streams. Default 20000. */
  connectTimeoutMs?: number;
  /** Called right when the measurement window starts and ends (e.g. to sample a server's CPU). */
  onWindow?: (phase: 'start' | 'end') => void;
  /** Prefix of participant identities (default 'lt'). */
  identityPrefix?: string;
}

export interface LoadReport {
  target: 'switchboard' | 'janus' | 'direct';
  publishers: number;
  subscribers: number;
  durationSec: number;
  /** RTP packets the publishers sent during the window. */
  sentPackets: number;
  /** RTP packets all subscribers received during the window. */
  receivedPackets: number;
  /** max(sequence-gap loss, 1 - received / (sent x connected subscribers)), percent. */
  lossPct: number;
  /** Sequence-gap loss alone (RFC 3550 expected - received), percent. */
  seqLossPct: number;
  /** 1 - received / (sent x connected subscribers), percent (can be slightly negative at the window edges: clamped to 0). */
  deliveryLossPct: number;
  bitrateKbpsPerSubscriber: number;
  /** Mean RFC 3550 interarrival jitter over every received stream (video and audio), ms. */
  jitterMs: number;
  latencyMs: { p50: number; p99: number };
  /** Subscriber join -> connection up (signaling, ICE, DTLS), mean ms. */
  connectMs: number;
  /** Subscriber setup: mean and p95 of join -> a packet on every stream, ms (video may wait for the next keyframe: every 2 s in the media); and the whole ramp. */
  setupMs: number;
  setupP95Ms: number;
  rampMs: number;
  connectedSubscribers: number;
  failedSubscribers: number;
  /** A few failure messages (deduplicated). */
  errors: string[];
  /** CPU of the load generator (this process + subscriber workers) during the window, % of one core. */
  generatorCpuPct: number;
  /** The window's actual length, s. */
  windowSec: number;
  summary: string;
}

function janusRoomId(room: string): number {
  if (/^\d+$/.test(room)) return Number(room);
  let h = 0;
  for (const c of room) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return 100_000 + (h % 900_000_000);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cpuNowUs(): number {
  const c = process.cpuUsage();
  return c.user + c.system;
}

export async function runLoadTest(opts: LoadTestOptions): Promise<LoadReport> {
  const log = opts.onProgress ?? (() => undefined);
  const prefix = opts.identityPrefix ?? 'lt';
  const nSubs = Math.max(0, Math.floor(opts.subscribers));
  const nPubs = Math.max(1, Math.floor(opts.publishers));
  const workers = Math.max(0, Math.floor(opts.workers ?? (nSubs <= 20 ? 0 : Math.min(2, os.availableParallelism()))));
  const expectStreams = opts.target === 'direct' ? 2 : nPubs * 2;
  const pump = new Pacer();
  const pubs: PublisherPeer[] = [];
  const pubSessions: { close(): void }[] = [];
  const groups: SubscriberGroup[] = [];
  let groupCfg: Omit<GroupConfig, 'identities'>;
  const tStart = performance.now();
  let direct: DirectSender | null = null;
  try {
    // ---- the room and the publishers
    if (opts.target === 'switchboard') {
      const sb: SwitchboardTarget = { httpBase: opts.url, room: opts.room, apiKey: opts.apiKey, apiSecret: opts.apiSecret };
      await createSwitchboardRoom(sb, opts.room, 'sfu', nPubs + nSubs + 8, log);
      for (let i = 0; i < nPubs; i++) {
        const p = new PublisherPeer(`${prefix}-pub-${i}`);
        pubs.push(p);
        const s: SignalSession = await switchboardPublish(sb, p, `${prefix}-pub-${i}`);
        pubSessions.push(s);
        pump.add(p);
      }
      groupCfg = { target: 'switchboard', switchboard: sb, expectStreams, concurrency: opts.concurrency ?? 8, connectTimeoutMs: opts.connectTimeoutMs ?? 20_000 };
    } else if (opts.target === 'direct') {
      direct = await DirectSender.start(pump);
      groupCfg = { target: 'direct', direct: { url: direct.url }, bindAddress: '127.0.0.1', expectStreams: 2, concurrency: opts.concurrency ?? 8, connectTimeoutMs: opts.connectTimeoutMs ?? 20_000 };
    } else {
      const room = janusRoomId(opts.room);
      await janusCreateRoom(opts.url, room, nPubs + 1);
      const feedIds: number[] = [];
      for (let i = 0; i < nPubs; i++) {
        const p = new PublisherPeer(`${prefix}-pub-${i}`);
        pubs.push(p);
        const s = await janusPublish(opts.url, room, p, `${prefix}-pub-${i}`);
        pubSessions.push(s);
        feedIds.push(s.feedId);
        pump.add(p);
      }
      groupCfg = { target: 'janus', janus: { url: opts.url, room, feedIds }, expectStreams, concurrency: opts.concurrency ?? 8, connectTimeoutMs: opts.connectTimeoutMs ?? 20_000 };
    }
    pump.start();
    if (!direct) log(`${opts.target}: ${nPubs} publisher(s) sending (${((performance.now() - tStart) / 1000).toFixed(1)} s)`);

    // ---- the subscribers, split over the groups
    const nGroups = workers === 0 ? 1 : Math.min(workers, Math.max(1, nSubs));
    const tRamp = performance.now();
    const progress = new Array<number>(nGroups).fill(0);
    let lastLog = 0;
    const connects: Promise<void>[] = [];
    for (let g = 0; g < nGroups; g++) {
      const identities: string[] = [];
      for (let i = g; i < nSubs; i += nGroups) identities.push(`${prefix}-sub-${i}`);
      const group: SubscriberGroup = workers === 0 ? new LocalSubscriberGroup() : new WorkerGroup<GroupConfig, GroupStats>('sfu-subscribers');
      groups.push(group);
      connects.push(
        group.connect({ ...groupCfg, identities }, (done) => {
          progress[g] = done;
          const total = progress.reduce((a, b) => a + b, 0);
          if (performance.now() - lastLog > 2000 || total === nSubs) {
            lastLog = performance.now();
            log(`${opts.target}: ${total}/${nSubs} subscribers set up (${((performance.now() - tRamp) / 1000).toFixed(1)} s)`);
          }
        }),
      );
    }
    await Promise.all(connects);
    const rampMs = performance.now() - tRamp;

    // ---- the window (after a warm-up long enough for a keyframe: one every 2 s in the media)
    await sleep((opts.warmupSec ?? 2.5) * 1000);
    for (const g of groups) await g.resetWindow();
    // direct: every subscriber has its own sender; count one sender's worth per subscriber as "sent"
    const sentNow = () => (direct ? direct.sentPackets / Math.max(1, direct.peers.length) : pubs.reduce((a, p) => a + p.sentPackets, 0));
    const sent0 = sentNow();
    const cpuGroups0 = await Promise.all(groups.map((g) => (g instanceof WorkerGroup ? g.collect().then((s) => s.cpuUserUs + s.cpuSystemUs) : Promise.resolve(0))));
    opts.onWindow?.('start');
    const cpu0 = cpuNowUs();
    const w0 = performance.now();
    log(`${opts.target}: measuring for ${opts.durationSec} s`);
    await sleep(opts.durationSec * 1000);
    const sent1 = sentNow();
    opts.onWindow?.('end');
    const windowSec = (performance.now() - w0) / 1000;
    const cpu1 = cpuNowUs();
    const stats: GroupStats[] = await Promise.all(groups.map((g) => g.collect()));
    const cpuGroups = stats.reduce((a, s, i) => a + (groups[i] instanceof WorkerGroup ? s.cpuUserUs + s.cpuSystemUs - cpuGroups0[i] : 0), 0);
    const generatorCpuPct = ((cpu1 - cpu0 + cpuGroups) / 1e6 / windowSec) * 100;

    // ---- the report
    const hist = new LatencyHistogram();
    let received = 0;
    let bytes = 0;
    let expected = 0;
    let lost = 0;
    let jitterSum = 0;
    let jitterN = 0;
    let connected = 0;
    const setups: number[] = [];
    let connectSum = 0;
    const errors = new Map<string, number>();
    for (const s of stats) {
      for (const [bin, count] of s.latency) hist.bins[bin] += count;
      hist.count += s.latency.reduce((a, [, c]) => a + c, 0);
      for (const sub of s.subscribers) {
        const live = sub.streams.filter((st) => st.packets > 0).length;
        if (!sub.connected || !sub.receiving || live < expectStreams) {
          const why = !sub.connected ? (sub.error ?? 'not connected') : !sub.receiving ? (sub.error ?? `connected but no media on ${expectStreams} streams`) : `media on ${live}/${expectStreams} streams during the window`;
          const key = sub.connected ? why : why.replace(/\S+-sub-\d+|\b\d{3,}\b/g, '#');
          errors.set(key, (errors.get(key) ?? 0) + 1);
          continue;
        }
        connected++;
        setups.push(sub.setupMs);
        connectSum += sub.connectMs;
        for (const st of sub.streams) {
          received += st.packets;
          bytes += st.bytes;
          expected += st.expected;
          lost += st.lost;
          if (st.packets > 1) {
            jitterSum += st.jitterMs;
            jitterN++;
          }
        }
      }
    }
    const sentPackets = Math.round(sent1 - sent0);
    const seqLossPct = expected > 0 ? (lost / expected) * 100 : 0;
    const want = sentPackets * connected;
    const deliveryLossPct = want > 0 ? Math.max(0, (1 - received / want) * 100) : 0;
    setups.sort((a, b) => a - b);
    const report: LoadReport = {
      target: opts.target,
      publishers: nPubs,
      subscribers: nSubs,
      durationSec: opts.durationSec,
      sentPackets,
      receivedPackets: received,
      lossPct: Math.max(seqLossPct, deliveryLossPct),
      seqLossPct,
      deliveryLossPct,
      bitrateKbpsPerSubscriber: connected > 0 ? (bytes * 8) / 1000 / windowSec / connected : 0,
      jitterMs: jitterN > 0 ? jitterSum / jitterN : NaN,
      latencyMs: { p50: hist.quantile(0.5), p99: hist.quantile(0.99) },
      connectMs: connected > 0 ? connectSum / connected : NaN,
      setupMs: setups.length ? setups.reduce((a, b) => a + b, 0) / setups.length : NaN,
      setupP95Ms: setups.length ? setups[Math.min(setups.length - 1, Math.floor(setups.length * 0.95))] : NaN,
      rampMs,
      connectedSubscribers: connected,
      failedSubscribers: nSubs - connected,
      errors: [...[...errors].map(([e, n]) => `${n}x ${e}`), ...(direct?.errors.slice(0, 3).map((e) => `sender: ${e}`) ?? [])].slice(0, 6),
      generatorCpuPct,
      windowSec,
      summary: '',
    };
    report.summary = summarize(report);
    log(report.summary);
    return report;
  } finally {
    pump.stop();
    await Promise.all(groups.map((g) => g.close().catch(() => undefined)));
    for (const s of pubSessions) s.close();
    for (const p of pubs) p.close();
    direct?.close();
  }
}

export function summarize(r: LoadReport): string {
  const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  return (
    `${r.target}: ${r.publishers} pub x ${r.connectedSubscribers}/${r.subscribers} sub, ${f(r.windowSec)} s: ` +
    `loss ${f(r.lossPct, 2)}%, ${f(r.bitrateKbpsPerSubscriber, 0)} kbit/s per sub, jitter ${f(r.jitterMs, 2)} ms, ` +
    `latency p50 ${f(r.latencyMs.p50, 2)} / p99 ${f(r.latencyMs.p99, 2)} ms, connect ${f(r.connectMs, 0)} ms, first media ${f(r.setupMs, 0)} ms (p95 ${f(r.setupP95Ms, 0)}), ` +
    `sent ${r.sentPackets} recv ${r.receivedPackets} pkts, failed ${r.failedSubscribers}, generator CPU ${f(r.generatorCpuPct, 0)}%`
  );
}

/**
 * Releases node-datachannel's global threads so that the process can exit; call once after the
 * last runLoadTest (a CLI command, a test's `after`). Peer connections must not be used after it.
 */
export async function shutdownLoadGenerator(): Promise<void> {
  const ndc = (await import('node-datachannel')).default;
  ndc.cleanup();
}
