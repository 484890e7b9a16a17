// Opus for the MCU: mono, 48 kHz, 20 ms frames (960 samples), application VOIP, on libopus 1.4
// (wasm, from opusscript; see opus-wasm.ts for why its JS wrapper is not used).
//
// OpusDecoder decodes mono or stereo streams (Chrome sends opus/48000/2, usually mono content)
// to mono: libopus downmixes when the decoder has one channel. It never throws on a payload:
// garbage, empty or oversized packets count in `errors` and are concealed.
//
// Packet-loss concealment is libopus's own PLC. The binding decodes with frame_size = 120 ms,
// so decoding an empty packet would conceal 120 ms at once; instead conceal() decodes the TOC
// byte alone (a 1-byte packet, what libopus treats as DTX/lost), rewritten to the 20 ms config of
// the last packet's mode and bandwidth: libopus then conceals exactly 20 ms from its state. FEC
// (LBRR from the next packet) is not reachable: the binding hard-codes decode_fec = 0. libopus PLC
// does not die out (it settles on comfort noise, about -35 dBov measured), so after PLC_FRAMES
// concealed frames the PLC output is faded to zero over FADE_FRAMES, then silence follows
// (without calling libopus) until a packet decodes again.
//
// Allocation: decode()/conceal() return one reused Int16Array per decoder; encode() returns a view
// of a reused per-encoder buffer (views are cached per length, so none is created in steady
// state). Both are valid until the next call on the same codec: copy them to keep them.
// The codecs live in wasm memory: free() them (a FinalizationRegistry frees forgotten ones late).

import { McuError } from '../errors.js';
import { createHandler, decodeInto, destroyHandler, encodeInto, MAX_PACKET_SIZE, OPUS_SET_BITRATE, type OpusHandler } from './opus-wasm.js';

export const FRAME_SAMPLES = 960;
/** Consecutive lost frames concealed by libopus PLC at full level. */
export const PLC_FRAMES = 5;
/** Further lost frames over which the PLC output fades to zero; silence after. */
export const FADE_FRAMES = 5;

const registry = new FinalizationRegistry<OpusHandler>((h) => destroyHandler(h));

/** The TOC byte of a code-0 packet with the same mode, bandwidth and stereo flag, but 20 ms. */
export function toc20ms(toc: number): number {
  let config = toc >> 3;
  if (config < 12) config = (config & ~3) | 1; // SILK: 10/20/40/60 ms
  else if (config < 16) config |= 1; // Hybrid: 10/20 ms
  else config |= 3; // CELT: 2.5/5/10/20 ms
  return (config << 3) | (toc & 0x04);
}

export class OpusDecoder {
  /** Packets decoded. */
  decoded = 0;
  /** Frames concealed (losses, and payloads that failed to decode). */
  concealed = 0;
  /** Payloads that failed: invalid Opus, empty, oversized, or not a 20 ms frame. */
  errors = 0;
  private handler: OpusHandler | null;
  private readonly pcm = new Int16Array(FRAME_SAMPLES);
  private readonly plcPacket = new Uint8Array(1);
  /** TOC of the last packet decoded, -1 before any. */
  private lastToc = -1;
  /** Consecutive frames concealed. */
  private lossRun = 0;

  constructor() {
    this.handler = createHandler(1);
    registry.register(this, this.handler, this);
  }

  /** Decodes one RTP payload to 960 mono samples; concealment (or silence) if it is not valid Opus. */
  decode(payload: Uint8Array): Int16Array {
    const h = this.handler;
    if (h === null) {
      this.errors++;
      return this.pcm.fill(0);
    }
    if (payload.length <= 1 || payload.length > MAX_PACKET_SIZE) {
      if (payload.length !== 1) this.errors++; // a lone TOC is DTX: a loss, not an error
      return this.conceal();
    }
    let n: number;
    try {
      n = decodeInto(h, payload, 1, this.pcm);
    } catch {
      n = -3; // a wasm trap: OPUS_INTERNAL_ERROR
    }
    if (n < 0) {
      this.errors++;
      return this.conceal();
    }
    if (n !== FRAME_SAMPLES) {
      // valid Opus but not 20 ms (or garbage that parses): keep what fits, pad with silence
      this.errors++;
      if (n < FRAME_SAMPLES) this.pcm.fill(0, n);
    }
    this.lastToc = payload[0];
    this.lossRun = 0;
    this.decoded++;
    return this.pcm;
  }

  /** 20 ms for a lost packet: libopus PLC, fading to silence after PLC_FRAMES (see the header). */
  conceal(): Int16Array {
    const pcm = this.pcm;
    this.concealed++;
    const run = this.lossRun++;
    const h = this.handler;
    if (h === null || this.lastToc < 0 || run >= PLC_FRAMES + FADE_FRAMES) return pcm.fill(0);
    this.plcPacket[0] = toc20ms(this.lastToc);
    let n: number;
    try {
      n = decodeInto(h, this.plcPacket, 1, pcm);
    } catch {
      n = -3;
    }
    if (n !== FRAME_SAMPLES) return pcm.fill(0);
    if (run >= PLC_FRAMES) {
      const total = FADE_FRAMES * FRAME_SAMPLES;
      let left = total - (run - PLC_FRAMES) * FRAME_SAMPLES;
      for (let i = 0; i < FRAME_SAMPLES; i++, left--) pcm[i] = Math.round((pcm[i] * left) / total);
    }
    return pcm;
  }

  free(): void {
    if (this.handler === null) return;
    registry.unregister(this);
    destroyHandler(this.handler);
    this.handler = null;
  }
}

export interface OpusEncoderOptions {
  /** Target bit/s, default 32000. */
  bitrate?: number;
}

export class OpusEncoder {
  private handler: OpusHandler | null;
  private readonly out = new Uint8Array(MAX_PACKET_SIZE);
  /** out.subarray(0, n), made once per length. */
  private readonly views: Uint8Array[] = [];

  constructor(opts: OpusEncoderOptions = {}) {
    this.handler = createHandler(1);
    registry.register(this, this.handler, this);
    try {
      this.setBitrate(opts.bitrate ?? 32_000);
    } catch (err) {
      this.free();
      throw err;
    }
  }

  /** Encodes 960 mono samples; the packet is a reused view, valid until the next encode(). */
  encode(pcm: Int16Array): Uint8Array {
    const h = this.live();
    if (pcm.length !== FRAME_SAMPLES) throw new McuError('SB_ERR_OPUS_FRAME_SIZE', `a frame is ${FRAME_SAMPLES} samples, not ${pcm.length}`);
    const n = encodeInto(h, pcm, 1, this.out);
    if (n <= 0) throw new McuError('SB_ERR_OPUS_ENCODE', `opus_encode failed (${n})`);
    return (this.views[n] ??= this.out.subarray(0, n));
  }

  setBitrate(bps: number): void {
    const h = this.live();
    if (!Number.isInteger(bps) || bps < 500 || bps > 512_000) throw new McuError('SB_ERR_OPUS_BITRATE', `bitrate must be an integer 500..512000, not ${bps}`);
    const r = h._encoder_ctl(OPUS_SET_BITRATE, bps);
    if (r < 0) throw new McuError('SB_ERR_OPUS_CTL', `OPUS_SET_BITRATE failed (${r})`);
  }

  free(): void {
    if (this.handler === null) return;
    registry.unregister(this);
    destroyHandler(this.handler);
    this.handler = null;
  }

  private live(): OpusHandler {
    if (this.handler === null) throw new McuError('SB_ERR_OPUS_FREED', 'the encoder was freed');
    return this.handler;
  }
}
