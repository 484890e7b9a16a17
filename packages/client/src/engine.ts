import type { IceCandidate, SignalTarget } from '@switchboard/protocol';

/** A signaling message for the media engine (offer / answer / candidate), `from` = remote participant sid or undefined (server). */
export type EngineSignal =
  | { type: 'offer'; from?: string; sdp: string; restart?: boolean; target?: SignalTarget }
  | { type: 'answer'; from?: string; sdp: string; target?: SignalTarget }
  | { type: 'candidate'; from?: string; candidate: IceCandidate; target?: SignalTarget }
  | { type: 'requestOffer'; from?: string; kinds?: MediaKind[]; restart?: boolean };

export type MediaKind = 'audio' | 'video';

/** What an engine sends: `to` = remote participant sid (mesh) or undefined (the server). */
export type EngineOutgoing =
  | { type: 'offer'; to?: string; sdp: string; restart?: boolean; target?: SignalTarget }
  | { type: 'answer'; to?: string; sdp: string; target?: SignalTarget }
  | { type: 'candidate'; to?: string; candidate: IceCandidate; target?: SignalTarget }
  | { type: 'requestOffer'; to: string; kinds?: MediaKind[]; restart?: boolean };

export interface LocalTrackEntry {
  track: MediaStreamTrack;
  stream: MediaStream;
  /** The track's sid once published. */
  sid?: string;
  /** SFU: send simulcast layers (video). Default true. */
  simulcast?: boolean;
}

/** Topology-specific media handling behind the Room: MeshEngine (mesh.ts) or SfuEngine (sfu.ts, also used by MCU rooms). */
export interface MediaEngine {
  addLocalTrack(entry: LocalTrackEntry): void;
  removeLocalTrack(entry: LocalTrackEntry): void;
  onSignal(msg: EngineSignal): void;
  /** Mesh: a remote participant appeared (offer if `initiator`). */
  addPeer?(sid: string, initiator: boolean): void;
  /** Mesh: a remote participant left. */
  removePeer?(sid: string): void;
  /** SFU: the server asks to pause or resume simulcast layers of a local track. */
  onTrackLayers?(trackSid: string, layers: { rid: string; active: boolean }[]): void;
  /** Sends data on the engine's own path (SFU data channels); false = not available, use signaling. */
  publishData?(data: Uint8Array, opts: { reliable?: boolean; topic?: string; destinationSids?: string[] }): boolean;
  /** After a signaling reconnect. */
  onReconnected?(): void;
  close(): void;
  getStats(): Promise<Map<string, RTCStatsReport>>;
}

export interface EngineHost {
  send(msg: EngineOutgoing): void;
  /** A remote track arrived in a stream (its id is the publisher's cid); participantSid '' = find it by cid. */
  onRemoteTrack(participantSid: string, track: MediaStreamTrack, streamId: string): void;
  log(...args: unknown[]): void;
  /** Data that arrived on the engine's own path. */
  onData?(payload: Uint8Array, fromSid: string | undefined, topic: string | undefined): void;
}
