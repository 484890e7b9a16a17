// Benchmarks run their servers and clients in a private network namespace (nothing can leave
// the machine): the script re-executes itself under `unshare -n` with lo up.
import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';

/** Set in the re-executed script's environment. */
export const NETNS_MARK = 'SWITCHBOARD_BENCH_IN_NETNS';

/**
 * Re-runs `script` (the caller's file) with the same arguments inside `unshare -n` with lo up
 * and exits with its status; returns false if that is not possible (not root, no unshare).
 */
export async function reexecInNetns(script: string): Promise<boolean> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = spawnSync('unshare', ['-n', '--', 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'ignore' });
  if (probe.status !== 0) return false;
  const sh = 'ip link set lo up && exec "$@"';
  const child = spawn('unshare', ['-n', '--', 'sh', '-c', sh, 'sh', process.execPath, ...process.execArgv, script, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, [NETNS_MARK]: '1' },
  });
  // Ctrl-C reaches the child too (same terminal process group); SIGTERM/SIGHUP are passed on.
  process.on('SIGINT', () => {});
  for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
  const code = await new Promise<number>((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 128 + (os.constants.signals[s] ?? 1) : 1))));
  process.exit(code);
}
