// MCU rooms for signaling: SfuBackend over a mixing room of the shared Sfu, plus what only MCU
// rooms have: a media process per room (@switchboard/mcu's MixerProcess, made by the factory
// given to the Sfu), recording, and each participant's gain and mute in the others' mixes.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Room } from '@switchboard/rooms';
import { mediaError } from '@switchboard/signaling';
import { MIX_AUDIO_PT, MIX_VIDEO_PT } from '@switchboard/sfu';
import type { MixerFactory } from '@switchboard/sfu';
import { MixerProcess } from '@switchboard/mcu';
import type { EngineOptions, EngineStats } from '@switchboard/mcu';
import type { Logger } from './logger.js';
import { SfuBackend } from './sfu-backend.js';
import type { SfuMedia } from './sfu-media.js';

/** MCU rooms: the media engine's settings and where recordings go. */
export interface McuSettings {
  engine: Omit<EngineOptions, 'audioPayloadType' | 'videoPayloadType'>;
  recordingsDir: string;
}

/** The media processes of MCU rooms, by room sid (the Sfu's room owns and closes each). */
export class McuMixers {
  private readonly byRoom = new Map<string, MixerProcess>();

  constructor(
    private readonly settings: McuSettings,
    private readonly logger: Logger,
    /** room sid -> name, for logs */
    private readonly roomName: (roomSid: string) => string | undefined,
  ) {}

  /** What the Sfu calls to make a mixing room's engine. */
  readonly factory: MixerFactory = (roomSid, out) => {
    const engine: EngineOptions = { ...this.settings.engine, audioPayloadType: MIX_AUDIO_PT, videoPayloadType: MIX_VIDEO_PT };
    const mp = new MixerProcess(engine, {
      audio: out.audio,
      video: out.video,
      requestKeyframe: out.requestKeyframe,
      log: (level, obj, msg) => this.logger[level]({ room: this.roomName(roomSid), ...obj }, msg),
    });
    this.byRoom.set(roomSid, mp);
    const close = mp.close.bind(mp);
    mp.close = () => {
      this.byRoom.delete(roomSid);
      close();
    };
    return mp;
  };

  get recordingsDir(): string {
    return this.settings.recordingsDir;
  }

  of(roomSid: string): MixerProcess | undefined {
    return this.byRoom.get(roomSid);
  }
}

export class McuBackend extends SfuBackend {
  constructor(
    media: SfuMedia,
    logger: Logger,
    private readonly mixers: McuMixers,
  ) {
    super(media, logger, 'mcu', 'mixing');
  }

  /** Starts recording an MCU room's composed audio and video to a WebM file. */
  async startRecording(room: Room): Promise<{ path: string }> {
    const mp = this.mixerOf(room);
    const dir = this.mixers.recordingsDir;
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
    const mp = this.mixers.of(room.sid);
    if (mp === undefined) return undefined;
    const s = await mp.stats().catch(() => null);
    return s === null ? undefined : { ...s, restarts: mp.restarts, dropped: mp.dropped, failed: mp.failed };
  }

  private mixerOf(room: Room): MixerProcess {
    if (room.topology !== 'mcu') throw mediaError('SB_ERR_WRONG_TOPOLOGY', `room ${room.name} is ${room.topology}; only mcu rooms are recorded`);
    const mp = this.mixers.of(room.sid);
    if (mp === undefined) throw mediaError('SB_ERR_MCU_NO_MEDIA', `room ${room.name} has no media yet (nobody joined)`);
    return mp;
  }
}
