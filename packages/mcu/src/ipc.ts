// The messages between the server and a room's media process (room-process.ts). Node's IPC
// channel with 'advanced' serialization carries them (Uint8Arrays stay binary). Packets are
// batched: one message per event-loop turn in each direction, not one per packet.

export interface EngineOptions {
  /** Composed picture size and rate. */
  width: number;
  height: number;
  fps: number;
  /** Starting (and highest) bitrate of the composed video, bps. */
  videoBitrate: number;
  /** Bitrate of each participant's Opus mix, bps. */
  audioBitrate: number;
  /** Payload types to write (the SFU's subscriber payload types for Opus and VP8). */
  audioPayloadType: number;
  videoPayloadType: number;
}

export type ToEngine =
  | { t: 'init'; opts: EngineOptions }
  | { t: 'join'; sid: string; name: string }
  | { t: 'leave'; sid: string }
  /** kinds[i]: 0 audio, 1 video; packets[i] from sids[i] */
  | { t: 'media'; sids: string[]; kinds: number[]; packets: Uint8Array[] }
  | { t: 'videoEnded'; sid: string }
  | { t: 'keyframe' }
  | { t: 'bitrate'; bps: number }
  | { t: 'speakers'; sids: string[] }
  | { t: 'gain'; sid: string; gain: number }
  | { t: 'mute'; sid: string; muted: boolean }
  | { t: 'record'; id: number; path: string }
  | { t: 'stopRecord'; id: number }
  | { t: 'stats'; id: number };

export interface EngineStats {
  participants: number;
  audio: { framesDecoded: number; framesConcealed: number; framesSilent: number; decodeErrors: number; lateDropped: number; tickUs: { p50: number; p99: number } };
  /** Audio ticks that ran more than 10 ms late (the mix is real time while this stays 0). */
  audioTicksLate: number;
  /** Ticks not run at all after a stall longer than the catch-up (frames lost to every receiver). */
  audioTicksSkipped: number;
  audioTicks: number;
  video: { framesComposed: number; framesEncoded: number; keyframes: number; framesDropped: number; decodedFrames: number; composeUs: { p50: number; p99: number }; bitrate: number; decoderRestarts: number; encoderRestarts: number };
  recording: boolean;
  /** CPU of the media process (user + system), µs, since it started. */
  cpuUs: number;
}

export type FromEngine =
  /** audio[i] is an RTP packet for audioSids[i]; video packets go to everyone. */
  | { t: 'out'; audioSids: string[]; audio: Uint8Array[]; video: Uint8Array[] }
  | { t: 'pli'; sid: string }
  | { t: 'log'; level: 'info' | 'warn'; msg: string; obj: Record<string, unknown> }
  | { t: 'reply'; id: number; ok: true; value: unknown }
  | { t: 'reply'; id: number; ok: false; code: string; message: string };
