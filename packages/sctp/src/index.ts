export { SctpError } from './errors.js';
export type { SctpErrorCode } from './errors.js';
export { SctpAssociation, DataChannel, PPID, MTU } from './association.js';
export type { AssociationOptions, AssociationState, AssociationStats, DataChannelOptions, DataChannelState } from './association.js';
export { crc32c } from './crc32c.js';
export * as wire from './wire.js';
