/**
 * Acceptance: Chromium relays a fake-camera video call through the TURN server under
 * test only (iceTransportPolicy 'relay'), over UDP and over TCP to the server, and
 * with TURN REST API ephemeral credentials.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { chromiumSkipReason, launchBrowser, servePages, type PageServer } from '../helpers/chromium.js';
import { TRACK_FRAMES_JS, type FramesSeen } from '../helpers/track-frames.js';
import { startTurnUnderTest, turnImplementation, turnRestCredentials, turnUnderTestSkipReason, type TurnUnderTest } from '../helpers/turn-under-test.js';

const skip = chromiumSkipReason() || turnUnderTestSkipReason();
const impl = turnImplementation();

/** Plain JavaScript run in the page (not serialized from TypeScript: see helpers/chromium.ts). */
const PAGE = String.raw`<!doctype html>
<meta charset="utf-8">
<title>switchboard turn interop</title>
<script>${TRACK_FRAMES_JS}</script>
<script>
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function selectedPair(pc) {
  const stats = await pc.getStats();
  const byId = new Map();
  stats.forEach((s) => byId.set(s.id, s));
  let pair;
  stats.forEach((s) => {
    if (s.type === 'transport' && s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId);
  });
  if (!pair) {
    stats.forEach((s) => {
      if (s.type === 'candidate-pair' && (s.selected || (s.nominated && s.state === 'succeeded'))) pair = pair || s;
    });
  }
  if (!pair) return null;
  const pick = (c) => c && {
    candidateType: c.candidateType, protocol: c.protocol, relayProtocol: c.relayProtocol,
    address: c.address, port: c.port, url: c.url,
  };
  return {
    state: pair.state, nominated: pair.nominated, bytesSent: pair.bytesSent, bytesReceived: pair.bytesReceived,
    local: pick(byId.get(pair.localCandidateId)), remote: pick(byId.get(pair.remoteCandidateId)),
  };
}

async function inboundVideo(pc) {
  const stats = await pc.getStats();
  let found = null;
  stats.forEach((s) => {
    if (s.type === 'inbound-rtp' && (s.kind === 'video' || s.mediaType === 'video')) found = s;
  });
  return found ? { framesDecoded: found.framesDecoded || 0, packetsReceived: found.packetsReceived || 0,
    bytesReceived: found.bytesReceived || 0, frameWidth: found.frameWidth, frameHeight: found.frameHeight } : null;
}

// Two peer connections in this page, relay only, media from the fake camera A -> B.
window.relayCall = async function relayCall({ iceServers, timeoutMs, minFrames }) {
  const t0 = performance.now();
  const log = [];
  const errors = [];
  const candidates = { a: [], b: [] };
  const config = { iceServers, iceTransportPolicy: 'relay' };
  const a = new RTCPeerConnection(config);
  const b = new RTCPeerConnection(config);
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: false });
  try {
    for (const [name, pc, other] of [['a', a, b], ['b', b, a]]) {
      pc.onicecandidate = (e) => {
        if (!e.candidate) return;
        candidates[name].push(e.candidate.candidate);
        other.addIceCandidate(e.candidate).catch((err) => errors.push(name + ' addIceCandidate: ' + err));
      };
      pc.onicecandidateerror = (e) => errors.push(name + ' icecandidateerror ' + e.errorCode + ' ' + e.errorText + ' ' + e.url);
      pc.oniceconnectionstatechange = () => log.push(Math.round(performance.now() - t0) + 'ms ' + name + ' ice ' + pc.iceConnectionState);
      pc.onconnectionstatechange = () => log.push(Math.round(performance.now() - t0) + 'ms ' + name + ' pc ' + pc.connectionState);
    }
    let remoteTrack = null;
    b.ontrack = (e) => { remoteTrack = e.track; };
    for (const track of stream.getTracks()) a.addTrack(track, stream);
    const offer = await a.createOffer();
    await a.setLocalDescription(offer);
    await b.setRemoteDescription(offer);
    const answer = await b.createAnswer();
    await b.setLocalDescription(answer);
    await a.setRemoteDescription(answer);

    const deadline = performance.now() + timeoutMs;
    let video = null;
    while (performance.now() < deadline) {
      video = await inboundVideo(b);
      if (video && video.framesDecoded >= minFrames && a.connectionState === 'connected' && b.connectionState === 'connected') break;
      if (a.connectionState === 'failed' || b.connectionState === 'failed') break;
      await sleep(100);
    }
    // what the receiving application sees: frames reaching its track
    const seen = remoteTrack ? await window.sbFrames(remoteTrack, minFrames, 5000) : null;
    return {
      seen,
      elapsedMs: Math.round(performance.now() - t0),
      connectionState: { a: a.connectionState, b: b.connectionState },
      video, pair: { a: await selectedPair(a), b: await selectedPair(b) },
      candidates, errors, log,
    };
  } finally {
    stream.getTracks().forEach((t) => t.stop());
    a.close();
    b.close();
  }
};

// Gather relay candidates only (no call): for credential checks.
window.gatherRelay = async function gatherRelay({ iceServers, timeoutMs }) {
  const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
  const candidates = [];
  const errors = [];
  pc.onicecandidateerror = (e) => errors.push({ errorCode: e.errorCode, errorText: e.errorText, url: e.url });
  const done = new Promise((resolve) => {
    pc.onicecandidate = (e) => (e.candidate ? candidates.push(e.candidate.candidate) : resolve());
  });
  pc.createDataChannel('x');
  await pc.setLocalDescription(await pc.createOffer());
  await Promise.race([done, sleep(timeoutMs)]);
  pc.close();
  return { candidates, errors };
};
</script>
<p>ready</p>
`;

