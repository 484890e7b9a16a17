// A set of MCU participants (each one sends and receives), run in this process (LocalMcuGroup)
// or in a child process (WorkerMcuGroup, same interface over IPC: mcu-worker.ts), so that the
// arrival times of the audio mix are not taken on one overloaded event loop.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { McuPump, McuReceiver, McuSender, type McuReceiveResult } from './mcu-peers.js';
import { switchboardMcuJoin, type McuSession, type McuSwitchboardTarget } from './mcu-switchboard.js';
import { janusAudioBridgeJoin } from './janus-audiobridge.js';

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

export interface McuGroup {
  connect(cfg: McuGroupConfig, onProgress?: (done: number, total: number) => void): Promise<void>;
  resetWindow(): Promise<void>;
  collect(): Promise<McuGroupStats>;
  close(): Promise<void>;
}

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
  private readonly pump = new McuPump();
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

type Reply = { id: number; ok: boolean; result?: unknown; error?: string } | { progress: [number, number] };

/** Runs a LocalMcuGroup in a child process (mcu-worker.ts), forked with this process' loader flags. */
export class WorkerMcuGroup implements McuGroup {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private onProgress: ((done: number, total: number) => void) | undefined;
  private exited = false;

  constructor() {
    const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
    const file = fileURLToPath(new URL(`./mcu-worker.${ext}`, import.meta.url));
    // 'advanced' serialization: results carry NaN (no packet yet), which JSON would turn into null
    this.child = fork(file, [], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
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
      for (const p of this.pending.values()) p.reject(new Error(`MCU participant worker exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private call<T>(cmd: string, arg?: unknown): Promise<T> {
    if (this.exited) return Promise.reject(new Error('MCU participant worker has exited'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, cmd, arg });
    });
  }

  connect(cfg: McuGroupConfig, onProgress?: (done: number, total: number) => void): Promise<void> {
    this.onProgress = onProgress;
    return this.call('connect', cfg);
  }
  resetWindow(): Promise<void> {
    return this.call('resetWindow');
  }
  collect(): Promise<McuGroupStats> {
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
