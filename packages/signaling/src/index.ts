export { CloseCode, Connection, DEFAULT_LIMITS, type ConnectionLimits } from './connection.js';
export { SignalingServer, type SignalingLogger, type SignalingOptions } from './server.js';
export type { MediaBackend, MediaSignals } from './media-backend.js';
