/**
 * Switchboard browser SDK: `Room.connect(url, token)`, publish tracks, typed events.
 * The same calls work for mesh, SFU and MCU rooms; topology-specific media handling
 * lives behind the internal MediaEngine interface (mesh: MeshEngine).
 */
import {
  encodeMessage,
  MCU_PARTICIPANT,
  MCU_VIDEO_TRACK_SID,
  mcuAudioTrackSid,
  parseServerMessage,
  type ClientMessage,
  type Encodable,
  type ParticipantInfo,
  type ServerMessage,
  type ServerMessageOf,
  type Topology,
  type TrackInfo,
} from '@switchboard/protocol';
import { TypedEmitter } from './emitter.js';
import type { EngineHost, LocalTrackEntry, MediaEngine } from './engine.js';
import { MeshEngine } from './mesh.js';
import { SfuEngine } from './sfu.js';

export { TypedEmitter } from './emitter.js';
export type { MediaEngine } from './engine.js';

export const SDK_VERSION = '0.1.0';

export type { Topology };
export type TrackSource = 'camera' | 'microphone' | 'screen' | 'screen_audio' | 'unknown';

export interface TrackPublication {
  sid: string;
  cid: string;
  kind: 'audio' | 'video' | 'data';
  source: string;
  muted: boolean;
  track?: MediaStreamTrack;
}

export interface ConnectOptions {
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** SFU rooms: publish camera video as 3 simulcast layers (default true). */
  simulcast?: boolean;
  /** SFU rooms: the video codec to publish with when the browser has it (default: the browser's first, VP8 in Chromium). */
  videoCodec?: 'vp8' | 'vp9' | 'h264' | 'av1';
  /** How long to keep trying to reconnect after the signaling socket drops (default 15 s). */
  reconnectTimeoutMs?: number;
}

export interface PublishOptions {
  source?: 'camera' | 'microphone' | 'screen' | 'screen_audio';
}

export type RoomEvents = {
  participantConnected: (p: RemoteParticipant) => void;
  participantDisconnected: (p: RemoteParticipant) => void;
  trackSubscribed: (track: MediaStreamTrack, pub: TrackPublication, p: RemoteParticipant) => void;
  trackUnsubscribed: (track: MediaStreamTrack, pub: TrackPublication, p: RemoteParticipant) => void;
  trackMuted: (pub: TrackPublication, p: RemoteParticipant) => void;
  trackUnmuted: (pub: TrackPublication, p: RemoteParticipant) => void;
  participantUpdated: (p: RemoteParticipant) => void;
  disconnected: (reason: string) => void;
  reconnecting: () => void;
  reconnected: () => void;
  /** A data message from another participant (publishData). */
  dataReceived: (payload: Uint8Array, participant: RemoteParticipant | undefined, topic: string | undefined) => void;
  /** Loudest first; empty when nobody speaks (SFU rooms). */
  activeSpeakersChanged: (speakers: (LocalParticipant | RemoteParticipant)[]) => void;
};

export class SwitchboardError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'SwitchboardError';
  }
}

/** MCU rooms: the remote participant whose tracks are the room's mix (its identity is 'mcu'). */
export const MIX_PARTICIPANT_SID = MCU_PARTICIPANT;

function mixParticipantInfo(localSid: string): ParticipantInfo {
  return {
    sid: MIX_PARTICIPANT_SID,
    identity: MCU_PARTICIPANT,
    name: 'Room',
    metadata: '',
    joinedAt: Date.now(),
    state: 'joined',
    tracks: [
      // the server's track ids: the composed video, and this participant's own N-1 audio mix
      { sid: MCU_VIDEO_TRACK_SID, cid: MCU_PARTICIPANT, kind: 'video', source: 'camera', muted: false },
      { sid: mcuAudioTrackSid(localSid), cid: MCU_PARTICIPANT, kind: 'audio', source: 'microphone', muted: false },
    ],
  };
}

export class RemoteParticipant {
  sid: string;
  identity: string;
  name: string;
  metadata: string;
  state: ParticipantInfo['state'];
  readonly tracks = new Map<string, TrackPublication>();
  /** Remote tracks that arrived before their TrackInfo, by stream id (cid). */
  /** @internal */ pendingTracks = new Map<string, MediaStreamTrack[]>();

