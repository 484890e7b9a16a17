/**
 * A minimal mesh participant in Node on @roamhq/wrtc (libwebrtc M106), written directly
 * against the signaling protocol (packages/protocol/PROTOCOL.md), NOT with the browser SDK:
 * an independent implementation for interop tests.
 *
 * - `ws` WebSocket to /rtc, `join { token }`, `ping` every pingIntervalMs.
 * - One RTCPeerConnection per remote participant; the newer participant offers;
 *   perfect negotiation (polite = lexically smaller sid).
 * - Publishes one video track from nonstandard.RTCVideoSource (320×240 I420, ~15 fps, a
 *   solid colour changing over time) in a MediaStream whose id is the publishTrack cid.
 * - Trickles candidates; counts frames per remote participant with nonstandard.RTCVideoSink.
 * - In an SFU room (joined.room.topology 'sfu'): one publisher connection (it offers, the server
 *   answers, target 'publisher') and one subscriber connection (the server offers, it answers,
 *   target 'subscriber'); remote tracks are matched to participants by stream id = cid.
 *
 * wrtc is CommonJS and its type files need skipLibCheck; it is loaded with createRequire
 * and used through the small structural types below.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const require = createRequire(import.meta.url);

/* ---- the parts of @roamhq/wrtc used here ---- */
interface WTrack {
  id: string;
  kind: string;
  stop(): void;
}
interface WStream {
  id: string;
}
interface WCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}
interface WPeerConnection {
  signalingState: string;
  connectionState: string;
  localDescription: { type: string; sdp: string } | null;
  remoteDescription: { type: string; sdp: string } | null;
  onicecandidate: ((ev: { candidate: WCandidate | null }) => void) | null;
  onnegotiationneeded: (() => void) | null;
  ontrack: ((ev: { track: WTrack; streams: WStream[] }) => void) | null;
  addTrack(track: WTrack, stream: WStream): unknown;
  createOffer(): Promise<{ type: string; sdp: string }>;
  createAnswer(): Promise<{ type: string; sdp: string }>;
  setLocalDescription(d: { type: string; sdp: string }): Promise<void>;
  setRemoteDescription(d: { type: string; sdp?: string }): Promise<void>;
  addIceCandidate(c: WCandidate): Promise<void>;
  close(): void;
}
interface WVideoFrame {
  width: number;
  height: number;
  data: Uint8Array;
}
interface WVideoSource {
  createTrack(): WTrack;
  onFrame(frame: WVideoFrame): void;
}
interface WVideoSink {
  stop(): void;
  onframe: ((ev: { frame: WVideoFrame }) => void) | null;
}
interface Wrtc {
  RTCPeerConnection: new (config?: { iceServers?: unknown[] }) => WPeerConnection;
  MediaStream: new (init?: { id?: string }) => WStream & { addTrack(t: WTrack): void };
  nonstandard: {
    RTCVideoSource: new () => WVideoSource;
    RTCVideoSink: new (track: WTrack) => WVideoSink;
  };
}

export const wrtc = require('@roamhq/wrtc') as Wrtc;

const WIDTH = 320;
const HEIGHT = 240;
const FPS = 15;

interface Peer {
  sid: string;
  pc: WPeerConnection;
  polite: boolean;
  makingOffer: boolean;
  ignoreOffer: boolean;
  isSettingRemoteAnswerPending: boolean;
  pending: WCandidate[];
  sinks: WVideoSink[];
}

type Msg = { type: string; [k: string]: unknown };
type ParticipantLike = { sid: string; tracks?: { cid: string }[] };

export interface WrtcParticipantOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:PORT/ (the WebSocket goes to ws://…/rtc). */
  url: string;
  token: string;
  log?: (...args: unknown[]) => void;
}

export class WrtcParticipant {
  sid = '';
  /** Mesh: decoded frames received, per remote participant sid. */
  readonly framesFrom = new Map<string, number>();
  /** SFU/MCU: decoded frames per stream id (the publisher's cid); see framesBySender(). */
  private readonly framesByCid = new Map<string, number>();
  /** Mesh: remote video tracks received, per remote participant sid. */
  readonly videoTracksFrom = new Map<string, number>();
  readonly errors: string[] = [];

