/**
 * End to end: the web app (packages/web-app/public/index.html) served by the built server,
 * three participants in headless Chromium. Page code is plain JavaScript strings
 * (see test/helpers/chromium.ts on tsx and evaluate()).
 */
import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { chromiumSkipReason } from '../helpers/chromium.js';
import { sleep } from '../helpers/processes.js';
import { startServeWithBrowser, waitFor, type ServeWithBrowser } from '../helpers/switchboard.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SCREENSHOT = join(ROOT, 'test-results', 'web-app-3-participants.png');

/** Tiles on the page: how many, and how many remote tiles show playing video. */
const TILE_INFO = `(() => {
  const tiles = [...document.querySelectorAll('#grid .tile')];
  const remote = tiles.filter((t) => t.classList.contains('remote'));
  const playing = remote.filter((t) => { const v = t.querySelector('video'); return v && v.readyState >= 2 && v.videoWidth > 0; });
  return { tiles: tiles.length, remote: remote.length, playing: playing.length, screen: window.sbApp.state.screen };
})()`;


/**
 * Frames the app's own remote <video> elements render over 2 s (requestVideoFrameCallback: one
 * call per frame presented), by the tile's participant name.
 */
const RENDERED = `(async () => {
  const vids = [...document.querySelectorAll('#grid .tile.remote video')].filter((v) => v.videoWidth > 0);
  const counts = vids.map(() => 0);
  let on = true;
  vids.forEach((v, i) => { const cb = () => { counts[i]++; if (on) v.requestVideoFrameCallback(cb); }; v.requestVideoFrameCallback(cb); });
  await new Promise((r) => setTimeout(r, 2000));
  on = false;
  return vids.map((v, i) => ({ name: v.closest('.tile').dataset.name, frames: counts[i] }));
})()`;

describe('web app in Chromium', { skip: chromiumSkipReason(), timeout: 120_000 }, () => {
  let env: ServeWithBrowser;

  before(async () => {
    // a smaller composed picture for the MCU room: Chromium's 3 pages share the 2 cores with it
    env = await startServeWithBrowser({ SWITCHBOARD_MCU_WIDTH: '640', SWITCHBOARD_MCU_HEIGHT: '360', SWITCHBOARD_MCU_FPS: '15' });
  });

  afterEach(async () => {
    await env?.closePages();
  });
  after(async () => {
    await env?.stop();
  });

  for (const topology of ['mesh', 'sfu', 'mcu'] as const) test(`${topology} room: 3 participants see each other; stats, mute, camera off and leave work`, async () => {
    const roomName = topology === 'mesh' ? 'demo' : `demo-${topology}`;
    // MCU: the app is unchanged; the room's composed picture arrives as one more remote
    // participant ('mcu', the only playing video), the others' tiles have no video of their own
    const mcu = topology === 'mcu';
    if (topology !== 'mesh') {
      const created = await env.admin('POST', '/api/rooms', { name: roomName, topology });
      assert.equal(created.status, 201, JSON.stringify(created.json));
    }
    type Info = { tiles: number; remote: number; playing: number; screen: string };
    const pages: Page[] = [];
    for (const name of ['Ada', 'Bob', 'Cy']) {
      const page = await env.openPage(undefined, `?room=${roomName}&name=${name}&autojoin=1`);
      await page.setViewportSize({ width: 1280, height: 720 });
      pages.push(page);
    }
    for (const [i, page] of pages.entries()) {
      await waitFor(`page ${i} shows 3 tiles with playing video`, () => page.evaluate(TILE_INFO) as Promise<Info>, (v) => (mcu ? v.tiles === 4 && v.remote === 3 && v.playing === 1 : v.tiles === 3 && v.remote === 2 && v.playing === 2), 25_000);
    }
    for (const [i, page] of pages.entries()) {
      // the person looks at this page: the tab in front (a background tab's page is not painted,
      // so its <video> elements present about one frame a second whatever the flags)
      await page.bringToFront();
      await waitFor(
        `page ${i}: every playing remote video renders frames`,
        () => page.evaluate(RENDERED) as Promise<{ name: string; frames: number }[]>,
        (l) => l.length === (mcu ? 1 : 2) && l.every((v) => v.frames >= 5),
        15_000,
      );
    }
    const [ada, bob, cy] = pages as [Page, Page, Page];

    // Stats panel shows a candidate type for each remote participant.
    await ada.click('#statsBtn');
    const types = await waitFor(
      'stats show candidate types',
      () => ada.evaluate(`[...document.querySelectorAll('#statsBody .cand')].map((e) => e.textContent)`) as Promise<string[]>,
      (l) => l.length === 2 && l.every((t) => ['host', 'srflx', 'prflx', 'relay'].includes(t)),
      10_000,
    );
    assert.equal(types.length, 2);
    await sleep(1200); // one more refresh so bitrates are filled in

    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await ada.screenshot({ path: topology === 'mesh' ? SCREENSHOT : SCREENSHOT.replace('.png', `-${topology}.png`) });
    assert.ok(statSync(topology === 'mesh' ? SCREENSHOT : SCREENSHOT.replace('.png', `-${topology}.png`)).size > 10 * 1024, 'screenshot is larger than 10 KB');

    // Mic + camera off on Bob: his own tile and his tile on Ada's page show the placeholder.
    await bob.click('#micBtn');
    await bob.click('#camBtn');
    const localOff = await bob.evaluate(`(() => { const t = document.querySelector('#grid .tile.local'); return t.classList.contains('off') && t.classList.contains('micoff') && getComputedStyle(t.querySelector('.ph')).display !== 'none'; })()`);
    assert.equal(localOff, true);
    await waitFor(
      "Bob's tile on Ada's page shows the placeholder",
      () => ada.evaluate(`(() => { const t = [...document.querySelectorAll('#grid .tile.remote')].find((e) => e.dataset.name === 'Bob'); return !!t && t.classList.contains('off') && t.classList.contains('micoff'); })()`) as Promise<boolean>,
      (v) => v,
      10_000,
    );
    await bob.screenshot({ path: join(ROOT, 'test-results', `web-app-camera-off${topology === 'mesh' ? '' : `-${topology}`}.png`) });

    // Cy leaves: back to the join screen; the others drop to 2 tiles.
    await cy.click('#leaveBtn');
    await waitFor('Cy back on the join screen', () => cy.evaluate(`window.sbApp.state.screen`) as Promise<string>, (s) => s === 'join', 5_000);
    for (const [i, page] of [ada, bob].entries()) {
      await waitFor(`page ${i} drops to 2 tiles`, () => page.evaluate(TILE_INFO) as Promise<Info>, (v) => v.tiles === (mcu ? 3 : 2), 10_000);
    }
    for (const p of pages) await p.close();
  });
});
