// A participant of a Switchboard MCU room. Signaling is the SFU room's (packages/protocol): join,
// publishTrack for each track, the publisher connection (we offer: Opus, and VP8 with video), the
// subscriber connection (the server offers: one audio track, the mix of everyone else, and one
// video track, the composed room picture). Two node-datachannel peer connections per participant.
import ndc from 'node-datachannel';
import type { PeerConnection } from 'node-datachannel';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { JsonSocket } from './ws-json.js';
import { createHs256Token } from './token.js';
import { rtcUrl, switchboardToken } from './switchboard.js';
import { clockRatesFromSdp } from './peers.js';
import { MCU_OPUS_PT, MCU_VP8_PT, localSdpWhenGathered, pollUntil, type McuReceiver, type McuSender } from './mcu-peers.js';

export interface McuSwitchboardTarget {
  /** http(s)://host:port */
  httpBase: string;
  apiKey?: string;
  apiSecret?: string;
}

export interface McuSession {
  close(): void;
  /** Server errors seen after setup (code: message). */
  errors: string[];
  /** The negotiation as it happened, for diagnostics. */
  trace: string[];
  /** Connection states (publisher/subscriber, or the one connection). */
  state(): string;
  /** Received tracks, held so they are not garbage-collected (their callbacks would go with them). */
  tracks?: unknown[];
}

/** POST /api/rooms {name, topology: 'mcu', maxParticipants} with a room-admin token; an existing room is fine. */
export async function createSwitchboardMcuRoom(t: McuSwitchboardTarget, room: string, maxParticipants: number, log: (l: string) => void = () => undefined): Promise<void> {
  if (!t.apiKey || !t.apiSecret) return; // dev mode: the room is created on join, with the server's default topology
  const token = createHs256Token(t.apiKey, t.apiSecret, { identity: 'load-test-admin', room, grants: { join: false, roomAdmin: true } });
  const res = await fetch(new URL('/api/rooms', t.httpBase), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: room, topology: 'mcu', maxParticipants: Math.max(2, Math.min(10_000, maxParticipants)) }),
  });
  if (res.status !== 201) {
    const body = await res.text();
    if (!/exist/i.test(body)) log(`note: POST /api/rooms ${room} answered ${res.status} ${body.slice(0, 200)} (relying on the server's default topology)`);
  }
}

async function mcuToken(t: McuSwitchboardTarget, room: string, identity: string): Promise<string> {
  if (t.apiKey && t.apiSecret) return createHs256Token(t.apiKey, t.apiSecret, { identity, room, grants: { publish: true, subscribe: true } });
  return switchboardToken({ httpBase: t.httpBase, room }, identity, 'publisher'); // the dev endpoint grants everything
}

function closePc(pc: PeerConnection): void {
  try {
    pc.close();
  } catch {
    /* closed */
  }
}

/**
 * Joins `room` as `identity`, publishes Opus (and VP8 when `video`), answers the server's
 * subscriber offers and resolves once the publisher tracks are open and the subscriber connection
 * is up. `sender.audio`/`sender.video` are set; received RTP goes to `receiver`.
 */
