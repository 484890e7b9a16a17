// The signaling server: WebSocket connections at /rtc turned into calls on the room model,
// and the room model's events turned into messages to the right connections. A room's media
// messages go to the MediaBackend of its topology (media-backend.ts); mesh's (MeshBackend)
// relays between the participants and is always there.

import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ERROR_CODE_LIST, type ClientMessage, type ErrorCode, type IceServer, type ServerMessage } from '@switchboard/protocol';
import { RoomError, RoomManager, type LeaveReason, type Participant, type Room, type RoomListener, type TrackInfo } from '@switchboard/rooms';
import { checkAccess, TokenError, TokenVerifier } from '@switchboard/tokens';
import { CloseCode, Connection, DEFAULT_LIMITS, type ConnectionLimits } from './connection.js';
import { MeshBackend } from './mesh-backend.js';
import type { MediaBackend, MediaMessage } from './media-backend.js';

export interface SignalingLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  debug(obj: Record<string, unknown>, msg: string): void;
}

export interface SignalingOptions {
  /** API key -> secret, for verifying access tokens. */
  apiKeys: Record<string, string>;
  /** ICE servers for a participant, e.g. this server's STUN and TURN with fresh REST credentials. */
  iceServers: (host: string, identity: string) => IceServer[];
  path?: string;
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  reconnectGraceMs?: number;
  joinTimeoutMs?: number;
  maxConnections?: number;
  limits?: Partial<ConnectionLimits>;
  logger?: SignalingLogger;
  /** Media strategies by topology (e.g. the server's SFU and MCU). Mesh is built in; a backend for 'mesh' replaces it. Rooms whose topology has none get errors for media messages. */
  mediaBackends?: MediaBackend[];
  /** Topology of rooms created by a join. Default mesh. */
  defaultTopology?: 'mesh' | 'sfu' | 'mcu';
}

const quiet: SignalingLogger = { info() {}, warn() {}, debug() {} };

/** Codes the room model and token checks throw, as the protocol names them. */
function errorCodeOf(err: unknown): ErrorCode {
  const code = (err as { code?: string }).code ?? '';
  if (err instanceof TokenError) {
    if (code === 'SB_ERR_TOKEN_EXPIRED') return 'SB_ERR_TOKEN_EXPIRED';
    if (code === 'SB_ERR_TOKEN_WRONG_ROOM') return 'SB_ERR_WRONG_ROOM';
    if (code === 'SB_ERR_TOKEN_PERMISSION') return 'SB_ERR_PERMISSION_DENIED';
    return 'SB_ERR_TOKEN_INVALID';
  }
  if (err instanceof RoomError) {
    const known: Record<string, ErrorCode> = {
      SB_ERR_ROOM_FULL: 'SB_ERR_ROOM_FULL',
      SB_ERR_ROOM_CLOSED: 'SB_ERR_ROOM_CLOSED',
      SB_ERR_ROOM_NOT_FOUND: 'SB_ERR_ROOM_CLOSED',
      SB_ERR_UNKNOWN_PARTICIPANT: 'SB_ERR_UNKNOWN_PARTICIPANT',
      SB_ERR_UNKNOWN_TRACK: 'SB_ERR_UNKNOWN_TRACK',
      SB_ERR_TOO_MANY_TRACKS: 'SB_ERR_TOO_MANY_TRACKS',
      SB_ERR_PERMISSION_DENIED: 'SB_ERR_PERMISSION_DENIED',
      SB_ERR_RECONNECT_FAILED: 'SB_ERR_NOT_JOINED',
      SB_ERR_WRONG_TOPOLOGY: 'SB_ERR_INVALID_MESSAGE',
      SB_ERR_INVALID: 'SB_ERR_INVALID_MESSAGE',
    };
    return known[code] ?? 'SB_ERR_INTERNAL';
  }
  // media backends throw plain errors with a protocol code
  if ((ERROR_CODE_LIST as readonly string[]).includes(code)) return code as ErrorCode;
  return 'SB_ERR_INTERNAL';
}

export class SignalingServer implements RoomListener {
  readonly rooms: RoomManager;
  private readonly opts: Required<Omit<SignalingOptions, 'limits' | 'logger' | 'mediaBackends' | 'defaultTopology'>> & { limits: ConnectionLimits; logger: SignalingLogger };
  private readonly backends = new Map<string, MediaBackend>();
  private readonly verifier: TokenVerifier;
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();
  /** The open connection of each joined participant. */
  private readonly bySid = new Map<string, Connection>();
  private timer: NodeJS.Timeout | null = null;
  private nextId = 1;

