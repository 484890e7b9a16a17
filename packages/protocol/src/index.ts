/**
 * @switchboard/protocol — the Switchboard signaling protocol (JSON over WebSocket
 * at `/rtc`, version 1). Browser-safe: no Node APIs. See PROTOCOL.md.
 */
export * from './limits.js';
export * from './errors.js';
export * from './schemas.js';
export * from './codec.js';
export * from './data-frame.js';
export * from './mcu.js';
