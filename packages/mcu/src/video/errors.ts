// The error type of the video pieces and the recorder: a message and a stable `code`.

export type MediaErrorCode =
  /** An ffmpeg child (decoder, encoder, recorder) exited when it was not asked to. */
  | 'SB_ERR_CODEC_EXITED'
  /** ffmpeg could not be started (not installed, not executable). */
  | 'SB_ERR_CODEC_SPAWN'
  /** ffmpeg produced something we cannot parse (a corrupt IVF stream). */
  | 'SB_ERR_CODEC_OUTPUT'
  /** A caller passed something unusable (wrong frame size, closed object). */
  | 'SB_ERR_VIDEO_INVALID'
  /** The recording could not be finished (ffmpeg failed or timed out at stop()). */
  | 'SB_ERR_RECORDER_FAILED';

export class MediaError extends Error {
  readonly code: MediaErrorCode;
  constructor(code: MediaErrorCode, message: string) {
    super(message);
    this.name = 'MediaError';
    this.code = code;
  }
}
