// SFU benchmark: Switchboard's SFU against Janus VideoRoom under the same load, on this machine.
// One publisher sends ~1 Mbit/s of pre-encoded VP8 + Opus (packages/load-test/media); the
// subscribers grow in steps; each server's capacity is the largest step with < 1% loss and every
// subscriber receiving.
//
//   node --conditions=source --import tsx bench/sfu-vs-janus.ts            full run (~12 minutes)
//   node --conditions=source --import tsx bench/sfu-vs-janus.ts --quick    smoke run (~2 minutes)
//
// See packages/load-test/README.md ("Benchmark") for what is measured and how to read the table.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { addVethAddress, runLoadTest, type LoadReport } from '@switchboard/load-test';
import { NETNS_MARK, reexecInNetns } from './lib/netns.js';
import { freePort, installCleanup, liveChildren, programPid, sleep, startChild, stopChild, waitTcp, type Child } from './lib/children.js';
import { processUserSys, snmpDelta, ticksPerSecond, udpSnmp, type UdpSnmp } from './lib/procfs.js';
import { table } from './lib/report.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');
const API_KEY = 'bench';
const API_SECRET = 'bench-secret-0123456789abcdef';
/** Janus skips loopback interfaces when gathering: a veth in the namespace carries this address. */
const JANUS_IP = '127.0.0.2';

type Target = 'switchboard' | 'janus' | 'direct';

interface Options {
  quick: boolean;
  steps: number[];
  seconds: number;
  workers: number;
  targets: Target[];
  generator: boolean;
  generatorSteps: number[];
  netns: boolean;
  build: boolean;
  janusEventLoops: number;
  out: string | null;
}

const HELP = `bench/sfu-vs-janus.ts: Switchboard SFU vs Janus VideoRoom, 1 publisher, growing subscribers

  --quick               smoke run, about 2 minutes: steps 25,100,200, 8 s windows
  --steps A,B,..        subscriber counts (default 25,50,100,150,200,300,400,500,600)
  --seconds S           measurement window per step (default 15; quick 8)
  --workers N           subscriber child processes of the load generator (default 2)
  --only switchboard|janus   one server only (no ratio)
  --no-generator        skip the generator-only rows (no server: one sending connection per subscriber
                        from the generator itself, to show where the generator, not a server, is the limit)
  --generator-steps A,..  subscriber counts of those rows (default 200,400,600; quick 200)
  --janus-event-loops N   Janus 'event_loops' (0 = Janus' default: one loop thread per handle)
  --no-netns            do not re-run inside a private network namespace (Janus then gathers no usable candidate)
  --no-build            do not run 'npx tsc -b packages/server' first
  --out FILE            JSON results (default bench/results/sfu-<timestamp>.json)
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
  const known = new Set(['quick', 'steps', 'seconds', 'workers', 'only', 'no-generator', 'generator-steps', 'janus-event-loops', 'no-netns', 'no-build', 'out', 'help']);
  for (const a of argv) if (a.startsWith('--') && !known.has(a.slice(2).split('=')[0])) throw new Error(`unknown option ${a} (see --help)`);
  if (argv.includes('--help')) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const quick = argv.includes('--quick') || process.env.BENCH_QUICK === '1';
  const list = (v: string | undefined, d: number[]) => (v ? v.split(',').map((x) => Number(x.trim())).filter((x) => Number.isInteger(x) && x > 0) : d);
  const only = value('only');
  if (only !== undefined && only !== 'switchboard' && only !== 'janus') throw new Error('--only takes switchboard or janus');
  return {
    quick,
    steps: list(value('steps'), quick ? [25, 100, 200] : [25, 50, 100, 150, 200, 300, 400, 500, 600]),
    seconds: Number(value('seconds') ?? (quick ? 8 : 15)),
    workers: Number(value('workers') ?? 2),
    targets: only ? [only] : ['switchboard', 'janus'],
    generator: !argv.includes('--no-generator'),
    generatorSteps: list(value('generator-steps'), quick ? [200] : [200, 400, 600]),
    netns: !argv.includes('--no-netns') && process.env.BENCH_NO_NETNS !== '1',
    build: !argv.includes('--no-build') && process.env.BENCH_NO_BUILD !== '1',
    janusEventLoops: Number(value('janus-event-loops') ?? 0),
    out: value('out') ?? null,
  };
}

const log = (s: string) => process.stdout.write(`${s}\n`);

// ---- network namespace ----------------------------------------------------------------


// ---- servers --------------------------------------------------------------------------

interface Server {
  target: Target;
  url: string;
  pid: number;
  child: Child;
  version: string;
  cleanup?: () => void;
}

async function startSwitchboard(lifetimeSec: number): Promise<Server> {
  const [httpPort, sfuPort] = [await freePort(), await freePort()];
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'sb-bench-sfu-'));
  const child = startChild('switchboard', 'node', ['bin/switchboard.js', 'serve'], {
    timeoutSec: lifetimeSec,
    cwd: REPO,
    env: {
      ...process.env,
      SWITCHBOARD_HTTP_HOST: '127.0.0.1',
      SWITCHBOARD_HTTP_PORT: String(httpPort),
      SWITCHBOARD_TURN_ENABLED: 'false',
      SWITCHBOARD_STATE_DIR: stateDir,
      SWITCHBOARD_SFU_LISTENING_IP: '127.0.0.1',
      SWITCHBOARD_SFU_PORT: String(sfuPort),
      SWITCHBOARD_AUTH_KEYS: `${API_KEY}:${API_SECRET}`,
      SWITCHBOARD_ROOMS_DEFAULT_TOPOLOGY: 'sfu',
      SWITCHBOARD_LOG_LEVEL: 'warn',
    },
  });
  const pid = await programPid(child, 'node');
  await waitTcp(httpPort, '127.0.0.1', 20_000, child);
  let version = '?';
  try {
    version = JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("./package.json").version)'], { cwd: REPO, encoding: 'utf8' }));
  } catch {
    /* unknown */
  }
  return { target: 'switchboard', url: `http://127.0.0.1:${httpPort}`, pid, child, version, cleanup: () => rmSync(stateDir, { recursive: true, force: true }) };
}

