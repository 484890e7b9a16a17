/**
 * The built `switchboard serve` in dev mode on fresh loopback ports, with a headless Chromium
 * beside it: what every browser test starts. Build first, then start, then `stop()` it all.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createToken } from '@switchboard/tokens';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from './chromium.js';
import { freePort, runToCompletion, sleep, startProcess, type ManagedProcess } from './processes.js';

const ROOT = join(import.meta.dirname, '..', '..');

export interface ServeWithBrowser {
  server: ManagedProcess;
  browser: BrowserContext;
  /** http://127.0.0.1:PORT/ */
  base: string;
  /** The SFU's media port (UDP, and TCP for ICE-TCP). */
  sfuPort: number;
  /** A new page at `path` on the app's origin (default: the app), page errors echoed, with `setup` (plain JS) evaluated in it. */
  openPage(setup?: string, path?: string): Promise<Page>;
  /**
   * Closes every page still open: call it in afterEach, so that a failed test does not leave
   * pages publishing and decoding under the next one.
   */
  closePages(): Promise<void>;
  /** GET/POST on the admin API with a room-admin token minted from the dev keys. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  stop(): Promise<void>;
}

export interface Serve {
  server: ManagedProcess;
  httpPort: number;
  sfuPort: number;
  stateDir: string;
}

/**
 * The built `switchboard serve` on fresh loopback ports (HTTP, TURN, SFU), dev mode with its own
 * state directory. `env`: extra SWITCHBOARD_* settings (e.g. the default room topology); `build`:
 * what to build first (the server, and for browser tests the client and SDK bundle).
 */
export async function startServe(env: Record<string, string> = {}, build = 'npx tsc -b packages/server'): Promise<Serve> {
  const built = await runToCompletion('bash', ['-c', build], { cwd: ROOT, timeoutMs: 120_000 });
  assert.equal(built.code, 0, `build failed:\n${built.stdout}\n${built.stderr}`);
  const [httpPort, turnPort, sfuPort] = [await freePort(), await freePort(), await freePort()];
  const stateDir = mkdtempSync(join(tmpdir(), 'sb-serve-'));
  const server = await startProcess('node', ['bin/switchboard.js', 'serve'], {
    cwd: ROOT,
    name: 'switchboard',
    env: {
      ...process.env,
      SWITCHBOARD_HTTP_HOST: '127.0.0.1',
      SWITCHBOARD_HTTP_PORT: String(httpPort),
      SWITCHBOARD_TURN_LISTENING_IPS: '127.0.0.1',
      SWITCHBOARD_TURN_LISTENING_PORT: String(turnPort),
      SWITCHBOARD_TURN_ALLOW_LOOPBACK_PEERS: 'true',
      SWITCHBOARD_TURN_THREADS: '0',
      SWITCHBOARD_STATE_DIR: stateDir,
      SWITCHBOARD_SFU_LISTENING_IP: '127.0.0.1',
      SWITCHBOARD_SFU_PORT: String(sfuPort),
      ...env,
    },
    readyPattern: /"msg":"http listening"/,
    timeoutMs: 20_000,
  });
  return { server, httpPort, sfuPort, stateDir };
}

/** `env`: extra SWITCHBOARD_* settings (e.g. the default room topology). */
export async function startServeWithBrowser(env: Record<string, string> = {}): Promise<ServeWithBrowser> {
  const { server, httpPort, sfuPort, stateDir } = await startServe(env, 'npx tsc -b packages/server packages/client && node scripts/build-sdk.mjs');
  const base = `http://127.0.0.1:${httpPort}/`;
  const browser = await launchBrowser();
  const pages = new Set<Page>();
  return {
    server,
    browser,
    base,
    sfuPort,
    async openPage(setup?: string, path = '') {
      const page = await browser.newPage();
      pages.add(page);
      page.once('close', () => pages.delete(page));
      page.on('pageerror', (e) => console.error('[page error]', e.message));
      await page.goto(base + path, { timeout: 10_000 });
      if (setup) await page.evaluate(setup);
      return page;
    },
    async closePages() {
      await Promise.all([...pages].map((p) => p.close().catch(() => undefined)));
    },
    async admin(method: string, path: string, body?: unknown) {
      const keys = JSON.parse(readFileSync(join(stateDir, 'dev-keys.json'), 'utf8')) as { apiKey: string; apiSecret: string };
      const token = await createToken(keys.apiKey, keys.apiSecret, { identity: 'test-admin', grants: { roomAdmin: true, roomList: true } as never });
      const res = await fetch(new URL(path, base), {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: await res.json().catch(() => null) };
    },
    async stop() {
      await browser.close();
      await server.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Polls `fn` until `ok` holds, at most `timeoutMs`; the error names what was awaited and the last value. */
export async function waitFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await fn();
    if (ok(last)) return last;
    await sleep(250);
  }
  throw new Error(`${what}: not reached within ${timeoutMs} ms; last value ${JSON.stringify(last)}`);
}
