import { z } from 'zod';
import { ERROR_CODE_LIST } from './errors.js';
import {
  MAX_CANDIDATE_LENGTH,
  MAX_DATA_PAYLOAD_BYTES,
  MAX_ICE_SERVERS,
  MAX_IDENTITY_LENGTH,
  MAX_METADATA_BYTES,
  MAX_NAME_LENGTH,
  MAX_REASON_LENGTH,
  MAX_ROOM_NAME_LENGTH,
  MAX_SDP_BYTES,
  MAX_SID_LENGTH,
  MAX_SIDS_PER_MESSAGE,
  MAX_TOKEN_LENGTH,
  MAX_TOPIC_LENGTH,
  MAX_TRACKS_PER_PARTICIPANT,
  MAX_VIDEO_DIMENSION,
  PROTOCOL_VERSION,
  utf8ByteLength,
} from './limits.js';

// Objects are NOT strict: unknown keys are stripped (forward compatibility —
// a newer peer may send fields an older one does not know). See PROTOCOL.md.

const maxBytes = (max: number, base: z.ZodString = z.string()) =>
  base.refine((s) => utf8ByteLength(s) <= max, { message: `must be at most ${max} UTF-8 bytes` });

const Sid = z.string().min(1).max(MAX_SID_LENGTH);
const SidList = z.array(Sid).max(MAX_SIDS_PER_MESSAGE);
const Sdp = maxBytes(MAX_SDP_BYTES, z.string().min(1));
const Metadata = maxBytes(MAX_METADATA_BYTES);
const Name = z.string().max(MAX_NAME_LENGTH);
const Reason = z.string().max(MAX_REASON_LENGTH);
const Dimension = z.int().min(0).max(MAX_VIDEO_DIMENSION);
const Timestamp = z.number().min(0);

// ---------------------------------------------------------------- shared types

export const TrackKindSchema = z.enum(['audio', 'video', 'data']);
export type TrackKind = z.infer<typeof TrackKindSchema>;

/** Media kinds of new tracks that need m-sections (requestOffer): at most one per track a participant may publish. */
const MediaKindList = z.array(z.enum(['audio', 'video'])).max(MAX_TRACKS_PER_PARTICIPANT);

export const TrackSourceSchema = z.enum(['camera', 'microphone', 'screen', 'screen_audio', 'unknown']);
export type TrackSource = z.infer<typeof TrackSourceSchema>;

export const TrackInfoSchema = z.object({
  sid: Sid,
  /** The publisher's id for the track (publishTrack.cid); in mesh rooms the MediaStream id it is sent in. */
  cid: z.string().min(1).max(128),
  kind: TrackKindSchema,
  source: TrackSourceSchema,
  muted: z.boolean(),
  name: Name.optional(),
  width: Dimension.optional(),
  height: Dimension.optional(),
  simulcast: z.boolean().optional(),
  mid: z.string().max(MAX_SID_LENGTH).optional(),
});
export type TrackInfo = z.infer<typeof TrackInfoSchema>;

export const ParticipantStateSchema = z.enum(['joining', 'joined', 'reconnecting', 'disconnected']);
export type ParticipantState = z.infer<typeof ParticipantStateSchema>;

export const ParticipantInfoSchema = z.object({
  sid: Sid,
  identity: z.string().min(1).max(MAX_IDENTITY_LENGTH),
  name: Name,
  metadata: Metadata,
  tracks: z.array(TrackInfoSchema).max(MAX_TRACKS_PER_PARTICIPANT),
  joinedAt: Timestamp,
  state: ParticipantStateSchema,
});
export type ParticipantInfo = z.infer<typeof ParticipantInfoSchema>;

export const TopologySchema = z.enum(['mesh', 'sfu', 'mcu']);
export type Topology = z.infer<typeof TopologySchema>;

export const RoomInfoSchema = z.object({
  sid: Sid,
  name: z.string().min(1).max(MAX_ROOM_NAME_LENGTH),
  topology: TopologySchema,
  /** 0 = unlimited. */
  maxParticipants: z.int().min(0),
  metadata: Metadata,
  createdAt: Timestamp,
  numParticipants: z.int().min(0),
});
export type RoomInfo = z.infer<typeof RoomInfoSchema>;

export const IceServerSchema = z.object({
  urls: z.array(z.string().min(1).max(MAX_CANDIDATE_LENGTH)).min(1).max(MAX_ICE_SERVERS),
  username: z.string().max(MAX_CANDIDATE_LENGTH).optional(),
  credential: z.string().max(MAX_CANDIDATE_LENGTH).optional(),
});
export type IceServer = z.infer<typeof IceServerSchema>;

export const GrantsSchema = z.object({
  join: z.boolean(),
  publish: z.boolean(),
  subscribe: z.boolean(),
  publishData: z.boolean(),
  roomAdmin: z.boolean(),
});
export type Grants = z.infer<typeof GrantsSchema>;

