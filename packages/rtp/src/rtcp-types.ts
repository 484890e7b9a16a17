// RTCP packet shapes returned by parseRtcp (RFC 3550, RFC 4585, RFC 5104, REMB draft, transport-cc).

/** RTCP packet types (RFC 3550 §12.1, RFC 4585 §6.1). */
export const RtcpType = {
  SR: 200,
  RR: 201,
  SDES: 202,
  BYE: 203,
  APP: 204,
  RTPFB: 205,
  PSFB: 206,
} as const;

/** A reception report block (RFC 3550 §6.4.1). cumulativeLost is the signed 24-bit value. */
export interface ReportBlock {
  ssrc: number;
  fractionLost: number;
  cumulativeLost: number;
  highestSeq: number;
  jitter: number;
  lsr: number;
  dlsr: number;
}

export interface TwccPacketStatus {
  seq: number;
  received: boolean;
  /** Receive delta in µs (250 µs resolution) from the previous received packet (the first from referenceTime); 0 if not received. */
  deltaUs: number;
}

export type RtcpPacket =
  | { type: 'sr'; ssrc: number; ntpSec: number; ntpFrac: number; rtpTimestamp: number; packetCount: number; octetCount: number; reports: ReportBlock[] }
  | { type: 'rr'; ssrc: number; reports: ReportBlock[] }
  | { type: 'sdes'; chunks: { ssrc: number; cname?: string }[] }
  | { type: 'bye'; ssrcs: number[] }
  | { type: 'nack'; senderSsrc: number; mediaSsrc: number; seqs: number[] }
  | { type: 'pli'; senderSsrc: number; mediaSsrc: number }
  | { type: 'fir'; senderSsrc: number; entries: { ssrc: number; seq: number }[] }
  | { type: 'remb'; senderSsrc: number; bitrate: number; ssrcs: number[] }
  | {
      type: 'twcc';
      senderSsrc: number;
      mediaSsrc: number;
      baseSeq: number;
      /** Signed 24-bit reference time in 64 ms units. */
      referenceTime: number;
      fbCount: number;
      packets: TwccPacketStatus[];
    }
  | { type: 'unknown'; packetType: number; fmt: number };
