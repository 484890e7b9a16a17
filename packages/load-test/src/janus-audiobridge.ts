// Janus AudioBridge (Janus' audio MCU) as a load target, over Janus' WebSocket API: a room mixing
// at 48 kHz, participants that join and then `configure` with an offer of one sendrecv Opus
// m-section; Janus answers and sends each participant the mix of everyone else (N-1) on the same
// m-section, one Opus packet per 20 ms. One node-datachannel peer connection per participant.
import ndc from 'node-datachannel';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { JanusSession } from './janus.js';
import { MCU_OPUS_PT, localSdpWhenGathered, pollUntil, type McuReceiver, type McuSender } from './mcu-peers.js';
import type { McuSession } from './mcu-switchboard.js';

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