/** RTCIceCandidateInit, or null for end-of-candidates. */
export const IceCandidateSchema = z
  .object({
    candidate: z.string().max(MAX_CANDIDATE_LENGTH),
    sdpMid: z.string().max(MAX_SID_LENGTH).nullable().optional(),
    sdpMLineIndex: z.int().min(0).max(65535).nullable().optional(),
    usernameFragment: z.string().max(MAX_SID_LENGTH * 4).nullable().optional(),
  })
  .nullable();
export type IceCandidate = z.infer<typeof IceCandidateSchema>;

/**
 * SFU and MCU rooms: which of the participant's two connections with the server a message is
 * about. 'publisher': the client offers, the server answers. 'subscriber': the server offers,
 * the client answers. Absent in mesh rooms.
 */
export const SignalTargetSchema = z.enum(['publisher', 'subscriber']);
export type SignalTarget = z.infer<typeof SignalTargetSchema>;

export const VideoQualitySchema = z.enum(['low', 'medium', 'high']);
export type VideoQuality = z.infer<typeof VideoQualitySchema>;

export const ParticipantLeftReasonSchema = z.enum(['left', 'removed', 'timeout', 'room_closed', 'duplicate_identity']);
export type ParticipantLeftReason = z.infer<typeof ParticipantLeftReasonSchema>;

export const ErrorCodeSchema = z.enum(ERROR_CODE_LIST);

// ------------------------------------------------------------------- envelope

const envelope = {
  v: z.literal(PROTOCOL_VERSION),
  /** Client request id; the server echoes it (as `id`, or `replyTo` on errors) in the reply. */
  id: z.int().min(0).optional(),
};

const msg = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ ...envelope, type: z.literal(type), ...shape });

// ------------------------------------------------------------ client → server

export const ClientMessageSchemas = {
  join: msg('join', {
    token: z.string().min(1).max(MAX_TOKEN_LENGTH),
    reconnect: z
      .object({ participantSid: Sid, sessionToken: z.string().min(1).max(MAX_TOKEN_LENGTH) })
      .optional(),
    sdkVersion: z.string().max(MAX_NAME_LENGTH).optional(),
    /** The room the client means to join; refused (SB_ERR_WRONG_ROOM) if the token is for another. */
    room: z.string().min(1).max(MAX_NAME_LENGTH).optional(),
  }),
  offer: msg('offer', { to: Sid.optional(), sdp: Sdp, restart: z.boolean().optional(), target: SignalTargetSchema.optional() }),
  answer: msg('answer', { to: Sid.optional(), sdp: Sdp, target: SignalTargetSchema.optional() }),
  candidate: msg('candidate', { to: Sid.optional(), candidate: IceCandidateSchema, target: SignalTargetSchema.optional() }),
  /**
   * Mesh: ask the pair's offerer (the newer participant) for an offer, so that only one side of a
   * pair ever offers (§7). `kinds`: one entry per new local track that needs an m-section;
   * `restart`: the offer should restart ICE.
   */
  requestOffer: msg('requestOffer', { to: Sid, kinds: MediaKindList.optional(), restart: z.boolean().optional() }),
  publishTrack: msg('publishTrack', {
    track: z.object({
      cid: Sid,
      kind: TrackKindSchema,
      source: TrackSourceSchema,
      name: Name.optional(),
      width: Dimension.optional(),
      height: Dimension.optional(),
      simulcast: z.boolean().optional(),
      muted: z.boolean().optional(),
    }),
  }),
  unpublishTrack: msg('unpublishTrack', { sid: Sid }),
  muteTrack: msg('muteTrack', { sid: Sid, muted: z.boolean() }),
  updateMetadata: msg('updateMetadata', { metadata: Metadata.optional(), name: Name.optional() }),
  subscription: msg('subscription', { trackSids: SidList, subscribe: z.boolean() }),
  trackSettings: msg('trackSettings', {
    trackSids: SidList,
    disabled: z.boolean().optional(),
    width: Dimension.optional(),
    height: Dimension.optional(),
    quality: VideoQualitySchema.optional(),
  }),
  data: msg('data', {
    payload: maxBytes(MAX_DATA_PAYLOAD_BYTES),
    topic: z.string().max(MAX_TOPIC_LENGTH).optional(),
    destinationSids: SidList.optional(),
    reliable: z.boolean().optional(),
  }),
  ping: msg('ping', { t: z.number() }),
  leave: msg('leave', {}),
} as const;

