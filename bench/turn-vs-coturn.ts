// TURN benchmark: Switchboard against coturn under the same turnutils_uclient load, on this machine.
//
//   npm run bench:turn                 full run (about 9 minutes)
//   npm run bench:turn -- --quick      smoke run (about 2 minutes)
//
// See bench/README.md for what is measured, the options and how to read the table.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { NETNS_MARK, reexecInNetns } from './lib/netns.js';
import { installCleanup, killAllNow, liveChildren, sleep } from './lib/children.js';
import { fmtInt, RUN_HEADERS, RUN_LEGEND, runRow, table, type RunRecord } from './lib/report.js';
import { errorLine, startPeer, startServer, type RunningPeer, type RunningServer, type ServerKind } from './lib/servers.js';
import { MODE_LABEL, offeredRate, runUclient, uclientArgs, type Load, type Mode } from './lib/uclient.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');

// ---- options ------------------------------------------------------------------------

interface Options {
  quick: boolean;
  threads: number;
  /** Seconds each allocation sends for (-n = seconds * 1000 / -z). */
  sendSeconds: number;
  /** UDP ChannelData rates run for both servers whatever happens (loss and CPU at fixed rates). */
  fixedRates: number[];
  /** Search grid; above the fixed rates a server stops once it is clearly past its limit. */
  gridRates: number[];
  maxRate: number;
  refine: boolean;
  secondaryRate: number;
  secondaryModes: Mode[];
  length: number;
  relayMin: number;
  relayMax: number;
  /** Seconds of silence after the last send before the client is stopped (0 = let it wait its 10 s). */
  earlyStopSec: number;
  netns: boolean;
  build: boolean;
  out: string | null;
  servers: ServerKind[];
  /** The Switchboard tree to build and run (default: this repository). */
  sbRoot: string;
  /** Extra arguments for `switchboard turn` and for `turnserver`. */
  sbArgs: string[];
  coturnArgs: string[];
}

const HELP = `bench/turn-vs-coturn.ts: Switchboard vs coturn TURN relay under turnutils_uclient load

  --quick                 smoke run, about 2 minutes (env BENCH_QUICK=1)
  --threads N             relay threads for both servers (env BENCH_THREADS; default: CPU count)
  --seconds S             seconds each allocation sends (env BENCH_SECONDS; default 9, quick 6);
                          uclient starts each allocation 1-6 s late, so all send together for about S - 5 s
  --fixed R1,R2,..        UDP ChannelData rates (msgs/s) run for both servers (env BENCH_FIXED_RATES;
                          default 10000,25000,40000,50000; quick 50000). Rates up to 25000 use -z 2,
                          above -z 1; -m = rate x z / 1000
  --max-rate R            highest rate the search tries (env BENCH_MAX_RATE; default 150000); the search
                          steps are the highest fixed rate + 10000, then every 15000 (60k, 75k, 90k, ...)
  --no-refine             no midpoint runs between the last no-loss and the first lossy rate
  --secondary-rate R      rate for the Send-indication and TCP rows (env BENCH_SECONDARY_RATE; default 25000, quick 20000)
  --no-secondary          skip the Send-indication and TCP rows
  --length L              message length, -l (default 170)
  --no-early-stop         let every uclient run to its end. By default a client that has sent everything
                          and received nothing more for 3 s is stopped instead of waiting its 10 s for lost
                          messages (only lossy runs wait like that); their loss then comes from the last
                          once-a-second line (sent - received) instead of the final lines
  --only switchboard|coturn   run one server only (no ratio)
  --sb-arg ARG            an extra argument for 'switchboard turn' (repeatable), e.g. --sb-arg=--udp-io=dgram
  --coturn-arg ARG        an extra argument for turnserver (repeatable)
  --sb-root DIR           build and run the Switchboard tree in DIR instead of this repository, e.g. a
                          'git archive' snapshot with node_modules, to compare a baseline (env BENCH_SB_ROOT)
  --no-netns              do not re-run inside a private network namespace (env BENCH_NO_NETNS=1)
  --no-build              do not run 'npx tsc -b packages/server' first (env BENCH_NO_BUILD=1)
  --out FILE              JSON results file (default bench/results/turn-<timestamp>.json)
`;