  constructor(info: ParticipantInfo) {
    this.sid = info.sid;
    this.identity = info.identity;
    this.name = info.name;
    this.metadata = info.metadata;
    this.state = info.state;
  }
}

export class LocalParticipant {
  sid: string;
  identity: string;
  name: string;
  metadata: string;
  readonly tracks = new Map<string, TrackPublication>();
  /** @internal */ entries = new Map<MediaStreamTrack, { entry: LocalTrackEntry; pub: TrackPublication }>();

  constructor(
    info: ParticipantInfo,
    private readonly room: Room,
  ) {
    this.sid = info.sid;
    this.identity = info.identity;
    this.name = info.name;
    this.metadata = info.metadata;
  }

  async publishTrack(track: MediaStreamTrack, opts: PublishOptions = {}): Promise<TrackPublication> {
    const existing = this.entries.get(track);
    if (existing) return existing.pub;
    const stream = new MediaStream([track]);
    const kind = track.kind === 'audio' ? 'audio' : 'video';
    const source = opts.source ?? (kind === 'audio' ? 'microphone' : 'camera');
    const settings = kind === 'video' ? track.getSettings() : {};
    const reply = await this.room._request<'trackPublished'>(
      {
        type: 'publishTrack',
        track: {
          cid: stream.id,
          kind,
          source,
          muted: !track.enabled,
          ...(settings.width ? { width: Math.round(settings.width) } : {}),
          ...(settings.height ? { height: Math.round(settings.height) } : {}),
        },
      },
      (m) => m.type === 'trackPublished' && m.cid === stream.id,
    );
    const info = reply.track;
    const pub: TrackPublication = { sid: info.sid, cid: stream.id, kind: info.kind, source: info.source, muted: info.muted, track };
    const entry: LocalTrackEntry = { track, stream, sid: info.sid };
    this.entries.set(track, { entry, pub });
    this.tracks.set(pub.sid, pub);
    this.room._engine?.addLocalTrack(entry);
    return pub;
  }

  async unpublishTrack(track: MediaStreamTrack): Promise<void> {
    const e = this.entries.get(track);
    if (!e) return;
    this.entries.delete(track);
    this.tracks.delete(e.pub.sid);
    this.room._engine?.removeLocalTrack(e.entry);
    this.room._send({ type: 'unpublishTrack', sid: e.pub.sid });
  }

  /**
   * Sends data to everyone else in the room (or to `destinationSids`). SFU rooms use data
   * channels through the server (`reliable: false` = unordered, no retransmissions); otherwise
   * it goes over signaling (at most 12 KiB per message).
   */
  publishData(data: Uint8Array | string, opts: { reliable?: boolean; topic?: string; destinationSids?: string[] } = {}): void {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    if (this.room._engine?.publishData?.(bytes, opts)) return;
    if (bytes.length > 12 * 1024) throw new SwitchboardError('SB_ERR_TOO_LARGE', `data of ${bytes.length} bytes is over 12 KiB for signaling`);
    this.room._send({ type: 'data', payload: toBase64(bytes), ...(opts.topic !== undefined ? { topic: opts.topic } : {}), ...(opts.destinationSids ? { destinationSids: opts.destinationSids } : {}), reliable: opts.reliable !== false });
  }

  setTrackMuted(track: MediaStreamTrack, muted: boolean): void {
    track.enabled = !muted;
    const e = this.entries.get(track);
    if (!e) return;
    e.pub.muted = muted;
    this.room._send({ type: 'muteTrack', sid: e.pub.sid, muted });
  }
}

type Waiter = { match: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void; reject: (e: Error) => void; id?: number };

