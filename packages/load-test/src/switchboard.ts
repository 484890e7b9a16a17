// Switchboard signaling for an SFU participant (packages/protocol): join, publishTrack, the
// publisher offer/answer (we offer) and the subscriber offer/answer (the server offers).
import { JsonSocket } from './ws-json.js';
import { createHs256Token } from './token.js';
import type { PublisherPeer, SubscriberPeer } from './peers.js';

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
