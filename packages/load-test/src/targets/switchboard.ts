// Switchboard as a load-test target, over its signaling protocol (packages/protocol) and admin
// API. SFU scenario: a publisher (join, publishTrack, our publisher offer) or a subscriber
// (join, answering the server's subscriber offers). MCU scenario: a participant of an MCU room,
// which does both on two node-datachannel peer connections: it publishes Opus (and VP8 with
// video) and receives one audio track, the mix of everyone else, and one video track, the
// composed room picture.
import ndc from 'node-datachannel';
import type { PeerConnection } from 'node-datachannel';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { JsonSocket } from '../ws-json.js';
import { createHs256Token } from '../token.js';
import { clockRatesFromSdp, localSdpWhenGathered, pollUntil } from '../peer-util.js';
import type { PublisherPeer, SubscriberPeer } from '../scenarios/sfu/peers.js';
import { MCU_OPUS_PT, MCU_VP8_PT, type McuReceiver, type McuSender } from '../scenarios/mcu/peers.js';

export interface SwitchboardTarget {
  /** http(s)://host:port */
  httpBase: string;
  room: string;
  apiKey?: string;
  apiSecret?: string;
}

export function rtcUrl(httpBase: string): string {
  const u = new URL(httpBase);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = '/rtc';
  u.search = '';
  return u.toString();
}

/** A token: signed here when an API key is given (exact grants), else from the dev endpoint. */
export async function switchboardToken(t: SwitchboardTarget, identity: string, role: 'publisher' | 'subscriber'): Promise<string> {
  if (t.apiKey && t.apiSecret) {
    return createHs256Token(t.apiKey, t.apiSecret, { identity, room: t.room, grants: role === 'publisher' ? { publish: true } : { subscribe: true } });
  }
  const u = new URL('/api/dev/token', t.httpBase);
  u.searchParams.set('room', t.room);
  u.searchParams.set('identity', identity);
  const res = await fetch(u);
  const body = (await res.json().catch(() => ({}))) as { token?: string; message?: string };
  if (!res.ok || !body.token) throw new Error(`GET ${u.pathname}: HTTP ${res.status} ${body.message ?? ''} (pass apiKey/apiSecret when the server is not in dev mode)`);
  return body.token;
}

export interface SignalSession {
  close(): void;
  /** Server errors seen after setup (code: message). */
  errors: string[];
  /** What happened in the subscriber negotiation, for diagnostics (offers, answers, errors). */
  trace?: string[];
}

/** `early` sees every message from the start (an offer can arrive in the same read as `joined`). */
async function join(t: SwitchboardTarget, token: string, early?: (m: Record<string, unknown>, errors: string[]) => void): Promise<{ sock: JsonSocket; session: SignalSession }> {
  const sock = await JsonSocket.open(rtcUrl(t.httpBase));
  const errors: string[] = [];
  if (early) sock.on((m) => early(m, errors));
  sock.on((m) => {
    if (m.type === 'error') errors.push(`${String(m.code)}: ${String(m.message)}`);
  });
  sock.send({ v: 1, type: 'join', id: 1, token });
  const joined = await sock.wait('join', (m) => (m.type === 'joined' && m.id === 1) || (m.type === 'error' && (m.replyTo === 1 || m.fatal === true)));
  if (joined.type === 'error') {
    sock.close();
    throw new Error(`join refused: ${String(joined.code)} ${String(joined.message)}`);
  }
  const interval = typeof joined.pingIntervalMs === 'number' ? joined.pingIntervalMs : 10_000;
  const ping = setInterval(() => sock.send({ v: 1, type: 'ping', t: Date.now() }), interval);
  ping.unref();
  return {
    sock,
    session: {
      errors,
      close() {
        clearInterval(ping);
        sock.send({ v: 1, type: 'leave' });
        sock.close();
      },
    },
  };
}

