import { RoomManager, type Participant, type Room, type RoomListener, type RoomManagerOptions, type TrackInfo } from '../src/index.js';

export type Ev =
  | { type: 'joined'; room: string; identity: string; sid: string }
  | { type: 'updated'; room: string; identity: string }
  | { type: 'left'; room: string; identity: string; sid: string; reason: string }
  | { type: 'published'; room: string; identity: string; track: TrackInfo }
  | { type: 'unpublished'; room: string; identity: string; track: TrackInfo }
  | { type: 'closed'; room: string; reason: string };

export class Recorder implements RoomListener {
  events: Ev[] = [];
  participantJoined(room: Room, p: Participant): void {
    this.events.push({ type: 'joined', room: room.name, identity: p.identity, sid: p.sid });
  }
  participantUpdated(room: Room, p: Participant): void {
    this.events.push({ type: 'updated', room: room.name, identity: p.identity });
  }
  participantLeft(room: Room, p: Participant, reason: string): void {
    this.events.push({ type: 'left', room: room.name, identity: p.identity, sid: p.sid, reason });
  }
  trackPublished(room: Room, p: Participant, track: TrackInfo): void {
    this.events.push({ type: 'published', room: room.name, identity: p.identity, track });
  }
  trackUnpublished(room: Room, p: Participant, track: TrackInfo): void {
    this.events.push({ type: 'unpublished', room: room.name, identity: p.identity, track });
  }
  roomClosed(room: Room, reason: string): void {
    this.events.push({ type: 'closed', room: room.name, reason });
  }
  take(): Ev[] {
    const e = this.events;
    this.events = [];
    return e;
  }
}

/** Deterministic ids: RM_000001, PA_000002, ... */
export function counterIds(): (prefix: string) => string {
  let n = 0;
  return (prefix) => prefix + String(++n).padStart(6, '0');
}

export function setup(opts: RoomManagerOptions = {}): { m: RoomManager; rec: Recorder } {
  const rec = new Recorder();
  const m = new RoomManager(rec, { idGenerator: counterIds(), ...opts });
  return { m, rec };
}
