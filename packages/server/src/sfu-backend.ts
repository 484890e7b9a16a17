// SFU rooms for signaling: participants, tracks and offers/answers go to the shared Sfu
// (sfu-media.ts) as a forwarding room. McuBackend (mcu-backend.ts) is the same over a mixing
// room. No package imports another here; this file knows both sides.
import type { Topology } from '@switchboard/protocol';
import type { Participant, Room, TrackInfo } from '@switchboard/rooms';
import { mediaError } from '@switchboard/signaling';
import type { MediaBackend, MediaMessage, MediaSignals } from '@switchboard/signaling';
import type { ParticipantMediaStats } from '@switchboard/sfu';
import type { Logger } from './logger.js';
import type { SfuMedia } from './sfu-media.js';

export class SfuBackend implements MediaBackend {
  readonly topologies: readonly Topology[];

  constructor(
    protected readonly media: SfuMedia,
    private readonly logger: Logger,
    topology: 'sfu' | 'mcu' = 'sfu',
    private readonly strategy: 'forwarding' | 'mixing' = 'forwarding',
  ) {
    this.topologies = [topology];
  }

  attach(signals: MediaSignals): void {
    this.media.attach(signals);
  }

  participantJoined(room: Room, p: Participant): void {
    this.media.roomNames.set(room.sid, room.name);
    this.media.sfu.join(room.sid, p.sid, { canSubscribe: p.canSubscribe, canPublishData: p.canPublishData, strategy: this.strategy, name: p.name || p.identity });
    // tracks already published before (a rejoin keeps none, but be safe)
    for (const t of p.info().tracks) this.trackPublished(room, p, t);
  }

  participantLeft(_room: Room, p: Participant): void {
    this.media.sfu.leave(p.sid);
  }

  trackPublished(_room: Room, p: Participant, track: TrackInfo): void {
    this.media.sfu.trackPublished(p.sid, { sid: track.sid, cid: track.cid, kind: track.kind, width: track.width, height: track.height });
  }

  trackUnpublished(_room: Room, p: Participant, track: TrackInfo): void {
    this.media.sfu.trackUnpublished(p.sid, track.sid);
  }

  handle(_room: Room, p: Participant, msg: MediaMessage): void {
    const sfu = this.media.sfu;
    switch (msg.type) {
      case 'offer':
        if (msg.target === 'subscriber') throw mediaError('SB_ERR_INVALID_MESSAGE', 'the server makes the subscriber offers');
        try {
          sfu.publisherOffer(p.sid, msg.sdp);
        } catch (err) {
          this.logger.debug({ sid: p.sid, sdp: msg.sdp, err: (err as Error).message }, 'publisher offer refused');
          throw mediaError('SB_ERR_INVALID_MESSAGE', `offer: ${(err as Error).message}`);
        }
        break;
      case 'answer':
        if (msg.target !== 'subscriber') throw mediaError('SB_ERR_INVALID_MESSAGE', 'answers go to the subscriber connection (target: subscriber)');
        try {
          sfu.subscriberAnswer(p.sid, msg.sdp);
        } catch (err) {
          throw mediaError('SB_ERR_INVALID_MESSAGE', `answer: ${(err as Error).message}`);
        }
        break;
      case 'candidate':
        // The server is ICE-lite: it answers the client's checks and needs no remote candidates.
        break;
      case 'requestOffer':
        throw mediaError('SB_ERR_INVALID_MESSAGE', `requestOffer is for mesh rooms; the server makes the subscriber offers in ${this.topologies[0]} rooms`);
      case 'subscription':
        if (!p.canSubscribe) throw mediaError('SB_ERR_PERMISSION_DENIED', 'the token does not grant subscribe');
        sfu.setSubscribed(p.sid, msg.trackSids, msg.subscribe);
        break;
      case 'trackSettings':
        sfu.trackSettings(p.sid, msg.trackSids, { disabled: msg.disabled, width: msg.width, height: msg.height, quality: msg.quality });
        break;
      case 'data':
        throw mediaError('SB_ERR_INVALID_MESSAGE', 'data over signaling is not relayed; use a data channel');
    }
  }

  roomClosed(room: Room): void {
    this.media.sfu.closeRoom(room.sid);
    this.media.roomNames.delete(room.sid);
  }

  /** Server-side media figures of a room's participants (the admin API's room stats). */
  stats(room: Room): ParticipantMediaStats[] {
    return this.media.sfu.roomStats(room.sid);
  }
}