function parseOptions(argv: string[]): Options {
  const env = process.env;
  const flag = (name: string) => argv.includes(`--${name}`);
  const value = (name: string, envName?: string): string | undefined => {
    const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i >= 0) {
      const a = argv[i];
      if (a.includes('=')) return a.slice(a.indexOf('=') + 1);
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
      return v;
    }
    return envName ? env[envName] : undefined;
  };
  const known = new Set(['quick', 'threads', 'seconds', 'fixed', 'max-rate', 'no-refine', 'secondary-rate', 'no-secondary', 'length', 'no-early-stop', 'only', 'sb-root', 'sb-arg', 'coturn-arg', 'no-netns', 'no-build', 'out', 'help']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const name = a.slice(2).split('=')[0];
    if (!known.has(name)) throw new Error(`unknown option ${a} (see --help)`);
    if ((name === 'sb-arg' || name === 'coturn-arg') && !a.includes('=')) i++; // its value may start with --
  }
  if (flag('help')) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const values = (name: string): string[] => {
    const out: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === `--${name}` && argv[i + 1] !== undefined) out.push(argv[++i]);
      else if (argv[i].startsWith(`--${name}=`)) out.push(argv[i].slice(name.length + 3));
    }
    return out;
  };
  const num = (name: string, envName: string | undefined, dflt: number): number => {
    const v = value(name, envName);
    if (v === undefined || v === '') return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: expected a positive number, got ${JSON.stringify(v)}`);
    return n;
  };
  const quick = flag('quick') || env.BENCH_QUICK === '1';
  const maxRate = num('max-rate', 'BENCH_MAX_RATE', 150_000);
  const fixedText = value('fixed', 'BENCH_FIXED_RATES');
  const fixedRates = (fixedText ? fixedText.split(',').map((s) => Number(s.trim())) : quick ? [50_000] : [10_000, 25_000, 40_000, 50_000]).filter(
    (r) => Number.isFinite(r) && r > 0,
  );
  for (const r of fixedRates) rateToLoad(r, 'channel', 1, 170); // validates
  const grid = quick
    ? [...fixedRates]
    : [...new Set([...fixedRates, ...Array.from({ length: 40 }, (_, i) => Math.max(...fixedRates) + 10_000 + i * 15_000)])].filter(
        (r) => r <= Math.max(maxRate, ...fixedRates),
      );
  grid.sort((a, b) => a - b);
  const only = value('only');
  if (only && only !== 'switchboard' && only !== 'coturn') throw new Error('--only: switchboard or coturn');
  return {
    quick,
    threads: num('threads', 'BENCH_THREADS', os.cpus().length),
    sendSeconds: num('seconds', 'BENCH_SECONDS', quick ? 6 : 9),
    fixedRates,
    gridRates: grid,
    maxRate,
    refine: !quick && !flag('no-refine'),
    secondaryRate: num('secondary-rate', 'BENCH_SECONDARY_RATE', quick ? 20_000 : 25_000),
    secondaryModes: flag('no-secondary') ? [] : ['send', 'tcp'],
    length: num('length', undefined, 170),
    earlyStopSec: flag('no-early-stop') ? 0 : 3,
    relayMin: 20_000,
    relayMax: 29_999,
    netns: !flag('no-netns') && env.BENCH_NO_NETNS !== '1',
    build: !flag('no-build') && env.BENCH_NO_BUILD !== '1',
    out: value('out') ?? null,
    servers: only ? [only as ServerKind] : ['switchboard', 'coturn'],
    sbRoot: path.resolve(value('sb-root', 'BENCH_SB_ROOT') ?? REPO),
    sbArgs: values('sb-arg'),
    coturnArgs: values('coturn-arg'),
  };
}

/**
 * The uclient load for an offered rate: -z 2 (500 msgs/s per allocation) up to 25k msgs/s,
 * -z 1 (1000 msgs/s per allocation) above; -m follows from the rate.
 */
function rateToLoad(rate: number, mode: Mode, sendSeconds: number, length: number): Load {
  const intervalMs = rate <= 25_000 ? 2 : 1;
  const perAlloc = 1000 / intervalMs;
  const allocations = Math.round(rate / perAlloc);
  if (allocations < 1 || Math.abs(allocations * perAlloc - rate) > 0.5) {
    throw new Error(`rate ${rate} is not a multiple of ${perAlloc} msgs/s (one allocation at -z ${intervalMs})`);
  }
  return { mode, allocations, intervalMs, messages: Math.round((sendSeconds * 1000) / intervalMs), length };
}

// ---- network namespace ----------------------------------------------------------------


// ---- helpers --------------------------------------------------------------------------

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    return '';
  }
}

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function sysctl(name: string): string {
  try {
    return readFileSync(`/proc/sys/${name.replace(/\./g, '/')}`, 'utf8').trim().replace(/\s+/g, ' ');
  } catch {
    return '?';
  }
}

function log(msg: string): void {
  process.stdout.write(`${msg}\n`);
}

const elapsed = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(0)}s`;

// ---- one run ------------------------------------------------------------------------

let seq = 0;

async function runOne(opts: Options, kind: ServerKind, load: Load, phase: RunRecord['phase']): Promise<RunRecord> {
  const n = seq++;
  // Fresh ports per run: nothing of the previous server (TCP TIME_WAIT, late datagrams) is in the way.
  const serverPort = 4000 + (n % 400) * 4;
  const peerPort = serverPort + 2;
  // uclient: up to ~10 s to allocate, 1-6 s random start, the sending, then up to 10 s waiting
  // for lost messages (its STOPPING_TIME) and a margin.
  const uclientTimeout = Math.ceil(opts.sendSeconds + 45);
  const lifetime = uclientTimeout + 30;
  const rec: RunRecord = {
    seq: n,
    phase,
    mode: load.mode,
    server: kind,
    offered: offeredRate(load),
    serverThreads: null,
    serverPid: 0,
    startedAt: new Date().toISOString(),
  };
  let server: RunningServer | null = null;
  let peer: RunningPeer | null = null;
  const tStart = performance.now();
  let tClient = tStart;
  let tStop = tStart;
  try {
    server = await startServer({
      kind,
      port: serverPort,
      relayMin: opts.relayMin,
      relayMax: opts.relayMax,
      threads: opts.threads,
      lifetimeSec: lifetime,
      repoRoot: opts.sbRoot,
      extraArgs: kind === 'switchboard' ? opts.sbArgs : opts.coturnArgs,
      tmpDir: path.join(os.tmpdir(), `switchboard-bench-${process.pid}`),
    });
    rec.serverThreads = server.threadsReported;
    rec.command = server.command;
    rec.startupInfo = server.startupInfo;
    rec.serverPid = server.pid;
    peer = await startPeer(peerPort, lifetime);
    tClient = performance.now();
    rec.result = await runUclient({
      load,
      serverPort,
      serverPid: server.pid,
      peerPort,
      peerPid: peer.pid,
      relayMin: opts.relayMin,
      relayMax: opts.relayMax,
      timeoutSec: uclientTimeout,
      earlyStopSec: opts.earlyStopSec,
    });
    if (!server.child.isRunning()) rec.error = `${kind} exited during the run: ${errorLine(server.child.tail)}`;
  } catch (err) {
    rec.error = (err as Error).message.split('\n')[0];
  } finally {
    tStop = performance.now();
    await peer?.stop();
    await server?.stop();
    const tEnd = performance.now();
    rec.timing = { start: Math.round(tClient - tStart), client: Math.round(tStop - tClient), stop: Math.round(tEnd - tStop) };
  }
  return rec;
}

function describe(rec: RunRecord): string {
  const r = rec.result;
  if (!r) return `error: ${rec.error}`;
  const s = r.steady;
  const loss = r.lossless ? 'no loss' : `LOSS ${r.lossPct.toFixed(r.lossPct < 1 ? 3 : 1)}%${r.timedOut ? ' (timeout)' : ''}`;
  const rates = s ? `sent ${fmtInt(s.sendRate)}/s, delivered ${fmtInt(s.recvRate)}/s` : 'no steady window';
  const cpu = s ? `, server CPU ${s.serverCpuPct.toFixed(0)}% (threads ${s.serverThreads.slice(0, 3).map((t) => t.cpuPct.toFixed(0)).join('/')})` : '';
  return `${loss}; ${rates}${cpu}; ${r.wallSec.toFixed(0)} s`;
}

// ---- the session ----------------------------------------------------------------------

interface Summary {
  server: ServerKind;
  runs: number;
  /** Runs without a measurement (the server did not start, or the client could not run). */
  failedRuns: number;
  maxNoLossRate: number | null;
  /** Delivered rate measured at that offered rate (steady window). */
  maxNoLossDelivered: number | null;
  firstLossRate: number | null;
}

function summarize(records: RunRecord[], kind: ServerKind): Summary {
  const runs = records.filter((r) => r.server === kind && r.mode === 'channel');
  const measured = runs.filter((r) => r.result);
  const ok = measured.filter((r) => r.result!.lossless && !r.error);
  const best = ok.sort((a, b) => b.offered - a.offered)[0];
  const max = best ? best.offered : null;
  const lossy = measured.filter((r) => !r.result!.lossless && (max === null || r.offered > max)).sort((a, b) => a.offered - b.offered);
  return {
    server: kind,
    runs: runs.length,
    failedRuns: runs.length - measured.length,
    maxNoLossRate: max,
    maxNoLossDelivered: best?.result?.steady?.recvRate ?? null,
    firstLossRate: lossy[0]?.offered ?? null,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opts = parseOptions(argv);

  let netnsNote: string;
  if (process.env[NETNS_MARK] === '1') {
    netnsNote = 'private network namespace (unshare -n, loopback only)';
  } else if (opts.netns && (await reexecInNetns(fileURLToPath(import.meta.url)))) {
    return; // not reached: reexecInNetns exits with the child's status
  } else {
    netnsNote = opts.netns ? 'host network (not root or unshare -n failed)' : 'host network (--no-netns)';
    if (opts.netns) log('notice: not running in a private network namespace (needs root and a working `unshare -n`); using this host\'s loopback. Servers still bind 127.0.0.1 only.');
  }

  installCleanup((sig) => log(`\n${sig}: stopping every child process (${liveChildren().join(', ') || 'none'})`));
  const t0 = performance.now();

  for (const cmd of ['turnserver', 'turnutils_uclient', 'turnutils_peer', 'timeout']) {
    if (!have(cmd)) throw new Error(`${cmd} not found: install coturn (apt-get install -y coturn) and coreutils`);
  }

  let build = 'skipped (--no-build)';
  if (opts.build) {
    log('building: npx tsc -b packages/server');
    const b = spawnSync('npx', ['tsc', '-b', 'packages/server'], { cwd: opts.sbRoot, encoding: 'utf8' });
    if (b.status === 0) build = 'ok';
    else {
      const out = `${b.stdout ?? ''}${b.stderr ?? ''}`.trim().split('\n').slice(0, 15).join('\n');
      if (!existsSync(path.join(opts.sbRoot, 'packages/server/dist/cli.js'))) throw new Error(`build failed and there is no built server:\n${out}`);
      build = 'FAILED: using the existing (possibly stale) dist';
      log(`warning: build failed, benchmarking the existing dist:\n${out}`);
    }
  }

  const env = {
    date: new Date().toISOString(),
    host: os.hostname(),
    kernel: os.release(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? '?',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    coturn: sh('dpkg-query', ['-W', '-f=${Version}', 'coturn']) || '?',
    switchboard: JSON.parse(readFileSync(path.join(opts.sbRoot, 'package.json'), 'utf8')).version as string,
    switchboardRoot: opts.sbRoot,
    git: existsSync(path.join(opts.sbRoot, '.git')) ? sh('git', ['-C', opts.sbRoot, 'rev-parse', '--short', 'HEAD']) : 'not a git checkout',
    gitDirty: existsSync(path.join(opts.sbRoot, '.git')) && sh('git', ['-C', opts.sbRoot, 'status', '--porcelain', 'packages']) !== '',
    build,
    network: netnsNote,
    sysctl: {
      'net.core.rmem_max': sysctl('net.core.rmem_max'),
      'net.core.wmem_max': sysctl('net.core.wmem_max'),
      'net.core.rmem_default': sysctl('net.core.rmem_default'),
      'net.core.wmem_default': sysctl('net.core.wmem_default'),
    },
    loadavg: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };

  log(`Switchboard ${env.switchboard} in ${opts.sbRoot} (git ${env.git}${env.gitDirty ? ', packages/ has uncommitted changes' : ''}; build ${build}) vs coturn ${env.coturn}`);
  log(`${env.cpus} x ${env.cpuModel}, kernel ${env.kernel}, Node ${env.node}, load average ${env.loadavg}`);
  log(`network: ${netnsNote}; rmem_max ${env.sysctl['net.core.rmem_max']}, wmem_max ${env.sysctl['net.core.wmem_max']}`);
  log(`mode: ${opts.quick ? 'quick' : 'full'}; relay threads for both: ${opts.threads}; each allocation sends ${opts.sendSeconds} s; -l ${opts.length}; ${opts.earlyStopSec ? `lossy clients stopped ${opts.earlyStopSec} s after their last message` : 'uclient always runs to its end'}`);
  log(`UDP ChannelData rates: fixed ${opts.fixedRates.map(fmtInt).join(', ')}${opts.quick ? '' : `; search up to ${fmtInt(Math.max(...opts.gridRates))}`}`);
  const exampleLoad = rateToLoad(opts.fixedRates[0], 'channel', opts.sendSeconds, opts.length);
  log(`load: turnutils_uclient ${uclientArgs(exampleLoad, 0, 0).join(' ').replace('-r 0 -p 0', '-r PEER -p PORT')} (example)\n`);

  const records: RunRecord[] = [];
  const servers = opts.servers;
  const unavailable = new Set<ServerKind>();
  const startFailures = new Map<ServerKind, number>();
  const runStep = async (rate: number, who: ServerKind[], stepIndex: number, mode: Mode, phase: RunRecord['phase']) => {
    // Alternate which server goes first, so slow drift does not favour one of them.
    const order = stepIndex % 2 === 0 ? who : [...who].reverse();
    const done = new Map<ServerKind, RunRecord>();
    for (const kind of order) {
      if (unavailable.has(kind)) continue;
      const load = rateToLoad(rate, mode, opts.sendSeconds, opts.length);
      process.stdout.write(`[${elapsed(t0)}] ${MODE_LABEL[mode]} ${fmtInt(rate)} msgs/s (-m ${load.allocations} -z ${load.intervalMs} -n ${load.messages}) ${kind}: `);
      const rec = await runOne(opts, kind, load, phase);
      records.push(rec);
      done.set(kind, rec);
      log(describe(rec));
      // A server that cannot start twice in a row is left out of the rest of the session.
      if (!rec.result && /while starting|did not report|could not find/.test(rec.error ?? '')) {
        const n = (startFailures.get(kind) ?? 0) + 1;
        startFailures.set(kind, n);
        if (n >= 2) {
          unavailable.add(kind);
          log(`${kind} failed to start twice: left out of the remaining runs`);
        }
      } else startFailures.set(kind, 0);
    }
    return done;
  };

  // 1. UDP ChannelData: fixed rates for both, then step up while a server is still relaying
  //    without loss (it stops after two lossy steps in a row or one with >= 5% loss).
  const state = new Map<ServerKind, { active: boolean; lossyInARow: number }>(servers.map((s) => [s, { active: true, lossyInARow: 0 }]));
  let step = 0;
  for (const rate of opts.gridRates) {
    const fixed = opts.fixedRates.includes(rate);
    const who = servers.filter((s) => fixed || state.get(s)!.active);
    if (who.length === 0) break;
    const done = await runStep(rate, who, step++, 'channel', 'search');
    for (const kind of who) {
      const rec = done.get(kind);
      const st = state.get(kind)!;
      const r = rec?.result;
      if (r && r.lossless) st.lossyInARow = 0;
      else {
        st.lossyInARow++;
        if (rate >= Math.max(...opts.fixedRates) && (st.lossyInARow >= 2 || !r || r.lossPct >= 5)) st.active = false;
      }
    }
  }

  // 2. Refinement: the midpoint between a server's best no-loss rate and its first lossy one,
  //    run for every server whose bracket holds it.
  if (opts.refine) {
    const brackets = servers.map((k) => summarize(records, k));
    const mids = new Set<number>();
    for (const s of brackets) {
      if (s.maxNoLossRate !== null && s.firstLossRate !== null && s.firstLossRate - s.maxNoLossRate > 5_000) {
        mids.add(Math.round((s.maxNoLossRate + s.firstLossRate) / 2 / 5_000) * 5_000);
      }
    }
    for (const rate of [...mids].sort((a, b) => a - b)) {
      const who = brackets.filter((s) => s.maxNoLossRate !== null && s.firstLossRate !== null && s.maxNoLossRate < rate && rate < s.firstLossRate).map((s) => s.server);
      if (who.length) await runStep(rate, who, step++, 'channel', 'refine');
    }
  }

  // 3. Secondary rows: Send indications and TCP at one rate.
  for (const mode of opts.secondaryModes) await runStep(opts.secondaryRate, servers, step++, mode, 'secondary');

  // ---- report ----
  const threadsUsed = servers.map((k) => `${k} ${[...new Set(records.filter((r) => r.server === k).map((r) => r.serverThreads))].map(fmtInt).join(',')}`).join(', ');
  log(`\n=== UDP ChannelData (uclient -c -l ${opts.length}); relay threads reported: ${threadsUsed} ===`);
  const udp = records.filter((r) => r.mode === 'channel' && r.phase !== 'secondary').sort((a, b) => a.offered - b.offered || a.server.localeCompare(b.server) || a.seq - b.seq);
  log(table(RUN_HEADERS, udp.map(runRow), new Set([1, 2, 7])));
  if (opts.secondaryModes.length) {
    log(`\n=== Secondary: ${opts.secondaryModes.map((m) => MODE_LABEL[m]).join(' and ')} at ${fmtInt(opts.secondaryRate)} msgs/s ===`);
    const sec = records.filter((r) => r.phase === 'secondary');
    log(
      table(
        ['mode', ...RUN_HEADERS],
        sec.map((r) => [MODE_LABEL[r.mode], ...runRow(r)]),
        new Set([0, 2, 3, 8]),
      ),
    );
  }
  log('');
  for (const l of RUN_LEGEND) log(l);

  const summaries = servers.map((k) => summarize(records, k));
  log('\n=== Highest UDP ChannelData rate relayed with no loss ===');
  for (const s of summaries) {
    const failed = s.failedRuns ? ` (${s.failedRuns} of ${s.runs} runs failed: see the table)` : '';
    if (s.maxNoLossRate === null) {
      log(`${s.server.padEnd(12)} no rate without loss${failed}`);
      continue;
    }
    const firstLoss = s.firstLossRate !== null ? `; first loss at ${fmtInt(s.firstLossRate)}` : '; no lossy run at any rate tried';
    log(`${s.server.padEnd(12)} ${fmtInt(s.maxNoLossRate)} msgs/s offered (delivered ${fmtInt(s.maxNoLossDelivered)}/s)${firstLoss}${failed}`);
  }
  const sb = summaries.find((s) => s.server === 'switchboard');
  const ct = summaries.find((s) => s.server === 'coturn');
  let ratio: number | null = null;
  if (sb && ct && sb.maxNoLossRate !== null && ct.maxNoLossRate) ratio = sb.maxNoLossRate / ct.maxNoLossRate;
  if (sb && ct) {
    log(`ratio Switchboard/coturn (max no-loss rate): ${ratio !== null ? ratio.toFixed(2) : 'n/a'} (goal >= 1.00)`);
    const sbCapped = sb.maxNoLossRate !== null && sb.firstLossRate === null;
    const ctCapped = ct.maxNoLossRate !== null && ct.firstLossRate === null;
    if (sbCapped && ctCapped) log('note: neither server lost messages at the highest rate tried, so this ratio measures nothing (run the full mode).');
    else if (sbCapped) log('note: Switchboard had no loss at the highest rate tried: the ratio is a lower bound.');
    else if (ctCapped) log('note: coturn had no loss at the highest rate tried: the ratio is an upper bound.');
  }
  log(`total time ${elapsed(t0)}`);

  const resultsDir = path.join(REPO, 'bench', 'results');
  const outFile = opts.out ?? path.join(resultsDir, `turn-${env.date.replace(/[:.]/g, '-')}.json`);
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(
    outFile,
    JSON.stringify(
      {
        benchmark: 'turn-vs-coturn',
        env,
        options: opts,
        summary: { servers: summaries, ratio, goal: 1.0 },
        runs: records,
        durationSec: Math.round((performance.now() - t0) / 1000),
      },
      null,
      1,
    ),
  );
  log(`results: ${path.relative(process.cwd(), outFile)}`);
}

main().then(
  () => {
    killAllNow();
    process.exit(0);
  },
  (err: Error) => {
    console.error(`bench failed: ${err.message}`);
    killAllNow();
    process.exit(1);
  },
);
