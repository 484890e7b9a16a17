/**
 * Headless Debian Chromium (/usr/bin/chromium) driven by playwright-core, plus a
 * tiny HTTP server on 127.0.0.1 to serve test pages (http://127.0.0.1 is a secure
 * context, so getUserMedia works).
 *
 * Note: functions passed to page.evaluate() are serialized with toString(); tsx adds
 * `__name(...)` helpers to them that do not exist in the page. Put page code in the
 * served HTML as plain JavaScript and call it with page.evaluate('fn(' + JSON + ')').
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { LOOPBACK } from './processes.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
  '--disable-quic',
  // Every page of the browser is a tab and all but one are in the background: without these,
  // Chromium throttles their timers, rendering and frame delivery (a canvas publisher drawing on
  // setInterval slows to 1 Hz, a page's MediaStreamTrackProcessor stalls), so a test would
  // measure the throttling instead of Switchboard.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

/** A skip reason when Chromium is not installed, else false (for `{ skip: chromiumSkipReason() }`). */
export function chromiumSkipReason(): string | false {
  return existsSync(CHROMIUM_PATH)
    ? false
    : `${CHROMIUM_PATH} not found: install Debian's chromium ('apt-get install -y chromium'; scripts/test.sh does it)`;
}

export class ChromiumMissingError extends Error {}

/**
 * Launch headless Chromium with a fresh temporary profile (removed on close()).
 * When /usr/bin/chromium is absent it throws ChromiumMissingError with the reason;
 * tests skip cleanly by declaring `{ skip: chromiumSkipReason() }` on their suite.
 */
export async function launchBrowser(opts: { extraArgs?: string[]; timeoutMs?: number } = {}): Promise<BrowserContext> {
  const reason = chromiumSkipReason();
  if (reason) throw new ChromiumMissingError(reason);
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  const removeProfile = () => rmSync(profile, { recursive: true, force: true });
  process.once('exit', removeProfile);
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(opts.extraArgs ?? [])],
      timeout: opts.timeoutMs ?? 30_000,
    });
  } catch (e) {
    removeProfile();
    throw e;
  }
  const close = context.close.bind(context);
  context.close = async (options?: Parameters<BrowserContext['close']>[0]) => {
    try {
      await close(options);
    } finally {
      removeProfile();
      process.removeListener('exit', removeProfile);
    }
  };
  return context;
}

export interface PageServer {
  /** http://127.0.0.1:PORT/ */
  url: string;
  close(): Promise<void>;
}

/** Serve `pages` (path → HTML) from http://127.0.0.1:<free port>/; "/" must be among them or is 404. */
export async function servePages(pages: Record<string, string>): Promise<PageServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const body = pages[path];
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${LOOPBACK}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
