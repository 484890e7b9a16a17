export { CloseCode, Connection, DEFAULT_LIMITS, type ConnectionLimits } from './connection.js';
export { SignalingServer, type SignalingLogger, type SignalingOptions } from './server.js';
export { mediaError, type MediaBackend, type MediaMessage, type MediaSignals } from './media-backend.js';
export { MeshBackend, peerOf, politeOf, shouldOffer } from './mesh-backend.js';
