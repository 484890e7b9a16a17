/**
 * End to end: SFU rooms with the browser SDK in headless Chromium. Each participant sends once
 * to the server, which forwards to everyone else; the SDK calls are the mesh ones.
 * Page code is plain JavaScript strings (see test/helpers/chromium.ts on tsx and evaluate()).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { chromiumSkipReason } from '../helpers/chromium.js';
import { startServeWithBrowser, waitFor, type ServeWithBrowser } from '../helpers/switchboard.js';

/** window.sbJoin(room, identity, opts): connects, publishes camera (1280x720) + mic, records events. */
const PAGE_SETUP = `
window.sbJoin = async (roomName, identity, opts) => {
  const { Room } = await import('/sdk/switchboard.js');
  const res = await fetch('/api/dev/token?room=' + encodeURIComponent(roomName) + '&identity=' + encodeURIComponent(identity));
  const { token } = await res.json();
  const state = { subscribed: [], speakers: [] };
  window.sbState = state;
  const room = await Room.connect(location.origin, token, opts || {});
  window.sbRoom = room;
  room.on('trackSubscribed', (track, pub, p) => {
    state.subscribed.push({ kind: track.kind, pub: pub.sid, from: p.identity });
    // played out, so the audio is decoded (Chromium pulls remote audio only for a sink)
    const el = document.createElement(track.kind === 'video' ? 'video' : 'audio');
    el.autoplay = true;
    if (track.kind === 'video') { el.muted = true; el.playsInline = true; }
    el.srcObject = new MediaStream([track]);
    el.dataset.pub = pub.sid;
    document.body.appendChild(el);
  });
  room.on('activeSpeakersChanged', (s) => state.speakers.push(s.map((p) => p.identity)));
  const media = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 }, audio: true });
  for (const t of media.getTracks()) await room.localParticipant.publishTrack(t);
  return room.localParticipant.sid;
};
window.sbCounts = () => {
  const s = window.sbState;
  return { video: s.subscribed.filter((x) => x.kind === 'video').length, audio: s.subscribed.filter((x) => x.kind === 'audio').length };
};
window.sbInbound = async () => {
  const stats = await window.sbRoom.getStats();
  const out = [];
  const sub = stats.get('subscriber');
  if (!sub) return out;
  sub.forEach((r) => {
    if (r.type === 'inbound-rtp') out.push({ kind: r.kind, ssrc: r.ssrc, framesDecoded: r.framesDecoded || 0, frameWidth: r.frameWidth || 0, packetsReceived: r.packetsReceived || 0, packetsLost: r.packetsLost || 0, audioEnergy: r.totalAudioEnergy || 0, samples: r.totalSamplesReceived || 0, nackCount: r.nackCount || 0, pliCount: r.pliCount || 0 });
  });
  return out;
};
true;
`;

interface Inbound {
  kind: string;
  ssrc: number;
  framesDecoded: number;
  frameWidth: number;
  packetsReceived: number;
  packetsLost: number;
  samples: number;
  audioEnergy: number;
}

const skip = chromiumSkipReason();

describe('SFU rooms in Chromium', { skip: skip ?? false }, () => {
  let env: ServeWithBrowser;
  before(async () => {
    env = await startServeWithBrowser({ SWITCHBOARD_ROOMS_DEFAULT_TOPOLOGY: 'sfu' });
  });
  after(async () => {
    await env?.stop();
  });

  const join = async (room: string, identity: string): Promise<Page> => {
    const page = await env.openPage(PAGE_SETUP);
    await page.evaluate(`window.sbJoin(${JSON.stringify(room)}, ${JSON.stringify(identity)})`);
    return page;
  };

  test('6 participants: each decodes video and audio from the other five', async () => {
    const pages: Page[] = [];
    for (let i = 0; i < 6; i++) pages.push(await join('sfu-six', `p${i}`));
    for (const [i, page] of pages.entries()) {
      await waitFor(`p${i} subscribed to 5 video + 5 audio`, () => page.evaluate('window.sbCounts()') as Promise<{ video: number; audio: number }>, (c) => c.video === 5 && c.audio === 5, 30_000);
    }
    for (const [i, page] of pages.entries()) {
      await waitFor(
        `p${i} decodes 5 videos and receives 5 audio streams`,
        () => page.evaluate('window.sbInbound()') as Promise<Inbound[]>,
        (s) => s.filter((x) => x.kind === 'video' && x.framesDecoded > 10).length === 5 && s.filter((x) => x.kind === 'audio' && x.samples > 48000 && x.audioEnergy > 0).length === 5,
        30_000,
      );
    }
    const server = await fetch(`${env.base}metrics`).then((r) => r.text());
    assert.ok(server.length > 0);
    for (const p of pages) await p.close();
  });
});