export const ClientMessageSchema = z.discriminatedUnion('type', [
  ClientMessageSchemas.join,
  ClientMessageSchemas.offer,
  ClientMessageSchemas.answer,
  ClientMessageSchemas.candidate,
  ClientMessageSchemas.requestOffer,
  ClientMessageSchemas.publishTrack,
  ClientMessageSchemas.unpublishTrack,
  ClientMessageSchemas.muteTrack,
  ClientMessageSchemas.updateMetadata,
  ClientMessageSchemas.subscription,
  ClientMessageSchemas.trackSettings,
  ClientMessageSchemas.data,
  ClientMessageSchemas.ping,
  ClientMessageSchemas.leave,
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;
export type ClientMessageType = ClientMessage['type'];
export type ClientMessageOf<T extends ClientMessageType> = Extract<ClientMessage, { type: T }>;
export const CLIENT_MESSAGE_TYPES = Object.keys(ClientMessageSchemas) as ClientMessageType[];

export type JoinMessage = ClientMessageOf<'join'>;
export type PublishTrackMessage = ClientMessageOf<'publishTrack'>;

// ------------------------------------------------------------ server → client

export const ServerMessageSchemas = {
  joined: msg('joined', {
    room: RoomInfoSchema,
    participant: ParticipantInfoSchema,
    others: z.array(ParticipantInfoSchema),
    iceServers: z.array(IceServerSchema).max(MAX_ICE_SERVERS),
    sessionToken: z.string().min(1).max(MAX_TOKEN_LENGTH),
    reconnected: z.boolean().optional(),
    pingIntervalMs: z.int().positive(),
    pingTimeoutMs: z.int().positive(),
  }),
  participantJoined: msg('participantJoined', { participant: ParticipantInfoSchema }),
  participantUpdated: msg('participantUpdated', { participant: ParticipantInfoSchema }),
  participantLeft: msg('participantLeft', { sid: Sid, reason: ParticipantLeftReasonSchema }),
  trackPublished: msg('trackPublished', { cid: Sid, track: TrackInfoSchema }),
  trackUnpublished: msg('trackUnpublished', { sid: Sid }),
  offer: msg('offer', { from: Sid.optional(), sdp: Sdp, restart: z.boolean().optional(), target: SignalTargetSchema.optional() }),
  answer: msg('answer', { from: Sid.optional(), sdp: Sdp, target: SignalTargetSchema.optional() }),
  candidate: msg('candidate', { from: Sid.optional(), candidate: IceCandidateSchema, target: SignalTargetSchema.optional() }),
  requestOffer: msg('requestOffer', { from: Sid, kinds: MediaKindList.optional(), restart: z.boolean().optional() }),
  /** SFU: the server asks the publisher to send (active) or pause simulcast layers of a track. */
  trackLayers: msg('trackLayers', {
    trackSid: Sid,
    layers: z.array(z.object({ rid: z.string().min(1).max(16), active: z.boolean() })).max(4),
  }),
  activeSpeakers: msg('activeSpeakers', {
    speakers: z.array(z.object({ sid: Sid, level: z.number().min(0).max(1) })),
  }),
  data: msg('data', {
    from: Sid.optional(),
    payload: maxBytes(MAX_DATA_PAYLOAD_BYTES),
    topic: z.string().max(MAX_TOPIC_LENGTH).optional(),
  }),
  pong: msg('pong', { t: z.number(), serverTime: z.number() }),
  roomClosed: msg('roomClosed', { reason: Reason }),
  leave: msg('leave', { reason: Reason, canReconnect: z.boolean() }),
  error: msg('error', {
    code: ErrorCodeSchema,
    message: Reason,
    replyTo: z.int().min(0).optional(),
    fatal: z.boolean().optional(),
  }),
} as const;

export const ServerMessageSchema = z.discriminatedUnion('type', [
  ServerMessageSchemas.joined,
  ServerMessageSchemas.participantJoined,
  ServerMessageSchemas.participantUpdated,
  ServerMessageSchemas.participantLeft,
  ServerMessageSchemas.trackPublished,
  ServerMessageSchemas.trackUnpublished,
  ServerMessageSchemas.offer,
  ServerMessageSchemas.answer,
  ServerMessageSchemas.candidate,
  ServerMessageSchemas.requestOffer,
  ServerMessageSchemas.trackLayers,
  ServerMessageSchemas.activeSpeakers,
  ServerMessageSchemas.data,
  ServerMessageSchemas.pong,
  ServerMessageSchemas.roomClosed,
  ServerMessageSchemas.leave,
  ServerMessageSchemas.error,
]);
export type ServerMessage = z.infer<typeof ServerMessageSchema>;
export type ServerMessageType = ServerMessage['type'];
export type ServerMessageOf<T extends ServerMessageType> = Extract<ServerMessage, { type: T }>;
export const SERVER_MESSAGE_TYPES = Object.keys(ServerMessageSchemas) as ServerMessageType[];

export type JoinedMessage = ServerMessageOf<'joined'>;
export type ErrorMessage = ServerMessageOf<'error'>;