/** Joins, announces the two tracks, negotiates the publisher connection, waits for DTLS. */
export async function switchboardPublish(t: SwitchboardTarget, pub: PublisherPeer, identity: string): Promise<SignalSession> {
  const token = await switchboardToken(t, identity, 'publisher');
  const { sock, session } = await join(t, token);
  try {
    let id = 10;
    for (const [cid, kind, source] of [
      [pub.audioCid, 'audio', 'microphone'],
      [pub.videoCid, 'video', 'camera'],
    ] as const) {
      const rid = id++;
      sock.send({ v: 1, type: 'publishTrack', id: rid, track: kind === 'video' ? { cid, kind, source, width: 640, height: 360 } : { cid, kind, source } });
      const r = await sock.wait(`publishTrack ${kind}`, (m) => (m.type === 'trackPublished' && m.id === rid) || (m.type === 'error' && m.replyTo === rid));
      if (r.type === 'error') throw new Error(`publishTrack ${kind}: ${String(r.code)} ${String(r.message)}`);
    }
    const offer = await pub.createOffer();
    const answerP = sock.wait('publisher answer', (m) => (m.type === 'answer' && m.target !== 'subscriber') || m.type === 'error');
    sock.send({ v: 1, type: 'offer', target: 'publisher', sdp: offer });
    const answer = await answerP;
    if (answer.type === 'error') throw new Error(`publisher offer refused: ${String(answer.code)} ${String(answer.message)}`);
    pub.setAnswer(String(answer.sdp));
    await pub.waitOpen();
    return session;
  } catch (err) {
    session.close();
    throw err;
  }
}

/** Joins with subscribe only, answers every subscriber offer, waits until the connection is up (media is checked later). */
export async function switchboardSubscribe(t: SwitchboardTarget, sub: SubscriberPeer, identity: string, expectStreams: number, timeoutMs = 20_000, holdRenegotiation = process.env.LT_HOLD_RENEGOTIATION === '1'): Promise<SignalSession> {
  const token = await switchboardToken(t, identity, 'subscriber');
  const t0 = performance.now();
  const trace: string[] = [];
  let answered = 0;
  let queue: Promise<void> = Promise.resolve();
  let send: ((m: unknown) => void) | null = null;
  const offers: string[] = [];
  const answerNext = (errors: string[]) => {
    if (send === null) return;
    const sdp = offers.shift();
    if (sdp === undefined) return;
    const out = send;
    queue = queue
      .then(async () => {
        // option: answer a renegotiation only once the connection is up (works around a server race, see README)
        if (holdRenegotiation && answered > 0) await sub.waitConnected(timeoutMs).catch(() => undefined);
        const answer = await sub.answer(sdp);
        out({ v: 1, type: 'answer', target: 'subscriber', sdp: answer });
        answered++;
        trace.push(`${Math.round(performance.now() - t0)}ms answer(${(answer.match(/^a=recvonly/gm) ?? []).length} recvonly)`);
      })
      .catch((err) => {
        errors.push(`answer: ${(err as Error).message}`);
      });
  };
  let errorsRef: string[] = [];
  const { sock, session } = await join(t, token, (m, errors) => {
    errorsRef = errors;
    if (process.env.LT_DEBUG) console.error(`[${identity}] <- ${String(m.type)} ${String(m.target ?? '')}`);
    if (m.type === 'error') trace.push(`${Math.round(performance.now() - t0)}ms error ${String(m.code)} ${String(m.message)}`);
    if (m.type !== 'offer' || m.target !== 'subscriber') return;
    const sdp = String(m.sdp);
    trace.push(`${Math.round(performance.now() - t0)}ms offer(v${/^o=\S+ \S+ (\d+)/m.exec(sdp)?.[1] ?? '?'}, ${(sdp.match(/^a=sendonly/gm) ?? []).length} sendonly/${(sdp.match(/^m=/gm) ?? []).length} m)`);
    offers.push(sdp);
    answerNext(errors);
  });
  session.trace = trace;
  send = (m) => sock.send(m);
  while (offers.length > 0) answerNext(errorsRef);
  try {
    sub.expectStreams = expectStreams;
    await sub.waitConnected(timeoutMs);
    return session;
  } catch (err) {
    session.close();
    const extra = session.errors.length ? `; server said: ${session.errors.join('; ')}` : '';
    throw new Error(`${(err as Error).message}${extra}`);
  }
}

// ---- MCU rooms ------------------------------------------------------------------------

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

/**
 * POST /api/rooms {name, topology, maxParticipants} with a room-admin token (SFU and MCU rooms
 * default to 100 participants); an existing room is fine. Without an API key (dev mode) nothing
 * is created: the room comes with the first join, in the server's default topology.
 */
export async function createSwitchboardRoom(t: { httpBase: string; apiKey?: string; apiSecret?: string }, room: string, topology: 'sfu' | 'mcu', maxParticipants: number, log: (l: string) => void = () => undefined): Promise<void> {
  if (!t.apiKey || !t.apiSecret) return;
  const token = createHs256Token(t.apiKey, t.apiSecret, { identity: 'load-test-admin', room, grants: { join: false, roomAdmin: true } });
  const res = await fetch(new URL('/api/rooms', t.httpBase), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: room, topology, maxParticipants: Math.max(2, Math.min(10_000, maxParticipants)) }),
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