/**
 * The lab's conf-netns configuration (VideoRoom and the WebSocket transport only), on a free port.
 * Logging at warnings (debug_level 3), like Switchboard at 'warn': neither logs per participant.
 */
function writeJanusConfig(dir: string, wsPort: number, eventLoops: number): void {
  const files: Record<string, string> = {
    'janus.jcfg': `general: {
	configs_folder = "${dir}"
	plugins_folder = "/usr/lib/x86_64-linux-gnu/janus/plugins"
	transports_folder = "/usr/lib/x86_64-linux-gnu/janus/transports"
	events_folder = "/usr/lib/x86_64-linux-gnu/janus/events"
	loggers_folder = "/usr/lib/x86_64-linux-gnu/janus/loggers"
	debug_level = 3
	debug_timestamps = true
	debug_colors = false
	admin_secret = "janusoverlord"
	server_name = "bench-janus"
	interface = "${JANUS_IP}"
	session_timeout = 120
${eventLoops > 0 ? `	event_loops = ${eventLoops}\n` : ''}	protected_folders = [ "/bin", "/boot", "/dev", "/etc", "/lib", "/proc", "/sbin", "/sys", "/usr", "/var" ]
}
certificates: {
}
media: {
	rtp_port_range = "20000-40000"
}
nat: {
	nice_debug = false
	ice_enforce_list = "${JANUS_IP}"
	ignore_mdns = true
}
plugins: {
	disable = "libjanus_audiobridge.so,libjanus_echotest.so,libjanus_duktape.so,libjanus_lua.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so"
}
transports: {
	disable = "libjanus_http.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so"
}
loggers: {
	disable = "libjanus_jsonlog.so"
}
events: {
	disable = "libjanus_gelfevh.so,libjanus_mqttevh.so,libjanus_nanomsgevh.so,libjanus_rabbitmqevh.so,libjanus_sampleevh.so,libjanus_wsevh.so"
}
`,
    'janus.plugin.videoroom.jcfg': `general: {
}
`,
    'janus.transport.websockets.jcfg': `general: {
	json = "plain"
	ws = true
	ws_port = ${wsPort}
	ws_ip = "127.0.0.1"
	wss = false
}
admin: {
	admin_ws = false
	admin_wss = false
}
cors: {
}
`,
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
}

async function startJanus(lifetimeSec: number, eventLoops: number): Promise<Server> {
  const wsPort = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sb-bench-janus-'));
  writeJanusConfig(dir, wsPort, eventLoops);
  const child = startChild('janus', 'janus', ['-F', dir], { timeoutSec: lifetimeSec });
  const pid = await programPid(child, 'janus');
  await waitTcp(wsPort, '127.0.0.1', 20_000, child);
  let version = '?';
  try {
    version = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'janus'], { encoding: 'utf8' }).trim();
  } catch {
    /* unknown */
  }
  return { target: 'janus', url: `ws://127.0.0.1:${wsPort}`, pid, child, version, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// ---- one step -------------------------------------------------------------------------

interface StepResult {
  target: Target;
  subscribers: number;
  ok: boolean;
  report: LoadReport | null;
  error?: string;
  /** Server CPU during the window, % of one core, and µs per forwarded (received) packet. */
  serverCpuPct: number;
  usPerPacket: number;
  /** UDP datagrams dropped in this namespace during the window (/proc/net/snmp RcvbufErrors + SndbufErrors). */
  udpDrops: number;
  udp: UdpSnmp | null;
}

async function runStep(target: Target, server: Server | null, subscribers: number, opts: Options, tag: string): Promise<StepResult> {
  const hz = ticksPerSecond();
  let c0 = 0;
  let c1 = 0;
  let t0 = 0;
  let t1 = 0;
  let u0: UdpSnmp | null = null;
  let udp: UdpSnmp | null = null;
  const sample = () => {
    if (!server) return 0;
    const [u, s] = processUserSys(server.pid);
    return ((u + s) / hz) * 1e6;
  };
  try {
    const report = await runLoadTest({
      url: server?.url ?? '',
      target,
      room: target === 'janus' ? String(1000 + subscribers) : `bench-${tag}-${subscribers}`,
      publishers: 1,
      subscribers,
      durationSec: opts.seconds,
      apiKey: API_KEY,
      apiSecret: API_SECRET,
      workers: opts.workers,
      identityPrefix: `b${tag}`,
      onWindow: (phase) => {
        if (phase === 'start') {
          c0 = sample();
          t0 = performance.now();
          u0 = udpSnmp();
        } else {
          c1 = sample();
          t1 = performance.now();
          udp = u0 ? snmpDelta(u0, udpSnmp()) : null;
        }
      },
      onProgress: (l) => log(`  ${l}`),
    });
    const cpuUs = c1 - c0;
    const windowUdp = udp as UdpSnmp | null; // set in onWindow
    const ok = report.lossPct < 1 && report.failedSubscribers === 0;
    return {
      target,
      subscribers,
      ok,
      report,
      serverCpuPct: server ? (cpuUs / 1e6 / ((t1 - t0) / 1000)) * 100 : NaN,
      usPerPacket: server && report.receivedPackets > 0 ? cpuUs / report.receivedPackets : NaN,
      udpDrops: windowUdp ? (windowUdp.RcvbufErrors ?? 0) + (windowUdp.SndbufErrors ?? 0) : NaN,
      udp: windowUdp,
    };
  } catch (err) {
    return { target, subscribers, ok: false, report: null, error: (err as Error).message, serverCpuPct: NaN, usPerPacket: NaN, udpDrops: NaN, udp: null };
  }
}

// ---- report ---------------------------------------------------------------------------

const f = (n: number | undefined, d = 1) => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(d));

