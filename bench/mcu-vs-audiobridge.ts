// MCU benchmark: Switchboard MCU rooms against Janus AudioBridge under the same audio load, then
// Switchboard alone with audio + composed video. Every participant publishes the committed Opus
// (and VP8) and receives the server's mix of everyone else (and the composed picture).
//
//   node --conditions=source --import tsx bench/mcu-vs-audiobridge.ts           full run (< 15 minutes)
//   node --conditions=source --import tsx bench/mcu-vs-audiobridge.ts --quick   smoke run (~3 minutes)
//   npx tsx bench/mcu-vs-audiobridge.ts --help                                  every option
//
// Audio: rooms of 4 and of 8 participants; the number of rooms goes up in steps (1, 2, 4, 6, 8,
// 12, 16, ...) for both servers at each step (alternating which goes first) until a step fails:
// a participant not receiving the mix, frames on time < 99% or loss > 1% (a failing step is run
// once more before a server stops, the machine is shared and noisy). Participants mixed in real
// time = the largest passing step's participants; the ratio Switchboard / Janus of those.
// Video (Switchboard only): the same with VP8 published and the composed picture received; a step
// passes with audio on time >= 99%, loss <= 1% and every participant receiving >= 90% of the
// configured frame rate (--fps, else the server's configuration, mcu.fps).
// CPU: the server's whole process tree (ffmpeg and other children included), % of one core, and
// per participant. See bench/README.md ("MCU").

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
// relative, not '@switchboard/load-test': works with `npx tsx` too (no 'source' condition there)
import { addVethAddress, runMcuLoad, shutdownLoadGenerator, writeJanusAudioBridgeConfig, processTreeCpuUs, JANUS_VETH_IP, type McuLoadReport, type McuParticipantResult, type McuTarget } from '../packages/load-test/src/index.js';
import { NETNS_MARK, reexecInNetns } from './lib/netns.js';
import { freePort, installCleanup, liveChildren, programPid, sleep, startChild, stopChild, waitTcp, type Child } from './lib/children.js';
import { allProcessTicks, ticksBetween, ticksPerSecond } from './lib/procfs.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');
const API_KEY = 'bench';
const API_SECRET = 'bench-secret-0123456789abcdef';

interface Options {
  quick: boolean;
  sizes: number[];
  /** Participant ladders (rooms = participants / size, at least one room); or explicit room counts. */
  steps: number[];
  videoSteps: number[];
  rooms: number[] | null;
  videoRooms: number[] | null;
  maxParticipants: number;
  seconds: number;
  warmup: number;
  workers: number;
  targets: McuTarget[];
  audio: boolean;
  video: boolean;
  fps: number | null;
  onTimePct: number;
  lossPct: number;
  fpsPct: number;
  retry: boolean;
  budgetSec: number;
  netns: boolean;
  build: boolean;
  out: string | null;
}

const HELP = `bench/mcu-vs-audiobridge.ts: Switchboard MCU vs Janus AudioBridge (audio), then Switchboard MCU with video

  --quick                 smoke run (~3 minutes): steps 16,32 (video 8), 6 s windows
  --sizes A,B             participants per room (default 4,8)
  --steps P1,P2,..        audio steps as participant counts; rooms = P / size (rounded, one room first):
                          default 16,32,48,64,96,128,160,192 (rooms of 4: 1,4,8,12,16,24,32,40,48;
                          rooms of 8: 1,2,4,6,8,12,16,20,24)
  --video-steps P1,..     video steps (default 8,12,16,24,32,48,64)
  --rooms A,B,..          explicit room counts of the audio steps instead of --steps
  --video-rooms A,B,..    explicit room counts of the video steps
  --max-participants N    no step above N participants (default 200)
  --seconds S             measurement window per step (default 10; quick 6)
  --warmup S              seconds between the last join and the window (default 3)
  --workers N             participant child processes of the load generator (default 2)
  --only switchboard|janus   one server only in the audio phase (no ratio)
  --no-audio | --no-video skip a phase
  --fps N                 the composed video's frame rate: set on the server (SWITCHBOARD_MCU_FPS) and
                          expected; default: the server's configuration (mcu.fps)
  --on-time P             pass threshold, % of audio frames on time (default 99)
  --loss P                pass threshold, audio loss % (default 1)
  --fps-pct P             video pass threshold, % of the frame rate every participant receives (default 90)
  --no-retry              stop a server at its first failing step (default: run a failing step once more)
  --budget-min M          start no step after M minutes (default 13.5)
  --no-netns              do not re-run inside a private network namespace (Janus then gathers no usable candidate)
  --no-build              do not run 'npx tsc -b packages/server' first
  --out FILE              JSON results (default bench/results/mcu-<timestamp>.json)
`;