function toWsUrl(url: string): string {
  let u = url.trim();
  if (u.startsWith('http://')) u = 'ws://' + u.slice(7);
  else if (u.startsWith('https://')) u = 'wss://' + u.slice(8);
  else if (!/^wss?:\/\//.test(u)) u = 'wss://' + u;
  const parsed = new URL(u);
  if (!parsed.pathname.endsWith('/rtc')) parsed.pathname = parsed.pathname.replace(/\/$/, '') + '/rtc';
  return parsed.toString();
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function toBase64(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return btoa(s);
}

function fromBase64(s: string): Uint8Array {
  try {
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return new TextEncoder().encode(s); // text payload from a non-SDK sender
  }
}

export class Room extends TypedEmitter<RoomEvents> {
  name = '';
  sid = '';
  topology: Topology = 'mesh';
  metadata = '';
  localParticipant!: LocalParticipant;
  readonly participants = new Map<string, RemoteParticipant>();

  /** @internal */ _engine: MediaEngine | null = null;
  private ws: WebSocket | null = null;
  private nextId = 1;
  private waiters = new Set<Waiter>();
  private sessionToken = '';
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private lastHeard = Date.now();
  private pingTimeoutMs = 20_000;
  private state: 'connecting' | 'connected' | 'reconnecting' | 'disconnected' = 'connecting';
  private iceServers: RTCIceServer[] = [];
  /** Round-trip time of the last ping, ms. */
  rttMs: number | undefined;

  private constructor(
    private readonly wsUrl: string,
    private readonly token: string,
    private readonly opts: ConnectOptions,
  ) {
    super();
  }

  static async connect(url: string, token: string, opts: ConnectOptions = {}): Promise<Room> {
    const room = new Room(toWsUrl(url), token, opts);
    await room.open(false);
    return room;
  }

  get connectionState(): string {
    return this.state;
  }

  /** Opens a socket and joins (or rejoins). Resolves on `joined`. */
  private async open(reconnect: boolean): Promise<void> {
    const ws = new WebSocket(this.wsUrl);
    this.ws = ws;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('websocket connect timeout')), 10_000);
      ws.onopen = () => {
        clearTimeout(t);
        resolve();
      };
      ws.onerror = () => {
        clearTimeout(t);
        reject(new Error(`websocket connection to ${this.wsUrl} failed`));
      };
      ws.onclose = () => {
        clearTimeout(t);
        reject(new Error(`websocket to ${this.wsUrl} closed`));
      };
    });
    ws.onmessage = (ev) => this.onMessage(ws, ev.data);
    ws.onclose = () => this.onSocketClose(ws);
    ws.onerror = () => undefined;
    const joined = await this._request<'joined'>(
      {
        type: 'join',
        token: this.token,
        sdkVersion: SDK_VERSION,
        ...(reconnect ? { reconnect: { participantSid: this.localParticipant.sid, sessionToken: this.sessionToken } } : {}),
      },
      (m) => m.type === 'joined',
      15_000,
    ).catch((err) => {
      if (this.ws === ws) this.ws = null;
      ws.onclose = null;
      ws.close();
      throw err;
    });
    this.onJoined(joined, reconnect);
  }

  private onJoined(m: ServerMessageOf<'joined'>, reconnect: boolean): void {
    this.sessionToken = m.sessionToken;
    this.pingTimeoutMs = m.pingTimeoutMs;
    this.lastHeard = Date.now();
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => this.ping(), m.pingIntervalMs);
    this.state = 'connected';
    if (reconnect && m.reconnected && this._engine) {
      // Participants may have come and gone while we were away.
      const seen = new Set(m.others.map((o) => o.sid));
      seen.add(MIX_PARTICIPANT_SID);
      for (const sid of [...this.participants.keys()]) if (!seen.has(sid)) this.handleLeft(sid);
      for (const o of m.others) this.upsertParticipant(o, false);
      this._engine.onReconnected?.();
      return;
    }
    this.name = m.room.name;
    this.sid = m.room.sid;
    this.topology = m.room.topology;
    this.metadata = m.room.metadata;
    this.iceServers = m.iceServers.map((s) => ({ urls: s.urls, username: s.username, credential: s.credential }));
    if (!this.localParticipant) this.localParticipant = new LocalParticipant(m.participant, this);
    else this.localParticipant.sid = m.participant.sid;
    this._engine?.close();
    this._engine = this.createEngine();
    for (const { entry } of this.localParticipant.entries.values()) this._engine.addLocalTrack(entry);
    for (const o of m.others) {
      this.upsertParticipant(o, false);
      this._engine.addPeer?.(o.sid, true);
    }
    // MCU: the room's mix arrives as the tracks of one more remote participant
    if (this.topology === 'mcu') this.upsertParticipant(mixParticipantInfo(m.participant.sid), true);
  }

  private createEngine(): MediaEngine {
    const host: EngineHost = {
      send: (msg) => this._send(msg),
      onRemoteTrack: (sid, track, streamId) => this.onRemoteTrack(sid, track, streamId),
      log: (...args) => console.warn('switchboard:', ...args),
      onData: (payload, from, topic) => this.emit('dataReceived', payload, from ? this.participants.get(from) : undefined, topic),
    };
    const config: RTCConfiguration = { iceServers: this.iceServers };
    if (this.opts.iceTransportPolicy) config.iceTransportPolicy = this.opts.iceTransportPolicy;
    if (this.topology === 'sfu') return new SfuEngine(config, host, { simulcast: this.opts.simulcast ?? true, videoCodec: this.opts.videoCodec });
    // MCU: the same two connections as SFU, one stream each way; the server decodes VP8 and Opus
    if (this.topology === 'mcu') return new SfuEngine(config, host, { simulcast: false, videoCodec: 'vp8' });
    return new MeshEngine(this.localParticipant.sid, config, host);
  }

  private ping(): void {
    if (this.state !== 'connected') return;
    if (Date.now() - this.lastHeard > this.pingTimeoutMs) {
      this.ws?.close();
      if (this.ws) this.onSocketClose(this.ws);
      return;
    }
    this._send({ type: 'ping', t: Date.now() });
  }

  /** @internal */
  _send(msg: Encodable<ClientMessage>): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(encodeMessage(msg));
    return true;
  }

  /** @internal Sends a request with an id and waits for the matching reply (or an error with replyTo). */
  _request<T extends ServerMessage['type']>(
    msg: Encodable<ClientMessage>,
    match: (m: ServerMessage) => boolean,
    timeoutMs = 10_000,
  ): Promise<ServerMessageOf<T>> {
    const id = this.nextId++;
    return new Promise<ServerMessageOf<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new SwitchboardError('SB_ERR_TIMEOUT', `no reply to ${msg.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        id,
        match: (m) => match(m) || (m.type !== 'error' && 'id' in m && m.id === id),
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as ServerMessageOf<T>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.add(waiter);
      if (!this._send({ ...msg, id } as Encodable<ClientMessage>)) {
        this.waiters.delete(waiter);
        waiter.reject(new SwitchboardError('SB_ERR_NOT_CONNECTED', 'not connected'));
      }
    });
  }

  private onMessage(ws: WebSocket, data: unknown): void {
    if (ws !== this.ws) return;
    this.lastHeard = Date.now();
    if (typeof data !== 'string') return;
    const parsed = parseServerMessage(data);
    if (!parsed.ok) {
      console.warn('switchboard: ignoring server message', parsed.code, parsed.message);
      return;
    }
    const m = parsed.msg;
    if (m.type === 'error') {
      for (const w of this.waiters) {
        if (m.replyTo !== undefined && w.id === m.replyTo) {
          this.waiters.delete(w);
          w.reject(new SwitchboardError(m.code, m.message));
          return;
        }
      }
      if (m.fatal) {
        for (const w of [...this.waiters]) {
          this.waiters.delete(w);
          w.reject(new SwitchboardError(m.code, m.message));
        }
      }
      console.warn('switchboard: server error', m.code, m.message);
      return;
    }
    for (const w of this.waiters) {
      if (w.match(m)) {
        this.waiters.delete(w);
        w.resolve(m);
        return;
      }
    }
    this.handle(m);
  }

  private handle(m: ServerMessage): void {
    switch (m.type) {
      case 'participantJoined': {
        this.upsertParticipant(m.participant, true);
        // The newer participant offers; we prepare the connection (with our tracks) and wait.
        this._engine?.addPeer?.(m.participant.sid, false);
        break;
      }
      case 'participantUpdated':
        this.upsertParticipant(m.participant, true);
        break;
      case 'participantLeft':
        this.handleLeft(m.sid);
        break;
      case 'trackUnpublished':
        for (const p of this.participants.values()) {
          const pub = p.tracks.get(m.sid);
          if (pub) {
            p.tracks.delete(m.sid);
            if (pub.track) this.emit('trackUnsubscribed', pub.track, pub, p);
          }
        }
        break;
      case 'offer':
      case 'answer':
      case 'candidate':
      case 'requestOffer':
        this._engine?.onSignal(m);
        break;
      case 'data':
        this.emit('dataReceived', fromBase64(m.payload), m.from ? this.participants.get(m.from) : undefined, m.topic);
        break;
      case 'trackLayers':
        this._engine?.onTrackLayers?.(m.trackSid, m.layers);
        break;
      case 'activeSpeakers': {
        const speakers = m.speakers.map((x) => (x.sid === this.localParticipant?.sid ? this.localParticipant : this.participants.get(x.sid))).filter((x) => x !== undefined);
        this.emit('activeSpeakersChanged', speakers as (LocalParticipant | RemoteParticipant)[]);
        break;
      }
      case 'pong':
        this.rttMs = Date.now() - m.t;
        break;
      case 'roomClosed':
        void this.teardown(`room closed: ${m.reason}`);
        break;
      case 'leave':
        void this.teardown(m.reason || 'left');
        break;
      default:
        break;
    }
  }

  private upsertParticipant(info: ParticipantInfo, announce: boolean): void {
    if (info.sid === this.localParticipant?.sid) return;
    let p = this.participants.get(info.sid);
    const isNew = !p;
    if (!p) {
      p = new RemoteParticipant(info);
      this.participants.set(info.sid, p);
    }
    p.identity = info.identity;
    p.name = info.name;
    p.metadata = info.metadata;
    p.state = info.state;
    if (isNew && announce !== undefined) this.emit('participantConnected', p);
    this.syncTracks(p, info.tracks);
    if (!isNew) this.emit('participantUpdated', p);
  }

  private syncTracks(p: RemoteParticipant, tracks: TrackInfo[]): void {
    const seen = new Set<string>();
    for (const t of tracks) {
      seen.add(t.sid);
      let pub = p.tracks.get(t.sid);
      if (!pub) {
        pub = { sid: t.sid, cid: t.cid, kind: t.kind, source: t.source, muted: t.muted };
        p.tracks.set(t.sid, pub);
        const pending = p.pendingTracks.get(t.cid);
        if (pending?.length) {
          const track = pending.shift()!;
          if (!pending.length) p.pendingTracks.delete(t.cid);
          this.subscribe(p, pub, track);
        }
      } else if (pub.muted !== t.muted) {
        pub.muted = t.muted;
        this.emit(t.muted ? 'trackMuted' : 'trackUnmuted', pub, p);
      }
    }
    for (const [sid, pub] of [...p.tracks]) {
      if (!seen.has(sid)) {
        p.tracks.delete(sid);
        if (pub.track) this.emit('trackUnsubscribed', pub.track, pub, p);
      }
    }
  }

  private subscribe(p: RemoteParticipant, pub: TrackPublication, track: MediaStreamTrack): void {
    pub.track = track;
    track.addEventListener('ended', () => {
      if (pub.track === track && p.tracks.get(pub.sid) === pub) {
        pub.track = undefined;
        this.emit('trackUnsubscribed', track, pub, p);
      }
    });
    this.emit('trackSubscribed', track, pub, p);
  }

  private onRemoteTrack(sid: string, track: MediaStreamTrack, streamId: string): void {
    if (sid === '') {
      // SFU: the stream id is the publisher's cid
      for (const candidate of this.participants.values()) {
        for (const pub of candidate.tracks.values()) if (pub.cid === streamId) sid = candidate.sid;
      }
      if (sid === '') return;
    }
    const p = this.participants.get(sid);
    if (!p) return;
    for (const pub of p.tracks.values()) {
      if (pub.cid !== streamId || pub.kind !== track.kind) continue;
      if (!pub.track || pub.track.readyState === 'ended') {
        this.subscribe(p, pub, track);
        return;
      }
      if (this.topology !== 'mesh' && pub.track !== track) {
        // SFU: a track subscribed again arrives on a new m-section; the old one is inactive
        const old = pub.track;
        pub.track = undefined;
        this.emit('trackUnsubscribed', old, pub, p);
        this.subscribe(p, pub, track);
        return;
      }
    }
    const list = p.pendingTracks.get(streamId) ?? [];
    list.push(track);
    p.pendingTracks.set(streamId, list);
  }

  private handleLeft(sid: string): void {
    const p = this.participants.get(sid);
    this._engine?.removePeer?.(sid);
    if (!p) return;
    this.participants.delete(sid);
    p.state = 'disconnected';
    for (const pub of p.tracks.values()) {
      if (pub.track) this.emit('trackUnsubscribed', pub.track, pub, p);
    }
    this.emit('participantDisconnected', p);
  }

  private onSocketClose(ws: WebSocket): void {
    if (ws !== this.ws) return;
    this.ws = null;
    ws.onclose = null;
    ws.onmessage = null;
    clearInterval(this.pingTimer);
    for (const w of [...this.waiters]) {
      this.waiters.delete(w);
      w.reject(new SwitchboardError('SB_ERR_NOT_CONNECTED', 'connection lost'));
    }
    if (this.state === 'connected') void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    this.state = 'reconnecting';
    this.emit('reconnecting');
    const deadline = Date.now() + (this.opts.reconnectTimeoutMs ?? 15_000);
    let delay = 250;
    while (Date.now() < deadline && this.state === 'reconnecting') {
      try {
        await this.open(true);
        if ((this.state as string) !== 'connected') break;
        this.emit('reconnected');
        return;
      } catch (err) {
        if (err instanceof SwitchboardError && ['SB_ERR_TOKEN_INVALID', 'SB_ERR_WRONG_ROOM', 'SB_ERR_ROOM_CLOSED', 'SB_ERR_PERMISSION_DENIED', 'SB_ERR_TOKEN_EXPIRED'].includes(err.code)) {
          await this.teardown(`reconnect refused: ${err.code}`);
          return;
        }
      }
      if (this.state !== 'reconnecting') return;
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
      delay = Math.min(delay * 2, 4000);
    }
    if (this.state === 'reconnecting') await this.teardown('reconnect failed');
  }

  private async teardown(reason: string): Promise<void> {
    if (this.state === 'disconnected') return;
    this.state = 'disconnected';
    clearInterval(this.pingTimer);
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      try {
        ws.close();
      } catch {
        /* ignore */
      }
    }
    this._engine?.close();
    this._engine = null;
    for (const p of [...this.participants.values()]) {
      this.participants.delete(p.sid);
      for (const pub of p.tracks.values()) if (pub.track) this.emit('trackUnsubscribed', pub.track, pub, p);
      this.emit('participantDisconnected', p);
    }
    this.emit('disconnected', reason);
  }

  async disconnect(): Promise<void> {
    if (this.state === 'disconnected') return;
    this._send({ type: 'leave' });
    await this.teardown('client_initiated');
  }

  async getStats(): Promise<Map<string, RTCStatsReport>> {
    return this._engine ? this._engine.getStats() : new Map();
  }

  /**
   * SFU rooms: how a remote video is shown, so the server forwards the right simulcast layer:
   * the display size in CSS pixels, `disabled` to pause it, or a quality cap. No-op in mesh rooms.
   */
  setTrackSettings(trackSid: string, settings: { width?: number; height?: number; disabled?: boolean; quality?: 'low' | 'medium' | 'high' }): void {
    if (this.topology === 'mesh') return;
    const clean = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined).map(([k, v]) => [k, typeof v === 'number' ? Math.max(0, Math.min(16384, Math.round(v))) : v]));
    this._send({ type: 'trackSettings', trackSids: [trackSid], ...clean } as Encodable<ClientMessage>);
  }

  /** SFU rooms: stop or start receiving a remote track. No-op in mesh rooms. */
  setSubscribed(trackSid: string, subscribe: boolean): void {
    if (this.topology === 'mesh') return;
    this._send({ type: 'subscription', trackSids: [trackSid], subscribe });
  }
}
