// Errors of the MCU's audio path. Every error thrown by packages/mcu/src/audio carries a stable
// `code` (ERR_OPUS_* for the codec, ERR_AUDIO_* for the room) for callers to branch on.

export type AudioErrorCode =
  | 'ERR_OPUS_LOAD' // the wasm build of libopus could not be loaded
  | 'ERR_OPUS_CREATE' // libopus refused to create an encoder/decoder
  | 'ERR_OPUS_FREED' // the codec was used after free()
  | 'ERR_OPUS_FRAME_SIZE' // a PCM frame of the wrong length
  | 'ERR_OPUS_ENCODE' // opus_encode failed
  | 'ERR_OPUS_BITRATE' // a bitrate outside 500..512000 bit/s
  | 'ERR_OPUS_CTL' // an encoder/decoder ctl failed
  | 'ERR_AUDIO_GAIN' // a gain outside 0..16
  | 'ERR_AUDIO_CLOSED'; // the room was used after close()

export class AudioError extends Error {
  readonly code: AudioErrorCode;

  constructor(code: AudioErrorCode, message: string) {
    super(message);
    this.name = 'AudioError';
    this.code = code;
  }
}
