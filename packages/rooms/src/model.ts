import type { Grants, ParticipantInfo, ParticipantState, RoomInfo, Topology, TrackInfo } from './types.js';

function copyTrack(t: TrackInfo): TrackInfo {
  return { ...t };
}

/**
 * A participant. Read it freely; change it only through RoomManager. The
 * underscore members are internal to this package.
 */
export class Participant {
  readonly sid: string;
  readonly identity: string;
  readonly joinedAt: number;
  /** Secret for resume(); generated at join, never part of info(). */
  readonly sessionToken: string;
  readonly grants: Readonly<Grants>;
  readonly room: Room;
  /** @internal */ _name: string;
  /** @internal */ _metadata: string;
  /** @internal */ _state: ParticipantState = 'joined';
  /** @internal Tracks by sid, in publish order. */
  readonly _tracks = new Map<string, TrackInfo>();
  /** @internal Track sid by client cid. Owned together with _tracks. */
  readonly _cids = new Map<string, string>();
  /** @internal Last activity (join, touch, resume). */
  _lastSeen: number;
  /** @internal When the participant went 'reconnecting'. */
  _disconnectedAt = 0;

  /** @internal */
  constructor(init: {
    sid: string; identity: string; name: string; metadata: string; joinedAt: number;
    sessionToken: string; grants: Grants; room: Room;
  }) {
    this.sid = init.sid;
    this.identity = init.identity;
    this._name = init.name;
    this._metadata = init.metadata;
    this.joinedAt = init.joinedAt;
    this.sessionToken = init.sessionToken;
    this.grants = Object.freeze({ ...init.grants });
    this.room = init.room;
    this._lastSeen = init.joinedAt;
  }

  get name(): string { return this._name; }
  get metadata(): string { return this._metadata; }
  get state(): ParticipantState { return this._state; }
  get canPublish(): boolean { return this.grants.publish; }
  get canSubscribe(): boolean { return this.grants.subscribe; }
  get canPublishData(): boolean { return this.grants.publishData; }
  get isAdmin(): boolean { return this.grants.roomAdmin; }
  /** Copies of the published tracks, in publish order. */
  get tracks(): TrackInfo[] { return [...this._tracks.values()].map(copyTrack); }
  getTrack(trackSid: string): TrackInfo | undefined {
    const t = this._tracks.get(trackSid);
    return t ? copyTrack(t) : undefined;
  }

  info(): ParticipantInfo {
    return {
      sid: this.sid,
      identity: this.identity,
      name: this._name,
      metadata: this._metadata,
      tracks: this.tracks,
      joinedAt: this.joinedAt,
      state: this._state,
    };
  }
}

/** A room. Read it freely; change it only through RoomManager. */
export class Room {
  readonly sid: string;
  readonly name: string;
  readonly topology: Topology;
  readonly maxParticipants: number;
  readonly emptyTimeoutMs: number;
  readonly createdAt: number;
  /** @internal */ _metadata: string;
  /** @internal Participants by identity; owned by the room, mirrored in the manager's sid index. */
  readonly _byIdentity = new Map<string, Participant>();
  /** @internal Since when the room has had no participants; null while occupied. */
  _emptySince: number | null;
  /** @internal Set when closing starts; the room refuses joins from then on. */
  _closed = false;

  /** @internal */
  constructor(init: {
    sid: string; name: string; topology: Topology; maxParticipants: number;
    emptyTimeoutMs: number; metadata: string; createdAt: number;
  }) {
    this.sid = init.sid;
    this.name = init.name;
    this.topology = init.topology;
    this.maxParticipants = init.maxParticipants;
    this.emptyTimeoutMs = init.emptyTimeoutMs;
    this._metadata = init.metadata;
    this.createdAt = init.createdAt;
    this._emptySince = init.createdAt;
  }

  get metadata(): string { return this._metadata; }
  get closed(): boolean { return this._closed; }
  /** Participants present (joined or reconnecting); they all count toward maxParticipants. */
  get numParticipants(): number { return this._byIdentity.size; }
  get participants(): Participant[] { return [...this._byIdentity.values()]; }
  getParticipant(identity: string): Participant | undefined { return this._byIdentity.get(identity); }
  /** When the room became empty, or null if it has participants. */
  get emptySince(): number | null { return this._emptySince; }

  info(): RoomInfo {
    return {
      sid: this.sid,
      name: this.name,
      topology: this.topology,
      maxParticipants: this.maxParticipants,
      metadata: this._metadata,
      createdAt: this.createdAt,
      numParticipants: this._byIdentity.size,
    };
  }
}
