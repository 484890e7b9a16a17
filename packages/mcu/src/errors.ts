// The one error type of the MCU engine: a message and a stable `code` to branch on.

export type McuErrorCode =
  /** the wasm build of libopus could not be loaded */
  | 'SB_ERR_OPUS_LOAD'
  /** libopus refused to create an encoder/decoder */
  | 'SB_ERR_OPUS_CREATE'
  /** the codec was used after free() */
  | 'SB_ERR_OPUS_FREED'
  /** a PCM frame of the wrong length */
  | 'SB_ERR_OPUS_FRAME_SIZE'
  /** opus_encode failed */
  | 'SB_ERR_OPUS_ENCODE'
  /** a bitrate outside 500..512000 bit/s */
  | 'SB_ERR_OPUS_BITRATE'
  /** an encoder/decoder ctl failed */
  | 'SB_ERR_OPUS_CTL'
  /** a gain outside 0..16 */
  | 'SB_ERR_AUDIO_GAIN'
  /** the audio room was used after close() */
  | 'SB_ERR_AUDIO_CLOSED'
  /** An ffmpeg child (decoder, encoder, recorder) exited when it was not asked to. */
  | 'SB_ERR_CODEC_EXITED'
  /** ffmpeg could not be started (not installed, not executable). */
  | 'SB_ERR_CODEC_SPAWN'
  /** ffmpeg produced something we cannot parse (a corrupt IVF stream). */
  | 'SB_ERR_CODEC_OUTPUT'
  /** A caller passed something unusable (wrong frame size, closed object). */
  | 'SB_ERR_VIDEO_INVALID'
  /** The recording could not be finished (ffmpeg failed or timed out at stop()). */
  | 'SB_ERR_RECORDER_FAILED'
  /** The room's media process is gone (it exited, or the room closed). */
  | 'SB_ERR_MCU_ENGINE_EXITED';

export class McuError extends Error {
  constructor(
    readonly code: McuErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'McuError';
  }
}
