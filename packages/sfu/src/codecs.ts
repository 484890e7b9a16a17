// What the SFU accepts from publishers and how it offers it to subscribers. Subscribers see
// one fixed payload type per codec and fixed header extension ids across every m-section
// (BUNDLE needs them consistent), whatever each publisher negotiated; consumers rewrite.

export const EXT = {
  audioLevel: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  absSendTime: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  transportCc: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  mid: 'urn:ietf:params:rtp-hdrext:sdes:mid',
  rid: 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  repairedRid: 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
} as const;

/** Extensions accepted from publishers. */
export const PUBLISHER_EXTENSIONS: ReadonlySet<string> = new Set([EXT.audioLevel, EXT.absSendTime, EXT.mid, EXT.rid, EXT.repairedRid]);

/** Extension ids in every subscriber offer. */
export const SUBSCRIBER_EXT_IDS = { audioLevel: 1, absSendTime: 2 } as const;
/** Where a publisher extension that would collide with a subscriber id is moved (not negotiated there, so ignored). */
export const PARKED_EXT_ID = 14;

export interface CodecSpec {
  name: string;
  kind: 'audio' | 'video';
  clockRate: number;
  channels?: number;
  /** Subscriber payload type, and its RTX payload type (-1: none). */
  payloadType: number;
  rtxPayloadType: number;
  fmtp?: string;
}

/** Codecs the SFU forwards, in order of preference when a publisher offers several. */
export const CODECS: readonly CodecSpec[] = [
  { name: 'opus', kind: 'audio', clockRate: 48000, channels: 2, payloadType: 111, rtxPayloadType: -1, fmtp: 'minptime=10;useinbandfec=1' },
  { name: 'vp8', kind: 'video', clockRate: 90000, payloadType: 96, rtxPayloadType: 97 },
  { name: 'vp9', kind: 'video', clockRate: 90000, payloadType: 98, rtxPayloadType: 99, fmtp: 'profile-id=0' },
  { name: 'h264', kind: 'video', clockRate: 90000, payloadType: 102, rtxPayloadType: 103, fmtp: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f' },
  { name: 'av1', kind: 'video', clockRate: 90000, payloadType: 45, rtxPayloadType: 46 },
];

export const RED_PAYLOAD_TYPE = 63;

export function codecSpec(name: string): CodecSpec | undefined {
  const n = name.toLowerCase();
  return CODECS.find((c) => c.name === n);
}

/** RTCP feedback the SFU asks publishers for and offers subscribers, by kind. */
export const VIDEO_RTCP_FB = [
  { type: 'goog-remb' },
  { type: 'ccm', parameter: 'fir' },
  { type: 'nack' },
  { type: 'nack', parameter: 'pli' },
];
