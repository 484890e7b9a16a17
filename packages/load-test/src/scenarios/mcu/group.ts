// The MCU scenario's participants (each one sends and receives), as a PeerGroup
// (../../worker-group.ts): run in this process, or in a child process through
// WorkerGroup<McuGroupConfig, McuGroupStats>('mcu-participants'), so that the arrival times of
// the audio mix are not taken on one overloaded event loop.
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { McuReceiver, McuSender, type McuReceiveResult } from './peers.js';
import { Pacer } from '../../pacer.js';
import type { PeerGroup } from '../../worker-group.js';
import { switchboardMcuJoin, type McuSession, type McuSwitchboardTarget } from '../../targets/switchboard.js';
import { janusAudioBridgeJoin } from '../../targets/janus.js';

export type McuTarget = 'switchboard' | 'janus-audiobridge';

export interface McuGroupConfig {
  target: McuTarget;
  switchboard?: McuSwitchboardTarget;
  janus?: { url: string };
  video: boolean;
  /** Who joins where: a Switchboard room name, or a Janus AudioBridge room id (digits). */
  participants: { identity: string; room: string }[];
  /** Participants joining at the same time. */
  concurrency: number;
  connectTimeoutMs: number;
}

export interface McuParticipantResult {
  identity: string;
  room: string;
  /** Signaling done and every connection up. */
  connected: boolean;
  error?: string;
  /** Start of the join -> connections up, ms. */
  connectMs: number;
  /** Start of the join -> first packet of the audio mix / of the composed video, ms (NaN: none yet). */
  firstAudioMs: number;
  firstVideoMs: number;
  /** Packets this participant sent during the window. */
  sentAudio: number;
  sentVideo: number;
  failedSends: number;
  receive: McuReceiveResult | null;
  /** Negotiation trace and server errors (kept for participants that failed or received nothing). */
  trace?: string[];
}

export interface McuGroupStats {
  participants: McuParticipantResult[];
  /** process.cpuUsage() of the process running the group, µs (cumulative). */
  cpuUs: number;
  /** Event-loop delay of that process during the window (how late arrival timestamps can be), ms. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

export type McuGroup = PeerGroup<McuGroupConfig, McuGroupStats>;

interface Entry {
  identity: string;
  room: string;
  sender: McuSender;
  receiver: McuReceiver;
  session: McuSession | null;
  startedAt: number;
  connectMs: number;
  error?: string;
  sent0: [number, number, number];
}

export class LocalMcuGroup implements McuGroup {
  private readonly entries: Entry[] = [];
  private readonly pump = new Pacer();
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 5 });

  async connect(cfg: McuGroupConfig, onProgress?: (done: number, total: number) => void): Promise<void> {
    this.loop.enable();
    this.pump.start();
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < cfg.participants.length) {
        const { identity, room } = cfg.participants[next++];
        const e: Entry = { identity, room, sender: new McuSender(), receiver: new McuReceiver(), session: null, startedAt: performance.now(), connectMs: NaN, sent0: [0, 0, 0] };
        this.entries.push(e);
        try {
          if (cfg.target === 'switchboard') e.session = await switchboardMcuJoin(cfg.switchboard!, room, identity, cfg.video, e.sender, e.receiver, cfg.connectTimeoutMs);
          else e.session = await janusAudioBridgeJoin(cfg.janus!.url, Number(room), identity, e.sender, e.receiver, cfg.connectTimeoutMs);
          e.connectMs = performance.now() - e.startedAt;
          this.pump.add(e.sender);
        } catch (err) {
          e.error = (err as Error).message;
        }
        onProgress?.(++done, cfg.participants.length);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, cfg.concurrency) }, worker));
  }

  async resetWindow(): Promise<void> {
    for (const e of this.entries) {
      e.receiver.resetWindow();
      e.sent0 = [e.sender.sentAudio, e.sender.sentVideo, e.sender.failedSends];
    }
    this.loop.reset();
  }

  async collect(): Promise<McuGroupStats> {
    const cpu = process.cpuUsage();
    const participants = this.entries.map((e): McuParticipantResult => {
      const connected = e.error === undefined && e.session !== null;
      const receive = connected ? e.receiver.result() : null;
      const sinceStart = (t: number) => (Number.isNaN(t) ? NaN : t - e.startedAt);
      const keepTrace = !connected || !receive?.audio;
      return {
        identity: e.identity,
        room: e.room,
        connected,
        error: e.error,
        connectMs: e.connectMs,
        firstAudioMs: sinceStart(e.receiver.firstAudioAt),
        firstVideoMs: sinceStart(e.receiver.firstVideoAt),
        sentAudio: e.sender.sentAudio - e.sent0[0],
        sentVideo: e.sender.sentVideo - e.sent0[1],
        failedSends: e.sender.failedSends - e.sent0[2],
        receive,
        trace: keepTrace && e.session ? [`state: ${e.session.state()}`, ...e.session.trace, ...e.session.errors.map((x) => `error ${x}`)] : undefined,
      };
    });
    const ns = (v: number) => (Number.isFinite(v) ? v / 1e6 : NaN);
    return { participants, cpuUs: cpu.user + cpu.system, loopDelayP99Ms: ns(this.loop.percentile(99)), loopDelayMaxMs: ns(this.loop.max) };
  }

  async close(): Promise<void> {
    this.pump.stop();
    this.loop.disable();
    for (const e of this.entries) e.session?.close();
  }
}
