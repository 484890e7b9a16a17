// The one Sfu that SFU and MCU rooms share (one UDP port, one set of timers), and what it
// signals (offers, answers, layer requests, active speakers) turned into protocol messages.
// SfuBackend and McuBackend (sfu-backend.ts, mcu-backend.ts) are the signaling side of it.
import type { ServerMessage } from '@switchboard/protocol';
import type { MediaSignals } from '@switchboard/signaling';
import { Sfu } from '@switchboard/sfu';
import type { MixerFactory, SfuOptions } from '@switchboard/sfu';
import type { Logger } from './logger.js';

export class SfuMedia {
  readonly sfu: Sfu;
  private signals: MediaSignals | null = null;
  /** room sid -> room name, for room-wide messages and logs (set by the backends, deleted when the room closes). */
  readonly roomNames = new Map<string, string>();

  /** `mixer`: the media engine of mixing (MCU) rooms; without it only forwarding rooms are served. */
  constructor(opts: Omit<SfuOptions, 'mixer'>, logger: Logger, mixer?: MixerFactory) {
    this.sfu = new Sfu({ ...opts, mixer }, {
      signal: (sid, m) => this.signals?.toParticipant(sid, { v: 1, type: m.type, target: m.target, sdp: m.sdp } as ServerMessage),
      activeSpeakers: (roomSid, speakers) => {
        const name = this.roomNames.get(roomSid);
        if (name !== undefined) this.signals?.toRoom(name, { v: 1, type: 'activeSpeakers', speakers } as ServerMessage);
      },
      layersChanged: (sid, trackSid, layers) => this.signals?.toParticipant(sid, { v: 1, type: 'trackLayers', trackSid, layers } as ServerMessage),
      log: (level, obj, msg) => (level === 'warn' ? logger.warn(obj, msg) : logger.debug(obj, msg)),
    });
  }

  /** Both backends are attached to the same signaling server: the last one wins, and they are the same. */
  attach(signals: MediaSignals): void {
    this.signals = signals;
  }

  listen(): Promise<number> {
    return this.sfu.listen();
  }

  close(): void {
    this.sfu.close();
    this.roomNames.clear();
  }
}
