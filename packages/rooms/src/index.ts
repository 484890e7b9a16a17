export { RoomError, type RoomErrorCode } from './errors.js';
export { Participant, Room } from './model.js';
export { RoomManager, LIMITS, DEFAULTS } from './manager.js';
export type {
  Topology, RoomOptions, TrackKind, TrackSource, TrackInfo, ParticipantState, ParticipantInfo, RoomInfo,
  Grants, LeaveReason, RoomListener, PublishTrackRequest, JoinOptions, JoinResult, RoomManagerOptions,
} from './types.js';
