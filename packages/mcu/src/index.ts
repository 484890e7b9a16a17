// @switchboard/mcu: the MCU's media core (in progress): N-1 audio mixing and the video layout.
export { AudioMixer, MixerInput, levelOf, SAMPLE_RATE, FRAME_MS } from './mixer.js';
export type { MixerOptions } from './mixer.js';
export { layout, bestGrid } from './layout.js';
export { AudioJitterBuffer } from './jitter-buffer.js';
export type { PopResult, JitterBufferOptions } from './jitter-buffer.js';
export type { Rect, LayoutOptions } from './layout.js';
