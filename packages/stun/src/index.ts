// @switchboard/stun: the STUN/TURN wire codec. Bytes in, values out; no sockets, no state.
export {
  MAGIC_COOKIE,
  HEADER_LENGTH,
  TRANSACTION_ID_LENGTH,
  FINGERPRINT_XOR,
  StunClass,
  Method,
  Attr,
  PasswordAlgorithm,
  isComprehensionRequired,
  messageType,
  methodOf,
  classOf,
} from './constants.js';
export { StunError, isStunError } from './errors.js';
export type { StunErrorCode } from './errors.js';
export {
  decodeAddress,
  decodeXorAddress,
  parseIPv4,
  parseIPv6,
  parseIPv4Into,
  parseIPv6Into,
  formatIPv4,
  formatIPv6,
} from './address.js';
export type { TransportAddress } from './address.js';
export {
  isStunMessage,
  stunMessageLength,
  decodeStun,
  tryDecodeStun,
  getAttribute,
  findAttribute,
  unknownComprehensionRequired,
  decodeErrorCode,
  decodeUnknownAttributes,
  decodeString,
  decodeU32,
  decodeU64,
  decodeChannelNumber,
  decodeRequestedTransport,
  decodeRequestedAddressFamily,
  decodeEvenPort,
  decodePasswordAlgorithms,
  decodePasswordAlgorithm,
} from './decode.js';
export type { StunAttribute, StunMessage } from './decode.js';
export {
  longTermKey,
  longTermKeySha256,
  shortTermKey,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
  verifyFingerprint,
} from './integrity.js';
export { crc32 } from './crc32.js';
export { StunWriter, randomTransactionId } from './writer.js';
export {
  MIN_CHANNEL,
  MAX_CHANNEL,
  CHANNEL_DATA_HEADER_LENGTH,
  isChannelData,
  channelDataLength,
  writeChannelDataHeader,
  channelDataChannel,
  decodeChannelData,
} from './channel-data.js';
