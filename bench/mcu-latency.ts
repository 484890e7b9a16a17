// MCU latency: what decoding, composing/mixing and re-encoding on the server adds end to end,
// against an SFU room (direct forwarding) in the same run, with the same browser pages.
//
//   npx tsx bench/mcu-latency.ts                  both rooms, 20 video + 20 audio trials each
//   npx tsx bench/mcu-latency.ts --trials 10 --participants 2
//   npx tsx bench/mcu-latency.ts --help
//
// Headless Chromium (one browser, one page per participant; test/helpers/mcu-page.ts) against the
// built `switchboard serve`, inside a private network namespace when run as root (it re-executes
// itself under `unshare -n`, bench/lib/netns.ts). Every participant publishes a solid-colour canvas
// (captureStream) and a WebAudio tone, silent at first.
//
// Video: participant A repaints its canvas in another colour and records when
// (performance.timeOrigin + performance.now(): one clock for all pages of a browser); participant B
// watches A's region of what it receives (SFU: A's own track; MCU: A's tile in the composed picture,
// found by colour) frame by frame as they leave its decoder (MediaStreamTrackProcessor) until it shows
// the new colour. Latency = that frame out of the decoder - the repaint (also, when Chromium gives it
// in VideoFrame.metadata(), receiveTime: the frame's last packet in).
// Audio: A's oscillator is switched on (gain 0 -> 0.1) at a recorded time; B polls an analyser
// on the received track every 10 ms (Goertzel at A's frequency over the last 10 ms) and refines the
// onset inside the analyser's buffer (2 ms blocks). Both include the same browser-side costs (capture,
// encode, jitter buffer, decode, render) in both rooms, so the difference is what the MCU adds.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { NETNS_MARK, reexecInNetns } from './lib/netns.js';
import type { ServeWithBrowser } from '../test/helpers/switchboard.js';
import {
  PALETTE,
  TONES,
  colourRegions,
  compositeProblems,
  counts,
  describeGrid,
  distance,
  grid,
  innerRegion,
  joinPage,
  percentile,
  setColor,
  setTone,
  toneLevel,
  watchAudio,
  watchResult,
  watchVideo,
  type Grid,
  type ParticipantSpec,
  type Region,
  type RGB,
  type TrackSel,
} from '../test/helpers/mcu-page.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');
const log = (s: string) => process.stdout.write(`${s}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Topology = 'sfu' | 'mcu';

interface Options {
  trials: number;
  participants: number;
  topologies: Topology[];
  mcuWidth: number;
  mcuHeight: number;
  mcuFps: number;
  netns: boolean;
  out: string | null;
}

const HELP = `bench/mcu-latency.ts: end-to-end latency of an MCU room vs an SFU room (Chromium)

  --trials N            video and audio trials per room (default 20)
  --participants N      participants per room, 2..4 (default 4; A = the first, B = the second)
  --only sfu|mcu        one room only (no difference)
  --mcu-size WxH        SWITCHBOARD_MCU_WIDTH/HEIGHT (default 640x360)
  --mcu-fps N           SWITCHBOARD_MCU_FPS (default 15)
  --no-netns            do not re-run inside a private network namespace
  --out FILE            JSON results (default bench/results/mcu-latency-<timestamp>.json)
`;

function parseOptions(argv: string[]): Options {
  const value = (name: string): string | undefined => {
    const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return undefined;
    const a = argv[i]!;
    if (a.includes('=')) return a.slice(a.indexOf('=') + 1);
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
    return v;
  };
  const known = new Set(['trials', 'participants', 'only', 'mcu-size', 'mcu-fps', 'no-netns', 'out', 'help']);
  for (const a of argv) if (a.startsWith('--') && !known.has(a.slice(2).split('=')[0]!)) throw new Error(`unknown option ${a} (see --help)`);
  if (argv.includes('--help')) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const int = (name: string, d: number, lo: number, hi: number) => {
    const v = value(name);
    const n = v === undefined ? d : Number(v);
    if (!Number.isInteger(n) || n < lo || n > hi) throw new Error(`--${name} takes an integer ${lo}..${hi}`);
    return n;
  };
  const only = value('only');
  if (only !== undefined && only !== 'sfu' && only !== 'mcu') throw new Error('--only takes sfu or mcu');
  const size = (value('mcu-size') ?? '640x360').split('x').map(Number);
  if (size.length !== 2 || !size.every((n) => Number.isInteger(n) && n >= 64 && n <= 3840)) throw new Error('--mcu-size takes WxH');
  return {
    trials: int('trials', 20, 1, 1000),
    participants: int('participants', 4, 2, 4),
    topologies: only ? [only] : ['sfu', 'mcu'],
    mcuWidth: size[0]!,
    mcuHeight: size[1]!,
    mcuFps: int('mcu-fps', 15, 1, 60),
    netns: !argv.includes('--no-netns') && process.env.BENCH_NO_NETNS !== '1',
    out: value('out') ?? null,
  };
}

interface Stats {
  n: number;
  failed: number;
  p50: number;
  p95: number;
  mean: number;
  min: number;
  max: number;
}

function stats(values: number[], failed: number): Stats {
  return {
    n: values.length,
    failed,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    mean: values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1),
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

interface RoomResult {
  topology: Topology;
  /** Decoded: the frame out of B's decoder - repaint. */
  video: number[];
  /** Received: receiveTime (last packet of the frame) - repaint. */
  videoReceived: number[];
  /** Tone onset in the received audio - oscillator on. */
  audio: number[];
  videoFailed: number;
  audioFailed: number;
  notes: string[];
}

/** Complement: far from the base colour (red -> cyan), so a change is unmistakable. */
const complement = (c: RGB): RGB => [255 - c[0], 255 - c[1], 255 - c[2]];

async function measureRoom(env: ServeWithBrowser, topology: Topology, opts: Options): Promise<RoomResult> {
  const room = `latency-${topology}`;
  const created = await env.admin('POST', '/api/rooms', { name: room, topology });
  if (created.status !== 201) throw new Error(`creating the ${topology} room: ${created.status} ${JSON.stringify(created.json)}`);
  const names = Object.keys(PALETTE).slice(0, opts.participants);
  const specs: ParticipantSpec[] = names.map((name, i) => ({ identity: `p${i}-${name}`, color: PALETTE[name]!, tone: TONES[i]!, toneOff: true }));
  const pages: Page[] = [];
  const result: RoomResult = { topology, video: [], videoReceived: [], audio: [], videoFailed: 0, audioFailed: 0, notes: [] };
  try {
    for (const s of specs) pages.push(await joinPage(env, room, s));
    const [a, b] = pages as [Page, Page];
    const A = specs[0]!;
    const sel: TrackSel = topology === 'mcu' ? { from: 'mcu' } : { from: A.identity };
    const others = topology === 'mcu' ? 1 : opts.participants - 1;
    await until(`B receives ${others} video + ${others} audio`, () => counts(b), (c) => c.video === others && c.audio === others, 60_000);

    // where A is in what B receives
    let region: Region = { x0: 0.25, y0: 0.25, x1: 0.75, y1: 0.75 };
    const present = names;
    const seen = await until(
      `B sees ${topology === 'mcu' ? 'every colour in the composed picture' : "A's colour"}`,
      async () => {
        const g = await grid(b, sel);
        return { g, problems: topology === 'mcu' ? compositeProblems(g, { present, minCells: 4 }) : compositeProblems(g, { present: [names[0]!], minCells: 100 }) };
      },
      (v) => v.problems.length === 0,
      60_000,
    );
    if (topology === 'mcu') {
      region = innerRegion(colourRegions(seen.g)[names[0]!]!, seen.g, 1);
      result.notes.push(`A's tile: ${JSON.stringify(region)} of ${describeGrid(seen.g)}`);
    }
    log(`  ${topology}: ${opts.participants} participants joined; A's region in B's video ${fmtRegion(region)}`);

    // video: A alternates between its colour and the complement
    const base = A.color!;
    const alt = complement(base);
    let current = base;
    for (let i = 0; i < opts.trials; i++) {
      const target = current === base ? alt : base;
      const tol = distance(base, alt) * 0.3;
      const id = await watchVideo(b, sel, region, target, tol, 5000);
      const t0 = await setColor(a, target);
      const r = await watchResult(b, id);
      if (r.ok && r.t) {
        result.video.push(r.t - t0);
        if (r.received) result.videoReceived.push(r.received - t0);
        current = target;
      } else {
        result.videoFailed++;
        result.notes.push(`video trial ${i}: ${JSON.stringify(r)}`);
        // let it settle on the target before the next trial
        current = target;
        await sleep(1500);
      }
      await sleep(250 + Math.random() * 350);
    }
    await setColor(a, base);

    // audio: A's tone on (everyone else silent), B waits for it, A's tone off
    const freq = A.tone!;
    const threshold = 0.03; // of 0.1
    for (let i = 0; i < opts.trials; i++) {
      await until('B hears silence at A\'s frequency', () => toneLevel(b, sel, freq), (l) => l >= 0 && l < threshold / 4, 5000).catch((e: Error) => result.notes.push(`audio trial ${i}: ${e.message}`));
      const id = await watchAudio(b, sel, freq, threshold, 5000);
      const t0 = await setTone(a, true);
      const r = await watchResult(b, id);
      await setTone(a, false);
      if (r.ok && r.t) result.audio.push(r.t - t0);
      else {
        result.audioFailed++;
        result.notes.push(`audio trial ${i}: ${JSON.stringify(r)}`);
      }
      await sleep(400 + Math.random() * 400);
    }
  } finally {
    for (const p of pages) await p.close().catch(() => undefined);
  }
  return result;
}

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await fn();
    if (ok(last)) return last;
    await sleep(100);
  }
  const shown = JSON.stringify(last, (k, v) => (k === 'cells' ? `[${(v as number[]).length} values]` : v));
  throw new Error(`${what}: not within ${timeoutMs} ms; last ${shown}${last && typeof last === 'object' && 'g' in last ? ' ' + describeGrid((last as { g: Grid }).g) : ''}`);
}