interface CandidateInfo {
  candidateType?: string;
  protocol?: string;
  relayProtocol?: string;
  address?: string;
  port?: number;
  url?: string;
}
interface CallResult {
  elapsedMs: number;
  connectionState: { a: string; b: string };
  video: { framesDecoded: number; packetsReceived: number; bytesReceived: number } | null;
  seen: FramesSeen | null;
  pair: Record<'a' | 'b', { state: string; local?: CandidateInfo; remote?: CandidateInfo } | null>;
  candidates: { a: string[]; b: string[] };
  errors: string[];
  log: string[];
}

/** Frames the receiver must decode: more than one, so that a relay that stalls after the first packets fails. */
const MIN_FRAMES = 10;

async function relayCall(page: Page, iceServers: RTCIceServerLike[], timeoutMs = 20_000): Promise<CallResult> {
  return (await page.evaluate(`relayCall(${JSON.stringify({ iceServers, timeoutMs, minFrames: MIN_FRAMES })})`)) as CallResult;
}

interface RTCIceServerLike {
  urls: string | string[];
  username?: string;
  credential?: string;
}

function assertRelayedCall(r: CallResult, relayProtocol: 'udp' | 'tcp', turn: TurnUnderTest): void {
  if (process.env.TEST_VERBOSE === '1') console.error(JSON.stringify(r, null, 2));
  const info = JSON.stringify(r, null, 2) + `\n--- ${turn.impl} output (tail) ---\n${turn.process.tail(20)}`;
  assert.equal(r.connectionState.a, 'connected', info);
  assert.equal(r.connectionState.b, 'connected', info);
  assert.ok(r.video && r.video.framesDecoded >= MIN_FRAMES, `fewer than ${MIN_FRAMES} video frames decoded\n${info}`);
  assert.equal(r.seen?.frames, MIN_FRAMES, `fewer than ${MIN_FRAMES} frames reached the receiving track\n${info}`);
  for (const side of ['a', 'b'] as const) {
    const pair = r.pair[side];
    assert.ok(pair, `${side}: no selected candidate pair\n${info}`);
    assert.equal(pair.local?.candidateType, 'relay', `${side}: local candidate is not relay\n${info}`);
    assert.equal(pair.remote?.candidateType, 'relay', `${side}: remote candidate is not relay\n${info}`);
    assert.equal(pair.local?.address, '127.0.0.1', `${side}: relayed address is not 127.0.0.1\n${info}`);
    const port = pair.local?.port ?? 0;
    assert.ok(port >= turn.minPort && port <= turn.maxPort, `${side}: relay port ${port} outside ${turn.minPort}-${turn.maxPort}\n${info}`);
    if (pair.local?.url !== undefined) assert.ok(pair.local.url.includes(`:${turn.port}`), `${side}: relay from another server\n${info}`);
    // Chromium reports how it reached the TURN server (may be absent in some versions).
    if (pair.local?.relayProtocol !== undefined) assert.equal(pair.local.relayProtocol, relayProtocol, info);
  }
  for (const c of [...r.candidates.a, ...r.candidates.b]) assert.match(c, / typ relay /, `non-relay candidate gathered\n${info}`);
}

describe(`Chromium through the TURN server (${impl})`, { skip, timeout: 60_000 }, () => {
  let site: PageServer;
  let browser: BrowserContext;
  let page: Page;

  before(async () => {
    site = await servePages({ '/': PAGE });
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.goto(site.url);
  });
  after(async () => {
    await browser?.close();
    await site?.close();
  });

  describe('long-term credentials', () => {
    let turn: TurnUnderTest;
    const iceServer = (transport: 'udp' | 'tcp', credential = 'pa55word') => ({ urls: turn.url(transport), username: 'carol', credential });
    before(async () => {
      turn = await startTurnUnderTest({ users: [{ name: 'carol', password: 'pa55word' }] });
    });
    after(async () => {
      await turn?.stop();
    });

    it('relays video over UDP (turn:...?transport=udp)', { timeout: 30_000 }, async () => {
      assertRelayedCall(await relayCall(page, [iceServer('udp')]), 'udp', turn);
    });

    it('relays video over TCP (turn:...?transport=tcp)', { timeout: 30_000 }, async () => {
      assertRelayedCall(await relayCall(page, [iceServer('tcp')]), 'tcp', turn);
    });

    it('a wrong password gathers no relay candidate and reports error 401', { timeout: 30_000 }, async () => {
      const r = (await page.evaluate(`gatherRelay(${JSON.stringify({ iceServers: [iceServer('udp', 'wrong')], timeoutMs: 10_000 })})`)) as {
        candidates: string[];
        errors: Array<{ errorCode: number; errorText: string }>;
      };
      assert.deepEqual(r.candidates, [], JSON.stringify(r));
      assert.ok(r.errors.some((e) => e.errorCode === 401), `expected icecandidateerror 401: ${JSON.stringify(r)}`);
    });
  });

  describe('TURN REST API ephemeral credentials', () => {
    let turn: TurnUnderTest;
    const secret = 'chromium-rest-secret';
    before(async () => {
      turn = await startTurnUnderTest({ authSecret: secret });
    });
    after(async () => {
      await turn?.stop();
    });

    it('relays video with username "<expiry>:alice" and base64(HMAC-SHA1(secret, username))', { timeout: 30_000 }, async () => {
      const { username, credential } = turnRestCredentials(secret, 'alice');
      assertRelayedCall(await relayCall(page, [{ urls: turn.url('udp'), username, credential }]), 'udp', turn);
    });
  });
});
