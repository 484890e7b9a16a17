import { RoomError } from './errors.js';
import { defaultIdGenerator, randomBase62, safeEqual, utf8Length } from './ids.js';
import { Participant, Room } from './model.js';
import {
  TOPOLOGIES, TRACK_KINDS, TRACK_SOURCES,
  type Grants, type JoinOptions, type JoinResult, type LeaveReason, type PublishTrackRequest,
  type RoomListener, type RoomManagerOptions, type RoomOptions, type Topology, type TrackInfo,
} from './types.js';

export const LIMITS = Object.freeze({
  /** Room names, in characters. */
  roomName: 128,
  /** Participant identities, in characters. */
  identity: 256,
  /** Participant and track names, in characters. */
  name: 128,
  /** Participant and room metadata, in UTF-8 bytes. */
  metadataBytes: 4096,
  /** Published tracks per participant. */
  tracksPerParticipant: 16,
  /** Track cids, in characters. */
  cid: 128,
});

export const DEFAULTS = Object.freeze({
  maxRooms: 10000,
  reconnectGraceMs: 15000,
  pingTimeoutMs: 20000,
  emptyTimeoutMs: 5 * 60 * 1000,
  maxParticipantsMesh: 16,
  maxParticipantsOther: 100,
});

const DEFAULT_GRANTS: Grants = { publish: true, subscribe: true, publishData: true, roomAdmin: false };

function invalid(message: string): never {
  throw new RoomError('SB_ERR_INVALID', message);
}

function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string') invalid(`${what} must be a string`);
  if (name.length > LIMITS.name) invalid(`${what} longer than ${LIMITS.name} characters`);
  return name;
}

function checkMetadata(metadata: unknown, what: string): string {
  if (typeof metadata !== 'string') invalid(`${what} must be a string`);
  // Cheap bound first: a UTF-16 string of n units is at most 3n UTF-8 bytes.
  if (metadata.length > LIMITS.metadataBytes || utf8Length(metadata) > LIMITS.metadataBytes) {
    invalid(`${what} larger than ${LIMITS.metadataBytes} bytes`);
  }
  return metadata;
}

function checkTopology(t: unknown): Topology {
  if (!TOPOLOGIES.includes(t as Topology)) invalid(`unknown topology ${String(t)}`);
  return t as Topology;
}

function checkDimension(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) invalid(`${what} must be an integer 0..65535`);
  return v;
}

/**
 * The room model of the signaling server, sans I/O. It takes calls and the
 * current time (`now`, ms, from any monotonic clock) and reports upward
 * through a RoomListener. It owns three indexes, each with one owner that
 * deletes from it:
 *  - rooms by name (this manager: createRoom / closeRoom),
 *  - participants by sid (this manager: join / removeParticipant),
 *  - participants by identity (each Room, kept in step with the sid index).
 */
export class RoomManager {
  readonly #listener: RoomListener;
  readonly #defaultTopology: Topology;
  readonly #maxRooms: number;
  readonly #graceMs: number;
  readonly #pingTimeoutMs: number;
  readonly #newId: (prefix: string) => string;
  readonly #rooms = new Map<string, Room>();
  readonly #participants = new Map<string, Participant>();

  constructor(listener: RoomListener, opts: RoomManagerOptions = {}) {
    this.#listener = listener;
    this.#defaultTopology = checkTopology(opts.defaultTopology ?? 'mesh');
    this.#maxRooms = opts.maxRooms ?? DEFAULTS.maxRooms;
    this.#graceMs = opts.reconnectGraceMs ?? DEFAULTS.reconnectGraceMs;
    this.#pingTimeoutMs = opts.pingTimeoutMs ?? DEFAULTS.pingTimeoutMs;
    this.#newId = opts.idGenerator ?? defaultIdGenerator;
  }

