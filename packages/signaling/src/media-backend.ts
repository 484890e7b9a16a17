// How signaling hands SFU and MCU rooms to a media engine without depending on it: the engine
// implements MediaBackend, and talks back through the MediaSignals it is given.
import type { ClientMessageOf, ServerMessage, Topology } from '@switchboard/protocol';
import type { Participant, Room, TrackInfo } from '@switchboard/rooms';

/** What signaling offers a media backend: messages to participants and rooms. */
export interface MediaSignals {
  /** To one participant's current connection (dropped while it is reconnecting). */
  toParticipant(sid: string, msg: ServerMessage): void;
  /** To everyone in a room (by name). */
  toRoom(roomName: string, msg: ServerMessage): void;
}

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
  /** offer/answer/candidate/subscription/trackSettings/data from a participant. Throws errors with a `code`. */
  handle(
    room: Room,
    p: Participant,
    msg: ClientMessageOf<'offer' | 'answer' | 'candidate' | 'subscription' | 'trackSettings' | 'data'>,
  ): void;
  roomClosed(room: Room): void;
}
