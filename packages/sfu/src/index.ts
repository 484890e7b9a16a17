// @switchboard/sfu: forwards each publisher's RTP to its subscribers without decoding.
export { Sfu } from './sfu.js';
export type { SfuOptions, SfuListener, SfuCounters, ParticipantMediaStats, ProducerStats, ConsumerStats } from './sfu.js';
export { SfuRoom } from './room.js';
export { SfuParticipant } from './participant.js';
export { Producer, InboundLayer } from './producer.js';
export type { ProducerCodec, ProducerExtensions, MediaKind } from './producer.js';
export { Consumer } from './consumer.js';
export type { MediaSender, ConsumerParameters } from './consumer.js';
export { SeqTsRewriter, Vp8Rewriter } from './rewriter.js';
export { PacketCache } from './packet-cache.js';
export { NackGenerator } from './nack-generator.js';
export { ReceiveStats, BitrateMeter } from './receive-stats.js';
export { answerPublisherOffer, buildSubscriberOffer, readSubscriberAnswer, NegotiationError } from './negotiation.js';
export { CODECS, EXT } from './codecs.js';
export { MIX_AUDIO_PT, MIX_VIDEO_PT, MIX_STREAM_ID, MIX_OWNER, MCU_PUBLISHER_CODECS } from './mixer.js';
export type { RoomMixer, MixerOutput, MixerFactory } from './mixer.js';
