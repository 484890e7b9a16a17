// werift 0.24.4 (pure TypeScript) sender and receiver for bench/webrtc-stacks.ts: one
// RTCPeerConnection each, a sendonly VP8 video track, non-trickle offer/answer over IPC.
import { performance } from 'node:perf_hooks';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { CHUNK, PKT, StreamClock, next, rtpTemplate, send, serveReceiverCounts, timedSendLoop, withTimeout, writeSeqTs, type ChildConfig, type Counters } from './common.js';

// No NACK/PLI/REMB/TWCC feedback and no header extensions: the sender does only RTP + SRTP + send,
// and a loss at the receiver does not make it retransmit.
const codecs = () => ({
  video: [new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, payloadType: 96, rtcpFeedback: [] })],
  audio: [],
});

// Loopback only: werift skips "internal" interfaces when gathering, so 127.0.0.1 is added by hand
// and the sockets are bound to it.
const pcConfig = () => ({
  codecs: codecs(),
  iceUseIpv6: false,
  iceAdditionalHostAddresses: ['127.0.0.1'],
  iceInterfaceAddresses: { udp4: '127.0.0.1' },
  iceFilterCandidatePair: (pair: { remoteCandidate: { host: string } }) => pair.remoteCandidate.host === '127.0.0.1',
});

// Kept referenced for the life of the process.
const keep: unknown[] = [];

async function gathered(pc: RTCPeerConnection): Promise<string> {
  const t0 = Date.now();
  while (pc.iceGatheringState !== 'complete') {
    if (Date.now() - t0 > 10_000) throw new Error(`werift: ICE gathering not complete after 10 s (${pc.iceGatheringState})`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return pc.localDescription!.sdp;
}

async function connected(pc: RTCPeerConnection, what: string): Promise<void> {
  const t0 = Date.now();
  while (pc.connectionState !== 'connected') {
    if (pc.connectionState === 'failed' || pc.connectionState === 'closed') throw new Error(`werift ${what}: connection ${pc.connectionState}`);
    if (Date.now() - t0 > 15_000) throw new Error(`werift ${what}: not connected after 15 s (ice ${pc.iceConnectionState}, connection ${pc.connectionState})`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function sender(cfg: ChildConfig): Promise<void> {
  const t0 = performance.now();
  const pc = new RTCPeerConnection(pcConfig() as ConstructorParameters<typeof RTCPeerConnection>[0]);
  keep.push(pc);
  const track = new MediaStreamTrack({ kind: 'video' });
  const transceiver = pc.addTransceiver(track, { direction: 'sendonly' });
  await pc.setLocalDescription(await pc.createOffer());
  send({ type: 'signal', data: await gathered(pc) });
  const answer = (await withTimeout(next('signal'), 15_000, 'werift answer')).data as string;
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  await connected(pc, 'sender');
  // DTLS-SRTP keys are in place once the DTLS transport reports connected.
  const dtls = transceiver.sender.dtlsTransport;
  while (dtls.state !== 'connected' || !dtls.srtpStarted) await new Promise((r) => setTimeout(r, 5));
  const setupMs = performance.now() - t0;
  send({ type: 'connected', setupMs });
  await next('run');

  // A ring of packet buffers: writeRtp(Buffer) parses the buffer and keeps the parsed packet in
  // its retransmission cache, so a buffer is reused only after 4 chunks (and event-loop turns).
  const ring = Array.from({ length: 4 * CHUNK }, () => Buffer.alloc(PKT));
  const template = rtpTemplate(0x11223344);
  const clock = new StreamClock(1);
  let slot = 0;
  const c: Counters = {
    packets: () => dtls.packetsSent,
    bytes: () => dtls.bytesSent,
    calls: 0,
    refused: 0,
  };
  const sendChunk = () => {
    for (let i = 0; i < CHUNK; i++) {
      const b = ring[slot]!;
      slot = (slot + 1) % ring.length;
      template.copy(b);
      writeSeqTs(b, 0, clock.seq, clock.ts, clock.step());
      track.writeRtp(b);
      c.calls++;
    }
  };
  const result = await timedSendLoop(cfg, c, sendChunk, 'RTCDtlsTransport.packetsSent/bytesSent', setupMs);
  // werift's DtlsSocket keeps the negotiated profile id (1 = AES128_CM_SHA1_80, 7 = AEAD_AES_128_GCM).
  const id = dtls.dtls?.srtp.srtpProfile;
  if (id === 1 || id === 7) result.profile = id === 1 ? 'AES128_CM_SHA1_80' : 'AEAD_AES_128_GCM';
  send({ type: 'result', result });
}

export async function receiver(_cfg: ChildConfig): Promise<void> {
  const pc = new RTCPeerConnection(pcConfig() as ConstructorParameters<typeof RTCPeerConnection>[0]);
  keep.push(pc);
  let count = 0;
  pc.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe(() => {
      count++;
    });
  });
  serveReceiverCounts(() => count);
  const offer = (await withTimeout(next('signal'), 15_000, 'werift offer')).data as string;
  await pc.setRemoteDescription({ type: 'offer', sdp: offer });
  await pc.setLocalDescription(await pc.createAnswer());
  send({ type: 'signal', data: await gathered(pc) });
  await connected(pc, 'receiver');
}