function row(r: StepResult): string[] {
  const p = r.report;
  if (!p) return [r.target, String(r.subscribers), 'FAIL', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-', (r.error ?? '').slice(0, 60)];
  return [
    r.target,
    String(r.subscribers),
    r.ok ? 'ok' : 'LOSSY',
    `${p.connectedSubscribers}`,
    p.lossPct < 0.01 && p.lossPct > 0 ? p.lossPct.toFixed(4) : f(p.lossPct, 2),
    f(p.bitrateKbpsPerSubscriber, 0),
    f(p.jitterMs, 2),
    f(p.latencyMs.p50, 2),
    f(p.latencyMs.p99, 2),
    f(p.setupMs, 0),
    f(r.serverCpuPct, 0),
    f(r.usPerPacket, 2),
    f(r.udpDrops, 0),
    `${f(p.generatorCpuPct, 0)}${p.errors.length ? ` ${p.errors[0].slice(0, 50)}` : ''}`,
  ];
}

const HEADERS = ['server', 'subs', 'result', 'recv', 'loss%', 'kbit/s', 'jit ms', 'lat p50', 'lat p99', 'media ms', 'srv cpu%', 'us/pkt', 'udp drops', 'gen cpu%'];

/** The largest passing step; strict: every subscriber receiving, else at most 1% of them failing. */
function capacity(results: StepResult[], target: Target, strict = true): StepResult | null {
  const pass = (r: StepResult) => (strict ? r.ok : r.report !== null && r.report.lossPct < 1 && r.report.failedSubscribers <= r.subscribers / 100);
  const okSteps = results.filter((r) => r.target === target && pass(r));
  return okSteps.length ? okSteps.reduce((a, b) => (b.subscribers > a.subscribers ? b : a)) : null;
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
  let veth = 'not created';
  if (process.env[NETNS_MARK] === '1' && opts.targets.includes('janus')) veth = addVethAddress(JANUS_IP);

  let build = 'skipped (--no-build)';
  if (opts.build) {
    log('building: npx tsc -b packages/server');
    const b = spawnSync('npx', ['tsc', '-b', 'packages/server'], { cwd: REPO, encoding: 'utf8' });
    build = b.status === 0 ? 'ok' : `FAILED (benchmarking the existing dist): ${(b.stdout + b.stderr).trim().split('\n').slice(-3).join(' | ')}`;
  }
  const lifetime = 60 * 60;
  const servers = new Map<Target, Server>();
  if (opts.targets.includes('switchboard')) servers.set('switchboard', await startSwitchboard(lifetime));
  if (opts.targets.includes('janus')) {
    if (spawnSync('which', ['janus']).status !== 0) throw new Error('janus not found: apt-get install -y janus');
    servers.set('janus', await startJanus(lifetime, opts.janusEventLoops));
  }
  log(
    `sfu-vs-janus: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${netnsNote}, veth ${JANUS_IP}: ${veth}, build: ${build}\n` +
      `servers: ${[...servers.values()].map((s) => `${s.target} ${s.version} pid ${s.pid} at ${s.url}`).join('; ')}\n` +
      `load: 1 publisher (VP8 640x360 30 fps ~900 kbit/s + Opus 48 kbit/s), subscribers ${opts.steps.join(', ')}, ${opts.seconds} s windows, generator ${opts.workers} worker process(es)`,
  );

  const results: StepResult[] = [];
  const stopped = new Set<Target>();
  const lossyRuns = new Map<Target, number>();
  let tagN = 0;
  for (const [i, n] of opts.steps.entries()) {
    // alternate which server goes first
    const order = i % 2 === 0 ? opts.targets : [...opts.targets].reverse();
    for (const t of order) {
      if (stopped.has(t)) continue;
      const server = servers.get(t)!;
      if (!server.child.isRunning()) {
        log(`${t} has exited: ${server.child.tail.slice(-5).join(' | ')}`);
        stopped.add(t);
        continue;
      }
      log(`[${((performance.now() - tStart) / 1000).toFixed(0)} s] ${t}: ${n} subscribers`);
      const r = await runStep(t, server, n, opts, `${tagN++}`);
      results.push(r);
      log(`  -> ${r.ok ? 'ok' : 'LOSSY/FAILED'}; server CPU ${f(r.serverCpuPct, 0)}%, ${f(r.usPerPacket, 2)} us/forwarded packet${r.error ? `; ${r.error}` : ''}${r.report?.errors.length ? `; ${r.report.errors.join('; ')}` : ''}`);
      // past its limit: two steps in a row with >= 1% loss, or one with >= 5% loss or a quarter of the
      // subscribers failing (a few subscribers failing alone do not stop the steps: see lossCapacity)
      const lossy = r.report && r.report.lossPct < 1 ? 0 : (lossyRuns.get(t) ?? 0) + 1;
      lossyRuns.set(t, lossy);
      if (lossy >= 2 || (r.report && (r.report.lossPct >= 5 || r.report.failedSubscribers > n / 4)) || !r.report) stopped.add(t);
      await sleep(1500); // let the server tear the room down
    }
  }

  const genResults: StepResult[] = [];
  if (opts.generator) {
    for (const n of opts.generatorSteps) {
      log(`[${((performance.now() - tStart) / 1000).toFixed(0)} s] generator only (no server): ${n} subscribers`);
      const r = await runStep('direct', null, n, opts, `g${n}`);
      genResults.push(r);
      log(`  -> ${r.ok ? 'ok' : 'LOSSY/FAILED'}; ${f(r.udpDrops, 0)} UDP drops${r.report?.errors.length ? `; ${r.report.errors.join('; ').slice(0, 300)}` : ''}`);
      if (!r.report || r.report.lossPct >= 1) break;
    }
  }

  for (const s of servers.values()) {
    await stopChild(s.child);
    s.cleanup?.();
  }

  // ---- output
  log('');
  log(table(HEADERS, [...results, ...genResults].map(row), new Set([0, 2, 13])));
  log('');
  log('recv = subscribers receiving every stream in the window; loss% = max(sequence gaps, 1 - received/(sent x subscribers)); kbit/s per subscriber;');
  log('jit = RFC 3550 interarrival jitter; lat = publisher send -> subscriber receive (trailer in every payload); media ms = join -> packets on every stream;');
  log('srv cpu% = utime+stime of the server process during the window (100 = one core); us/pkt = that CPU time / packets the subscribers received;');
  log('udp drops = datagrams the kernel dropped in this namespace during the window (socket buffers full: RcvbufErrors + SndbufErrors);');
  log('gen cpu% = the load generator (main process + subscriber workers); "direct" rows: no server, the generator sends to every subscriber itself.');
  log('');
  const caps = new Map<Target, StepResult | null>();
  for (const t of opts.targets) caps.set(t, capacity(results, t));
  const sum: string[][] = [];
  for (const t of opts.targets) {
    const c = caps.get(t) ?? null;
    const tried = results.filter((r) => r.target === t).map((r) => r.subscribers);
    const firstBad = results.find((r) => r.target === t && !r.ok);
    for (const r of results) if (r.target === t && !r.ok && r.report?.errors.length) log(`${t} ${r.subscribers}: ${r.report.errors.join('; ').slice(0, 400)}`);
    const lc = capacity(results, t, false);
    sum.push([
      t,
      c ? String(c.subscribers) : '0',
      lc ? String(lc.subscribers) : '0',
      firstBad ? String(firstBad.subscribers) : `none (max tried ${Math.max(0, ...tried)})`,
      c ? f(c.usPerPacket, 2) : '-',
      c ? f(c.serverCpuPct, 0) : '-',
      c?.report ? `${f(c.report.latencyMs.p50, 2)} / ${f(c.report.latencyMs.p99, 2)}` : '-',
    ]);
  }
  log(table(['server', 'capacity (<1% loss, all subs)', '(<1% loss, <=1% subs failing)', 'first failing step', 'us/pkt at capacity', 'cpu% at capacity', 'latency p50 / p99 ms at capacity'], sum, new Set([0, 3])));
  // the same load for both: the largest step both passed
  const common = opts.targets.length === 2 ? Math.max(0, ...results.filter((r) => r.target === 'switchboard' && r.ok && results.some((o) => o.target === 'janus' && o.ok && o.subscribers === r.subscribers)).map((r) => r.subscribers)) : 0;
  if (common > 0) {
    const at = (t: Target) => results.find((r) => r.target === t && r.subscribers === common)!;
    const [s, j] = [at('switchboard'), at('janus')];
    log(
      `\nat ${common} subscribers (largest step both passed): CPU per forwarded packet switchboard ${f(s.usPerPacket, 2)} us, janus ${f(j.usPerPacket, 2)} us (janus/switchboard ${f(j.usPerPacket / s.usPerPacket, 2)}); ` +
        `latency p50/p99 switchboard ${f(s.report?.latencyMs.p50, 2)}/${f(s.report?.latencyMs.p99, 2)} ms, janus ${f(j.report?.latencyMs.p50, 2)}/${f(j.report?.latencyMs.p99, 2)} ms`,
    );
  }
  const sc = caps.get('switchboard');
  const jc = caps.get('janus');
  if (opts.targets.length === 2) {
    const ratio = jc && sc ? sc.subscribers / jc.subscribers : NaN;
    const capped = (c: StepResult | null | undefined) => (c && c.subscribers === Math.max(...opts.steps) ? ' (passed every step: a lower bound)' : '');
    log(`capacity ratio switchboard/janus: ${f(ratio, 2)} (${sc?.subscribers ?? 0}${capped(sc)} / ${jc?.subscribers ?? 0}${capped(jc)})`);
  }
  const genPass = (r: StepResult) => r.report !== null && r.report.lossPct < 1 && r.report.failedSubscribers <= r.subscribers / 100;
  const genOk = genResults.filter(genPass).map((r) => r.subscribers);
  const genBad = genResults.find((r) => !genPass(r));
  if (opts.generator) log(`generator alone (no server): ${genOk.length ? `< 1% loss (and <= 1% subscribers failing to connect) up to ${Math.max(...genOk)} subscribers` : 'failed at its first step'}${genBad ? `, failed at ${genBad.subscribers}` : ''}`);
  log(`total ${((performance.now() - tStart) / 1000).toFixed(0)} s`);

  const out = opts.out ?? path.join(HERE, 'results', `sfu-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ options: opts, netns: netnsNote, build, servers: [...servers.values()].map((s) => ({ target: s.target, version: s.version })), results, generator: genResults, capacity: Object.fromEntries([...caps].map(([k, v]) => [k, v?.subscribers ?? 0])), lossCapacity: Object.fromEntries(opts.targets.map((t) => [t, capacity(results, t, false)?.subscribers ?? 0])) }, null, 2));
  log(`results: ${path.relative(REPO, out)}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`sfu-vs-janus: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
