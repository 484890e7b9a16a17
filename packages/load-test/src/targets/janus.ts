// Janus as a load-test target, over Janus' WebSocket API (subprotocol 'janus-protocol'):
// sessions and handles; VideoRoom (the SFU scenario: room creation, publishers that join and
// configure with our offer, subscribers that join with streams and answer Janus' offer with
// start); AudioBridge (Janus' audio MCU, the MCU scenario: a room mixing at 48 kHz, participants
// that join and configure with an offer of one sendrecv Opus m-section, and receive the mix of
// everyone else, N-1, on the same m-section). janus-server.ts runs Janus itself.
import ndc from 'node-datachannel';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { JsonSocket } from '../ws-json.js';
import { localSdpWhenGathered, pollUntil } from '../peer-util.js';
import type { PublisherPeer, SubscriberPeer } from '../scenarios/sfu/peers.js';
import { MCU_OPUS_PT, type McuReceiver, type McuSender } from '../scenarios/mcu/peers.js';
import type { McuSession } from './switchboard.js';

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

// ---- AudioBridge ----------------------------------------------------------------------

export const AUDIOBRIDGE_PLUGIN = 'janus.plugin.audiobridge';

export interface AudioBridgeRoomOptions {
  /** Mixing rate (default 48000, Opus fullband like the MCU). */
  samplingRate?: number;
  description?: string;
  /** Packets Janus buffers per participant before mixing it (Janus' default 6). */
  prebuffering?: number;
}

/** Creates a (non-permanent) AudioBridge room; an existing room with that id is fine. */
export async function janusAudioBridgeCreateRoom(url: string, room: number, opts: AudioBridgeRoomOptions = {}): Promise<void> {
  const s = await JanusSession.create(url);
  try {
    const h = await s.attach(AUDIOBRIDGE_PLUGIN);
    const body: Record<string, unknown> = {
      request: 'create',
      room,
      permanent: false,
      description: opts.description ?? `load-test ${room}`,
      sampling_rate: opts.samplingRate ?? 48_000,
      record: false,
      audiolevel_event: false,
    };
    if (opts.prebuffering !== undefined) body.default_prebuffering = opts.prebuffering;
    try {
      const r = await s.message(h, body);
      if (r.data.audiobridge !== 'created') throw new Error(`janus audiobridge create: ${JSON.stringify(r.data)}`);
    } catch (err) {
      if (!/\b486\b|already exists/i.test((err as Error).message)) throw err; // 486: room exists
    }
  } finally {
    s.close();
  }
}

/** Destroys an AudioBridge room (best effort). */
export async function janusAudioBridgeDestroyRoom(url: string, room: number): Promise<void> {
  const s = await JanusSession.create(url);
  try {
    const h = await s.attach(AUDIOBRIDGE_PLUGIN);
    await s.message(h, { request: 'destroy', room, permanent: false }).catch(() => undefined);
  } finally {
    s.close();
  }
}

/**
 * Joins AudioBridge room `room` as `identity`: join, then configure with our offer (one sendrecv
 * Opus m-section), set Janus' answer, wait for DTLS. `sender.audio` is the sendrecv track; what
 * Janus sends on it (the mix) goes to `receiver`.
 */
export async function janusAudioBridgeJoin(url: string, room: number, identity: string, sender: McuSender, receiver: McuReceiver, timeoutMs = 20_000): Promise<McuSession> {
  const t0 = performance.now();
  const ms = () => `${Math.round(performance.now() - t0)}ms`;
  const trace: string[] = [];
  const errors: string[] = [];
  let state = 'new';
  const pc = new ndc.PeerConnection(identity, { iceServers: [] });
  pc.onStateChange((st) => (state = st));
  const tag = randomBytes(4).toString('hex');
  const a = new ndc.Audio('0', 'SendRecv');
  a.addOpusCodec(MCU_OPUS_PT);
  a.addSSRC(sender.audioStream.ssrc, `ab-${tag}`, `ab-a-${tag}`, `ab-a-${tag}-track`);
  const track = pc.addTrack(a);
  track.onMessage((buf) => receiver.onPacket(buf, 'audio'));
  sender.audio = track;
  receiver.clockRates.set(MCU_OPUS_PT, 48_000);
  let s: JanusSession | null = null;
  const close = () => {
    s?.close();
    try {
      pc.close();
    } catch {
      /* closed */
    }
  };
  try {
    s = await JanusSession.create(url);
    const session = s;
    session.sock.onClose((err) => errors.push(`janus websocket: ${err.message}`));
    const h = await session.attach(AUDIOBRIDGE_PLUGIN);
    session.onTrickle(h, (c, mid) => pc.addRemoteCandidate(c, mid));
    const joined = await session.message(h, { request: 'join', room, display: identity, muted: false }, undefined, timeoutMs);
    if (joined.data.audiobridge !== 'joined') throw new Error(`janus audiobridge join: ${JSON.stringify(joined.data)}`);
    trace.push(`${ms()} joined as ${String(joined.data.id)}`);
    pc.setLocalDescription();
    const offer = await localSdpWhenGathered(pc);
    const conf = await session.message(h, { request: 'configure', muted: false }, { type: 'offer', sdp: offer }, timeoutMs);
    if (!conf.jsep) throw new Error(`janus audiobridge configure: no answer (${JSON.stringify(conf.data)})`);
    pc.setRemoteDescription(conf.jsep.sdp, 'answer');
    session.trickleCompleted(h);
    trace.push(`${ms()} answer`);
    await pollUntil(
      () => track.isOpen(),
      () => `audio track not open (connection ${state})`,
      Math.max(1000, timeoutMs - (performance.now() - t0)),
      () => (state === 'failed' || state === 'closed' ? `connection ${state}` : null),
    );
    trace.push(`${ms()} up`);
    return { close, errors, trace, state: () => state };
  } catch (err) {
    close();
    throw new Error(`${(err as Error).message} [${trace.join(', ')}]`);
  }
}