function parseOptions(argv: string[]): Options {
  const value = (name: string): string | undefined => {
    const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return undefined;
    const a = argv[i];
    if (a.includes('=')) return a.slice(a.indexOf('=') + 1);
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
    return v;
  };
  const known = new Set(['quick', 'sizes', 'steps', 'video-steps', 'rooms', 'video-rooms', 'max-participants', 'seconds', 'warmup', 'workers', 'only', 'no-audio', 'no-video', 'fps', 'on-time', 'loss', 'fps-pct', 'no-retry', 'budget-min', 'no-netns', 'no-build', 'out', 'help']);
  for (const a of argv) if (a.startsWith('--') && !known.has(a.slice(2).split('=')[0])) throw new Error(`unknown option ${a} (see --help)`);
  if (argv.includes('--help')) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const quick = argv.includes('--quick') || process.env.BENCH_QUICK === '1';
  const list = (v: string | undefined, d: number[]) => (v ? v.split(',').map((x) => Number(x.trim())).filter((x) => Number.isInteger(x) && x > 0) : d);
  const num = (name: string, d: number) => {
    const v = value(name);
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} takes a number`);
    return n;
  };
  const only = value('only');
  if (only !== undefined && only !== 'switchboard' && only !== 'janus') throw new Error('--only takes switchboard or janus');
  const fps = value('fps');
  return {
    quick,
    sizes: list(value('sizes'), [4, 8]),
    steps: list(value('steps'), quick ? [16, 32] : [16, 32, 48, 64, 96, 128, 160, 192]),
    videoSteps: list(value('video-steps'), quick ? [8] : [8, 12, 16, 24, 32, 48, 64]),
    rooms: value('rooms') ? list(value('rooms'), []) : null,
    videoRooms: value('video-rooms') ? list(value('video-rooms'), []) : null,
    maxParticipants: num('max-participants', 200),
    seconds: num('seconds', quick ? 6 : 10),
    warmup: num('warmup', 3),
    workers: num('workers', 2),
    targets: only === 'switchboard' ? ['switchboard'] : only === 'janus' ? ['janus-audiobridge'] : ['switchboard', 'janus-audiobridge'],
    audio: !argv.includes('--no-audio'),
    video: !argv.includes('--no-video') && only !== 'janus',
    fps: fps === undefined ? null : Number(fps),
    onTimePct: num('on-time', 99),
    lossPct: num('loss', 1),
    fpsPct: num('fps-pct', 90),
    retry: !argv.includes('--no-retry'),
    budgetSec: num('budget-min', 13.5) * 60,
    netns: !argv.includes('--no-netns') && process.env.BENCH_NO_NETNS !== '1',
    build: !argv.includes('--no-build') && process.env.BENCH_NO_BUILD !== '1',
    out: value('out') ?? null,
  };
}

const log = (s: string) => process.stdout.write(`${s}\n`);

/** A markdown table (pipes in cells escaped). */
function mdTable(headers: string[], rows: string[][]): string {
  const cell = (c: string) => (c ?? '').replace(/\|/g, '\\|');
  return [`| ${headers.map(cell).join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}
const f = (n: number | undefined | null, d = 1) => (n === undefined || n === null || !Number.isFinite(n) ? '-' : n.toFixed(d));

// ---- servers --------------------------------------------------------------------------

interface Server {
  target: McuTarget;
  url: string;
  pid: number;
  child: Child;
  version: string;
  cleanup?: () => void;
}

function switchboardEnv(httpPort: number, sfuPort: number, stateDir: string, fps: number | null): NodeJS.ProcessEnv {
  return {
    ...process.env,
    SWITCHBOARD_HTTP_HOST: '127.0.0.1',
    SWITCHBOARD_HTTP_PORT: String(httpPort),
    SWITCHBOARD_TURN_ENABLED: 'false',
    SWITCHBOARD_STATE_DIR: stateDir,
    SWITCHBOARD_SFU_LISTENING_IP: '127.0.0.1',
    SWITCHBOARD_SFU_PORT: String(sfuPort),
    SWITCHBOARD_AUTH_KEYS: `${API_KEY}:${API_SECRET}`,
    SWITCHBOARD_ROOMS_DEFAULT_TOPOLOGY: 'mcu',
    SWITCHBOARD_LOG_LEVEL: 'warn',
    ...(fps !== null ? { SWITCHBOARD_MCU_FPS: String(fps) } : {}),
  };
}

/** The composed video's frame rate: --fps, else the server's own configuration (mcu.fps) for this environment, else 30. */
async function configuredFps(env: NodeJS.ProcessEnv, forced: number | null): Promise<{ fps: number; from: string }> {
  if (forced !== null) return { fps: forced, from: '--fps' };
  try {
    const mod = '../packages/server/src/config.js'; // a variable: the server's config is not part of this file's type check
    const { loadConfig } = (await import(mod)) as { loadConfig: (o: { env: NodeJS.ProcessEnv }) => { mcu?: { fps?: number } } };
    const fps = loadConfig({ env }).mcu?.fps;
    if (typeof fps === 'number' && fps > 0) return { fps, from: "the server's configuration (mcu.fps)" };
  } catch (err) {
    log(`note: could not read mcu.fps from the server's configuration (${(err as Error).message.split('\n')[0]}); assuming 30`);
  }
  return { fps: 30, from: 'assumed (no mcu.fps in the configuration)' };
}

async function startSwitchboard(lifetimeSec: number, fps: number | null): Promise<Server & { env: NodeJS.ProcessEnv }> {
  const [httpPort, sfuPort] = [await freePort(), await freePort()];
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'sb-bench-mcu-'));
  const env = switchboardEnv(httpPort, sfuPort, stateDir, fps);
  const child = startChild('switchboard', 'node', ['bin/switchboard.js', 'serve'], { timeoutSec: lifetimeSec, cwd: REPO, env });
  const pid = await programPid(child, 'node');
  await waitTcp(httpPort, '127.0.0.1', 20_000, child);
  let version = '?';
  try {
    version = JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("./package.json").version)'], { cwd: REPO, encoding: 'utf8' }));
  } catch {
    /* unknown */
  }
  return { target: 'switchboard', url: `http://127.0.0.1:${httpPort}`, pid, child, version, env, cleanup: () => rmSync(stateDir, { recursive: true, force: true }) };
}

