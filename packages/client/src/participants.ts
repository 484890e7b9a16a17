/** The local participant (publishes tracks and data) and the remote ones (what they publish, and the tracks we got). */
import { MCU_PARTICIPANT, MCU_VIDEO_TRACK_SID, mcuAudioTrackSid, type ParticipantInfo } from '@switchboard/protocol';
import { toBase64 } from './base64.js';
import type { LocalTrackEntry } from './engine.js';
import type { Room } from './room.js';
import { SwitchboardError, type PublishOptions, type TrackPublication } from './types.js';

/** MCU rooms: the remote participant whose tracks are the room's mix (its identity is 'mcu'). */
export const MIX_PARTICIPANT_SID = MCU_PARTICIPANT;

export function mixParticipantInfo(localSid: string): ParticipantInfo {
  return {
    sid: MIX_PARTICIPANT_SID,
    identity: MCU_PARTICIPANT,
    name: 'Room',
    metadata: '',
    joinedAt: Date.now(),
    state: 'joined',
    tracks: [
      // the server's track ids: the composed video, and this participant's own N-1 audio mix
      { sid: MCU_VIDEO_TRACK_SID, cid: MCU_PARTICIPANT, kind: 'video', source: 'camera', muted: false },
      { sid: mcuAudioTrackSid(localSid), cid: MCU_PARTICIPANT, kind: 'audio', source: 'microphone', muted: false },
    ],
  };
}

export class RemoteParticipant {
  sid: string;
  identity: string;
  name: string;
  metadata: string;
  state: ParticipantInfo['state'];
  readonly tracks = new Map<string, TrackPublication>();
  /** Remote tracks that arrived before their TrackInfo, by stream id (cid). */
  /** @internal */ pendingTracks = new Map<string, MediaStreamTrack[]>();

  constructor(info: ParticipantInfo) {
    this.sid = info.sid;
    this.identity = info.identity;
    this.name = info.name;
    this.metadata = info.metadata;
    this.state = info.state;
  }
}

export class LocalParticipant {
  sid: string;
  identity: string;
  name: string;
  metadata: string;
  readonly tracks = new Map<string, TrackPublication>();
  /** @internal */ entries = new Map<MediaStreamTrack, { entry: LocalTrackEntry; pub: TrackPublication }>();

  constructor(
    info: ParticipantInfo,
    private readonly room: Room,
  ) {
    this.sid = info.sid;
    this.identity = info.identity;
    this.name = info.name;
    this.metadata = info.metadata;
  }

  async publishTrack(track: MediaStreamTrack, opts: PublishOptions = {}): Promise<TrackPublication> {
    const existing = this.entries.get(track);
    if (existing) return existing.pub;
    const stream = new MediaStream([track]);
    const kind = track.kind === 'audio' ? 'audio' : 'video';
    const source = opts.source ?? (kind === 'audio' ? 'microphone' : 'camera');
    const settings = kind === 'video' ? track.getSettings() : {};
    const reply = await this.room._request<'trackPublished'>(
      {
        type: 'publishTrack',
        track: {
          cid: stream.id,
          kind,
          source,
          muted: !track.enabled,
          ...(settings.width ? { width: Math.round(settings.width) } : {}),
          ...(settings.height ? { height: Math.round(settings.height) } : {}),
        },
      },
      (m) => m.type === 'trackPublished' && m.cid === stream.id,
    );
    const info = reply.track;
    const pub: TrackPublication = { sid: info.sid, cid: stream.id, kind: info.kind, source: info.source, muted: info.muted, track };
    const entry: LocalTrackEntry = { track, stream, sid: info.sid };
    this.entries.set(track, { entry, pub });
    this.tracks.set(pub.sid, pub);
    this.room._engine?.addLocalTrack(entry);
    return pub;
  }

  async unpublishTrack(track: MediaStreamTrack): Promise<void> {
    const e = this.entries.get(track);
    if (!e) return;
    this.entries.delete(track);
    this.tracks.delete(e.pub.sid);
    this.room._engine?.removeLocalTrack(e.entry);
    this.room._send({ type: 'unpublishTrack', sid: e.pub.sid });
  }

  /**
   * Sends data to everyone else in the room (or to `destinationSids`). SFU rooms use data
   * channels through the server (`reliable: false` = unordered, no retransmissions); otherwise
   * it goes over signaling (at most 12 KiB per message).
   */
  publishData(data: Uint8Array | string, opts: { reliable?: boolean; topic?: string; destinationSids?: string[] } = {}): void {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    if (this.room._engine?.publishData?.(bytes, opts)) return;
    if (bytes.length > 12 * 1024) throw new SwitchboardError('SB_ERR_TOO_LARGE', `data of ${bytes.length} bytes is over 12 KiB for signaling`);
    this.room._send({ type: 'data', payload: toBase64(bytes), ...(opts.topic !== undefined ? { topic: opts.topic } : {}), ...(opts.destinationSids ? { destinationSids: opts.destinationSids } : {}), reliable: opts.reliable !== false });
  }

  setTrackMuted(track: MediaStreamTrack, muted: boolean): void {
    track.enabled = !muted;
    const e = this.entries.get(track);
    if (!e) return;
    e.pub.muted = muted;
    this.room._send({ type: 'muteTrack', sid: e.pub.sid, muted });
  }
}
