// @switchboard/sdp: SDP text in, values out (RFC 8866), plus the WebRTC readers an SFU needs.
export { SdpError, isSdpError } from './errors.js';
export type { SdpErrorCode } from './errors.js';
export type { MediaDescription, SdpAttribute, SdpBandwidth, SdpOrigin, SessionDescription } from './types.js';
export { MAX_MEDIA_SECTIONS, MAX_SDP_BYTES, MAX_SDP_LINES } from './limits.js';
export { parseSdp } from './parse.js';
export { writeSdp } from './write.js';
export { getAttribute, getAttributes, hasAttribute } from './attributes.js';
export { getDirection, getExtMaps, getMid, getMsid, getSsrcGroups, getSsrcs, isDirection } from './media.js';
export type { Direction, ExtMap, SsrcAttribute, SsrcGroup } from './media.js';
export { getCodecs, parseFmtp } from './codecs.js';
export type { RtpCodec } from './codecs.js';
export { getRids, getSimulcast, isRidId, writeSimulcast } from './simulcast.js';
export type { Rid, Simulcast, SimulcastStream } from './simulcast.js';
export {
  getBundleGroups,
  getFingerprint,
  getIceParameters,
  getMaxMessageSize,
  getSctpPort,
  getSetup,
} from './transport.js';
export type { Fingerprint, IceParameters, Setup } from './transport.js';
export { getCandidates, parseCandidate, writeCandidate } from './candidate.js';
export type { Candidate, CandidateType, TcpType } from './candidate.js';
