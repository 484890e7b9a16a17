// Mesh rooms' strategy: no media on the server. Each pair of participants has its own peer
// connection; signaling relays `offer`, `answer`, `candidate` and `requestOffer` to the
// participant named in `to`, with `from` set. The newer participant of each pair makes every
// offer; when the other one needs a negotiation (a new track, an ICE restart) it sends
// `requestOffer` instead (PROTOCOL.md §7). `data` goes over signaling to everyone else in the
// room, or to `destinationSids` (needs the publishData grant).
import type { ServerMessage, Topology } from '@switchboard/protocol';
import type { Participant, Room } from '@switchboard/rooms';
import { mediaError } from './media-backend.js';
import type { MediaBackend, MediaMessage, MediaSignals } from './media-backend.js';

export class MeshBackend implements MediaBackend {
  readonly topologies: readonly Topology[] = ['mesh'];
  private signals: MediaSignals | null = null;

  attach(signals: MediaSignals): void {
    this.signals = signals;
  }

  participantJoined(): void {}
  participantLeft(): void {}
  trackPublished(): void {}
  trackUnpublished(): void {}
  roomClosed(): void {}

  handle(room: Room, p: Participant, msg: MediaMessage): void {
    switch (msg.type) {
      case 'offer':
      case 'answer':
      case 'candidate':
      case 'requestOffer':
        this.relay(room, p, msg);
        break;
      case 'data':
        this.relayData(room, p, msg);
        break;
      case 'subscription':
      case 'trackSettings':
        throw mediaError('SB_ERR_INVALID_MESSAGE', `${msg.type} is not used in mesh rooms`);
    }
  }

  /** An offer, answer, candidate or requestOffer to the participant it names, marked with its sender. */
  private relay(room: Room, from: Participant, msg: Extract<MediaMessage, { type: 'offer' | 'answer' | 'candidate' | 'requestOffer' }>): void {
    if (!msg.to) throw mediaError('SB_ERR_INVALID_MESSAGE', `${msg.type}.to: a mesh room needs the participant to send to`);
    const target = peerOf(room, from, msg.to);
    const { to: _to, id: _id, ...rest } = msg as typeof msg & { id?: number };
    if (!this.signals!.toParticipant(target.sid, { ...rest, v: 1, from: from.sid } as ServerMessage)) {
      throw mediaError('SB_ERR_UNKNOWN_PARTICIPANT', `${msg.to} is reconnecting; try again`);
    }
  }

  /** Data over signaling: to the named participants, or everyone else. */
  private relayData(room: Room, p: Participant, msg: Extract<MediaMessage, { type: 'data' }>): void {
    if (!p.canPublishData) throw mediaError('SB_ERR_PERMISSION_DENIED', 'the token does not grant publishData');
    const out = { v: 1, type: 'data', from: p.sid, payload: msg.payload, ...(msg.topic !== undefined ? { topic: msg.topic } : {}) } as ServerMessage;
    const to = msg.destinationSids ? new Set(msg.destinationSids) : null;
    for (const other of room.participants) {
      if (other !== p && (to === null || to.has(other.sid))) this.signals!.toParticipant(other.sid, out);
    }
  }
}

/** The target of a peer-to-peer message: a joined participant of the same room, not the sender. */
export function peerOf(room: Room, from: Participant, toSid: string): Participant {
  if (from.state !== 'joined' || from.room !== room) throw mediaError('SB_ERR_UNKNOWN_PARTICIPANT', `sender ${from.sid} not joined`);
  const to = room.participants.find((x) => x.sid === toSid);
  if (to === undefined || to.state !== 'joined') throw mediaError('SB_ERR_UNKNOWN_PARTICIPANT', `no joined participant ${toSid} in ${room.name}`);
  if (to === from) throw mediaError('SB_ERR_INVALID_MESSAGE', 'cannot route to self');
  return to;
}

/** Perfect negotiation: the participant with the lexically smaller sid is polite. */
export function politeOf(a: Participant, b: Participant): Participant {
  return a.sid < b.sid ? a : b;
}

/** The newer participant of a pair sends every offer (join order; the room model's sids are issued in order). */
export function shouldOffer(newcomer: Participant, existing: Participant): boolean {
  return newcomer !== existing && newcomer.room === existing.room && isNewer(newcomer, existing);
}

function isNewer(a: Participant, b: Participant): boolean {
  const ps = a.room.participants;
  return ps.indexOf(a) > ps.indexOf(b);
}
