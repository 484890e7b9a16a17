/**
 * Captures the SDP fixtures in test/fixtures/ from the local Chromium (/usr/bin/chromium):
 *
 *   cd /work/main && node --import tsx packages/sdp/scripts/capture-fixtures.ts
 *
 * Uses the same launch flags as test/helpers/chromium.ts (fake media devices). Page code is
 * plain JavaScript in the served HTML (tsx would inject __name helpers into functions).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures');

const PAGE = `<!doctype html><html><body><script>
async function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise((resolve) => {
    const t = setTimeout(resolve, 3000);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') { clearTimeout(t); resolve(); }
    });
  });
}
async function media() {
  return navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720 } });
}
async function offerAvData() {
  const stream = await media();
  const pc = new RTCPeerConnection();
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  pc.createDataChannel('chat');
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const sdp = pc.localDescription.sdp;
  pc.close();
  return sdp;
}
async function offerSimulcast() {
  const stream = await media();
  const pc = new RTCPeerConnection();
  pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendonly', streams: [stream] });
  pc.addTransceiver(stream.getVideoTracks()[0], {
    direction: 'sendonly',
    streams: [stream],
    sendEncodings: [
      { rid: 'q', scaleResolutionDownBy: 4 },
      { rid: 'h', scaleResolutionDownBy: 2 },
      { rid: 'f' },
    ],
  });
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const sdp = pc.localDescription.sdp;
  pc.close();
  return sdp;
}
async function answerRecvonly() {
  const stream = await media();
  const sender = new RTCPeerConnection();
  for (const track of stream.getTracks()) sender.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
  sender.createDataChannel('data');
  await sender.setLocalDescription(await sender.createOffer());
  const receiver = new RTCPeerConnection();
  await receiver.setRemoteDescription(sender.localDescription);
  await receiver.setLocalDescription(await receiver.createAnswer());
  await gathered(receiver);
  const sdp = receiver.localDescription.sdp;
  sender.close();
  receiver.close();
  return sdp;
}
</script></body></html>`;

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: [
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
  ],
  timeout: 30_000,
});
try {
  const page = await context.newPage();
  await page.goto(url);
  console.log('chromium', context.browser()?.version() ?? '(persistent context)', await page.evaluate('navigator.userAgent'));
  for (const [file, fn] of [
    ['chromium-offer-av-data.sdp', 'offerAvData()'],
    ['chromium-offer-simulcast.sdp', 'offerSimulcast()'],
    ['chromium-answer-recvonly.sdp', 'answerRecvonly()'],
  ] as const) {
    const sdp = (await page.evaluate(fn)) as string;
    writeFileSync(join(OUT, file), sdp);
    console.log(`${file}: ${sdp.length} chars`);
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  server.close();
}
