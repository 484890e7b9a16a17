/**
 * End to end: the built server + the browser SDK in headless Chromium, mesh rooms.
 * Page code is plain JavaScript strings (see test/helpers/chromium.ts on tsx and evaluate()).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { chromiumSkipReason } from '../helpers/chromium.js';
import { assertEachSeesAndHearsTheOthers, FOUR, joinPage } from '../helpers/mcu-page.js';
import { startServeWithBrowser, waitFor, type ServeWithBrowser } from '../helpers/switchboard.js';
import { framesOf, TRACK_FRAMES_JS } from '../helpers/track-frames.js';

/** Every remote video track the SDK handed to this page's application delivers 10 frames within 10 s. */
async function seesEveryVideo(page: Page, expected: number, who: string): Promise<void> {
  const n = (await page.evaluate('window.sbVideoTracks().length')) as number;
  assert.equal(n, expected, `${who} holds ${n} live remote video tracks`);
  for (let k = 0; k < n; k++) {
    const seen = await framesOf(page, `window.sbVideoTracks()[${k}].track`, 10, 10_000);
    const from = await page.evaluate(`window.sbVideoTracks()[${k}].from`);
    assert.equal(seen.frames, 10, `${who}: the video track from ${from} delivered ${seen.frames} frames in 10 s to the application`);
  }
}


/** Defines window.sbJoin(room, identity, opts) in the page: connects, publishes camera + mic, records events. */
const PAGE_SETUP = TRACK_FRAMES_JS + `
window.sbJoin = async (roomName, identity, opts) => {
  const { Room } = await import('/sdk/switchboard.js');
  const res = await fetch('/api/dev/token?room=' + encodeURIComponent(roomName) + '&identity=' + encodeURIComponent(identity));
  const { token } = await res.json();
  const state = { subscribed: [], disconnectedPeers: [], connectedPeers: [], errors: [] };
  window.sbState = state;
  const room = await Room.connect(location.origin, token, opts || {});
  window.sbRoom = room;
  room.on('trackSubscribed', (track, pub, p) => state.subscribed.push({ kind: track.kind, pub: pub.sid, from: p.identity, track }));
  room.on('participantConnected', (p) => state.connectedPeers.push(p.identity));
  room.on('participantDisconnected', (p) => state.disconnectedPeers.push(p.identity));
  state.events = [];
  for (const ev of ['reconnecting', 'reconnected', 'disconnected']) room.on(ev, () => state.events.push(ev));
  const media = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: true });
  for (const t of media.getTracks()) await room.localParticipant.publishTrack(t);
  return room.localParticipant.sid;
};
window.sbVideoTracks = () => window.sbState.subscribed.filter((s) => s.kind === 'video' && s.track.readyState === 'live');
window.sbCounts = () => {
  const s = window.sbState;
  return { video: s.subscribed.filter((x) => x.kind === 'video').length, audio: s.subscribed.filter((x) => x.kind === 'audio').length };
};
window.sbInbound = async () => {
  const stats = await window.sbRoom.getStats();
  const out = [];
  for (const [sid, report] of stats) {
    report.forEach((r) => {
      if (r.type === 'inbound-rtp') out.push({ sid, kind: r.kind, framesDecoded: r.framesDecoded || 0, packetsReceived: r.packetsReceived || 0 });
    });
  }
  return out;
};
window.sbLocalCandidateTypes = async () => {
  const stats = await window.sbRoom.getStats();
  const types = [];
  for (const [, report] of stats) {
    let pairId;
    report.forEach((r) => { if (r.type === 'transport' && r.selectedCandidatePairId) pairId = r.selectedCandidatePairId; });
    const pair = pairId && report.get(pairId);
    const local = pair && report.get(pair.localCandidateId);
    types.push(local ? local.candidateType : null);
  }
  return types;
};
true;
`;