  private ws!: WebSocket;
  private nextId = 1;
  private readonly replies = new Map<number, (m: Msg) => void>();
  private readonly peers = new Map<string, Peer>();
  private iceServers: unknown[] = [];
  private pingTimer?: NodeJS.Timeout;
  private frameTimer?: NodeJS.Timeout;
  private source?: WVideoSource;
  private track?: WTrack;
  private stream?: WStream;
  private closed = false;
  private readonly log: (...args: unknown[]) => void;
  private sfu = false;
  private pubPc?: WPeerConnection;
  private subPc?: WPeerConnection;
  private subSinks: WVideoSink[] = [];
  private subQueue: Promise<void> = Promise.resolve();
  /** SFU: published track cid -> participant sid, from participant infos. */
  private readonly ownerOfCid = new Map<string, string>();

  private constructor(private readonly opts: WrtcParticipantOptions) {
    this.log = opts.log ?? (() => undefined);
  }

  /** Connect, join, publish a video track, and offer to everyone already in the room. */
  static async join(opts: WrtcParticipantOptions): Promise<WrtcParticipant> {
    const p = new WrtcParticipant(opts);
    await p.start();
    return p;
  }

  private send(msg: Record<string, unknown>): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ v: 1, ...msg }));
  }

  private request(msg: Record<string, unknown>, timeoutMs = 10_000): Promise<Msg> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.replies.delete(id);
        reject(new Error(`no reply to ${String(msg.type)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.replies.set(id, (m) => {
        clearTimeout(timer);
        if (m.type === 'error') reject(new Error(`${String(msg.type)}: ${String(m.code)} ${String(m.message)}`));
        else resolve(m);
      });
      this.send({ ...msg, id });
    });
  }

  private async start(): Promise<void> {
    const wsUrl = new URL('/rtc', this.opts.url.replace(/^http/, 'ws')).toString();
    this.ws = new WebSocket(wsUrl);
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.ws.on('error', (e) => this.errors.push(`ws: ${e.message}`));
    this.ws.on('message', (data) => this.onMessage(data.toString()));

    const joined = await this.request({ type: 'join', token: this.opts.token, sdkVersion: 'wrtc-interop/0' });
    this.sid = (joined.participant as { sid: string }).sid;
    const topology = (joined.room as { topology: string }).topology;
    this.sfu = topology === 'sfu' || topology === 'mcu';
    this.iceServers = (joined.iceServers as unknown[]) ?? [];
    const pingMs = Number(joined.pingIntervalMs) || 10_000;
    this.pingTimer = setInterval(() => this.send({ type: 'ping', t: Date.now() }), pingMs);

    // The video source: solid colour (Y, U, V) that changes over time.
    this.source = new wrtc.nonstandard.RTCVideoSource();
    this.track = this.source.createTrack();
    const cid = `wrtc-${Math.random().toString(36).slice(2, 10)}`;
    const stream = new wrtc.MediaStream({ id: cid });
    stream.addTrack(this.track);
    if (stream.id !== cid) throw new Error(`wrtc MediaStream ignored the id: ${stream.id} != ${cid}`);
    this.stream = stream;
    const frame: WVideoFrame = { width: WIDTH, height: HEIGHT, data: new Uint8Array((WIDTH * HEIGHT * 3) / 2) };
    let n = 0;
    const feed = () => {
      n++;
      const y = (n * 4) % 256;
      frame.data.fill(y, 0, WIDTH * HEIGHT);
      frame.data.fill((n * 2) % 256, WIDTH * HEIGHT, (WIDTH * HEIGHT * 5) / 4);
      frame.data.fill(255 - ((n * 3) % 256), (WIDTH * HEIGHT * 5) / 4);
      this.source!.onFrame(frame);
    };
    feed();
    this.frameTimer = setInterval(feed, Math.round(1000 / FPS));

    await this.request({ type: 'publishTrack', track: { cid, kind: 'video', source: 'camera', width: WIDTH, height: HEIGHT } });

    if (this.sfu) {
      for (const o of (joined.others as ParticipantLike[]) ?? []) this.noteTracks(o);
      const pc = new wrtc.RTCPeerConnection({ iceServers: this.iceServers });
      this.pubPc = pc;
      pc.addTrack(this.track, this.stream);
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      this.send({ type: 'offer', target: 'publisher', sdp: pc.localDescription!.sdp });
      return;
    }
    // The newer participant offers to everyone already in the room.
    for (const other of (joined.others as { sid: string }[]) ?? []) this.ensurePeer(other.sid, true);
  }

  /** Decoded frames per remote participant sid (a stream whose owner is still unknown: `unknown:<cid>`). */
  framesBySender(): Record<string, number> {
    const out: Record<string, number> = Object.fromEntries(this.framesFrom);
    for (const [cid, n] of this.framesByCid) {
      const from = this.ownerOfCid.get(cid) ?? `unknown:${cid}`;
      out[from] = (out[from] ?? 0) + n;
    }
    return out;
  }

  private noteTracks(p: ParticipantLike): void {
    for (const t of p.tracks ?? []) this.ownerOfCid.set(t.cid, p.sid);
  }

  /** SFU: the server's answer (publisher) or offer (subscriber). */
  private async onSfuSignal(msg: Msg): Promise<void> {
    try {
      if (msg.type === 'answer' && msg.target === 'publisher') {
        await this.pubPc!.setRemoteDescription({ type: 'answer', sdp: String(msg.sdp) });
      } else if (msg.type === 'offer' && msg.target === 'subscriber') {
        if (!this.subPc) {
          const pc = new wrtc.RTCPeerConnection({ iceServers: this.iceServers });
          pc.ontrack = ({ track, streams }) => {
            if (track.kind !== 'video') return;
            // counted by stream id (the publisher's cid) and attributed when asked: the server's
            // offer may come before the participantUpdated that names the track's owner
            const cid = streams[0]?.id ?? '';
            this.framesByCid.set(cid, this.framesByCid.get(cid) ?? 0);
            const sink = new wrtc.nonstandard.RTCVideoSink(track);
            sink.onframe = () => this.framesByCid.set(cid, (this.framesByCid.get(cid) ?? 0) + 1);
            this.subSinks.push(sink);
          };
          this.subPc = pc;
        }
        await this.subPc.setRemoteDescription({ type: 'offer', sdp: String(msg.sdp) });
        const answer = await this.subPc.createAnswer();
        await this.subPc.setLocalDescription(answer);
        this.send({ type: 'answer', target: 'subscriber', sdp: this.subPc.localDescription!.sdp });
      }
    } catch (e) {
      this.errors.push(`sfu ${String(msg.type)}: ${(e as Error).message}`);
    }
  }

  private onMessage(text: string): void {
    let msg: Msg;
    try {
      msg = JSON.parse(text) as Msg;
    } catch {
      return;
    }
    // Decide the mode now: ws may deliver the server's first offer in the same tick as `joined`,
    // before the awaiting code below the join request runs.
    if (msg.type === 'joined') {
      // MCU rooms signal like SFU rooms; their one video track (stream id 'mcu') is the room's picture
      const topology = (msg.room as { topology: string }).topology;
      this.sfu = topology === 'sfu' || topology === 'mcu';
      if (topology === 'mcu') this.ownerOfCid.set('mcu', 'mcu');
    }
    const replyTo = (msg.id ?? msg.replyTo) as number | undefined;
    if (typeof replyTo === 'number' && this.replies.has(replyTo)) {
      const r = this.replies.get(replyTo)!;
      this.replies.delete(replyTo);
      r(msg);
      return;
    }
    switch (msg.type) {
      case 'offer':
      case 'answer':
      case 'candidate':
        if (this.sfu) {
          if (msg.type !== 'candidate') this.subQueue = this.subQueue.then(() => this.onSfuSignal(msg));
        } else if (typeof msg.from === 'string') void this.onSignal(msg.from, msg);
        break;
      case 'participantJoined':
      case 'participantUpdated':
        this.noteTracks(msg.participant as ParticipantLike);
        break;
      case 'participantLeft':
        this.removePeer(String(msg.sid));
        break;
      case 'error':
        this.errors.push(`${String(msg.code)}: ${String(msg.message)}`);
        break;
      default:
        break; // participantJoined (the newcomer offers), participantUpdated, pong, ...
    }
  }

  private ensurePeer(sid: string, initiator: boolean): Peer {
    const existing = this.peers.get(sid);
    if (existing) return existing;
    const pc = new wrtc.RTCPeerConnection({ iceServers: this.iceServers });
    const peer: Peer = {
      sid,
      pc,
      polite: this.sid < sid,
      makingOffer: false,
      ignoreOffer: false,
      isSettingRemoteAnswerPending: false,
      pending: [],
      sinks: [],
    };
    this.peers.set(sid, peer);
    this.framesFrom.set(sid, this.framesFrom.get(sid) ?? 0);
    pc.onicecandidate = ({ candidate }) => {
      if (this.closed || this.peers.get(sid) !== peer) return;
      this.send({
        type: 'candidate',
        to: sid,
        candidate: candidate
          ? {
              candidate: candidate.candidate,
              sdpMid: candidate.sdpMid ?? null,
              sdpMLineIndex: candidate.sdpMLineIndex ?? null,
              ...(candidate.usernameFragment ? { usernameFragment: candidate.usernameFragment } : {}),
            }
          : null,
      });
    };
    pc.ontrack = ({ track }) => {
      if (track.kind !== 'video') return;
      this.videoTracksFrom.set(sid, (this.videoTracksFrom.get(sid) ?? 0) + 1);
      const sink = new wrtc.nonstandard.RTCVideoSink(track);
      sink.onframe = () => this.framesFrom.set(sid, (this.framesFrom.get(sid) ?? 0) + 1);
      peer.sinks.push(sink);
    };
    if (initiator) {
      // onnegotiationneeded fires after addTrack; only the initiator acts on it at first.
      pc.onnegotiationneeded = () => void this.makeOffer(peer);
    }
    pc.addTrack(this.track!, this.stream!);
    return peer;
  }

  private async makeOffer(peer: Peer): Promise<void> {
    const { pc } = peer;
    if (this.closed || pc.signalingState !== 'stable') return;
    try {
      peer.makingOffer = true;
      const offer = await pc.createOffer();
      if (pc.signalingState !== 'stable') return; // an offer arrived meanwhile
      await pc.setLocalDescription(offer);
      this.send({ type: 'offer', to: peer.sid, sdp: pc.localDescription!.sdp });
    } catch (e) {
      this.errors.push(`offer to ${peer.sid}: ${(e as Error).message}`);
    } finally {
      peer.makingOffer = false;
    }
  }

  private async onSignal(from: string, msg: Msg): Promise<void> {
    if (this.closed) return;
    const peer = this.ensurePeer(from, false);
    // After the first exchange, renegotiation may start from either side.
    peer.pc.onnegotiationneeded ??= () => void this.makeOffer(peer);
    const { pc } = peer;
    try {
      if (msg.type === 'offer' || msg.type === 'answer') {
        const readyForOffer = !peer.makingOffer && (pc.signalingState === 'stable' || peer.isSettingRemoteAnswerPending);
        const collision = msg.type === 'offer' && !readyForOffer;
        peer.ignoreOffer = !peer.polite && collision;
        if (peer.ignoreOffer) return;
        if (collision) await pc.setRemoteDescription({ type: 'rollback' }); // polite: M106 has no implicit rollback
        peer.isSettingRemoteAnswerPending = msg.type === 'answer';
        await pc.setRemoteDescription({ type: msg.type, sdp: String(msg.sdp) });
        peer.isSettingRemoteAnswerPending = false;
        for (const c of peer.pending.splice(0)) await pc.addIceCandidate(c).catch(() => undefined);
        if (msg.type === 'offer') {
          const answer = await pc.createAnswer();
          await pc.setLocalDescription(answer);
          this.send({ type: 'answer', to: from, sdp: pc.localDescription!.sdp });
        }
      } else {
        const c = msg.candidate as WCandidate | null;
        if (!c || !c.candidate) return; // end of candidates: nothing to do for libwebrtc
        const init: WCandidate = { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null };
        if (!pc.remoteDescription) {
          if (!peer.ignoreOffer) peer.pending.push(init);
          return;
        }
        await pc.addIceCandidate(init).catch((e: Error) => {
          if (!peer.ignoreOffer) this.errors.push(`addIceCandidate from ${from}: ${e.message}`);
        });
      }
    } catch (e) {
      this.errors.push(`${msg.type} from ${from}: ${(e as Error).message}`);
    }
  }

  private removePeer(sid: string): void {
    const peer = this.peers.get(sid);
    if (!peer) return;
    this.peers.delete(sid);
    for (const s of peer.sinks) s.stop();
    peer.pc.close();
  }

  /** Stop the source and sinks, close every peer connection, leave and close the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    clearInterval(this.frameTimer);
    for (const sid of [...this.peers.keys()]) this.removePeer(sid);
    for (const s of this.subSinks) s.stop();
    this.pubPc?.close();
    this.subPc?.close();
    this.track?.stop();
    for (const r of this.replies.values()) r({ type: 'error', code: 'closed', message: 'participant closed' });
    this.replies.clear();
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.send({ type: 'leave' });
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.ws.terminate();
          resolve();
        }, 2000);
        this.ws.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        this.ws.close();
      });
    }
  }
}

/* ---- out-of-process use ----
 * libwebrtc M106 in @roamhq/wrtc crashes (SIGSEGV) while the process exits once an
 * RTCVideoSource track has existed, even after track.stop() and pc.close() (and the process
 * does not exit at all while such a track is unstopped). So tests run the participant in a
 * child process (this file as main) driven over IPC: the test process exits cleanly whatever
 * the native teardown does, and close() reports how the child ended.
 */

export interface RemoteWrtcStats {
  sid: string;
  framesFrom: Record<string, number>;
  videoTracksFrom: Record<string, number>;
  errors: string[];
}

export interface RemoteWrtcParticipant {
  sid: string;
  stats(): Promise<RemoteWrtcStats>;
  /** Close the participant (sources, sinks, pcs, socket) and wait for the child to end. */
  close(): Promise<{ closedCleanly: boolean; code: number | null; signal: NodeJS.Signals | null }>;
}

const SELF = fileURLToPath(import.meta.url);

export async function spawnWrtcParticipant(opts: { url: string; token: string; timeoutMs?: number }): Promise<RemoteWrtcParticipant> {
  const child: ChildProcess = fork(SELF, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, WRTC_PARTICIPANT_CHILD: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const waiters: Array<(m: Record<string, unknown>) => boolean> = [];
  child.on('message', (m: Record<string, unknown>) => {
    const i = waiters.findIndex((w) => w(m));
    if (i >= 0) waiters.splice(i, 1);
  });
  const waitMsg = (key: string, timeoutMs = opts.timeoutMs ?? 15_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`wrtc participant: no '${key}' within ${timeoutMs} ms`)), timeoutMs);
      void exited.then((e) => {
        clearTimeout(timer);
        reject(new Error(`wrtc participant exited (${JSON.stringify(e)}) before '${key}'`));
      });
      waiters.push((m) => {
        if (!(key in m)) return false;
        clearTimeout(timer);
        if (key === 'joined' && m.error) reject(new Error(String(m.error)));
        else resolve(m);
        return true;
      });
    });
  const joinedP = waitMsg('joined');
  child.send({ cmd: 'join', url: opts.url, token: opts.token });
  let joined: Record<string, unknown>;
  try {
    joined = await joinedP;
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  let closing: ReturnType<RemoteWrtcParticipant['close']> | undefined;
  return {
    sid: String(joined.joined),
    async stats() {
      const p = waitMsg('stats', 5000);
      child.send({ cmd: 'stats' });
      return (await p).stats as RemoteWrtcStats;
    },
    close() {
      closing ??= (async () => {
        let closedCleanly = false;
        if (child.exitCode === null && child.signalCode === null) {
          const p = waitMsg('closed', 10_000).then(
            () => true,
            () => false,
          );
          child.send({ cmd: 'close' });
          closedCleanly = await p;
          const killTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
          const e = await exited;
          clearTimeout(killTimer);
          return { closedCleanly, ...e };
        }
        return { closedCleanly, ...(await exited) };
      })();
      return closing;
    },
  };
}

if (process.env.WRTC_PARTICIPANT_CHILD === '1' && process.argv[1] && fileURLToPath(new URL(`file://${process.argv[1]}`)) === SELF) {
  let participant: WrtcParticipant | undefined;
  process.on('message', (m: { cmd: string; url?: string; token?: string }) => {
    void (async () => {
      if (m.cmd === 'join') {
        try {
          participant = await WrtcParticipant.join({ url: m.url!, token: m.token! });
          process.send!({ joined: participant.sid });
        } catch (e) {
          process.send!({ joined: null, error: (e as Error).message });
        }
      } else if (m.cmd === 'stats') {
        process.send!({
          stats: {
            sid: participant?.sid ?? '',
            framesFrom: participant?.framesBySender() ?? {},
            videoTracksFrom: Object.fromEntries(participant?.videoTracksFrom ?? []),
            errors: participant?.errors ?? [],
          },
        });
      } else if (m.cmd === 'close') {
        await participant?.close();
        process.send!({ closed: true }, () => process.disconnect());
      }
    })();
  });
  // If the test process goes away, leave too.
  process.on('disconnect', () => void participant?.close());
}