  constructor(opts: SignalingOptions) {
    this.opts = {
      path: '/rtc',
      pingIntervalMs: 5_000,
      pingTimeoutMs: 15_000,
      reconnectGraceMs: 15_000,
      joinTimeoutMs: 10_000,
      maxConnections: 20_000,
      ...opts,
      limits: { ...DEFAULT_LIMITS, ...opts.limits },
      logger: opts.logger ?? quiet,
    };
    this.verifier = new TokenVerifier(opts.apiKeys);
    this.rooms = new RoomManager(this, {
      reconnectGraceMs: this.opts.reconnectGraceMs,
      pingTimeoutMs: this.opts.pingTimeoutMs,
      defaultTopology: opts.defaultTopology ?? 'mesh',
    });
    for (const b of [new MeshBackend(), ...(opts.mediaBackends ?? [])]) {
      b.attach({
        toParticipant: (sid, m) => {
          const conn = this.bySid.get(sid);
          conn?.send(m);
          return conn !== undefined;
        },
        toRoom: (name, m) => {
          const room = this.rooms.getRoom(name);
          if (room) this.toOthers(room, null, m);
        },
      });
      for (const t of b.topologies) this.backends.set(t, b);
    }
    // Frames above the protocol limit get an error reply; far above it the socket closes (1009).
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
    this.wss.on('connection', (ws: WebSocket, req: IncomingMessage) => this.accept(ws, req));
    this.timer = setInterval(() => this.rooms.tick(Date.now()), 1000);
    this.timer.unref();
  }