describe('mesh rooms in Chromium', { skip: chromiumSkipReason(), timeout: 120_000 }, () => {
  let env: ServeWithBrowser;

  before(async () => {
    env = await startServeWithBrowser();
  });

  afterEach(async () => {
    await env?.closePages();
  });
  after(async () => {
    await env?.stop();
  });

  const openPage = (): Promise<Page> => env.openPage(PAGE_SETUP);


  test('4 participants: every pair exchanges audio and video; leaving is seen by the others', async () => {
    const pages: Page[] = [];
    for (let i = 0; i < 4; i++) pages.push(await openPage());
    for (let i = 0; i < 4; i++) {
      await pages[i]!.evaluate(`window.sbJoin('mesh4', 'user${i}')`);
    }
    for (const [i, page] of pages.entries()) {
      await waitFor(`page ${i} subscribed tracks`, () => page.evaluate('window.sbCounts()') as Promise<{ video: number; audio: number }>, (c) => c.video === 3 && c.audio === 3, 20_000);
    }
    for (const [i, page] of pages.entries()) {
      type Inbound = { sid: string; kind: string; framesDecoded: number; packetsReceived: number };
      await waitFor(
        `page ${i} inbound media`,
        () => page.evaluate('window.sbInbound()') as Promise<Inbound[]>,
        (list) =>
          list.filter((s) => s.kind === 'video' && s.framesDecoded > 0).length === 3 &&
          list.filter((s) => s.kind === 'audio' && s.packetsReceived > 0).length === 3,
        15_000,
      );
      await seesEveryVideo(page, 3, `page ${i}`);
    }
    await pages[3]!.evaluate('window.sbRoom.disconnect()');
    for (let i = 0; i < 3; i++) {
      await waitFor(`page ${i} sees user3 leave`, () => pages[i]!.evaluate('window.sbState.disconnectedPeers') as Promise<string[]>, (l) => l.includes('user3'), 10_000);
    }
    for (const p of pages) await p.close();
  });

  test('4 participants publish a canvas and an oscillator (two streams) right after connecting: every remote track the app holds renders its sender\'s colour or plays its tone', async () => {
    // The SDK's public calls only, as an application would: Room.connect, then publishTrack of a
    // canvas captureStream() video and of a WebAudio oscillator track, each its own MediaStream.
    const pages: Page[] = [];
    for (const spec of FOUR) pages.push(await joinPage(env, 'mesh-canvas', spec, { connect: {} }));
    await assertEachSeesAndHearsTheOthers(pages, FOUR);
    for (const p of pages) await p.close();
  });

  test('4 participants with iceTransportPolicy relay: the same call goes through TURN only', async () => {
    const pages = [await openPage(), await openPage(), await openPage(), await openPage()];
    for (let i = 0; i < 4; i++) await pages[i]!.evaluate(`window.sbJoin('relay4', 'r${i}', { iceTransportPolicy: 'relay' })`);
    for (const [i, page] of pages.entries()) {
      await waitFor(`page ${i} subscribed`, () => page.evaluate('window.sbCounts()') as Promise<{ video: number; audio: number }>, (c) => c.video === 3 && c.audio === 3, 30_000);
      type Inbound = { kind: string; framesDecoded: number };
      await waitFor(`page ${i} frames`, () => page.evaluate('window.sbInbound()') as Promise<Inbound[]>, (l) => l.filter((s) => s.kind === 'video' && s.framesDecoded > 0).length === 3, 20_000);
      await seesEveryVideo(page, 3, `page ${i}`);
      const types = (await page.evaluate('window.sbLocalCandidateTypes()')) as (string | null)[];
      assert.deepEqual(types, ['relay', 'relay', 'relay']);
    }
    for (const p of pages) await p.close();
  });

  test('ICE restart: new ICE credentials are negotiated through signaling and media keeps flowing', async () => {
    const pages = [await openPage(), await openPage()];
    for (let i = 0; i < 2; i++) await pages[i]!.evaluate(`window.sbJoin('restart2', 'x${i}')`);
    for (const [i, page] of pages.entries()) {
      await waitFor(`page ${i} subscribed`, () => page.evaluate('window.sbCounts()') as Promise<{ video: number; audio: number }>, (c) => c.video === 1 && c.audio === 1, 20_000);
    }
    // The engine is internal; reach its peer connection for the test.
    const ufrag = `(() => { const pc = [...window.sbRoom._engine.peers.values()][0].pc; const m = /a=ice-ufrag:(\\S+)/.exec(pc.localDescription ? pc.localDescription.sdp : ''); return m ? m[1] : ''; })()`;
    const before = (await pages[0]!.evaluate(ufrag)) as string;
    assert.ok(before);
    await pages[0]!.evaluate('[...window.sbRoom._engine.peers.values()][0].pc.restartIce()');
    await waitFor('new ICE credentials', () => pages[0]!.evaluate(ufrag) as Promise<string>, (u) => u !== '' && u !== before, 10_000);
    type Inbound = { kind: string; framesDecoded: number };
    const frames = async (page: Page) => ((await page.evaluate('window.sbInbound()')) as Inbound[]).find((s) => s.kind === 'video')?.framesDecoded ?? 0;
    for (const page of pages) {
      const n = await frames(page);
      await waitFor('frames keep increasing after the restart', () => frames(page), (m) => m > n + 5, 10_000);
      await seesEveryVideo(page, 1, 'after the ICE restart');
    }
    for (const p of pages) await p.close();
  });

  test('a dropped signaling socket reconnects with the same participant and media keeps flowing', async () => {
    const pages = [await openPage(), await openPage()];
    const sids: string[] = [];
    for (let i = 0; i < 2; i++) sids.push((await pages[i]!.evaluate(`window.sbJoin('reconnect2', 'c${i}')`)) as string);
    for (const [i, page] of pages.entries()) {
      await waitFor(`page ${i} subscribed`, () => page.evaluate('window.sbCounts()') as Promise<{ video: number; audio: number }>, (c) => c.video === 1 && c.audio === 1, 20_000);
    }
    // Drop page 0's WebSocket without a leave (the SDK's socket is private; reach it for the test).
    await pages[0]!.evaluate('window.sbRoom._signal.ws.close()');
    await waitFor('reconnected', () => pages[0]!.evaluate('window.sbState.events') as Promise<string[]>, (e) => e.includes('reconnected'), 15_000);
    assert.deepEqual(await pages[0]!.evaluate('window.sbState.events'), ['reconnecting', 'reconnected']);
    assert.equal(await pages[0]!.evaluate('window.sbRoom.localParticipant.sid'), sids[0]);
    assert.deepEqual(await pages[1]!.evaluate('window.sbState.disconnectedPeers'), []);
    // Media still flows both ways after the reconnect.
    type Inbound = { kind: string; framesDecoded: number };
    const frames = async (page: Page) => ((await page.evaluate('window.sbInbound()')) as Inbound[]).find((s) => s.kind === 'video')?.framesDecoded ?? 0;
    for (const page of pages) {
      const before = await frames(page);
      await waitFor('frames keep increasing', () => frames(page), (n) => n > before, 10_000);
      await seesEveryVideo(page, 1, 'after the reconnect');
    }
    for (const p of pages) await p.close();
  });
});