  get reconnectGraceMs(): number { return this.#graceMs; }
  get pingTimeoutMs(): number { return this.#pingTimeoutMs; }

  // ---------------------------------------------------------------- rooms

  createRoom(opts: Partial<RoomOptions> & { name: string }, now: number): Room {
    const name = opts.name;
    if (typeof name !== 'string' || name.length === 0 || name.length > LIMITS.roomName) {
      invalid(`room name must be 1..${LIMITS.roomName} characters`);
    }
    const topology = checkTopology(opts.topology ?? this.#defaultTopology);
    const maxParticipants = opts.maxParticipants
      ?? (topology === 'mesh' ? DEFAULTS.maxParticipantsMesh : DEFAULTS.maxParticipantsOther);
    if (!Number.isInteger(maxParticipants) || maxParticipants < 1) invalid('maxParticipants must be a positive integer');
    const emptyTimeoutMs = opts.emptyTimeoutMs ?? DEFAULTS.emptyTimeoutMs;
    if (typeof emptyTimeoutMs !== 'number' || !(emptyTimeoutMs >= 0)) invalid('emptyTimeoutMs must be >= 0');
    const metadata = checkMetadata(opts.metadata ?? '', 'room metadata');
    if (this.#rooms.has(name)) throw new RoomError('SB_ERR_ROOM_EXISTS', `room ${name} exists`);
    if (this.#rooms.size >= this.#maxRooms) throw new RoomError('SB_ERR_TOO_MANY_ROOMS', `more than ${this.#maxRooms} rooms`);
    const room = new Room({ sid: this.#newId('RM_'), name, topology, maxParticipants, emptyTimeoutMs, metadata, createdAt: now });
    this.#rooms.set(name, room);
    return room;
  }

  getRoom(name: string): Room | undefined {
    return this.#rooms.get(name);
  }

  listRooms(): Room[] {
    return [...this.#rooms.values()];
  }

  /**
   * Closes a room: every participant gets participantLeft 'room_closed', then
   * roomClosed(reason). Afterwards nothing of the room remains in the manager.
   */
  closeRoom(name: string, reason: string, now: number): void {
    const room = this.#rooms.get(name);
    if (!room || room._closed) throw new RoomError('SB_ERR_ROOM_NOT_FOUND', `no room ${name}`);
    this.#close(room, reason, now);
  }

  #close(room: Room, reason: string, now: number): void {
    room._closed = true;
    for (const p of room.participants) {
      if (room._byIdentity.get(p.identity) === p) this.#removeParticipant(p, 'room_closed', now);
    }
    // A listener may have re-entered; whatever happened, the closed room goes.
    for (const p of room.participants) this.#removeParticipant(p, 'room_closed', now);
    if (this.#rooms.get(room.name) === room) this.#rooms.delete(room.name);
    this.#listener.roomClosed(room, reason);
  }

  // --------------------------------------------------------- membership

  join(roomName: string, identity: string, opts: JoinOptions, now: number): JoinResult {
    if (typeof identity !== 'string' || identity.length === 0 || identity.length > LIMITS.identity) {
      invalid(`identity must be 1..${LIMITS.identity} characters`);
    }
    const name = checkName(opts.name ?? '', 'participant name');
    const metadata = checkMetadata(opts.metadata ?? '', 'participant metadata');
    const grants: Grants = { ...DEFAULT_GRANTS };
    for (const k of ['publish', 'subscribe', 'publishData', 'roomAdmin'] as const) {
      const v = opts.grants?.[k];
      if (v !== undefined) grants[k] = v === true;
    }

    let room = this.#rooms.get(roomName);
    if (!room) {
      if (opts.autoCreate === false) throw new RoomError('SB_ERR_ROOM_NOT_FOUND', `no room ${roomName}`);
      room = this.createRoom({ name: roomName, ...(opts.topology ? { topology: opts.topology } : {}) }, now);
    }
    if (room._closed) throw new RoomError('SB_ERR_ROOM_CLOSED', `room ${roomName} is closing`);

    const existing = room._byIdentity.get(identity);
    const occupied = room._byIdentity.size - (existing ? 1 : 0);
    if (occupied >= room.maxParticipants) throw new RoomError('SB_ERR_ROOM_FULL', `room ${roomName} is full`);

    let sid = this.#newId('PA_');
    for (let i = 0; this.#participants.has(sid); i++) {
      if (i >= 8) throw new Error('idGenerator keeps returning participant sids in use');
      sid = this.#newId('PA_');
    }
    const participant = new Participant({
      sid, identity, name, metadata, joinedAt: now, sessionToken: randomBase62(32),
      grants, room,
    });

    if (existing) this.#removeParticipant(existing, 'duplicate_identity', now);
    // A listener may have re-entered during the removal; re-check before committing.
    if (room._closed || this.#rooms.get(roomName) !== room) {
      throw new RoomError('SB_ERR_ROOM_CLOSED', `room ${roomName} closed during join`);
    }
    if (room._byIdentity.has(identity) || room._byIdentity.size >= room.maxParticipants) {
      throw new RoomError('SB_ERR_ROOM_FULL', `room ${roomName} is full`);
    }

    const others = room.participants;
    room._byIdentity.set(identity, participant);
    room._emptySince = null;
    this.#participants.set(sid, participant);
    this.#listener.participantJoined(room, participant);
    return existing ? { room, participant, others, replaced: existing } : { room, participant, others };
  }

  /** The participant leaves (or is made to leave) now; others get participantLeft. */
  leave(participantSid: string, reason: LeaveReason, now: number): void {
    this.#removeParticipant(this.#get(participantSid), reason, now);
  }

  /** Admin removal by identity: participantLeft 'removed'. */
  remove(roomName: string, identity: string, now: number): Participant {
    const room = this.#rooms.get(roomName);
    if (!room) throw new RoomError('SB_ERR_ROOM_NOT_FOUND', `no room ${roomName}`);
    const p = room._byIdentity.get(identity);
    if (!p) throw new RoomError('SB_ERR_UNKNOWN_PARTICIPANT', `no ${identity} in ${roomName}`);
    this.#removeParticipant(p, 'removed', now);
    return p;
  }

  getParticipant(participantSid: string): Participant | undefined {
    return this.#participants.get(participantSid);
  }

  #get(participantSid: string): Participant {
    const p = this.#participants.get(participantSid);
    if (!p) throw new RoomError('SB_ERR_UNKNOWN_PARTICIPANT', `no participant ${participantSid}`);
    return p;
  }

  /** The only place participants leave the indexes. */
  #removeParticipant(p: Participant, reason: LeaveReason, now: number): void {
    if (this.#participants.get(p.sid) !== p) return;
    this.#participants.delete(p.sid);
    const room = p.room;
    if (room._byIdentity.get(p.identity) === p) room._byIdentity.delete(p.identity);
    if (room._byIdentity.size === 0 && room._emptySince === null) room._emptySince = now;
    p._state = 'disconnected';
    this.#listener.participantLeft(room, p, reason);
  }

  // ------------------------------------------------ liveness and resume

  /** Records activity (any message or ping) from a participant. Returns false if it is unknown. */
  touch(participantSid: string, now: number): boolean {
    const p = this.#participants.get(participantSid);
    if (!p) return false;
    if (now > p._lastSeen) p._lastSeen = now;
    return true;
  }

  /**
   * The participant's connection dropped: it becomes 'reconnecting' and keeps
   * its slot, tracks and identity for reconnectGraceMs. Others are not told.
   */
  disconnected(participantSid: string, now: number): void {
    const p = this.#get(participantSid);
    if (p._state === 'reconnecting') return;
    p._state = 'reconnecting';
    p._disconnectedAt = now;
  }

  /**
   * Brings a participant back on a new connection if the token matches and the
   * grace period has not run out (now - disconnectedAt <= reconnectGraceMs).
   * Also accepted while still 'joined' (the old connection's drop not yet seen).
   * A resume after the grace period removes the participant ('timeout').
   */
  resume(participantSid: string, sessionToken: string, now: number): Participant {
    const p = this.#participants.get(participantSid);
    if (!p) throw new RoomError('SB_ERR_RECONNECT_FAILED', 'unknown or expired session');
    if (typeof sessionToken !== 'string' || !safeEqual(sessionToken, p.sessionToken)) {
      throw new RoomError('SB_ERR_RECONNECT_FAILED', 'bad session token');
    }
    if (p._state === 'reconnecting' && now - p._disconnectedAt > this.#graceMs) {
      this.#removeParticipant(p, 'timeout', now);
      throw new RoomError('SB_ERR_RECONNECT_FAILED', 'reconnect grace expired');
    }
    p._state = 'joined';
    p._lastSeen = Math.max(p._lastSeen, now);
    return p;
  }

  /**
   * Runs the timers; call it periodically (e.g. every second) with the clock.
   *  1. A 'joined' participant not touched for longer than pingTimeoutMs
   *     becomes 'reconnecting' (disconnectedAt = now), exactly as if
   *     disconnected() had been called.
   *  2. A 'reconnecting' participant whose grace ran out
   *     (now - disconnectedAt > reconnectGraceMs) leaves with 'timeout'.
   *  3. A room empty for longer than its emptyTimeoutMs closes ('empty').
   * So a silent participant is gone after at most pingTimeoutMs +
   * reconnectGraceMs + one tick interval.
   */
  tick(now: number): void {
    for (const p of [...this.#participants.values()]) {
      if (this.#participants.get(p.sid) !== p) continue;
      if (p._state === 'joined' && now - p._lastSeen > this.#pingTimeoutMs) {
        p._state = 'reconnecting';
        p._disconnectedAt = now;
      } else if (p._state === 'reconnecting' && now - p._disconnectedAt > this.#graceMs) {
        this.#removeParticipant(p, 'timeout', now);
      }
    }
    for (const room of [...this.#rooms.values()]) {
      if (room._closed || this.#rooms.get(room.name) !== room) continue;
      if (room._byIdentity.size === 0 && room._emptySince !== null && now - room._emptySince > room.emptyTimeoutMs) {
        this.#close(room, 'empty', now);
      }
    }
  }

  // --------------------------------------------------------------- tracks

  publishTrack(participantSid: string, track: PublishTrackRequest, now: number): TrackInfo {
    const p = this.#get(participantSid);
    if (typeof track !== 'object' || track === null) invalid('track must be an object');
    const kind = track.kind;
    if (!TRACK_KINDS.includes(kind)) invalid(`unknown track kind ${String(kind)}`);
    const source = track.source ?? 'unknown';
    if (!TRACK_SOURCES.includes(source)) invalid(`unknown track source ${String(source)}`);
    if (kind === 'data' ? !p.grants.publishData : !p.grants.publish) {
      throw new RoomError('SB_ERR_PERMISSION_DENIED', `${p.identity} may not publish ${kind}`);
    }
    const cid = track.cid;
    if (typeof cid !== 'string' || cid.length === 0 || cid.length > LIMITS.cid) invalid(`cid must be 1..${LIMITS.cid} characters`);
    if (p._cids.has(cid)) invalid(`track cid ${cid} already published`);
    const name = track.name === undefined ? undefined : checkName(track.name, 'track name');
    const width = checkDimension(track.width, 'width');
    const height = checkDimension(track.height, 'height');
    if (track.simulcast !== undefined && typeof track.simulcast !== 'boolean') invalid('simulcast must be a boolean');
    if (track.muted !== undefined && typeof track.muted !== 'boolean') invalid('muted must be a boolean');
    if (p._tracks.size >= LIMITS.tracksPerParticipant) {
      throw new RoomError('SB_ERR_TOO_MANY_TRACKS', `more than ${LIMITS.tracksPerParticipant} tracks`);
    }
    const info: TrackInfo = { sid: this.#newId('TR_'), cid, kind, source, muted: track.muted ?? false };
    if (name !== undefined) info.name = name;
    if (width !== undefined) info.width = width;
    if (height !== undefined) info.height = height;
    if (track.simulcast !== undefined) info.simulcast = track.simulcast;
    if (p._tracks.has(info.sid)) throw new Error('idGenerator returned a track sid in use');
    p._tracks.set(info.sid, info);
    p._cids.set(cid, info.sid);
    this.touch(participantSid, now);
    this.#listener.trackPublished(p.room, p, { ...info });
    return { ...info };
  }

  unpublishTrack(participantSid: string, trackSid: string): TrackInfo {
    const p = this.#get(participantSid);
    const t = this.#track(p, trackSid);
    p._tracks.delete(trackSid);
    for (const [cid, sid] of p._cids) if (sid === trackSid) p._cids.delete(cid);
    this.#listener.trackUnpublished(p.room, p, { ...t });
    return { ...t };
  }

  /** Mutes or unmutes a track; participantUpdated only if it changed. */
  muteTrack(participantSid: string, trackSid: string, muted: boolean): TrackInfo {
    const p = this.#get(participantSid);
    const t = this.#track(p, trackSid);
    if (typeof muted !== 'boolean') invalid('muted must be a boolean');
    if (t.muted !== muted) {
      t.muted = muted;
      this.#listener.participantUpdated(p.room, p);
    }
    return { ...t };
  }

  /**
   * Records the transceiver mid the adapter learned from SDP for a track
   * (the model itself never parses SDP). No event.
   */
  setTrackMid(participantSid: string, trackSid: string, mid: string): TrackInfo {
    const p = this.#get(participantSid);
    const t = this.#track(p, trackSid);
    if (typeof mid !== 'string' || mid.length === 0 || mid.length > 32) invalid('mid must be 1..32 characters');
    t.mid = mid;
    return { ...t };
  }

  #track(p: Participant, trackSid: string): TrackInfo {
    const t = p._tracks.get(trackSid);
    if (!t) throw new RoomError('SB_ERR_UNKNOWN_TRACK', `no track ${trackSid}`);
    return t;
  }

  /** Changes name and/or metadata; participantUpdated if anything changed. */
  updateMetadata(participantSid: string, update: { name?: string; metadata?: string }): Participant {
    const p = this.#get(participantSid);
    const name = update.name === undefined ? undefined : checkName(update.name, 'participant name');
    const metadata = update.metadata === undefined ? undefined : checkMetadata(update.metadata, 'participant metadata');
    let changed = false;
    if (name !== undefined && name !== p._name) { p._name = name; changed = true; }
    if (metadata !== undefined && metadata !== p._metadata) { p._metadata = metadata; changed = true; }
    if (changed) this.#listener.participantUpdated(p.room, p);
    return p;
  }

  // ---------------------------------------------------------------- misc

  /** Sizes of the manager's indexes (for tests and metrics). */
  stats(): { rooms: number; participants: number } {
    return { rooms: this.#rooms.size, participants: this.#participants.size };
  }
}
