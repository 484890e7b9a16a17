// @switchboard/rtp: RTP/RTCP codec for the SFU packet path. Bytes in, values out; no I/O, no
// dependencies, browser-safe. Per-packet readers/writers never allocate.
export { RtpError, isRtpError } from './errors.js';
export type { RtpErrorCode } from './errors.js';
export { isRtpOrRtcp, isRtcp } from './classify.js';
export {
  rtpMarker,
  rtpPayloadType,
  rtpSeq,
  rtpTimestamp,
  rtpSsrc,
  setRtpMarker,
  setRtpPayloadType,
  setRtpSeq,
  setRtpTimestamp,
  setRtpSsrc,
  rtpHeaderLength,
  rtpPaddingLength,
  rtpPayloadLength,
} from './header.js';
export {
  findHeaderExtension,
  readAudioLevel,
  readTransportSeq,
  writeTransportSeq,
  readAbsSendTime,
  writeAbsSendTime,
  readStringExtension,
  setHeaderExtensionId,
  remapHeaderExtensionIds,
} from './extensions.js';
export { writeRtx, readRtx } from './rtx.js';
export { vp8IsKeyframe, readVp8Descriptor, writeVp8PictureId, writeVp8Tl0PicIdx, newVp8Descriptor } from './vp8.js';
export type { Vp8Descriptor } from './vp8.js';
export { vp9IsKeyframe, h264IsKeyframe, av1IsKeyframe } from './keyframes.js';
export { RtcpType } from './rtcp-types.js';
export type { ReportBlock, RtcpPacket, TwccPacketStatus } from './rtcp-types.js';
export { parseRtcp } from './rtcp-parse.js';
export {
  writeSenderReport,
  writeReceiverReport,
  writeSdes,
  writeNack,
  writePli,
  writeFir,
  writeRemb,
} from './rtcp-write.js';
export type { SenderReportInit } from './rtcp-write.js';
export { writeTransportCc } from './twcc.js';
export { seqNewer, seqDiff, tsNewer, SeqUnwrapper } from './seq.js';
export { ntpNow, ntpMiddle, NTP_UNIX_OFFSET } from './ntp.js';