async function startJanus(lifetimeSec: number): Promise<Server> {
  const wsPort = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sb-bench-janus-ab-'));
  writeJanusAudioBridgeConfig(dir, { wsPort });
  const child = startChild('janus', 'janus', ['-F', dir], { timeoutSec: lifetimeSec });
  const pid = await programPid(child, 'janus');
  await waitTcp(wsPort, '127.0.0.1', 20_000, child);
  let version = '?';
  try {
    version = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'janus'], { encoding: 'utf8' }).trim();
  } catch {
    /* unknown */
  }
  return { target: 'janus-audiobridge', url: `ws://127.0.0.1:${wsPort}`, pid, child, version, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// ---- one step -------------------------------------------------------------------------

interface StepResult {
  phase: 'audio' | 'video';
  target: McuTarget;
  size: number;
  rooms: number;
  participants: number;
  attempt: number;
  ok: boolean;
  why: string;
  report: Omit<McuLoadReport, 'perParticipant'> | null;
  error?: string;
  /** Every other process on the machine during the window (not the server tree, not the generator), % of one core. */
  otherCpuPct: number;
  /** The three participants with the fewest frames on time (failed ones first), in full. */
  worst: McuParticipantResult[];
  /** Server + generator + other: how busy the machine was (100 = one core; the machine has os.cpus().length cores). */
  busyPct: number;
}

async function runStep(phase: 'audio' | 'video', server: Server, size: number, rooms: number, opts: Options, fps: number, attempt: number, n: number): Promise<StepResult> {
  const participants = size * rooms;
  let m0: Map<number, number> | null = null;
  let srv0 = NaN;
  let machine = NaN;
  let srv = NaN;
  let t0 = 0;
  let t1 = 0;
  try {
    const report = await runMcuLoad({
      url: server.url,
      target: server.target,
      rooms,
      participants: size,
      video: phase === 'video',
      durationSec: opts.seconds,
      warmupSec: opts.warmup,
      roomPrefix: `b${n}-${phase}-${size}x${rooms}`,
      janusRoomBase: 1_000_000 + n * 1000,
      apiKey: API_KEY,
      apiSecret: API_SECRET,
      serverPid: server.pid,
      workers: opts.workers,
      expectedFps: fps,
      identityPrefix: `b${n}`,
      onProgress: (l) => log(`  ${l}`),
      onWindow: (p) => {
        if (p === 'start') {
          m0 = allProcessTicks();
          srv0 = processTreeCpuUs(server.pid);
          t0 = performance.now();
        } else {
          machine = m0 ? (ticksBetween(m0, allProcessTicks()) / ticksPerSecond()) * 1e6 : NaN;
          srv = processTreeCpuUs(server.pid) - srv0;
          t1 = performance.now();
        }
      },
    });
    const { perParticipant, ...rest } = report;
    const score = (p: McuParticipantResult) => (p.receive?.audio && Number.isFinite(p.receive.audio.onTimePct) ? p.receive.audio.onTimePct : -1);
    const worst = [...perParticipant].sort((a, b) => score(a) - score(b)).slice(0, 3);
    const winSec = (t1 - t0) / 1000;
    const otherCpuPct = ((machine - srv) / 1e6 / winSec) * 100 - report.generatorCpuPct;
    const reasons: string[] = [];
    if (report.receiving === 0) reasons.push(`nobody received the mix${phase === 'video' ? ' and the video' : ''}`);
    else {
      if (report.failed > 0) reasons.push(`${report.failed} not receiving`);
      if (!(report.audio.onTimePct >= opts.onTimePct)) reasons.push(`on time ${f(report.audio.onTimePct, 2)}%`);
      if (!(report.audio.lossPct <= opts.lossPct)) reasons.push(`loss ${f(report.audio.lossPct, 2)}%`);
      if (phase === 'video' && !(report.videoStats && report.videoStats.fpsMin >= (fps * opts.fpsPct) / 100)) reasons.push(`video min ${f(report.videoStats?.fpsMin)} fps < ${f((fps * opts.fpsPct) / 100)}`);
    }
    return { phase, target: server.target, size, rooms, participants, attempt, ok: reasons.length === 0, why: reasons.join(', '), report: rest, worst, otherCpuPct, busyPct: report.serverCpuPct + report.generatorCpuPct + otherCpuPct };
  } catch (err) {
    return { phase, target: server.target, size, rooms, participants, attempt, ok: false, why: 'error', report: null, error: (err as Error).message, worst: [], otherCpuPct: NaN, busyPct: NaN };
  }
}

// ---- report ---------------------------------------------------------------------------

const SHORT: Record<McuTarget, string> = { switchboard: 'switchboard', 'janus-audiobridge': 'janus-ab' };

function row(r: StepResult): string[] {
  const p = r.report;
  const name = `${SHORT[r.target]}${r.attempt > 1 ? ` (#${r.attempt})` : ''}`;
  if (!p) return [name, String(r.size), String(r.rooms), String(r.participants), 'FAIL', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-', (r.error ?? '').slice(0, 100)];
  const v = p.videoStats;
  return [
    name,
    String(r.size),
    String(r.rooms),
    String(r.participants),
    r.ok ? 'ok' : 'FAIL',
    `${p.receiving}`,
    `${f(p.audio.ppsMean)}/${f(p.audio.ppsMin)}`,
    `${f(p.audio.onTimePct, 2)}/${f(p.audio.onTimeMinPct, 1)}`,
    f(p.audio.lossPct, 2),
    f(p.audio.lateP99Ms, 1),
    v ? `${f(v.fpsMean)}/${f(v.fpsMin)}` : '-',
    `${f(p.firstAudioMs.mean, 0)}${v ? `/${f(p.firstVideoMs.mean, 0)}` : ''}`,
    f(p.serverCpuPct, 0),
    f(p.serverCpuPerParticipantPct, 2),
    f(p.generatorCpuPct, 0),
    f(r.otherCpuPct, 0),
    f(r.busyPct, 0),
    f(p.generatorLoopDelayP99Ms, 0),
    [r.ok ? '' : r.why, p.audio.silentAtEndMaxMs > 100 ? `a mix stopped ${f(p.audio.silentAtEndMaxMs, 0)} ms before the end` : '', p.errors.length ? p.errors[0].slice(0, 100) : ''].filter(Boolean).join('; '),
  ];
}

const HEADERS = ['server', 'size', 'rooms', 'parts', 'result', 'recv', 'pkt/s avg/min', 'on-time % all/worst', 'loss %', 'late p99 ms', 'fps avg/min', '1st audio/video ms', 'srv cpu%', 'cpu%/part', 'gen cpu%', 'other%', 'busy%', 'loop p99 ms', 'why'];

/** "160 (on time 88.4%; machine 195% busy of 200%)" */
function failNote(r: StepResult): string {
  const cores = os.cpus().length * 100;
  const busy = Number.isFinite(r.busyPct) ? `; machine ${f(r.busyPct, 0)}% busy of ${cores}%${r.busyPct >= cores * 0.9 ? ': saturated' : ''}` : '';
  return `${r.participants} (${r.why}${busy})`;
}

/** Largest passing step before the server's first failure (a passing retry counts as passing). */
function realTime(results: StepResult[], phase: 'audio' | 'video', target: McuTarget, size: number): StepResult | null {
  const mine = results.filter((r) => r.phase === phase && r.target === target && r.size === size);
  let best: StepResult | null = null;
  for (const rooms of [...new Set(mine.map((r) => r.rooms))].sort((a, b) => a - b)) {
    const tries = mine.filter((r) => r.rooms === rooms);
    const pass = tries.find((r) => r.ok);
    if (!pass) break;
    best = pass;
  }
  return best;
}

/** Room counts of a phase for rooms of `size`: explicit (--rooms), else the participant ladder / size, one room first. */
function roomSteps(opts: Options, ph: 'audio' | 'video', size: number): number[] {
  const explicit = ph === 'audio' ? opts.rooms : opts.videoRooms;
  const rooms = explicit ?? [1, ...(ph === 'audio' ? opts.steps : opts.videoSteps).map((p) => Math.max(1, Math.round(p / size)))];
  return [...new Set(rooms)].filter((r) => r * size <= opts.maxParticipants).sort((a, b) => a - b);
}

// ---- main -----------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  let netnsNote: string;
  if (process.env[NETNS_MARK] === '1') netnsNote = 'private network namespace (unshare -n)';
  else if (opts.netns && (await reexecInNetns(fileURLToPath(import.meta.url)))) return;
  else {
    netnsNote = opts.netns ? 'host network (not root or unshare -n failed)' : 'host network (--no-netns)';
    log('notice: not in a private network namespace; Janus needs 127.0.0.2 on a non-loopback interface to be reachable.');
  }
  installCleanup((sig) => log(`\n${sig}: stopping every child process (${liveChildren().join(', ') || 'none'})`));
  const tStart = performance.now();
  const elapsed = () => (performance.now() - tStart) / 1000;
  const needJanus = opts.audio && opts.targets.includes('janus-audiobridge');
  const needSwitchboard = (opts.audio && opts.targets.includes('switchboard')) || opts.video;
  let veth = 'not created';
  if (process.env[NETNS_MARK] === '1' && needJanus) veth = addVethAddress(JANUS_VETH_IP);

  let build = 'skipped (--no-build)';
  if (opts.build && needSwitchboard) {
    log('building: npx tsc -b packages/server');
    const b = spawnSync('npx', ['tsc', '-b', 'packages/server'], { cwd: REPO, encoding: 'utf8' });
    build = b.status === 0 ? 'ok' : `FAILED (benchmarking the existing dist): ${(b.stdout + b.stderr).trim().split('\n').slice(-3).join(' | ')}`;
  }
  const lifetime = 60 * 60;
  const servers = new Map<McuTarget, Server>();
  let fps = { fps: opts.fps ?? 30, from: '--fps' };
  if (needSwitchboard) {
    const sb = await startSwitchboard(lifetime, opts.fps);
    servers.set('switchboard', sb);
    fps = await configuredFps(sb.env, opts.fps);
  }
  if (needJanus) {
    if (spawnSync('which', ['janus']).status !== 0) throw new Error('janus not found: apt-get install -y janus');
    servers.set('janus-audiobridge', await startJanus(lifetime));
  }
  log(
    `mcu-vs-audiobridge: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${netnsNote}, veth ${JANUS_VETH_IP}: ${veth}, build: ${build}\n` +
      `servers: ${[...servers.values()].map((s) => `${s.target} ${s.version} pid ${s.pid} at ${s.url}`).join('; ')}\n` +
      `load: ${opts.sizes.map((z) => `rooms of ${z}: audio ${roomSteps(opts, 'audio', z).join(',')} rooms${opts.video ? `, video ${roomSteps(opts, 'video', z).join(',')}` : ''}`).join('; ')} (<= ${opts.maxParticipants} participants);\n` +
      `${opts.seconds} s windows after ${opts.warmup} s warm-up; generator ${opts.workers} worker process(es); composed video ${fps.fps} fps (${fps.from})\n` +
      `pass: every participant receiving, audio on time >= ${opts.onTimePct}%, loss <= ${opts.lossPct}%${opts.video ? `; video: min fps >= ${opts.fpsPct}% of ${fps.fps}` : ''}`,
  );

  const results: StepResult[] = [];
  let n = 0;
  let budgetHit = false;
  const phase = async (ph: 'audio' | 'video', targets: McuTarget[]) => {
    for (const size of opts.sizes) {
      const stopped = new Set<McuTarget>();
      for (const [i, rooms] of roomSteps(opts, ph, size).entries()) {
        const order = i % 2 === 0 ? targets : [...targets].reverse();
        for (const t of order) {
          if (stopped.has(t)) continue;
          const server = servers.get(t)!;
          if (!server.child.isRunning()) {
            log(`${t} has exited: ${server.child.tail.slice(-5).join(' | ')}`);
            stopped.add(t);
            continue;
          }
          for (let attempt = 1; attempt <= (opts.retry ? 2 : 1); attempt++) {
            if (elapsed() > opts.budgetSec) {
              budgetHit = true;
              return;
            }
            log(`[${elapsed().toFixed(0)} s] ${ph} ${t}: ${rooms} room(s) x ${size} = ${size * rooms} participants${attempt > 1 ? ' (again)' : ''}`);
            const r = await runStep(ph, server, size, rooms, opts, fps.fps, attempt, n++);
            results.push(r);
            log(`  -> ${r.ok ? 'ok' : `FAIL (${r.why})`}${r.error ? `: ${r.error.slice(0, 400)}` : ''}${!r.ok && r.report?.errors.length ? `; ${r.report.errors.join('; ').slice(0, 600)}` : ''}`);
            await sleep(1500); // let the server tear the rooms down
            if (r.ok) break;
            if (attempt === (opts.retry ? 2 : 1)) stopped.add(t);
          }
        }
        if (stopped.size === targets.length) break;
      }
    }
  };
  if (opts.audio) await phase('audio', opts.targets);
  if (opts.video && !budgetHit) await phase('video', ['switchboard']);

  for (const s of servers.values()) {
    await stopChild(s.child);
    s.cleanup?.();
  }
  await shutdownLoadGenerator();

  // ---- output
  log('');
  const audioRows = results.filter((r) => r.phase === 'audio');
  const videoRows = results.filter((r) => r.phase === 'video');
  if (audioRows.length) {
    log('### Audio only: Switchboard MCU vs Janus AudioBridge\n');
    log(mdTable(HEADERS, audioRows.map(row)));
  }
  if (videoRows.length) {
    log(`\n### Audio + video: Switchboard MCU (composed ${fps.fps} fps)\n`);
    log(mdTable(HEADERS, videoRows.map(row)));
  }
  log('');
  log('size = participants per room; recv = participants receiving the mix (and video); pkt/s = audio packets received per participant per second (50 expected);');
  log('on-time% = audio frames that arrived within 60 ms of their slot on a 20 ms cadence anchored at the first packet of the window (a missing sequence number is not on time),');
  log('  over every participant / the worst participant; loss% = sequence-number loss of the mix; late p99 = p99 of how late frames were against the');
  log('  earliest cadence of the window (p99 over participants);');
  log('fps = composed video frames per second (RTP marker bits) per participant, mean/min; 1st audio/video = join -> first packet, ms;');
  log('srv cpu% = the server process and all its children (utime+stime+reaped children, /proc), 100 = one core; cpu%/part = that / participants;');
  log(`gen cpu% = the load generator; other% = every other process on the machine (other users included); busy% = the three (the machine has ${os.cpus().length * 100}%);`);
  log('loop p99 = worst event-loop delay of the generator processes that timestamp arrivals.');
  log('');
  const sum: string[][] = [];
  const summary: Record<string, unknown>[] = [];
  for (const size of opts.sizes) {
    const cells: Partial<Record<McuTarget, StepResult | null>> = {};
    for (const t of opts.targets) {
      if (!audioRows.some((r) => r.target === t && r.size === size)) continue;
      const best = realTime(results, 'audio', t, size);
      cells[t] = best;
      const firstFail = audioRows.find((r) => r.target === t && r.size === size && !r.ok && !audioRows.some((o) => o.target === t && o.size === size && o.rooms === r.rooms && o.ok));
      const maxTried = Math.max(0, ...audioRows.filter((r) => r.target === t && r.size === size).map((r) => r.participants));
      sum.push([`audio, rooms of ${size}`, SHORT[t], best ? String(best.participants) : '0', firstFail ? failNote(firstFail) : `none (max tried ${maxTried}: a lower bound)`, best?.report ? f(best.report.serverCpuPerParticipantPct, 2) : '-']);
    }
    const sb = cells.switchboard;
    const ja = cells['janus-audiobridge'];
    const ratio = sb !== undefined && ja !== undefined ? (sb?.participants ?? 0) / (ja?.participants || NaN) : NaN;
    if (sb !== undefined && ja !== undefined) sum.push([`audio, rooms of ${size}`, 'ratio sb/janus', f(ratio, 2), '', sb?.report && ja?.report ? `cpu/part janus/sb ${f(ja.report.serverCpuPerParticipantPct / sb.report.serverCpuPerParticipantPct, 2)}` : '']);
    summary.push({ phase: 'audio', size, switchboard: sb?.participants ?? null, janus: ja?.participants ?? null, ratio: Number.isFinite(ratio) ? ratio : null });
    if (videoRows.some((r) => r.size === size)) {
      const v = realTime(results, 'video', 'switchboard', size);
      const firstFail = videoRows.find((r) => r.size === size && !r.ok && !videoRows.some((o) => o.size === size && o.rooms === r.rooms && o.ok));
      sum.push([`audio+video, rooms of ${size}`, 'switchboard', v ? String(v.participants) : '0', firstFail ? failNote(firstFail) : 'none (a lower bound)', v?.report ? f(v.report.serverCpuPerParticipantPct, 2) : '-']);
      summary.push({ phase: 'video', size, switchboard: v?.participants ?? null });
    }
  }
  log(mdTable(['load', 'server', 'participants mixed in real time', 'first failing step', 'cpu%/participant there'], sum));
  if (budgetHit) log(`\nstopped early: the time budget (${opts.budgetSec / 60} min) ran out; the figures above are lower bounds where no step failed.`);
  log(`total ${elapsed().toFixed(0)} s`);

  const out = opts.out ?? path.join(HERE, 'results', `mcu-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ options: opts, netns: netnsNote, build, fps, servers: [...servers.values()].map((s) => ({ target: s.target, version: s.version })), summary, results, budgetHit, totalSec: elapsed() }, null, 2));
  log(`results: ${path.relative(REPO, out)}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`mcu-vs-audiobridge: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