const fmtRegion = (r: Region) => `x ${r.x0.toFixed(2)}..${r.x1.toFixed(2)}, y ${r.y0.toFixed(2)}..${r.y1.toFixed(2)}`;
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(1).padStart(7) : '      -');

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  let netnsNote: string;
  if (process.env[NETNS_MARK] === '1') netnsNote = 'private network namespace (unshare -n)';
  else if (opts.netns && (await reexecInNetns(fileURLToPath(import.meta.url)))) return;
  else netnsNote = opts.netns ? 'host network (not root or unshare -n failed)' : 'host network (--no-netns)';

  // Build before loading the helpers (they import workspace packages from their dist).
  log('building: npx tsc -b packages/server packages/client && node scripts/build-sdk.mjs');
  const b = spawnSync('bash', ['-c', 'npx tsc -b packages/server packages/client && node scripts/build-sdk.mjs'], { cwd: REPO, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`build failed:\n${b.stdout}\n${b.stderr}`);
  const { startServeWithBrowser } = await import('../test/helpers/switchboard.js');
  const mcuEnv = { SWITCHBOARD_MCU_WIDTH: String(opts.mcuWidth), SWITCHBOARD_MCU_HEIGHT: String(opts.mcuHeight), SWITCHBOARD_MCU_FPS: String(opts.mcuFps) };
  const env = await startServeWithBrowser(mcuEnv);
  log(
    `mcu-latency: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${netnsNote}, server at ${env.base}\n` +
      `rooms: ${opts.topologies.join(', ')}; ${opts.participants} participants (canvas 320x180 @ 15 fps, no simulcast; tones ${TONES.slice(0, opts.participants).join(', ')} Hz); ` +
      `MCU ${opts.mcuWidth}x${opts.mcuHeight} @ ${opts.mcuFps} fps; ${opts.trials} video + ${opts.trials} audio trials per room`,
  );
  const results: RoomResult[] = [];
  try {
    for (const t of opts.topologies) {
      log(`${t} room ...`);
      try {
        results.push(await measureRoom(env, t, opts));
      } catch (e) {
        log(`  ${t}: FAILED: ${(e as Error).message}`);
        results.push({ topology: t, video: [], videoReceived: [], audio: [], videoFailed: opts.trials, audioFailed: opts.trials, notes: [(e as Error).message] });
      }
    }
  } finally {
    await env.stop();
  }

  log('\nlatency, ms (publish -> received by another participant)');
  log(`${'room'.padEnd(6)} ${'what'.padEnd(22)} ${'n'.padStart(3)} ${'fail'.padStart(4)} ${'p50'.padStart(7)} ${'p95'.padStart(7)} ${'mean'.padStart(7)} ${'min'.padStart(7)} ${'max'.padStart(7)}`);
  const summary: Record<string, Record<string, Stats>> = {};
  for (const r of results) {
    const rows: [string, number[], number][] = [
      ['video (decoded)', r.video, r.videoFailed],
      ['video (last packet in)', r.videoReceived, r.videoFailed],
      ['audio (tone onset)', r.audio, r.audioFailed],
    ];
    summary[r.topology] = {};
    for (const [what, values, failed] of rows) {
      if (what === 'video (last packet in)' && values.length === 0) continue; // Chromium gave no receiveTime
      const s = stats(values, failed);
      summary[r.topology]![what] = s;
      log(`${r.topology.padEnd(6)} ${what.padEnd(22)} ${String(s.n).padStart(3)} ${String(s.failed).padStart(4)} ${ms(s.p50)} ${ms(s.p95)} ${ms(s.mean)} ${ms(s.min)} ${ms(s.max)}`);
    }
  }
  if (summary.sfu && summary.mcu) {
    log('\nwhat the MCU adds (MCU - SFU), ms');
    for (const what of Object.keys(summary.mcu)) {
      const m = summary.mcu[what]!;
      const s = summary.sfu[what]!;
      log(`  ${what.padEnd(22)} p50 ${ms(m.p50 - s.p50)}   p95 ${ms(m.p95 - s.p95)}`);
    }
  }
  for (const r of results) for (const n of r.notes) log(`note (${r.topology}): ${n}`);
  const out = opts.out ?? path.join(REPO, 'bench', 'results', `mcu-latency-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), options: opts, netns: netnsNote, cpus: os.cpus().length, summary, results }, null, 2));
  log(`\nresults: ${path.relative(process.cwd(), out)}`);
  const failed = results.some((r) => r.video.length === 0 || r.audio.length === 0);
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
  process.stderr.write(`mcu-latency: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
