// Janus VideoRoom over Janus' WebSocket API (subprotocol 'janus-protocol'): sessions, handles,
// room creation, publishers (join + configure with our offer) and subscribers (join with
// streams, answer Janus' offer with start).
import { randomBytes } from 'node:crypto';
import { JsonSocket } from './ws-json.js';
import type { PublisherPeer, SubscriberPeer } from './peers.js';

const tx = () => randomBytes(8).toString('hex');

export class JanusSession {
  private keepalive: NodeJS.Timeout | null = null;
  private constructor(
    readonly sock: JsonSocket,
    readonly id: number,
  ) {
    this.keepalive = setInterval(() => sock.send({ janus: 'keepalive', session_id: id, transaction: tx() }), 20_000);
    this.keepalive.unref();
  }

  static async create(url: string): Promise<JanusSession> {
    const sock = await JsonSocket.open(url, 'janus-protocol');
    const t = tx();
    const p = sock.wait('janus create', (m) => m.transaction === t);
    sock.send({ janus: 'create', transaction: t });
    const r = await p;
    if (r.janus !== 'success') throw new Error(`janus create: ${JSON.stringify(r.error ?? r)}`);
    return new JanusSession(sock, (r.data as { id: number }).id);
  }

  async attach(plugin = 'janus.plugin.videoroom'): Promise<number> {
    const t = tx();
    const p = this.sock.wait('janus attach', (m) => m.transaction === t);
    this.sock.send({ janus: 'attach', plugin, session_id: this.id, transaction: t });
    const r = await p;
    if (r.janus !== 'success') throw new Error(`janus attach: ${JSON.stringify(r.error ?? r)}`);
    return (r.data as { id: number }).id;
  }

  /** A plugin message; resolves with the synchronous success or the asynchronous event (after the ack). */
  async message(handle: number, body: Record<string, unknown>, jsep?: { type: string; sdp: string }, timeoutMs = 15_000): Promise<{ data: Record<string, unknown>; jsep?: { type: string; sdp: string } }> {
    const t = tx();
    const p = this.sock.wait(`janus ${String(body.request)}`, (m) => m.transaction === t && m.janus !== 'ack', timeoutMs);
    this.sock.send({ janus: 'message', session_id: this.id, handle_id: handle, transaction: t, body, ...(jsep ? { jsep } : {}) });
    const r = await p;
    if (r.janus === 'error') throw new Error(`janus ${String(body.request)}: ${JSON.stringify(r.error)}`);
    const data = ((r.plugindata as { data?: Record<string, unknown> } | undefined)?.data ?? {}) as Record<string, unknown>;
    if (data.error !== undefined) throw new Error(`janus ${String(body.request)}: ${String(data.error_code)} ${String(data.error)}`);
    return { data, jsep: r.jsep as { type: string; sdp: string } | undefined };
  }

  trickleCompleted(handle: number): void {
    this.sock.send({ janus: 'trickle', session_id: this.id, handle_id: handle, transaction: tx(), candidate: { completed: true } });
  }

  /** Janus' trickled candidates for a handle. */
  onTrickle(handle: number, cb: (candidate: string, mid: string) => void): void {
    this.sock.on((m) => {
      if (m.janus !== 'trickle' || m.sender !== handle) return;
      const c = m.candidate as { candidate?: string; sdpMid?: string; completed?: boolean } | undefined;
      if (c?.candidate) cb(c.candidate, c.sdpMid ?? '0');
    });
  }

  close(): void {
    if (this.keepalive) clearInterval(this.keepalive);
    this.sock.send({ janus: 'destroy', session_id: this.id, transaction: tx() });
    this.sock.close();
  }
}

/** Creates a VideoRoom room (no recording, VP8/Opus). */
export async function janusCreateRoom(url: string, room: number, publishers: number): Promise<void> {
  const s = await JanusSession.create(url);
  try {
    const h = await s.attach();
    const r = await s.message(h, { request: 'create', room, publishers: Math.max(1, publishers), bitrate: 0, record: false, audiocodec: 'opus', videocodec: 'vp8', notify_joining: false, permanent: false, description: `load-test ${room}` });
    if (r.data.videoroom !== 'created') throw new Error(`janus create room: ${JSON.stringify(r.data)}`);
  } finally {
    s.close();
  }
}

export interface JanusPublishSession {
  feedId: number;
  close(): void;
}

export async function janusPublish(url: string, room: number, pub: PublisherPeer, display: string): Promise<JanusPublishSession> {
  const s = await JanusSession.create(url);
  try {
    const h = await s.attach();
    s.onTrickle(h, (c, mid) => pub.addRemoteCandidate(c, mid));
    const joined = await s.message(h, { request: 'join', ptype: 'publisher', room, display });
    const feedId = joined.data.id as number;
    const offer = await pub.createOffer();
    const conf = await s.message(h, { request: 'configure', audio: true, video: true }, { type: 'offer', sdp: offer });
    if (!conf.jsep) throw new Error(`janus configure: no answer (${JSON.stringify(conf.data)})`);
    pub.setAnswer(conf.jsep.sdp);
    s.trickleCompleted(h);
    await pub.waitOpen();
    return { feedId, close: () => s.close() };
  } catch (err) {
    s.close();
    throw err;
  }
}

export async function janusSubscribe(url: string, room: number, feedIds: number[], sub: SubscriberPeer, expectStreams: number, timeoutMs = 20_000): Promise<{ close(): void }> {
  const s = await JanusSession.create(url);
  try {
    const h = await s.attach();
    s.onTrickle(h, (c, mid) => sub.addRemoteCandidate(c, mid));
    const joined = await s.message(h, { request: 'join', ptype: 'subscriber', room, streams: feedIds.map((feed) => ({ feed })) });
    if (!joined.jsep) throw new Error(`janus subscriber join: no offer (${JSON.stringify(joined.data)})`);
    const answer = await sub.answer(joined.jsep.sdp);
    await s.message(h, { request: 'start' }, { type: 'answer', sdp: answer });
    s.trickleCompleted(h);
    sub.expectStreams = expectStreams;
    await sub.waitConnected(timeoutMs);
    return { close: () => s.close() };
  } catch (err) {
    s.close();
    throw err;
  }
}
