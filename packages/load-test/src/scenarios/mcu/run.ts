// MCU load: R rooms of N participants, each participant publishing the committed Opus (and VP8
// with video) and receiving what the server sends back: one audio mix (everyone else) and, with
// video, one composed picture. Against Switchboard MCU rooms or Janus AudioBridge (audio only).
//
// Measured per participant over the window, and aggregated: audio packets/s received (50 expected),
// audio frames on time (stats.ts has the exact definition: a frame is on time when it arrived
// within 60 ms of its slot on a 20 ms cadence anchored at the window's first packet; a missing
// sequence number is a frame not on time), sequence-number loss, composed video frames/s (RTP
// marker bits; distinct timestamps too), time to first audio/video, and, given the server's pid,
// the CPU of its whole process tree (/proc, children such as ffmpeg included).
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { LocalMcuGroup, type McuGroup, type McuGroupConfig, type McuGroupStats, type McuParticipantResult, type McuTarget } from './group.js';
import { WorkerGroup } from '../../worker-group.js';
import { createSwitchboardRoom, type McuSwitchboardTarget } from '../../targets/switchboard.js';
import { janusAudioBridgeCreateRoom, janusAudioBridgeDestroyRoom } from '../../targets/janus.js';
import { processTreeCpuUs, quantile } from './stats.js';

export type { McuTarget, McuParticipantResult } from './group.js';

export interface McuLoadOptions {
  /** http(s)://host:port of Switchboard, or ws://host:port of Janus' WebSocket transport. */
  url: string;
  target: McuTarget;
  /** Number of rooms, and participants in each. */
  rooms: number;
  participants: number;
  /** Publish VP8 too and expect the composed video (Switchboard only). */
  video: boolean;
  /** Measurement window, seconds (after everyone has joined and the warm-up). */
  durationSec: number;
  /** Switchboard room names are `${roomPrefix}-${i}` (default 'mcu-load-<random>'). */
  roomPrefix?: string;
  /** Janus room ids are janusRoomBase + i (default: random). */
  janusRoomBase?: number;
  /** Switchboard API key/secret: rooms are created as MCU rooms and tokens signed here; else the dev token endpoint and the server's default topology. */
  apiKey?: string;
  apiSecret?: string;
  /** The server's pid: its process tree's CPU is sampled over the window (same machine). */
  serverPid?: number;
  /** Child processes running the participants (0 = this process). Default 0 up to 16 participants, else min(2, CPUs). */
  workers?: number;
  /** Participants joining at once (per worker). Default 4. */
  concurrency?: number;
  /** Seconds between the last join and the window. Default 3. */
  warmupSec?: number;
  /** How long one participant may take to connect. Default 20000. */
  connectTimeoutMs?: number;
  /** Composed video frame rate the server is configured for (only to report video as a % of it). */
  expectedFps?: number;
  /** Prefix of identities (default 'mcu'). */
  identityPrefix?: string;
  onProgress?: (line: string) => void;
  /** Called right when the window starts and ends. */
  onWindow?: (phase: 'start' | 'end') => void;
}

