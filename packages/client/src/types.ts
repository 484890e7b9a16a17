/** The SDK's public types: options, events, publications, errors. */
import type { Topology } from '@switchboard/protocol';
import type { LocalParticipant, RemoteParticipant } from './participants.js';

export type { Topology };
export const SDK_VERSION = '0.1.0';

export type TrackSource = 'camera' | 'microphone' | 'screen' | 'screen_audio' | 'unknown';

export interface TrackPublication {
  sid: string;
  cid: string;
  kind: 'audio' | 'video' | 'data';
  source: string;
  muted: boolean;
  track?: MediaStreamTrack;
}

export interface ConnectOptions {
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** SFU rooms: publish camera video as 3 simulcast layers (default true). */
  simulcast?: boolean;
  /** SFU rooms: the video codec to publish with when the browser has it (default: the browser's first, VP8 in Chromium). */
  videoCodec?: 'vp8' | 'vp9' | 'h264' | 'av1';
  /** How long to keep trying to reconnect after the signaling socket drops (default 15 s). */
  reconnectTimeoutMs?: number;
}

export interface PublishOptions {
  source?: 'camera' | 'microphone' | 'screen' | 'screen_audio';
}

export type RoomEvents = {
  participantConnected: (p: RemoteParticipant) => void;
  participantDisconnected: (p: RemoteParticipant) => void;
  trackSubscribed: (track: MediaStreamTrack, pub: TrackPublication, p: RemoteParticipant) => void;
  trackUnsubscribed: (track: MediaStreamTrack, pub: TrackPublication, p: RemoteParticipant) => void;
  trackMuted: (pub: TrackPublication, p: RemoteParticipant) => void;
  trackUnmuted: (pub: TrackPublication, p: RemoteParticipant) => void;
  participantUpdated: (p: RemoteParticipant) => void;
  disconnected: (reason: string) => void;
  reconnecting: () => void;
  reconnected: () => void;
  /** A data message from another participant (publishData). */
  dataReceived: (payload: Uint8Array, participant: RemoteParticipant | undefined, topic: string | undefined) => void;
  /** Loudest first; empty when nobody speaks (SFU rooms). */
  activeSpeakersChanged: (speakers: (LocalParticipant | RemoteParticipant)[]) => void;
};

export class SwitchboardError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'SwitchboardError';
  }
}

