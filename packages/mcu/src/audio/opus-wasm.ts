// Low-level access to libopus 1.4 as compiled to wasm by the `opusscript` package, bypassing its
// `OpusScript` JS wrapper, which cannot serve more than a few codecs in one process:
//  - it caches HEAP views at construction, and wasm memory grows (ALLOW_MEMORY_GROWTH) as codecs
//    are created, which detaches those views: every earlier codec then throws "detached
//    ArrayBuffer" (reproduced with ~300 instances);
//  - it takes HEAPU16.subarray(ptr, ...) with a byte address as an element index, so its PCM
//    buffers live at 2*ptr, outside what it malloc'd (heap corruption, then "offset is out of
//    bounds" once 2*ptr passes the heap's end);
//  - it allocates a Buffer per encode and per decode.
// Here one wasm instance per thread is shared by every codec, with one scratch area (calls are
// synchronous), and HEAP views are re-read at each call so growth is harmless. We use the
// binding's OpusScriptHandler (one libopus encoder + one decoder each) as opusscript 0.1.1 ships it:
//   _encode(in, n, out, frameSize): `in` holds one byte per int16 slot (little-endian byte i of
//       the PCM at slot i); the C side packs the first n slots' pairs into samples in place, then
//       opus_encode(..., frameSize, out, 3828); reads up to 2n slots.
//   _decode(in, len, out): opus_decode(in, len, pcm, 5760, fec = 0), then writes each sample's low
//       and high byte to two int16 slots of `out`; returns samples per channel or an error < 0.
// The layout is checked by the round-trip tests (test/audio/opus.test.ts) against the pinned 0.1.1.

import { createRequire } from 'node:module';
import { McuError } from '../errors.js';

export const OPUS_APPLICATION_VOIP = 2048;
export const OPUS_APPLICATION_AUDIO = 2049;
export const OPUS_SET_BITRATE = 4002;
export const OPUS_SET_COMPLEXITY = 4010;
/** Largest Opus packet (3 x 1276 bytes), the binding's output limit. */
export const MAX_PACKET_SIZE = 3828;
/** Largest decode (120 ms at 48 kHz), per channel: the binding's frame_size for opus_decode. */
export const MAX_FRAME_SAMPLES = 5760;

export interface OpusHandler {
  _encode(input: number, bytes: number, output: number, frameSize: number): number;
  _decode(input: number, bytes: number, output: number): number;
  _encoder_ctl(ctl: number, arg: number): number;
  _decoder_ctl(ctl: number, arg: number): number;
}

interface EmscriptenOpus {
  HEAP16: Int16Array;
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  OpusScriptHandler: {
    new (rate: number, channels: number, application: number): OpusHandler;
    destroy_handler(h: OpusHandler): void;
  };
}

interface Wasm {
  mod: EmscriptenOpus;
  /** PCM in, one byte per int16 slot: 2 slots per sample, plus the 2n slots _encode reads. */
  pcmIn: number;
  /** PCM out, one byte per int16 slot: up to 5760 stereo samples. */
  pcmOut: number;
  /** Opus packet in/out. */
  packet: number;
}

const PCM_SCRATCH_BYTES = MAX_FRAME_SAMPLES * 2 /* channels */ * 2 /* slots */ * 2 /* bytes */ * 2; /* read-ahead */

let wasm: Wasm | null = null;
let live = 0;

function load(): Wasm {
  if (wasm !== null) return wasm;
  let mod: EmscriptenOpus;
  try {
    const require = createRequire(import.meta.url);
    const factory = require('opusscript/build/opusscript_native_wasm.js') as () => EmscriptenOpus;
    mod = factory(); // in Node the instance is compiled synchronously (readFileSync + new WebAssembly.Instance)
  } catch (err) {
    throw new McuError('SB_ERR_OPUS_LOAD', `cannot load opusscript's wasm libopus: ${(err as Error).message}`);
  }
  if (typeof mod.OpusScriptHandler !== 'function') throw new McuError('SB_ERR_OPUS_LOAD', 'opusscript wasm module not ready');
  wasm = { mod, pcmIn: mod._malloc(PCM_SCRATCH_BYTES), pcmOut: mod._malloc(PCM_SCRATCH_BYTES), packet: mod._malloc(4096) };
  return wasm;
}

/** A libopus encoder + decoder pair at 48 kHz. Free it with destroyHandler(). */
export function createHandler(channels: 1 | 2, application = OPUS_APPLICATION_VOIP): OpusHandler {
  const { mod } = load();
  let h: OpusHandler;
  try {
    h = new mod.OpusScriptHandler(48_000, channels, application);
  } catch (err) {
    throw new McuError('SB_ERR_OPUS_CREATE', `libopus create failed: ${String(err)}`);
  }
  live++;
  return h;
}

export function destroyHandler(h: OpusHandler): void {
  load().mod.OpusScriptHandler.destroy_handler(h);
  live--;
}

/** Handlers created and not yet destroyed (for tests and leak checks). */
export function liveHandlers(): number {
  return live;
}

/** Bytes of wasm memory (it grows, never shrinks). */
export function wasmHeapBytes(): number {
  return wasm === null ? 0 : wasm.mod.HEAPU8.length;
}

/**
 * Encodes `pcm` (interleaved when stereo, `pcm.length / channels` samples per channel) into
 * `out`; returns the packet's length, or a libopus error (< 0). `out` must hold MAX_PACKET_SIZE.
 */
export function encodeInto(h: OpusHandler, pcm: Int16Array, channels: 1 | 2, out: Uint8Array): number {
  const w = load();
  const n = pcm.length;
  if (n === 0 || n > MAX_FRAME_SAMPLES * 2 || n % channels !== 0) return -1; // OPUS_BAD_ARG
  const heap16 = w.mod.HEAP16;
  for (let i = 0, j = w.pcmIn >> 1; i < n; i++, j += 2) {
    const s = pcm[i];
    heap16[j] = s & 0xff;
    heap16[j + 1] = (s >> 8) & 0xff;
  }
  const len = h._encode(w.pcmIn, n * 2, w.packet, n / channels);
  const heap8 = w.mod.HEAPU8;
  for (let i = 0, j = w.packet; i < len; i++, j++) out[i] = heap8[j]; // no subarray view: no allocation
  return len;
}

/**
 * Decodes one Opus packet into `out` (interleaved when the handler is stereo); returns samples
 * per channel (of which at most out.length / channels are written), or a libopus error (< 0).
 * A payload of 1 byte (a TOC alone) makes libopus conceal one frame of the TOC's duration.
 */
export function decodeInto(h: OpusHandler, payload: Uint8Array, channels: 1 | 2, out: Int16Array): number {
  const w = load();
  if (payload.length > MAX_PACKET_SIZE) return -4; // OPUS_INVALID_PACKET
  w.mod.HEAPU8.set(payload, w.packet);
  const n = h._decode(w.packet, payload.length, w.pcmOut);
  if (n <= 0) return n;
  const heap16 = w.mod.HEAP16; // re-read: the call may have grown memory
  const m = Math.min(n * channels, out.length);
  for (let i = 0, j = w.pcmOut >> 1; i < m; i++, j += 2) out[i] = ((heap16[j + 1] & 0xff) << 8) | (heap16[j] & 0xff); // wraps to int16
  return n;
}
