// One `switchboard serve` per test file for the load-test runs: TURN off, an API key the
// generator signs tokens with, rooms of `topology` by default. before() starts it, after()
// releases node-datachannel and stops it.
import { after, before } from 'node:test';
import { rmSync } from 'node:fs';
import { stopAllProcesses, type ManagedProcess } from '../../../test/helpers/processes.js';
import { startServe } from '../../../test/helpers/switchboard.js';
import { shutdownLoadGenerator } from '../src/index.js';

export const KEY = 'loadtest';
export const SECRET = 'load-test-secret-0123456789';

/** The server of this file, filled in by before(). */
export interface ServeFixture {
  server: ManagedProcess;
  base: string;
}

export function serveForLoadTests(topology: 'sfu' | 'mcu', env: Record<string, string> = {}): ServeFixture {
  const f = {} as ServeFixture;
  let stateDir = '';
  before(async () => {
    let httpPort: number;
    ({ server: f.server, httpPort, stateDir } = await startServe({
      SWITCHBOARD_TURN_ENABLED: 'false',
      SWITCHBOARD_AUTH_KEYS: `${KEY}:${SECRET}`,
      SWITCHBOARD_ROOMS_DEFAULT_TOPOLOGY: topology,
      ...env,
    }));
    f.base = `http://127.0.0.1:${httpPort}`;
  });
  after(async () => {
    await shutdownLoadGenerator();
    await f.server?.stop();
    await stopAllProcesses();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });
  return f;
}
