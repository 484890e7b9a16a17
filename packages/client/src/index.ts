/**
 * Switchboard browser SDK: `Room.connect(url, token)`, publish tracks, typed events. The same
 * calls work for mesh, SFU and MCU rooms; topology-specific media handling lives behind the
 * internal MediaEngine interface (mesh.ts: MeshEngine; sfu.ts: SfuEngine, also for MCU rooms).
 *
 * room.ts: the Room; signal-client.ts: the signaling socket; participants.ts: local and remote
 * participants; types.ts: options, events, errors.
 */
export { TypedEmitter } from './emitter.js';
export type { MediaEngine } from './engine.js';
export { Room } from './room.js';
export { LocalParticipant, MIX_PARTICIPANT_SID, RemoteParticipant } from './participants.js';
export { SDK_VERSION, SwitchboardError, type ConnectOptions, type PublishOptions, type RoomEvents, type Topology, type TrackPublication, type TrackSource } from './types.js';
