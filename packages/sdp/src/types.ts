/** One `a=` line: `a=name:value`, or `a=name` (a flag: `value` is absent). */
export interface SdpAttribute {
  name: string;
  value?: string;
}

/** One `b=type:value` line (value in kbps for AS/CT, bps for TIAS). */
export interface SdpBandwidth {
  type: string;
  value: number;
}

/** One `m=` section with everything below it up to the next `m=`. */
export interface MediaDescription {
  /** audio | video | application | ... */
  kind: string;
  port: number;
  /** e.g. UDP/TLS/RTP/SAVPF, UDP/DTLS/SCTP */
  protocol: string;
  /** Payload types, or "webrtc-datachannel". */
  formats: string[];
  /** `i=` */
  information?: string;
  /** Raw `c=` value, e.g. "IN IP4 0.0.0.0" (the first one when there are several). */
  connection?: string;
  bandwidths: SdpBandwidth[];
  /** In order. */
  attributes: SdpAttribute[];
}

export interface SdpOrigin {
  username: string;
  sessionId: string;
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

export interface SessionDescription {
  version: number;
  origin: SdpOrigin;
  sessionName: string;
  /** Raw session-level `c=` value. */
  connection?: string;
  bandwidths: SdpBandwidth[];
  /** `t=` lines; "0 0" is written when empty and read when absent. */
  timing: { start: string; stop: string }[];
  attributes: SdpAttribute[];
  media: MediaDescription[];
}
