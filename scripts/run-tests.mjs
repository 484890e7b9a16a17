#!/usr/bin/env node
// Runs Switchboard's tests with node's test runner (TypeScript through tsx):
//
//   node scripts/run-tests.mjs                     # every test file
//   node scripts/run-tests.mjs test/interop        # files under a directory
//   node scripts/run-tests.mjs a.test.ts b.test.ts # given files
//   node scripts/run-tests.mjs test/interop --test-name-pattern=TCP   # other --flags go to node
//
// Test files: packages/*/test/**/*.test.ts (unit) and test/**/*.test.ts (interop/e2e).
// Files run one at a time (interop tests use real ports and processes); set
// TEST_CONCURRENCY=N to change that. Each test has a safety timeout (TEST_TIMEOUT_MS,
// default 180000). Output streams live (spec reporter); a TAP copy goes to a temp file
// from which the last line is computed:  "N passed, N failed[, N skipped]".
// Exit status: 1 if any test failed or none ran.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const invokedFrom = process.env.INIT_CWD ?? process.cwd(); // INIT_CWD: where `npm test` was typed
process.chdir(root);

const TEST_FILE = /\.test\.ts$/;
const SKIP_DIRS = new Set(['node_modules', 'dist', 'build', '.git']);

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) walk(p, out);
    } else if (e.isFile() && TEST_FILE.test(e.name)) {
      out.push(p);
    }
  }
  return out;
}

function defaultFiles() {
  const files = [];
  const pkgs = existsSync('packages') ? readdirSync('packages', { withFileTypes: true }) : [];
  for (const p of pkgs.filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    walk(join('packages', p, 'test'), files);
  }
  walk('test', files);
  return files;
}

const passthrough = [];
const targets = [];
for (const arg of process.argv.slice(2)) {
  if (arg.startsWith('-')) passthrough.push(arg);
  else targets.push(arg);
}

let files;
if (targets.length === 0) {
  files = defaultFiles();
} else {
  files = [];
  for (const t of targets) {
    // Accept paths relative to where the command was run, or to the repo root.
    const cwdPath = resolve(invokedFrom, t);
    const p = existsSync(cwdPath) ? cwdPath : resolve(root, t);
    if (!existsSync(p)) {
      console.error(`run-tests: no such file or directory: ${t}`);
      console.log('0 passed, 1 failed');
      process.exit(1);
    }
    if (statSync(p).isDirectory()) walk(p, files);
    else files.push(p);
  }
}
files = [...new Set(files.map((f) => relative(root, resolve(root, f))))];

if (files.length === 0) {
  console.error(`run-tests: no test files found${targets.length ? ` in ${targets.join(' ')}` : ''}`);
  console.log('0 passed, 0 failed');
  process.exit(1);
}

const concurrency = Number(process.env.TEST_CONCURRENCY ?? 1) || 1;
const testTimeout = Number(process.env.TEST_TIMEOUT_MS ?? 180_000) || 180_000;
const tmp = mkdtempSync(join(tmpdir(), 'switchboard-tests-'));
const tapFile = join(tmp, 'report.tap');

const args = [
  '--conditions=source',
  '--import',
  'tsx',
  '--test',
  `--test-concurrency=${concurrency}`,
  `--test-timeout=${testTimeout}`,
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  '--test-reporter=tap',
  `--test-reporter-destination=${tapFile}`,
  ...passthrough,
  ...files,
];

console.log(`run-tests: ${files.length} file(s): ${files.join(' ')}`);
// The runner gets its own process group so that anything its tests leave behind
// (servers, peers, load clients) can be swept when it ends.
const child = spawn(process.execPath, args, { stdio: 'inherit', cwd: root, detached: true });
const killGroup = (sig) => {
  try {
    process.kill(-child.pid, sig);
  } catch {
    /* group already empty */
  }
};
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => killGroup(sig));
process.on('exit', () => killGroup('SIGKILL'));

const { code, signal } = await new Promise((done) => child.on('close', (code, signal) => done({ code, signal })));
killGroup('SIGKILL');

// The TAP summary ("# pass N", "# fail N", ...) is written once, at the end of the run.
let tap = '';
try {
  tap = readFileSync(tapFile, 'utf8');
} catch {
  /* the runner died before writing it */
}
rmSync(tmp, { recursive: true, force: true });

const summary = {};
for (const m of tap.matchAll(/^# (tests|suites|pass|fail|cancelled|skipped|todo) (\d+)\s*$/gm)) {
  summary[m[1]] = Number(m[2]);
}
let passed = summary.pass ?? 0;
let failed = (summary.fail ?? 0) + (summary.cancelled ?? 0);
// node counts skipped tests but not skipped suites (whose tests are then not listed at all):
// count every TAP test point with a SKIP/TODO directive instead, when that is more.
const skipPoints = [...tap.matchAll(/^\s*(?:not )?ok \d+ - .*# (?:SKIP|TODO)\b/gm)].length;
const skipped = Math.max((summary.skipped ?? 0) + (summary.todo ?? 0), skipPoints);

if (summary.pass === undefined) {
  console.error(`run-tests: the test runner printed no summary (exit ${code ?? signal})`);
  failed = Math.max(failed, 1);
} else if (code !== 0 && failed === 0) {
  // e.g. a file failed to load, or the runner was killed: count it as a failure.
  console.error(`run-tests: the test runner exited with ${code ?? signal} although no test failed`);
  failed = 1;
}
if (passed + failed === 0) console.error('run-tests: no test ran');

console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed + failed === 0 ? 1 : 0);
