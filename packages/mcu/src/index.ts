// @switchboard/mcu: the MCU's media engine. The server uses MixerProcess (one media process per
// room); the pure pieces (mixer, layout, jitter buffer) are exported for tests and tools.
export { AudioMixer, MixerInput, levelOf, SAMPLE_RATE, FRAME_MS } from './mixer.js';
export type { MixerOptions } from './mixer.js';
export { layout, bestGrid } from './layout.js';
export { AudioJitterBuffer } from './jitter-buffer.js';
export type { PopResult, JitterBufferOptions } from './jitter-buffer.js';
export type { Rect, LayoutOptions } from './layout.js';
export { MixerProcess, DEFAULT_ENGINE_OPTIONS } from './mixer-process.js';
export { McuError } from './errors.js';
export type { McuErrorCode } from './errors.js';
export type { MixerSink } from './mixer-process.js';
export type { EngineOptions, EngineStats } from './ipc.js';
