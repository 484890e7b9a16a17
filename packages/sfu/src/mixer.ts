// The port between a mixing (MCU) room (mixing.ts) and its media engine: the transports,
// negotiation, feedback and data channels stay the SFU's, but publishers' packets go to a
// RoomMixer instead of to the other participants, and each participant receives two tracks the
// engine makes: its own N-1 audio mix and the room's composed video. The engine is given a
// MixerOutput to send those packets through; they enter "synthetic" producers, so consumers,
// NACK answers from the packet cache, PLI and REMB handling work exactly as for forwarded
// tracks. The SFU never imports the engine: it only knows these interfaces.
import { MCU_PARTICIPANT } from '@switchboard/protocol';
import { codecSpec, VIDEO_RTCP_FB } from './codecs.js';
import { Producer } from './producer.js';
import type { ProducerCodec, ProducerExtensions } from './producer.js';

/** What the SFU tells an MCU room's media engine. Buffers are valid only during the call. */
export interface RoomMixer {
  participantJoined(sid: string, name: string): void;
  participantLeft(sid: string): void;
  /** A decrypted RTP packet from a participant's audio (Opus) or video (VP8) track. */
  media(sid: string, kind: 'audio' | 'video', buf: Uint8Array, off: number, len: number): void;
  /** A participant's camera track ended (unpublished or muted): show its placeholder. */
  videoEnded(sid: string): void;
  /** A receiver of the composed video asked for a keyframe (PLI/FIR, or it just subscribed). */
  keyframeRequested(): void;
  /** The lowest bandwidth estimate (REMB) among the receivers, bps; 0 = none known. */
  receiverBitrate(bps: number): void;
  /** Loudest first (from the publishers' audio-level extension). */
  activeSpeakers(sids: string[]): void;
  close(): void;
}

/** What the media engine sends back into the room. */
export interface MixerOutput {
  /** An RTP packet (Opus, payload type MIX_AUDIO_PT) of the N-1 mix for one participant. */
  audio(sid: string, pkt: Uint8Array): void;
  /** An RTP packet (VP8, payload type MIX_VIDEO_PT) of the composed room video. */
  video(pkt: Uint8Array): void;
  /** The engine needs a keyframe from a participant (its decoder starts or lost packets). */
  requestKeyframe(sid: string): void;
}

export type MixerFactory = (roomSid: string, out: MixerOutput) => RoomMixer;

/** The payload types the engine must write in its packets. */
export const MIX_AUDIO_PT = codecSpec('opus')!.payloadType;
export const MIX_VIDEO_PT = codecSpec('vp8')!.payloadType;
/** The stream id (SDK: the publisher's cid) under which the mixed tracks reach clients. */
export const MIX_STREAM_ID = MCU_PARTICIPANT;
/** The participant sid the synthetic producers claim as owner. */
export const MIX_OWNER = MCU_PARTICIPANT;

/** The codecs MCU publishers may use: what the engine decodes. */
export const MCU_PUBLISHER_CODECS: ReadonlySet<string> = new Set(['opus', 'vp8']);

const NO_EXTENSIONS: ProducerExtensions = { mid: -1, rid: -1, repairedRid: -1, audioLevel: -1, absSendTime: -1, transportCc: -1, all: [] };

/** A producer fed by the engine: the N-1 audio mix of one participant, or the room's video. */
export function syntheticProducer(kind: 'audio' | 'video', id: string, onKeyframeRequest: () => void): Producer {
  const spec = codecSpec(kind === 'audio' ? 'opus' : 'vp8')!;
  const codec: ProducerCodec = {
    kind,
    name: spec.name,
    payloadType: spec.payloadType,
    clockRate: spec.clockRate,
    channels: spec.channels,
    fmtp: spec.fmtp,
    rtcpFb: kind === 'video' ? VIDEO_RTCP_FB : [],
    rtxPayloadType: -1,
    redPayloadType: -1,
  };
  const p = new Producer(id, MIX_OWNER, id, MIX_STREAM_ID, codec, NO_EXTENSIONS, [], { sendPli: onKeyframeRequest });
  // Any non-zero SSRC: keyframe requests are only passed on for a known SSRC.
  p.layers[0].ssrc = 1;
  return p;
}
