// The MCU's audio path: Opus codecs (libopus wasm) and the per-room decode/mix/encode core.
export { AudioRoom, SPEAKER_THRESHOLD_DBOV } from './audio-room.js';
export type { AudioRoomListener, AudioRoomOptions } from './audio-room.js';
export { OpusDecoder, OpusEncoder, FRAME_SAMPLES, PLC_FRAMES, FADE_FRAMES, toc20ms } from './opus.js';
export type { OpusEncoderOptions } from './opus.js';
export { McuError } from '../errors.js';
export type { McuErrorCode } from '../errors.js';
