/**
 * Interop: a Node participant on @roamhq/wrtc (libwebrtc M106), written directly against the
 * protocol (test/helpers/wrtc-participant.ts, not the SDK), joins a room with two Chromium
 * participants using the browser SDK. Mesh: video flows both ways between every pair. SFU: it
 * publishes once to the server and receives both pages' video from it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { chromiumSkipReason } from '../helpers/chromium.js';
import { startServeWithBrowser, waitFor, type ServeWithBrowser } from '../helpers/switchboard.js';
import { framesOf, TRACK_FRAMES_JS } from '../helpers/track-frames.js';
import { spawnWrtcParticipant, type RemoteWrtcParticipant, type RemoteWrtcStats } from '../helpers/wrtc-participant.js';


const PAGE_SETUP = TRACK_FRAMES_JS + `
window.sbJoin = async (roomName, identity) => {
  const { Room } = await import('/sdk/switchboard.js');
  const res = await fetch('/api/dev/token?room=' + encodeURIComponent(roomName) + '&identity=' + encodeURIComponent(identity));
  const { token } = await res.json();
  const room = await Room.connect(location.origin, token);
  window.sbRoom = room;
  window.sbVideo = [];
  room.on('trackSubscribed', (track, pub, p) => { if (track.kind === 'video') window.sbVideo.push({ from: p.identity, track }); });
  const media = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: false });
  for (const t of media.getTracks()) await room.localParticipant.publishTrack(t);
  return room.localParticipant.sid;
};
window.sbFramesDecoded = async () => {
  const stats = await window.sbRoom.getStats();
  const out = {};
  for (const [sid, report] of stats) {
    report.forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') out[r.ssrc] = r.framesDecoded || 0;
    });
  }
  return out;
};
true;
`;


for (const topology of ['mesh', 'sfu', 'mcu'] as const) describe(`${topology} room: @roamhq/wrtc participant with Chromium participants`, { skip: chromiumSkipReason(), timeout: 120_000 }, () => {
  let env: ServeWithBrowser;
  let wrtcPeer: RemoteWrtcParticipant | undefined;

  before(async () => {
    env = await startServeWithBrowser({ SWITCHBOARD_ROOMS_DEFAULT_TOPOLOGY: topology, SWITCHBOARD_MCU_WIDTH: '640', SWITCHBOARD_MCU_HEIGHT: '360', SWITCHBOARD_MCU_FPS: '15' });
  });

  after(async () => {
    await wrtcPeer?.close();
    await env?.stop();
  });

  const openPage = (): Promise<Page> => env.openPage(PAGE_SETUP);


  test('2 Chromium (SDK) + 1 wrtc (own protocol implementation): everyone decodes the two others', async () => {
    const pages = [await openPage(), await openPage()];
    const sids: string[] = [];
    // Order page0, wrtc, page1: wrtc offers to page0 (it is newer) and answers page1's offer.
    sids.push((await pages[0]!.evaluate(`window.sbJoin('interop', 'chromium0')`)) as string);
    const res = await fetch(`${env.base}api/dev/token?room=interop&identity=wrtc0`);
    const { token } = (await res.json()) as { token: string };
    wrtcPeer = await spawnWrtcParticipant({ url: env.base, token });
    sids.push((await pages[1]!.evaluate(`window.sbJoin('interop', 'chromium1')`)) as string);
    const wrtcSid = wrtcPeer.sid;

    void wrtcSid;
    for (const [i, page] of pages.entries()) {
      await waitFor(
        `page ${i} decodes two videos (wrtc's and the other page's)`,
        () => page.evaluate('window.sbFramesDecoded()') as Promise<Record<string, number>>,
        // MCU: one video, the room's picture (with wrtc's and the other page's tiles in it)
        (f) => Object.values(f).filter((n) => n > 10).length === (topology === 'mcu' ? 1 : 2),
        20_000,
      );
      // and the frames reach the tracks the SDK handed to the application
      const froms = (await page.evaluate(`window.sbVideo.filter((v) => v.track.readyState === 'live').map((v) => v.from)`)) as string[];
      const expected = topology === 'mcu' ? ['mcu'] : ['wrtc0', i === 0 ? 'chromium1' : 'chromium0'];
      assert.deepEqual([...froms].sort(), [...expected].sort(), `page ${i} holds video tracks from ${JSON.stringify(froms)}`);
      for (const from of froms) {
        const seen = await framesOf(page, `window.sbVideo.find((v) => v.from === ${JSON.stringify(from)} && v.track.readyState === 'live').track`, 10, 10_000);
        assert.equal(seen.frames, 10, `page ${i}: the video track from ${from} delivered ${seen.frames} frames in 10 s to the application`);
      }
    }
    const peer = wrtcPeer;
    await waitFor<RemoteWrtcStats>(
      'wrtc sinks receive frames from both Chromium participants',
      () => peer.stats(),
      (s) => (topology === 'mcu' ? (s.framesFrom.mcu ?? 0) > 10 : sids.every((sid) => (s.framesFrom[sid] ?? 0) > 10)),
      20_000,
    ).catch(async (err) => {
      if (topology === 'sfu') console.log('server-side stats:', JSON.stringify((await env.admin('GET', '/api/rooms/interop/stats')).json));
      throw err;
    });
    if (topology === 'mcu') {
      // the composed picture keeps coming to libwebrtc (the libdatachannel load peers stall after
      // a few seconds in MCU rooms; see the issue): frames decoded over 12 more seconds
      const before = (await peer.stats()).framesFrom.mcu ?? 0;
      await sleep(12_000);
      const after = (await peer.stats()).framesFrom.mcu ?? 0;
      assert.ok(after - before > 12 * 5, `wrtc decoded ${after - before} composed frames in 12 s`);
    }
    if (topology === 'mesh') {
      // page 0 publishes a second video later. In its pair wrtc is the offerer (the newer one), but
      // it does not implement requestOffer: after the SDK's request goes unanswered it offers itself
      // (perfect negotiation), and wrtc receives the new track.
      await pages[0]!.evaluate(`(async () => {
        const c = document.createElement('canvas'); c.width = 160; c.height = 90;
        const g = c.getContext('2d'); setInterval(() => { g.fillStyle = '#f0f'; g.fillRect(0, 0, 160, 90); }, 66);
        await window.sbRoom.localParticipant.publishTrack(c.captureStream(15).getVideoTracks()[0]);
      })()`);
      const fromPage0 = async () => (await peer.stats()).videoTracksFrom[sids[0]!] ?? 0;
      await waitFor("wrtc receives page 0's second video (the SDK's fallback offer)", fromPage0, (n) => n === 2, 20_000);
      const seen = await peer.stats();
      await waitFor('and frames keep coming from page 0', async () => (await peer.stats()).framesFrom[sids[0]!] ?? 0, (n) => n > (seen.framesFrom[sids[0]!] ?? 0) + 20, 10_000);
    }
    const stats = await peer.stats();
    assert.deepEqual(stats.errors, []);

    const end = await peer.close();
    console.log(`wrtc participant child ended: ${JSON.stringify(end)}`);
    assert.ok(end.closedCleanly, `wrtc participant did not close cleanly: ${JSON.stringify(end)}`);
    for (const p of pages) await p.close();
  });
});
