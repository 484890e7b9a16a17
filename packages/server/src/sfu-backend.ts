// Glue between signaling and the SFU: SFU and MCU rooms' participants, tracks and offers/answers
// go to the Sfu; what the Sfu signals (offers, answers, layer requests, active speakers) goes
// back as protocol messages. MCU rooms are SFU rooms with a media process per room
// (@switchboard/mcu's MixerProcess) as their RoomMixer. No package imports another here; this
// file knows them all.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientMessageOf, ServerMessage, Topology } from '@switchboard/protocol';
import type { Participant, Room, TrackInfo } from '@switchboard/rooms';
import type { MediaBackend, MediaSignals } from '@switchboard/signaling';
import { MIX_AUDIO_PT, MIX_VIDEO_PT, Sfu } from '@switchboard/sfu';
import type { MixerFactory, SfuOptions } from '@switchboard/sfu';
import { MixerProcess } from '@switchboard/mcu';
import type { EngineOptions, EngineStats } from '@switchboard/mcu';
import type { Logger } from './logger.js';

/** MCU rooms: the media engine's settings and where recordings go. */
export interface McuSettings {
  engine: Omit<EngineOptions, 'audioPayloadType' | 'videoPayloadType'>;
  recordingsDir: string;
}

export class SfuBackend implements MediaBackend {
  readonly topologies: readonly Topology[];
  readonly sfu: Sfu;
  private signals: MediaSignals | null = null;
  /** room sid -> room name, for room-wide messages */
  private readonly roomNames = new Map<string, string>();
  /** MCU rooms' media processes, by room sid (the SFU room owns and closes each). */
  private readonly mixers = new Map<string, MixerProcess>();

  constructor(
    opts: SfuOptions,
    private readonly logger: Logger,
    private readonly mcu: McuSettings | null = null,
  ) {
    this.topologies = mcu === null ? ['sfu'] : ['sfu', 'mcu'];
    this.sfu = new Sfu({ ...opts, mixer: mcu === null ? undefined : this.mixerFactory(mcu) }, {
      signal: (sid, m) => this.signals?.toParticipant(sid, { v: 1, type: m.type, target: m.target, sdp: m.sdp } as ServerMessage),
      activeSpeakers: (roomSid, speakers) => {
        const name = this.roomNames.get(roomSid);
        if (name !== undefined) this.signals?.toRoom(name, { v: 1, type: 'activeSpeakers', speakers } as ServerMessage);
      },
      layersChanged: (sid, trackSid, layers) => this.signals?.toParticipant(sid, { v: 1, type: 'trackLayers', trackSid, layers } as ServerMessage),
      log: (level, obj, msg) => (level === 'warn' ? logger.warn(obj, msg) : logger.debug(obj, msg)),
    });
  }

  private mixerFactory(mcu: McuSettings): MixerFactory {
    const engine: EngineOptions = { ...mcu.engine, audioPayloadType: MIX_AUDIO_PT, videoPayloadType: MIX_VIDEO_PT };
    return (roomSid, out) => {
      const mp = new MixerProcess(engine, {
        audio: out.audio,
        video: out.video,
        requestKeyframe: out.requestKeyframe,
        log: (level, obj, msg) => this.logger[level]({ room: this.roomNames.get(roomSid), ...obj }, msg),
      });
      this.mixers.set(roomSid, mp);
      const close = mp.close.bind(mp);
      mp.close = () => {
        this.mixers.delete(roomSid);
        close();
      };
      return mp;
    };
  }

  /** Starts recording an MCU room's composed audio and video to a WebM file. */
  async startRecording(room: Room): Promise<{ path: string }> {
    const mp = this.mixerOf(room);
    const dir = this.mcu!.recordingsDir;
    mkdirSync(dir, { recursive: true });
    const safe = room.name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64);
    const path = join(dir, `${safe}-${new Date().toISOString().replace(/[:.]/g, '-')}.webm`);
    return mp.startRecording(path);
  }

  stopRecording(room: Room): Promise<{ path: string; bytes: number; durationMs: number }> {
    return this.mixerOf(room).stopRecording();
  }

  /** A participant's gain and mute in the others' mixes. */
  setMix(room: Room, participantSid: string, settings: { gain?: number; muted?: boolean }): void {
    const mp = this.mixerOf(room);
    if (settings.gain !== undefined) mp.setGain(participantSid, settings.gain);
    if (settings.muted !== undefined) mp.setMuted(participantSid, settings.muted);
  }

  /** The MCU engine's figures for a room (undefined: not an MCU room with media). */
  async mixerStats(room: Room): Promise<(EngineStats & { restarts: number; dropped: number; failed: boolean }) | undefined> {
    const mp = this.mixers.get(room.sid);
    if (mp === undefined) return undefined;
    const s = await mp.stats().catch(() => null);
    return s === null ? undefined : { ...s, restarts: mp.restarts, dropped: mp.dropped, failed: mp.failed };
  }

  private mixerOf(room: Room): MixerProcess {
    if (room.topology !== 'mcu') throw coded('SB_ERR_WRONG_TOPOLOGY', `room ${room.name} is ${room.topology}; only mcu rooms are recorded`);
    const mp = this.mixers.get(room.sid);
    if (mp === undefined) throw coded('SB_ERR_MCU_NO_MEDIA', `room ${room.name} has no media yet (nobody joined)`);
    return mp;
  }

  listen(): Promise<number> {
    return this.sfu.listen();
  }

  attach(signals: MediaSignals): void {
    this.signals = signals;
  }

  participantJoined(room: Room, p: Participant): void {
    this.roomNames.set(room.sid, room.name);
    this.sfu.join(room.sid, p.sid, { canSubscribe: p.canSubscribe, canPublishData: p.canPublishData, mcu: room.topology === 'mcu', name: p.name || p.identity });
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
