// The one port through which signaling hands a room's media to a topology's strategy, without
// depending on any of them: mesh (MeshBackend, mesh-backend.ts: signaling relays between the
// participants' own peer connections), sfu and mcu (implemented in packages/server over one
// shared Sfu). A backend talks back through the MediaSignals it is given.
//
// Signaling looks a room's backend up by `room.topology` on every call, so a room whose topology
// changes (the coming `auto` topology) moves to another backend by the caller telling the old
// one `participantLeft` and the new one `participantJoined` (and `trackPublished`) for each participant.
import type { ClientMessageOf, ServerMessage, Topology } from '@switchboard/protocol';
import type { Participant, Room, TrackInfo } from '@switchboard/rooms';

/** What signaling offers a media backend: messages to participants and rooms. */
export interface MediaSignals {
  /** To one participant's current connection; false when it has none (it is reconnecting). */
  toParticipant(sid: string, msg: ServerMessage): boolean;
  /** To everyone in a room (by name). */
  toRoom(roomName: string, msg: ServerMessage): void;
}

/** The client messages about media: negotiation, subscriptions, and data over signaling. */
export type MediaMessage = ClientMessageOf<'offer' | 'answer' | 'candidate' | 'requestOffer' | 'subscription' | 'trackSettings' | 'data'>;

export interface MediaBackend {
  /** The topologies it serves (e.g. ['sfu']). */
  readonly topologies: readonly Topology[];
  /** Called once, before any other call. */
  attach(signals: MediaSignals): void;
  /** A participant joined (not on a resume: media outlives the WebSocket). */
  participantJoined(room: Room, p: Participant): void;
  participantLeft(room: Room, p: Participant): void;
  trackPublished(room: Room, p: Participant, track: TrackInfo): void;
  trackUnpublished(room: Room, p: Participant, track: TrackInfo): void;
  /** A media message from a participant. Throws errors with a protocol `code` (SB_ERR_*). */
  handle(room: Room, p: Participant, msg: MediaMessage): void;
  roomClosed(room: Room): void;
  /** Server-side media figures of a room's participants (the admin API's room stats); absent when the server carries no media. */
  stats?(room: Room): unknown[];
}

/** An error with a protocol code, as backends throw them. */
export function mediaError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}
