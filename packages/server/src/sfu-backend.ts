// Glue between signaling and the SFU: SFU rooms' participants, tracks and offers/answers go to
// the Sfu; what the Sfu signals (offers, answers, layer requests, active speakers) goes back as
// protocol messages. Neither package imports the other; this file knows both.
import type { ClientMessageOf, ServerMessage } from '@switchboard/protocol';
import type { Participant, Room, TrackInfo } from '@switchboard/rooms';
import type { MediaBackend, MediaSignals } from '@switchboard/signaling';
import { Sfu } from '@switchboard/sfu';
import type { SfuOptions } from '@switchboard/sfu';
import type { Logger } from './logger.js';

export class SfuBackend implements MediaBackend {
  readonly topologies = ['sfu'] as const;
  readonly sfu: Sfu;
  private signals: MediaSignals | null = null;
  /** room sid -> room name, for room-wide messages */
  private readonly roomNames = new Map<string, string>();

  constructor(
    opts: SfuOptions,
    private readonly logger: Logger,
  ) {
    this.sfu = new Sfu(opts, {
      signal: (sid, m) => this.signals?.toParticipant(sid, { v: 1, type: m.type, target: m.target, sdp: m.sdp } as ServerMessage),
      activeSpeakers: (roomSid, speakers) => {
        const name = this.roomNames.get(roomSid);
        if (name !== undefined) this.signals?.toRoom(name, { v: 1, type: 'activeSpeakers', speakers } as ServerMessage);
      },
      layersChanged: (sid, trackSid, layers) => this.signals?.toParticipant(sid, { v: 1, type: 'trackLayers', trackSid, layers } as ServerMessage),
      log: (level, obj, msg) => (level === 'warn' ? logger.warn(obj, msg) : logger.debug(obj, msg)),
    });
  }

  listen(): Promise<number> {
    return this.sfu.listen();
  }

  attach(signals: MediaSignals): void {
    this.signals = signals;
  }

  participantJoined(room: Room, p: Participant): void {
    this.roomNames.set(room.sid, room.name);
    this.sfu.join(room.sid, p.sid, { canSubscribe: p.canSubscribe, canPublishData: p.canPublishData });
    // tracks already published before (a rejoin keeps none, but be safe)
    for (const t of p.info().tracks) this.trackPublished(room, p, t);
  }

  participantLeft(_room: Room, p: Participant): void {
    this.sfu.leave(p.sid);
  }

  trackPublished(_room: Room, p: Participant, track: TrackInfo): void {
    this.sfu.trackPublished(p.sid, { sid: track.sid, cid: track.cid, kind: track.kind, width: track.width, height: track.height });
  }

  trackUnpublished(_room: Room, p: Participant, track: TrackInfo): void {
    this.sfu.trackUnpublished(p.sid, track.sid);
  }

  handle(_room: Room, p: Participant, msg: ClientMessageOf<'offer' | 'answer' | 'candidate' | 'subscription' | 'trackSettings' | 'data'>): void {
    switch (msg.type) {
      case 'offer':
        if (msg.target === 'subscriber') throw coded('SB_ERR_INVALID_MESSAGE', 'the server makes the subscriber offers');
        try {
          this.sfu.publisherOffer(p.sid, msg.sdp);
        } catch (err) {
          this.logger.debug({ sid: p.sid, sdp: msg.sdp, err: (err as Error).message }, 'publisher offer refused');
          throw coded('SB_ERR_INVALID_MESSAGE', `offer: ${(err as Error).message}`);
        }
        break;
      case 'answer':
        if (msg.target !== 'subscriber') throw coded('SB_ERR_INVALID_MESSAGE', 'answers go to the subscriber connection (target: subscriber)');
        try {
          this.sfu.subscriberAnswer(p.sid, msg.sdp);
        } catch (err) {
          throw coded('SB_ERR_INVALID_MESSAGE', `answer: ${(err as Error).message}`);
        }
        break;
      case 'candidate':
        // The server is ICE-lite: it answers the client's checks and needs no remote candidates.
        break;
      case 'subscription':
        if (!p.canSubscribe) throw coded('SB_ERR_PERMISSION_DENIED', 'the token does not grant subscribe');
        this.sfu.setSubscribed(p.sid, msg.trackSids, msg.subscribe);
        break;
      case 'trackSettings':
        this.sfu.trackSettings(p.sid, msg.trackSids, { disabled: msg.disabled, width: msg.width, height: msg.height, quality: msg.quality });
        break;
      case 'data':
        throw coded('SB_ERR_INVALID_MESSAGE', 'data over signaling is not relayed; use a data channel');
    }
  }

  roomClosed(room: Room): void {
    this.sfu.closeRoom(room.sid);
    this.roomNames.delete(room.sid);
  }

  close(): void {
    this.sfu.close();
  }
}

function coded(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}
