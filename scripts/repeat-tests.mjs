#!/usr/bin/env node
// Finds flaky tests: runs test files N times, each run as `npm test` runs them (scripts/run-tests.mjs,
// inside a fresh private network namespace when root), and reports the failure rate per test.
//
//   npm run test:repeat -- test/e2e/mesh-chromium.test.ts --times 20
//   npm run test:repeat -- test/e2e --times 5 --test-name-pattern=canvas
//
// Options: --times N (default 10), --stop-on-failure; anything else (files, dirs, --flags) goes to
// run-tests.mjs. Builds once first. The log of every failed run is kept in test-results/repeat/.
// The last line is "N passed, N failed" counting runs; the exit status is 1 if any run failed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const invokedFrom = process.env.INIT_CWD ?? process.cwd();

let times = 10;
let stopOnFailure = false;
const passthrough = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--times') times = Number(argv[++i]);
  else if (a.startsWith('--times=')) times = Number(a.slice(8));
  else if (a === '--stop-on-failure') stopOnFailure = true;
  else passthrough.push(a.startsWith('-') ? a : resolve(invokedFrom, a));
}
if (!Number.isInteger(times) || times < 1 || times > 1000) {
  console.error('repeat-tests: --times must be an integer from 1 to 1000');
  process.exit(2);
}
if (!passthrough.some((a) => !a.startsWith('-'))) {
  console.error('usage: npm run test:repeat -- FILE|DIR [...] [--times N] [--stop-on-failure] [--test-name-pattern=...]');
  process.exit(2);
}

const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
if (build.status !== 0) {
  console.error('repeat-tests: npm run build failed');
  process.exit(1);
}

// Like scripts/test.sh: a fresh network namespace per run when we can (root and unshare).
const netns =
  process.getuid?.() === 0 &&
  process.env.SWITCHBOARD_TEST_NO_NETNS !== '1' &&
  spawnSync('unshare', ['-n', '--', 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'ignore' }).status === 0;
const runner = join(root, 'scripts', 'run-tests.mjs');
const command = netns
  ? ['unshare', ['-n', '--', 'bash', '-c', 'ip link set lo up && exec node "$@"', 'run', runner, ...passthrough]]
  : [process.execPath, [runner, ...passthrough]];
if (!netns) console.error('repeat-tests: notice: not in a private network namespace (needs root and unshare)');

const logDir = join(root, 'test-results', 'repeat');
mkdirSync(logDir, { recursive: true });

function runOnce() {
  return new Promise((done) => {
    const started = Date.now();
    const child = spawn(command[0], command[1], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => done({ code, out, ms: Date.now() - started }));
  });
}

/** Names of the failed tests, from the spec reporter's "failing tests" section (or every ✖ line). */
function failedTests(out) {
  const section = out.split('✖ failing tests:')[1] ?? out;
  const names = new Set();
  for (const m of section.matchAll(/^\s*✖ (.+?)(?: \(\d[\d.]*ms\))?$/gm)) names.add(m[1].trim());
  return [...names];
}

const perTest = new Map();
const durations = [];
let failedRuns = 0;
for (let i = 1; i <= times; i++) {
  const { code, out, ms } = await runOnce();
  durations.push(ms);
  const summary = out.trim().split('\n').pop();
  if (code === 0) {
    console.log(`run ${i}/${times}: ok (${(ms / 1000).toFixed(1)} s) ${summary}`);
    continue;
  }
  failedRuns++;
  const log = join(logDir, `run-${i}.log`);
  writeFileSync(log, out);
  const names = failedTests(out);
  for (const n of names) perTest.set(n, (perTest.get(n) ?? 0) + 1);
  console.log(`run ${i}/${times}: FAILED (${(ms / 1000).toFixed(1)} s) ${summary}; log: ${log}`);
  for (const n of names) console.log(`    ✖ ${n}`);
  if (stopOnFailure) {
    times = i;
    break;
  }
}

durations.sort((a, b) => a - b);
console.log(`\nfailure rate: ${failedRuns}/${times} runs (${((100 * failedRuns) / times).toFixed(1)}%), run time median ${(durations[Math.floor(durations.length / 2)] / 1000).toFixed(1)} s, max ${(durations[durations.length - 1] / 1000).toFixed(1)} s`);
for (const [name, n] of [...perTest].sort((a, b) => b[1] - a[1])) console.log(`  ${n}/${times}  ${name}`);
console.log(`${times - failedRuns} passed, ${failedRuns} failed`);
process.exit(failedRuns > 0 ? 1 : 0);