  /** Takes over WebSocket upgrades for the path on an HTTP server. */
  attach(server: HttpServer): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== this.opts.path) return; // someone else's upgrade
      if (this.connections.size >= this.opts.maxConnections) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
    });
  }

  /** The topologies rooms can have here (those with a media backend). */
  get topologies(): ReadonlySet<string> {
    return new Set(this.backends.keys());
  }

  /** The media backend serving a room, if its topology has one. */
  backendFor(room: Room): MediaBackend | undefined {
    return this.backends.get(room.topology);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const c of this.connections) c.close(CloseCode.goingAway, 'server shutting down');
    await new Promise<void>((r) => this.wss.close(() => r()));
  }

  // ---- connections ------------------------------------------------------------------

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const host = (req.headers.host ?? '127.0.0.1').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
    const conn = new Connection(this.nextId++, ws, host, this.opts.limits, (c, m) => this.handle(c, m));
    this.connections.add(conn);
    const joinTimer = setTimeout(() => {
      if (!conn.participantSid) conn.close(CloseCode.joinTimeout, 'no join within the time limit');
    }, this.opts.joinTimeoutMs);
    ws.on('message', (data, isBinary) => conn.receive(data as Buffer, isBinary));
    ws.on('error', () => {});
    ws.on('close', () => {
      clearTimeout(joinTimer);
      conn.closed = true;
      this.connections.delete(conn);
      const sid = conn.participantSid;
      if (sid && this.bySid.get(sid) === conn) {
        this.bySid.delete(sid);
        // Not a leave: the participant may come back within the grace period.
        this.rooms.disconnected(sid, Date.now());
      }
    });
  }

  private async handle(conn: Connection, msg: ClientMessage): Promise<void> {
    const id = (msg as { id?: number }).id;
    try {
      if (msg.type === 'join') {
        await this.join(conn, msg);
        return;
      }
      if (msg.type === 'ping') {
        if (conn.participantSid) this.rooms.touch(conn.participantSid, Date.now());
        conn.send({ v: 1, type: 'pong', t: msg.t, serverTime: Date.now() } as ServerMessage);
        return;
      }
      const sid = conn.participantSid;
      if (!sid) {
        conn.error('SB_ERR_NOT_JOINED', `join before sending ${msg.type}`, id);
        return;
      }
      const now = Date.now();
      this.rooms.touch(sid, now);
      switch (msg.type) {
        case 'publishTrack': {
          const track = this.rooms.publishTrack(sid, msg.track, now);
          conn.send({ v: 1, type: 'trackPublished', id, cid: msg.track.cid, track } as ServerMessage);
          break;
        }
        case 'unpublishTrack':
          this.rooms.unpublishTrack(sid, msg.sid);
          break;
        case 'muteTrack':
          this.rooms.muteTrack(sid, msg.sid, msg.muted);
          break;
        case 'updateMetadata':
          this.rooms.updateMetadata(sid, { name: msg.name, metadata: msg.metadata });
          break;
        case 'leave':
          this.bySid.delete(sid);
          conn.participantSid = null;
          this.rooms.leave(sid, 'left', now);
          conn.close(CloseCode.normal, 'left');
          break;
        case 'offer':
        case 'answer':
        case 'candidate':
        case 'requestOffer':
        case 'subscription':
        case 'trackSettings':
        case 'data':
          this.media(sid, msg);
          break;
      }
    } catch (err) {
      if (!(err instanceof RoomError) && !(err instanceof TokenError) && errorCodeOf(err) === 'SB_ERR_INTERNAL') this.opts.logger.warn({ err: (err as Error).stack }, 'signaling handler failed');
      conn.error(errorCodeOf(err), (err as Error).message, id);
    }
  }

  private async join(conn: Connection, msg: Extract<ClientMessage, { type: 'join' }>): Promise<void> {
    const id = (msg as { id?: number }).id;
    if (conn.participantSid) {
      conn.error('SB_ERR_ALREADY_JOINED', 'this connection has joined already', id);
      return;
    }
    let token;
    try {
      token = await this.verifier.verify(msg.token);
      if (!token.room) throw new TokenError('SB_ERR_TOKEN_WRONG_ROOM', 'the token names no room');
      if (msg.room !== undefined && msg.room !== token.room) {
        throw new TokenError('SB_ERR_TOKEN_WRONG_ROOM', `the token is for room ${JSON.stringify(token.room)}, not ${JSON.stringify(msg.room)}`);
      }
      checkAccess(token, { room: token.room, grant: 'join' });
    } catch (err) {
      // A bad token ends the connection: there is nothing else it may do.
      conn.error(errorCodeOf(err), (err as Error).message, id, true);
      conn.close(4003, 'not authorized');
      return;
    }
    const now = Date.now();
    let participant: Participant;
    let room: Room;
    let others: Participant[];
    let reconnected = false;
    if (msg.reconnect) {
      participant = this.rooms.resume(msg.reconnect.participantSid, msg.reconnect.sessionToken, now);
      if (participant.identity !== token.identity) throw new RoomError('SB_ERR_RECONNECT_FAILED', 'the token is for someone else');
      room = participant.room;
      others = room.participants.filter((p) => p !== participant);
      reconnected = true;
      const old = this.bySid.get(participant.sid);
      if (old && old !== conn) {
        old.participantSid = null;
        old.close(CloseCode.replaced, 'resumed on another connection');
      }
    } else {
      ({ room, participant, others } = this.rooms.join(token.room!, token.identity, { name: token.name, metadata: token.metadata, grants: token.grants }, now));
    }
    conn.participantSid = participant.sid;
    conn.roomName = room.name;
    this.bySid.set(participant.sid, conn);
    conn.send({
      v: 1,
      type: 'joined',
      id,
      room: room.info(),
      participant: participant.info(),
      others: others.map((p) => p.info()),
      iceServers: this.opts.iceServers(conn.host, participant.identity),
      sessionToken: participant.sessionToken,
      reconnected,
      pingIntervalMs: this.opts.pingIntervalMs,
      pingTimeoutMs: this.opts.pingTimeoutMs,
    } as ServerMessage);
    if (!reconnected) this.backends.get(room.topology)?.participantJoined(room, participant);
    this.opts.logger.info({ room: room.name, identity: participant.identity, sid: participant.sid, reconnected }, 'participant joined');
  }

  /** A media message, to the backend of the sender's room's topology. */
  private media(sid: string, msg: MediaMessage): void {
    const p = this.rooms.getParticipant(sid);
    if (p === undefined) throw new RoomError('SB_ERR_UNKNOWN_PARTICIPANT', `no participant ${sid}`);
    const backend = this.backends.get(p.room.topology);
    if (backend === undefined) throw new RoomError('SB_ERR_WRONG_TOPOLOGY', `${p.room.topology} rooms are not available on this server`);
    backend.handle(p.room, p, msg);
  }

  // ---- RoomListener: events to connections -----------------------------------------

  private toOthers(room: Room, except: Participant | null, msg: ServerMessage): void {
    for (const p of room.participants) {
      if (p !== except) this.bySid.get(p.sid)?.send(msg);
    }
  }

  participantJoined(room: Room, p: Participant): void {
    this.toOthers(room, p, { v: 1, type: 'participantJoined', participant: p.info() } as ServerMessage);
  }

  participantUpdated(room: Room, p: Participant): void {
    this.toOthers(room, null, { v: 1, type: 'participantUpdated', participant: p.info() } as ServerMessage);
  }

  participantLeft(room: Room, p: Participant, reason: LeaveReason): void {
    this.backends.get(room.topology)?.participantLeft(room, p);
    this.toOthers(room, p, { v: 1, type: 'participantLeft', sid: p.sid, reason } as ServerMessage);
    const conn = this.bySid.get(p.sid);
    if (conn) {
      this.bySid.delete(p.sid);
      conn.participantSid = null;
      conn.send({ v: 1, type: 'leave', reason, canReconnect: false } as ServerMessage);
      const code = reason === 'removed' ? CloseCode.removed : reason === 'duplicate_identity' ? CloseCode.replaced : reason === 'room_closed' ? CloseCode.roomClosed : CloseCode.left;
      conn.close(code, reason);
    }
    this.opts.logger.info({ room: room.name, identity: p.identity, sid: p.sid, reason }, 'participant left');
  }

  trackPublished(room: Room, p: Participant, track: TrackInfo): void {
    this.backends.get(room.topology)?.trackPublished(room, p, track);
    this.participantUpdated(room, p);
  }

  trackUnpublished(room: Room, p: Participant, track: TrackInfo): void {
    this.backends.get(room.topology)?.trackUnpublished(room, p, track);
    this.participantUpdated(room, p);
  }

  roomClosed(room: Room, reason: string): void {
    this.backends.get(room.topology)?.roomClosed(room);
    this.opts.logger.info({ room: room.name, reason }, 'room closed');
  }
}
