/**
 * The Room: joins over the signaling socket (SignalClient), keeps the room's participants and
 * their tracks in step with the server, runs the topology's media engine, and reconnects into the
 * same session when the socket drops.
 */
import type { ClientMessage, Encodable, ParticipantInfo, ServerMessage, ServerMessageOf, Topology, TrackInfo } from '@switchboard/protocol';
import { fromBase64 } from './base64.js';
import { TypedEmitter } from './emitter.js';
import type { EngineHost, MediaEngine } from './engine.js';
import { MeshEngine } from './mesh.js';
import { LocalParticipant, MIX_PARTICIPANT_SID, mixParticipantInfo, RemoteParticipant } from './participants.js';
import { SfuEngine } from './sfu.js';
import { SignalClient } from './signal-client.js';
import { SDK_VERSION, SwitchboardError, type ConnectOptions, type RoomEvents, type TrackPublication } from './types.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** http(s)://host[/path] or ws(s)://… to the signaling URL ws(s)://host[/path]/rtc. */export function toWsUrl(url: string): string {
  let u = url.trim();
  if (u.startsWith('http://')) u = 'ws://' + u.slice(7);
  else if (u.startsWith('https://')) u = 'wss://' + u.slice(8);
  else if (!/^wss?:\/\//.test(u)) u = 'wss://' + u;
  const parsed = new URL(u);
  if (!parsed.pathname.endsWith('/rtc')) parsed.pathname = parsed.pathname.replace(/\/$/, '') + '/rtc';
  return parsed.toString();
}

export class Room extends TypedEmitter<RoomEvents> {
  name = '';
  sid = '';
  topology: Topology = 'mesh';
  metadata = '';
  localParticipant!: LocalParticipant;
  readonly participants = new Map<string, RemoteParticipant>();

  /** @internal */ _engine: MediaEngine | null = null;
  /** @internal */ readonly _signal: SignalClient;
  private sessionToken = '';
  private state: 'connecting' | 'connected' | 'reconnecting' | 'disconnected' = 'connecting';
  private iceServers: RTCIceServer[] = [];

  private constructor(
    wsUrl: string,
    private readonly token: string,
    private readonly opts: ConnectOptions,
  ) {
    super();
    this._signal = new SignalClient(wsUrl, {
      message: (m) => this.handle(m),
      lost: () => {
        if (this.state === 'connected') void this.reconnect();
      },
    });
  }

  /** Round-trip time of the last ping, ms. */
  get rttMs(): number | undefined {
    return this._signal.rttMs;
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
    await this._signal.connect();
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
      this._signal.close();
      throw err;
    });
    this.onJoined(joined, reconnect);
  }

  private onJoined(m: ServerMessageOf<'joined'>, reconnect: boolean): void {
    this.sessionToken = m.sessionToken;
    this._signal.startKeepalive(m.pingIntervalMs, m.pingTimeoutMs);
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

  /** @internal */
  _send(msg: Encodable<ClientMessage>): boolean {
    return this._signal.send(msg);
  }

  /** @internal Sends a request with an id and waits for the matching reply (or an error with replyTo). */
  _request<T extends ServerMessage['type']>(msg: Encodable<ClientMessage>, match: (m: ServerMessage) => boolean, timeoutMs = 10_000): Promise<ServerMessageOf<T>> {
    return this._signal.request<T>(msg, match, timeoutMs);
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
        break; // the signal client measured the round trip
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
    this._signal.close(reason);
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