export interface McuLoadReport {
  target: McuTarget;
  rooms: number;
  participantsPerRoom: number;
  participants: number;
  video: boolean;
  durationSec: number;
  /** The window's length, s. */
  windowSec: number;
  /** Participants connected and receiving the mix (and the video, with video) in the window. */
  receiving: number;
  failed: number;
  audio: {
    /** Received audio packets per second per participant: mean and the lowest participant. */
    ppsMean: number;
    ppsMin: number;
    /** Frames on time over every receiving participant (on-time frames / frames), and the worst participant, %. */
    onTimePct: number;
    onTimeMinPct: number;
    /** Sequence-number loss of the mix, %, frame-weighted over participants, and the worst. */
    lossPct: number;
    lossMaxPct: number;
    /** Lateness against the cadence: p99 over participants' p99, and the largest gap between two packets, ms. */
    lateP99Ms: number;
    maxGapMs: number;
    /** Longest silence at the window's end over participants (a mix that stopped), ms. */
    silentAtEndMaxMs: number;
  };
  videoStats: null | {
    /** Composed video frames per second (marker bits) per participant: mean and lowest. */
    fpsMean: number;
    fpsMin: number;
    /** fpsMin as a % of expectedFps (NaN without it). */
    fpsMinPctOfExpected: number;
    /** Distinct RTP timestamps per second (mean). */
    timestampsPerSec: number;
    lossPct: number;
  };
  /** Join -> first packet of the mix / of the composed video, ms. */
  firstAudioMs: { mean: number; p95: number; max: number };
  firstVideoMs: { mean: number; p95: number; max: number };
  /** Join -> connections up, mean ms; the whole ramp, ms. */
  connectMs: number;
  rampMs: number;
  /** Packets the participants sent in the window (audio, video). */
  sentAudio: number;
  sentVideo: number;
  /** Server process tree CPU over the window, % of one core, and per participant (NaN without serverPid). */
  serverCpuPct: number;
  serverCpuPerParticipantPct: number;
  /** Load generator CPU (this process + workers) over the window, % of one core. */
  generatorCpuPct: number;
  /** Worst event-loop delay p99 / max of the processes that timestamp arrivals, ms. */
  generatorLoopDelayP99Ms: number;
  generatorLoopDelayMaxMs: number;
  errors: string[];
  perParticipant: McuParticipantResult[];
  summary: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cpuNowUs(): number {
  const c = process.cpuUsage();
  return c.user + c.system;
}

function stats(values: number[]): { mean: number; p95: number; max: number } {
  const v = values.filter((x) => Number.isFinite(x));
  return { mean: v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN, p95: quantile(v, 0.95), max: v.length ? Math.max(...v) : NaN };
}

/** Why a participant does not count as receiving, or null when it does. */
function failure(p: McuParticipantResult, video: boolean): string | null {
  if (!p.connected) return p.error ?? 'not connected';
  const r = p.receive;
  if (!r || !r.audio || r.audio.packets === 0) return `connected but no audio mix in the window${p.trace ? ` (${p.trace.join(', ')})` : ''}`;
  if (video && (!r.video || r.video.packets === 0)) return 'connected but no composed video in the window';
  return null;
}

export async function runMcuLoad(opts: McuLoadOptions): Promise<McuLoadReport> {
  const log = opts.onProgress ?? (() => undefined);
  if (opts.target === 'janus-audiobridge' && opts.video) throw new Error('janus-audiobridge mixes audio only: video must be false');
  const nRooms = Math.max(1, Math.floor(opts.rooms));
  const perRoom = Math.max(1, Math.floor(opts.participants));
  const total = nRooms * perRoom;
  const workers = Math.max(0, Math.floor(opts.workers ?? (total <= 16 ? 0 : Math.min(2, os.availableParallelism()))));
  const prefix = opts.identityPrefix ?? 'mcu';
  const tag = Math.random().toString(36).slice(2, 8);
  const roomNames: string[] = [];
  const janusBase = opts.janusRoomBase ?? 10_000_000 + Math.floor(Math.random() * 1_000_000_000);
  for (let r = 0; r < nRooms; r++) roomNames.push(opts.target === 'janus-audiobridge' ? String(janusBase + r) : `${opts.roomPrefix ?? `mcu-load-${tag}`}-${r}`);

  const groups: McuGroup[] = [];
  const sb: McuSwitchboardTarget = { httpBase: opts.url, apiKey: opts.apiKey, apiSecret: opts.apiSecret };
  try {
    // ---- rooms
    for (const room of roomNames) {
      if (opts.target === 'switchboard') await createSwitchboardRoom(sb, room, 'mcu', perRoom + 4, log);
      else await janusAudioBridgeCreateRoom(opts.url, Number(room), { samplingRate: 48_000 });
    }

    // ---- participants (room by room, spread over the groups)
    const nGroups = Math.max(1, workers);
    const lists: McuGroupConfig['participants'][] = Array.from({ length: nGroups }, () => []);
    let i = 0;
    for (const [r, room] of roomNames.entries()) for (let p = 0; p < perRoom; p++) lists[i++ % nGroups].push({ identity: `${prefix}-${r}-${p}`, room });
    const base: Omit<McuGroupConfig, 'participants'> = {
      target: opts.target,
      switchboard: opts.target === 'switchboard' ? sb : undefined,
      janus: opts.target === 'janus-audiobridge' ? { url: opts.url } : undefined,
      video: opts.video,
      concurrency: opts.concurrency ?? 4,
      connectTimeoutMs: opts.connectTimeoutMs ?? 20_000,
    };
    const tRamp = performance.now();
    const progress = new Array<number>(nGroups).fill(0);
    let lastLog = 0;
    const connects: Promise<void>[] = [];
    for (let g = 0; g < nGroups; g++) {
      const group: McuGroup = workers === 0 ? new LocalMcuGroup() : new WorkerGroup<McuGroupConfig, McuGroupStats>('mcu-participants');
      groups.push(group);
      connects.push(
        group.connect({ ...base, participants: lists[g] }, (done) => {
          progress[g] = done;
          const sum = progress.reduce((a, b) => a + b, 0);
          if (performance.now() - lastLog > 2000 || sum === total) {
            lastLog = performance.now();
            log(`${opts.target}: ${sum}/${total} participants joined (${((performance.now() - tRamp) / 1000).toFixed(1)} s)`);
          }
        }),
      );
    }
    await Promise.all(connects);
    const rampMs = performance.now() - tRamp;

    // ---- the window
    await sleep((opts.warmupSec ?? 3) * 1000);
    const cpuGroups0 = await Promise.all(groups.map((g) => (g instanceof WorkerGroup ? g.collect().then((s) => s.cpuUs) : Promise.resolve(0))));
    await Promise.all(groups.map((g) => g.resetWindow()));
    opts.onWindow?.('start');
    const srv0 = opts.serverPid ? processTreeCpuUs(opts.serverPid) : NaN;
    const cpu0 = cpuNowUs();
    const w0 = performance.now();
    log(`${opts.target}: ${nRooms} room(s) x ${perRoom}, measuring for ${opts.durationSec} s`);
    await sleep(opts.durationSec * 1000);
    const srv1 = opts.serverPid ? processTreeCpuUs(opts.serverPid) : NaN;
    const cpu1 = cpuNowUs();
    const windowSec = (performance.now() - w0) / 1000;
    opts.onWindow?.('end');
    const results: McuGroupStats[] = await Promise.all(groups.map((g) => g.collect()));
    const cpuGroups = results.reduce((a, s, gi) => a + (groups[gi] instanceof WorkerGroup ? s.cpuUs - cpuGroups0[gi] : 0), 0);

    // ---- the report
    const all = results.flatMap((s) => s.participants);
    const ok: McuParticipantResult[] = [];
    const errors = new Map<string, number>();
    for (const p of all) {
      const why = failure(p, opts.video);
      if (why === null) ok.push(p);
      else {
        const key = why.replace(/\b[\w]+-\d+-\d+\b|\b\d{4,}\b(?! ms)|\b\d+ms\b/g, '#').slice(0, 600);
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }
    }
    const aud = ok.map((p) => ({ r: p.receive!.audio!, sec: p.receive!.windowSec }));
    const frames = aud.reduce((a, x) => a + x.r.frames, 0);
    const pps = aud.map((x) => x.r.packets / x.sec);
    const vids = opts.video ? ok.map((p) => ({ r: p.receive!.video!, sec: p.receive!.windowSec })) : [];
    const fps = vids.map((x) => x.r.markerFrames / x.sec);
    const vidPackets = vids.reduce((a, x) => a + x.r.packets, 0);
    const min = (v: number[]) => (v.length ? Math.min(...v) : NaN);
    const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN);
    const serverCpuPct = ((srv1 - srv0) / 1e6 / windowSec) * 100;
    const report: McuLoadReport = {
      target: opts.target,
      rooms: nRooms,
      participantsPerRoom: perRoom,
      participants: total,
      video: opts.video,
      durationSec: opts.durationSec,
      windowSec,
      receiving: ok.length,
      failed: total - ok.length,
      audio: {
        ppsMean: mean(pps),
        ppsMin: min(pps),
        onTimePct: frames > 0 ? (100 * aud.reduce((a, x) => a + x.r.onTime, 0)) / frames : NaN,
        onTimeMinPct: min(aud.map((x) => x.r.onTimePct).filter((v) => Number.isFinite(v))),
        lossPct: frames > 0 ? aud.reduce((a, x) => a + (Number.isFinite(x.r.lossPct) ? x.r.lossPct * x.r.frames : 0), 0) / frames : NaN,
        lossMaxPct: aud.length ? Math.max(...aud.map((x) => (Number.isFinite(x.r.lossPct) ? x.r.lossPct : 0))) : NaN,
        lateP99Ms: quantile(aud.map((x) => x.r.lateP99Ms), 0.99),
        maxGapMs: aud.length ? Math.max(...aud.map((x) => x.r.maxGapMs)) : NaN,
        silentAtEndMaxMs: aud.length ? Math.max(...aud.map((x) => x.r.silentAtEndMs)) : NaN,
      },
      videoStats: opts.video
        ? {
            fpsMean: mean(fps),
            fpsMin: min(fps),
            fpsMinPctOfExpected: opts.expectedFps ? (100 * min(fps)) / opts.expectedFps : NaN,
            timestampsPerSec: mean(vids.map((x) => x.r.timestamps / x.sec)),
            lossPct: vidPackets > 0 ? vids.reduce((a, x) => a + (Number.isFinite(x.r.lossPct) ? x.r.lossPct * x.r.packets : 0), 0) / vidPackets : NaN,
          }
        : null,
      firstAudioMs: stats(all.filter((p) => p.connected).map((p) => p.firstAudioMs)),
      firstVideoMs: stats(opts.video ? all.filter((p) => p.connected).map((p) => p.firstVideoMs) : []),
      connectMs: mean(all.filter((p) => p.connected).map((p) => p.connectMs)),
      rampMs,
      sentAudio: all.reduce((a, p) => a + p.sentAudio, 0),
      sentVideo: all.reduce((a, p) => a + p.sentVideo, 0),
      serverCpuPct,
      serverCpuPerParticipantPct: serverCpuPct / total,
      generatorCpuPct: ((cpu1 - cpu0 + cpuGroups) / 1e6 / windowSec) * 100,
      generatorLoopDelayP99Ms: Math.max(...results.map((s) => (Number.isFinite(s.loopDelayP99Ms) ? s.loopDelayP99Ms : 0))),
      generatorLoopDelayMaxMs: Math.max(...results.map((s) => (Number.isFinite(s.loopDelayMaxMs) ? s.loopDelayMaxMs : 0))),
      errors: [...errors].map(([e, n]) => `${n}x ${e}`).slice(0, 6),
      perParticipant: all,
      summary: '',
    };
    report.summary = summarizeMcu(report);
    log(report.summary);
    return report;
  } finally {
    await Promise.all(groups.map((g) => g.close().catch(() => undefined)));
    if (opts.target === 'janus-audiobridge') for (const room of roomNames) await janusAudioBridgeDestroyRoom(opts.url, Number(room)).catch(() => undefined);
  }
}