export async function switchboardMcuJoin(t: McuSwitchboardTarget, room: string, identity: string, video: boolean, sender: McuSender, receiver: McuReceiver, timeoutMs = 20_000): Promise<McuSession> {
  const t0 = performance.now();
  const ms = () => `${Math.round(performance.now() - t0)}ms`;
  const trace: string[] = [];
  const errors: string[] = [];
  let pubState = 'new';
  let subState = 'new';
  const pub = new ndc.PeerConnection(`${identity}-pub`, { iceServers: [] });
  const sub = new ndc.PeerConnection(`${identity}-sub`, { iceServers: [] });
  pub.onStateChange((s) => (pubState = s));
  sub.onStateChange((s) => (subState = s));
  // Keep the Track objects: one that is garbage-collected stops calling onMessage (node-datachannel
  // frees its callback with the wrapper), which looked like the server going silent after ~8 s.
  const tracks: unknown[] = [];
  sub.onTrack((track) => {
    tracks.push(track);
    const kind = track.type();
    trace.push(`${ms()} track ${kind} mid ${track.mid()}`);
    track.onMessage((buf) => receiver.onPacket(buf, kind));
  });
  const tag = randomBytes(4).toString('hex');
  const audioCid = `mcu-a-${tag}`;
  const videoCid = `mcu-v-${tag}`;
  const cname = `mcu-${tag}`;
  const a = new ndc.Audio('0', 'SendOnly');
  a.addOpusCodec(MCU_OPUS_PT);
  a.addSSRC(sender.audioStream.ssrc, cname, audioCid, `${audioCid}-track`);
  sender.audio = pub.addTrack(a);
  if (video) {
    const v = new ndc.Video('1', 'SendOnly');
    v.addVP8Codec(MCU_VP8_PT);
    v.addSSRC(sender.videoStream.ssrc, cname, videoCid, `${videoCid}-track`);
    sender.video = pub.addTrack(v);
  }

  // subscriber offers are answered in order, as they come (one, or more on renegotiation)
  let send: ((m: unknown) => void) | null = null;
  const offers: string[] = [];
  let queue: Promise<void> = Promise.resolve();
  const answerNext = () => {
    if (send === null) return;
    const sdp = offers.shift();
    if (sdp === undefined) return;
    const out = send;
    queue = queue
      .then(async () => {
        for (const [pt, rate] of clockRatesFromSdp(sdp)) receiver.clockRates.set(pt, rate);
        const before = sub.localDescription()?.sdp;
        sub.setRemoteDescription(sdp, 'offer');
        const answer = await localSdpWhenGathered(sub, 10_000, 'answer', before);
        out({ v: 1, type: 'answer', target: 'subscriber', sdp: answer });
        trace.push(`${ms()} answer(${(answer.match(/^m=/gm) ?? []).length} m)`);
      })
      .catch((err) => {
        errors.push(`subscriber answer: ${(err as Error).message}`);
      });
  };

  const sock = await JsonSocket.open(rtcUrl(t.httpBase)).catch((err) => {
    closePc(pub);
    closePc(sub);
    throw err;
  });
  let ping: NodeJS.Timeout | null = null;
  const close = () => {
    if (ping) clearInterval(ping);
    sock.send({ v: 1, type: 'leave' });
    sock.close();
    closePc(pub);
    closePc(sub);
  };
  const session: McuSession = { close, errors, trace, state: () => `publisher ${pubState}, subscriber ${subState}`, tracks };
  try {
    sock.on((m) => {
      if (m.type === 'error') {
        errors.push(`${String(m.code)}: ${String(m.message)}`);
        trace.push(`${ms()} error ${String(m.code)} ${String(m.message)}`);
      }
      if (m.type === 'offer' && m.target === 'subscriber') {
        const sdp = String(m.sdp);
        trace.push(`${ms()} offer(${(sdp.match(/^m=audio/gm) ?? []).length} audio, ${(sdp.match(/^m=video/gm) ?? []).length} video m)`);
        offers.push(sdp);
        answerNext();
      }
    });
    const token = await mcuToken(t, room, identity);
    sock.send({ v: 1, type: 'join', id: 1, token });
    const joined = await sock.wait('join', (m) => (m.type === 'joined' && m.id === 1) || (m.type === 'error' && (m.replyTo === 1 || m.fatal === true)), timeoutMs);
    if (joined.type === 'error') throw new Error(`join refused: ${String(joined.code)} ${String(joined.message)}`);
    trace.push(`${ms()} joined`);
    const interval = typeof joined.pingIntervalMs === 'number' ? joined.pingIntervalMs : 10_000;
    ping = setInterval(() => sock.send({ v: 1, type: 'ping', t: Date.now() }), interval);
    ping.unref();
    send = (m) => sock.send(m);
    while (offers.length > 0) answerNext();

    let id = 10;
    const tracks: [string, 'audio' | 'video', string][] = [[audioCid, 'audio', 'microphone']];
    if (video) tracks.push([videoCid, 'video', 'camera']);
    for (const [cid, kind, source] of tracks) {
      const rid = id++;
      sock.send({ v: 1, type: 'publishTrack', id: rid, track: kind === 'video' ? { cid, kind, source, width: 640, height: 360 } : { cid, kind, source } });
      const r = await sock.wait(`publishTrack ${kind}`, (m) => (m.type === 'trackPublished' && m.id === rid) || (m.type === 'error' && m.replyTo === rid), timeoutMs);
      if (r.type === 'error') throw new Error(`publishTrack ${kind}: ${String(r.code)} ${String(r.message)}`);
    }
    pub.setLocalDescription();
    const offer = await localSdpWhenGathered(pub);
    // any error now is about this offer (or fatal): fail at once rather than at the timeout
    const answerP = sock.wait('publisher answer', (m) => (m.type === 'answer' && m.target !== 'subscriber') || m.type === 'error', timeoutMs);
    sock.send({ v: 1, type: 'offer', target: 'publisher', sdp: offer });
    const answer = await answerP;
    if (answer.type === 'error') throw new Error(`publisher offer refused: ${String(answer.code)} ${String(answer.message)}`);
    pub.setRemoteDescription(String(answer.sdp), 'answer');
    trace.push(`${ms()} publisher answer`);
    const remaining = () => Math.max(1000, timeoutMs - (performance.now() - t0));
    await pollUntil(
      () => sender.audio!.isOpen() && (!sender.video || sender.video.isOpen()),
      () => `publisher tracks not open (connection ${pubState})`,
      remaining(),
      () => (pubState === 'failed' || pubState === 'closed' ? `publisher connection ${pubState}` : null),
    );
    trace.push(`${ms()} publisher up`);
    await pollUntil(
      () => subState === 'connected',
      () => `subscriber connection ${subState} (${offers.length} offers queued${errors.length ? `; ${errors.join('; ')}` : ''})`,
      remaining(),
      () => (subState === 'failed' || subState === 'closed' ? `subscriber connection ${subState}` : null),
      20,
    );
    trace.push(`${ms()} subscriber up`);
    return session;
  } catch (err) {
    close();
    const extra = errors.length ? `; server said: ${errors.slice(0, 3).join('; ')}` : '';
    throw new Error(`${(err as Error).message}${extra} [${trace.join(', ')}]`);
  }
}
