import type { Participant, Room } from './model.js';

import type { Topology } from '@switchboard/protocol';

export type { Topology };
/** Every topology, listed once more for checks at run time; the Record makes the compiler insist on all of them. */
const EVERY_TOPOLOGY: Record<Topology, true> = { mesh: true, sfu: true, mcu: true };
export const TOPOLOGIES: readonly Topology[] = Object.keys(EVERY_TOPOLOGY) as Topology[];

export interface RoomOptions {
  name: string;
  topology: Topology;
  /** Default 16 for mesh, 100 otherwise. */
  maxParticipants: number;
  /** An empty room closes once it has been empty for longer than this. Default 5 minutes. */
  emptyTimeoutMs: number;
  metadata?: string;
}

export type TrackKind = 'audio' | 'video' | 'data';
export type TrackSource = 'camera' | 'microphone' | 'screen' | 'screen_audio' | 'unknown';
export const TRACK_KINDS: readonly TrackKind[] = ['audio', 'video', 'data'];
export const TRACK_SOURCES: readonly TrackSource[] = ['camera', 'microphone', 'screen', 'screen_audio', 'unknown'];

/** Plain data; identical in shape to the protocol package's TrackInfo. */
export interface TrackInfo {
  sid: string;
  /** The publisher's own id for the track; in mesh rooms, the id of the MediaStream it is sent in, so receivers can match it. */
  cid: string;
  kind: TrackKind;
  source: TrackSource;
  muted: boolean;
  name?: string;
  width?: number;
  height?: number;
  simulcast?: boolean;
  mid?: string;
}

export type ParticipantState = 'joining' | 'joined' | 'reconnecting' | 'disconnected';

/** Plain data; identical in shape to the protocol package's ParticipantInfo. */
export interface ParticipantInfo {
  sid: string;
  identity: string;
  name: string;
  metadata: string;
  tracks: TrackInfo[];
  joinedAt: number;
  state: ParticipantState;
}

/** Plain data; identical in shape to the protocol package's RoomInfo. */
export interface RoomInfo {
  sid: string;
  name: string;
  topology: Topology;
  maxParticipants: number;
  metadata: string;
  createdAt: number;
  numParticipants: number;
}

export interface Grants {
  publish: boolean;
  subscribe: boolean;
  publishData: boolean;
  roomAdmin: boolean;
}

export type LeaveReason = 'left' | 'removed' | 'timeout' | 'room_closed' | 'duplicate_identity';

/**
 * Everything the model reports upward. The adapter turns these into messages to
 * the right connections. Events are emitted after the model's state has changed,
 * so a listener may call back into the manager; listeners should not throw.
 */
export interface RoomListener {
  participantJoined(room: Room, p: Participant): void;
  participantUpdated(room: Room, p: Participant): void;
  /** All of `p`'s tracks are gone with it; no trackUnpublished is sent for them. */
  participantLeft(room: Room, p: Participant, reason: LeaveReason): void;
  trackPublished(room: Room, p: Participant, track: TrackInfo): void;
  trackUnpublished(room: Room, p: Participant, track: TrackInfo): void;
  roomClosed(room: Room, reason: string): void;
}

export interface PublishTrackRequest {
  /** Client-chosen id, unique per participant; used by the client to match the assigned sid. */
  cid: string;
  kind: TrackKind;
  source?: TrackSource;
  name?: string;
  width?: number;
  height?: number;
  simulcast?: boolean;
  muted?: boolean;
}

export interface JoinOptions {
  name?: string;
  metadata?: string;
  /** Create the room on first join. Default true. */
  autoCreate?: boolean;
  /** Topology for an auto-created room; ignored if the room exists. */
  topology?: Topology;
  /** Default: publish, subscribe and publishData allowed, roomAdmin not. */
  grants?: Partial<Grants>;
}

export interface JoinResult {
  room: Room;
  participant: Participant;
  /** Everyone else in the room at join time (joined or reconnecting). */
  others: Participant[];
  /** The previous participant with the same identity, which left with 'duplicate_identity'. */
  replaced?: Participant;
}

export interface RoomManagerOptions {
  defaultTopology?: Topology;
  /** Default 10000. */
  maxRooms?: number;
  /** How long a disconnected participant may resume. Default 15000 ms. */
  reconnectGraceMs?: number;
  /** A joined participant not touched for longer than this is marked reconnecting by tick(). Default 20000 ms. */
  pingTimeoutMs?: number;
  /** For tests. Default: prefix + 12 random base62 characters. Must return ids that start with the prefix. */
  idGenerator?: (prefix: string) => string;
}