export function summarizeMcu(r: McuLoadReport): string {
  const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  const vs = r.videoStats;
  const v = vs ? `, video ${f(vs.fpsMean)} fps (min ${f(vs.fpsMin)}${Number.isFinite(vs.fpsMinPctOfExpected) ? `, ${f(vs.fpsMinPctOfExpected, 0)}% of expected` : ''}) loss ${f(vs.lossPct, 2)}%, first video ${f(r.firstVideoMs.mean, 0)} ms` : '';
  return (
    `${r.target} mcu: ${r.rooms} x ${r.participantsPerRoom} (${r.receiving}/${r.participants} receiving), ${f(r.windowSec)} s: ` +
    `audio ${f(r.audio.ppsMean)} pkt/s (min ${f(r.audio.ppsMin)}), on time ${f(r.audio.onTimePct, 2)}% (worst ${f(r.audio.onTimeMinPct, 2)}%), loss ${f(r.audio.lossPct, 2)}%, ` +
    `late p99 ${f(r.audio.lateP99Ms)} ms, max gap ${f(r.audio.maxGapMs, 0)} ms${r.audio.silentAtEndMaxMs > 100 ? `, silent for the last ${f(r.audio.silentAtEndMaxMs, 0)} ms` : ''}, first audio ${f(r.firstAudioMs.mean, 0)} ms${v}, ` +
    `server CPU ${f(r.serverCpuPct, 0)}% (${f(r.serverCpuPerParticipantPct, 2)}% per participant), generator CPU ${f(r.generatorCpuPct, 0)}%, loop delay p99 ${f(r.generatorLoopDelayP99Ms)} ms`
  );
}
