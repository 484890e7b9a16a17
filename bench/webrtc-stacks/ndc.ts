// node-datachannel 0.33.4 (libdatachannel: libjuice ICE, OpenSSL DTLS, libsrtp) sender and
// receiver for bench/webrtc-stacks.ts: a SendOnly VP8 Track carrying raw RTP
// (Track.sendMessageBinary: libdatachannel only SRTP-protects and sends it), non-trickle SDP.
import { performance } from 'node:perf_hooks';
import ndc from 'node-datachannel';
import type { PeerConnection, Track } from 'node-datachannel';
import { CHUNK, PKT, StreamClock, VP8_PT, next, rtpTemplate, send, serveReceiverCounts, timedSendLoop, withTimeout, writeSeqTs, type ChildConfig, type Counters } from './common.js';

const SSRC = 0x22334455;

// The wrappers close their PeerConnection / Track when garbage-collected: keep them referenced.
const keep: unknown[] = [];

/** Watches libdatachannel's Debug log (setup only; per-packet lines are Verbose) for the SRTP profile. */
let srtpProfile = '';
function watchProfile(): void {
  ndc.initLogger('Debug', (_level, message) => {
    const m = /SRTP profile is: (\S+)/.exec(message);
    if (m) srtpProfile = m[1]!;
  });
}

async function gathered(pc: PeerConnection): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const d = pc.localDescription();
    if (d && pc.gatheringState() === 'complete') return d.sdp;
    if (Date.now() - t0 > 10_000) throw new Error(`node-datachannel: ICE gathering not complete after 10 s (${pc.gatheringState()})`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function sender(cfg: ChildConfig): Promise<void> {
  const t0 = performance.now();
  watchProfile();
  const pc = new ndc.PeerConnection('bench-sender', { iceServers: [], bindAddress: '127.0.0.1' });
  keep.push(pc);
  let state = 'new';
  pc.onStateChange((s) => (state = s));
  const video = new ndc.Video('0', 'SendOnly');
  video.addVP8Codec(VP8_PT);
  video.addSSRC(SSRC, 'bench', 'bench-stream', 'bench-track');
  const track: Track = pc.addTrack(video);
  keep.push(video, track);
  pc.setLocalDescription();
  send({ type: 'signal', data: await gathered(pc) });
  const answer = (await withTimeout(next('signal'), 15_000, 'node-datachannel answer')).data as string;
  pc.setRemoteDescription(answer, 'answer');
  const w0 = Date.now();
  while (!track.isOpen()) {
    if (state === 'failed' || state === 'closed') throw new Error(`node-datachannel sender: connection ${state}`);
    if (Date.now() - w0 > 15_000) throw new Error(`node-datachannel sender: track not open after 15 s (connection ${state})`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const setupMs = performance.now() - t0;
  for (let i = 0; i < 100 && !srtpProfile; i++) await new Promise((r) => setTimeout(r, 5));
  ndc.initLogger('Warning', () => {});
  // PeerConnection.bytesSent() stays 0 for media here: bytes = packets x (1200 + SRTP tag).
  const tag = /GCM/.test(srtpProfile) ? 16 : /80/.test(srtpProfile) ? 10 : -1;
  send({ type: 'connected', setupMs });
  await next('run');

  const template = rtpTemplate(SSRC);
  const buf = Buffer.alloc(PKT);
  const clock = new StreamClock(2);
  let ok = 0;
  const c: Counters = { packets: () => ok, bytes: () => (tag < 0 ? -1 : ok * (PKT + tag)), calls: 0, refused: 0 };
  const sendChunk = () => {
    for (let i = 0; i < CHUNK; i++) {
      // sendMessageBinary copies the bytes into a C++ message before it returns: one buffer will do.
      template.copy(buf);
      writeSeqTs(buf, 0, clock.seq, clock.ts, clock.step());
      c.calls++;
      if (track.sendMessageBinary(buf)) ok++;
      else c.refused++;
    }
  };
  const result = await timedSendLoop(cfg, c, sendChunk, 'sendMessageBinary() === true', setupMs, `${srtpProfile || 'SRTP profile not seen in the log'}`);
  if (srtpProfile) result.profile = srtpProfile.replace(/^SRTP_/, '');
  send({ type: 'result', result });
}

export async function receiver(_cfg: ChildConfig): Promise<void> {
  const pc = new ndc.PeerConnection('bench-receiver', { iceServers: [], bindAddress: '127.0.0.1' });
  keep.push(pc);
  let count = 0;
  let rtcp = 0;
  pc.onTrack((track) => {
    keep.push(track);
    track.onMessage((msg) => {
      // onMessage delivers decrypted RTP and RTCP (RFC 5761: PT 192..223 in byte 1 = RTCP).
      const pt = msg[1]!;
      if (pt >= 192 && pt <= 223) rtcp++;
      else count++;
    });
  });
  serveReceiverCounts(() => count, () => (rtcp ? `${rtcp} RTCP` : undefined));
  const offer = (await withTimeout(next('signal'), 15_000, 'node-datachannel offer')).data as string;
  pc.setRemoteDescription(offer, 'offer');
  send({ type: 'signal', data: await gathered(pc) });
}
