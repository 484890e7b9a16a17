/**
 * Opus codec throughput on one core, and what the MCU's AudioRoom costs per participant.
 *
 *   npx tsx bench/opus-codecs.ts [--seconds 1] [--native /tmp/opusnative/node_modules]
 *   NODE_PATH=/tmp/opusnative/node_modules npx tsx bench/opus-codecs.ts
 *
 * 1. Encode and decode frames/s (20 ms, 48 kHz, VOIP; mono and stereo; 32 and 64 kbit/s; mono
 *    also with OPUS_SIGNAL_VOICE, the SILK/Hybrid path real speech takes) of a synthetic
 *    voice-like signal for: opusscript's OpusScript class (allocates Buffers per call),
 *    the same wasm libopus driven directly (packages/mcu/src/audio/opus-wasm.ts, what the MCU
 *    uses), and @discordjs/opus (native libopus) when it can be loaded. "enc+dec/s" is the rate
 *    of full encode+decode pairs; "streams/core" divides it by 50 frames/s of real time;
 *    "SILK/hyb%" is the share of frames coded in SILK or Hybrid mode (costlier than CELT-only).
 * 2. AudioRoom rooms of 4, 8 and 16 talking participants: packet() and tick() cost, per
 *    participant per 20 ms, and the participants one core could mix in real time.
 * All single-threaded. Rates are per second of process CPU time, so other work on shared cores
 * does not lower them; cpu/wall well under 1 says we were preempted (p50/p99 are wall time).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import OpusScript from 'opusscript';
import { AudioRoom } from '../packages/mcu/src/audio/audio-room.js';
import { createHandler, decodeInto, destroyHandler, encodeInto, MAX_PACKET_SIZE, OPUS_APPLICATION_VOIP, OPUS_SET_BITRATE } from '../packages/mcu/src/audio/opus-wasm.js';
import { OpusEncoder } from '../packages/mcu/src/audio/opus.js';
import { table } from './lib/report.js';

const { values, positionals } = parseArgs({
  options: { seconds: { type: 'string', default: '1' }, native: { type: 'string' } },
  allowPositionals: true,
});
const SECONDS = Number(values.seconds);
const FRAMES = 100; // 2 s of distinct input, cycled

// ---- input: a voice-like signal (gliding harmonics, syllable envelope, a little noise) ----------

function voice(channels: 1 | 2, seed: number): Int16Array[] {
  let s = seed;
  const noise = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff - 0.5) * 600;
  const frames: Int16Array[] = [];
  let phase = 0;
  for (let k = 0; k < FRAMES; k++) {
    const f = new Int16Array(960 * channels);
    for (let i = 0; i < 960; i++) {
      const t = (k * 960 + i) / 48_000;
      const f0 = 140 + 40 * Math.sin(2 * Math.PI * 0.7 * t) + (seed % 5) * 20;
      phase += (2 * Math.PI * f0) / 48_000;
      const env = 0.3 + 0.7 * Math.abs(Math.sin(2 * Math.PI * 2.5 * t));
      let v = 0;
      for (let h = 1; h <= 12; h++) v += Math.sin(h * phase) / h;
      v = env * 5000 * v;
      if (channels === 1) f[i] = v + noise();
      else [f[2 * i], f[2 * i + 1]] = [v + noise(), 0.8 * v + noise()];
    }
    frames.push(f);
  }
  return frames;
}

// ---- codecs ------------------------------------------------------------------------------------

interface Codec {
  encode(pcm: Int16Array): Uint8Array;
  decode(pkt: Uint8Array): void;
  free(): void;
}

/** voice: OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE), which makes libopus prefer SILK/Hybrid, as for real speech. */
type CodecFactory = (channels: 1 | 2, bitrate: number, voice: boolean) => Codec;
const OPUS_SET_SIGNAL = 4024;
const OPUS_SIGNAL_VOICE = 3001;

const opusscriptClass: CodecFactory = (channels, bitrate, voice) => {
  const o = new OpusScript(48_000, channels, OpusScript.Application.VOIP);
  o.setBitrate(bitrate);
  if (voice) o.encoderCTL(OPUS_SET_SIGNAL, OPUS_SIGNAL_VOICE);
  return {
    encode: (pcm) => o.encode(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength), 960),
    decode: (pkt) => void o.decode(Buffer.from(pkt.buffer, pkt.byteOffset, pkt.byteLength)),
    free: () => o.delete(),
  };
};

const wasmDirect: CodecFactory = (channels, bitrate, voice) => {
  const enc = createHandler(channels, OPUS_APPLICATION_VOIP);
  const dec = createHandler(channels, OPUS_APPLICATION_VOIP);
  enc._encoder_ctl(OPUS_SET_BITRATE, bitrate);
  if (voice) enc._encoder_ctl(OPUS_SET_SIGNAL, OPUS_SIGNAL_VOICE);
  const out = new Uint8Array(MAX_PACKET_SIZE);
  const pcm = new Int16Array(960 * channels);
  return {
    encode: (frame) => out.subarray(0, encodeInto(enc, frame, channels, out)),
    decode: (pkt) => void decodeInto(dec, pkt, channels, pcm),
    free: () => {
      destroyHandler(enc);
      destroyHandler(dec);
    },
  };
};

interface NativeOpus {
  OpusEncoder: new (rate: number, channels: number) => {
    encode(b: Buffer): Buffer;
    decode(b: Buffer): Buffer;
    setBitrate(b: number): void;
    applyEncoderCTL(ctl: number, v: number): void;
  };
}

async function loadNative(): Promise<{ lib: NativeOpus | null; why: string }> {
  try {
    const m = (await import('@discordjs/opus' as string)) as NativeOpus & { default?: NativeOpus };
    return { lib: m.default ?? m, why: '' };
  } catch {
    /* not next to the repo: try --native / a positional path / NODE_PATH (ESM import ignores NODE_PATH) */
  }
  let why = 'not installed';
  const dirs = [values.native, positionals[0]].filter((d): d is string => d !== undefined);
  const requires = [...dirs.map((d) => createRequire(path.join(path.resolve(d), 'x.js'))), createRequire(import.meta.url)];
  for (const req of requires) {
    try {
      return { lib: req('@discordjs/opus') as NativeOpus, why: '' };
    } catch (err) {
      if ((err as { code?: string }).code !== 'MODULE_NOT_FOUND') why = `failed to load: ${(err as Error).message.split('\n')[0]}`;
    }
  }
  return { lib: null, why };
}

function nativeFactory(lib: NativeOpus): CodecFactory {
  return (channels, bitrate, voice) => {
    const o = new lib.OpusEncoder(48_000, channels);
    o.applyEncoderCTL(4000, OPUS_APPLICATION_VOIP); // OPUS_SET_APPLICATION (before the first frame): VOIP like the others
    o.setBitrate(bitrate);
    if (voice) o.applyEncoderCTL(OPUS_SET_SIGNAL, OPUS_SIGNAL_VOICE);
    return {
      encode: (pcm) => o.encode(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)),
      decode: (pkt) => void o.decode(Buffer.from(pkt.buffer, pkt.byteOffset, pkt.byteLength)),
      free: () => {},
    };
  };
}

// ---- measuring ---------------------------------------------------------------------------------

/**
 * Runs fn(i) for about SECONDS; returns calls per second of process CPU time (robust to other
 * work preempting us on shared cores), and cpu/wall (well under 1: we were preempted).
 */
function rate(fn: (i: number) => void): { perSec: number; cpu: number } {
  for (let i = 0; i < 50; i++) fn(i); // warm-up
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < SECONDS * 1000) {
    for (let j = 0; j < 50; j++) fn(n++);
    t = performance.now();
  }
  const c = process.cpuUsage(c0);
  const cpuMs = (c.user + c.system) / 1000;
  return { perSec: (n * 1000) / cpuMs, cpu: cpuMs / (t - t0) };
}

function benchCodec(make: CodecFactory, channels: 1 | 2, bitrate: number, signalVoice = false) {
  const input = voice(channels, 7);
  const codec = make(channels, bitrate, signalVoice);
  const packets = input.map((f) => codec.encode(f).slice());
  const bytes = packets.reduce((sum, p) => sum + p.length, 0) / packets.length;
  const enc = rate((i) => codec.encode(input[i % FRAMES]));
  const dec = rate((i) => codec.decode(packets[i % FRAMES]));
  codec.free();
  const pair = 1 / (1 / enc.perSec + 1 / dec.perSec);
  return { enc: enc.perSec, dec: dec.perSec, pair, bytes, silk: silkShare(packets), cpu: Math.min(enc.cpu, dec.cpu) };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Share of packets the encoder made in SILK or Hybrid mode (costlier to encode than CELT-only), %. */
function silkShare(packets: Uint8Array[]): number {
  return (100 * packets.filter((p) => p[0] >> 3 < 16).length) / Math.max(1, packets.length);
}

async function codecs(): Promise<void> {
  const native = await loadNative();
  const libs: [string, CodecFactory | null][] = [
    ['opusscript (OpusScript class)', opusscriptClass],
    ['opusscript wasm, direct (MCU)', wasmDirect],
    ['@discordjs/opus (native)', native.lib === null ? null : nativeFactory(native.lib)],
  ];
  // warm-up: V8 runs wasm in its baseline tier (Liftoff) until the hot functions are recompiled
  for (const make of [wasmDirect, opusscriptClass]) {
    for (const [ch, voiceMode] of [[1, false], [2, false], [1, true]] as const) {
      const input = voice(ch, 3);
      const codec = make(ch, 32_000, voiceMode);
      for (let i = 0; i < 300; i++) codec.decode(codec.encode(input[i % FRAMES]));
      codec.free();
    }
  }
  const rows: string[][] = [];
  const configs: [1 | 2, number, boolean][] = [[1, 32_000, false], [1, 64_000, false], [2, 32_000, false], [2, 64_000, false], [1, 32_000, true], [1, 64_000, true]];
  for (const [name, make] of libs) {
    for (const [channels, bitrate, signalVoice] of configs) {
      const cfg = [name, channels === 1 ? 'mono' : 'stereo', `${bitrate / 1000}k`, signalVoice ? 'voice' : 'auto'];
      if (make === null) {
        rows.push([...cfg, native.why, '', '', '', '', '', '']);
        continue;
      }
      const r = benchCodec(make, channels, bitrate, signalVoice);
      rows.push([...cfg, fmt(r.enc), fmt(r.dec), fmt(r.pair), fmt(r.pair / 50), r.bytes.toFixed(0), r.silk.toFixed(0), r.cpu.toFixed(2)]);
    }
  }
  console.log('\nOpus, 20 ms frames at 48 kHz, application VOIP, one thread:\n');
  console.log(table(['library', 'ch', 'kbit/s', 'signal', 'enc/s', 'dec/s', 'enc+dec/s', 'streams/core', 'B/frame', 'SILK/hyb%', 'cpu/wall'], rows, new Set([0, 1, 3])));
  console.log('\nsignal auto: libopus picks the mode from the content (this synthetic voice: mostly CELT);');
  console.log('voice: OPUS_SET_SIGNAL(VOICE) pushes it to SILK/Hybrid as real speech does: the costlier encode.');
  if (native.lib === null) console.log(`@discordjs/opus: ${native.why} (install outside the repo, then NODE_PATH=<dir>/node_modules or --native <dir>)`);
}

// ---- AudioRoom ---------------------------------------------------------------------------------

function benchRoom(n: number, ticks: number) {
  let silk = 0;
  let frames = 0;
  const room = new AudioRoom({
    encoded: (_sid, p) => {
      frames++;
      if (p[0] >> 3 < 16) silk++;
    },
  });
  const sids = Array.from({ length: n }, (_, i) => `p${i}`);
  const packets = new Map<string, Uint8Array[]>();
  for (const [i, sid] of sids.entries()) {
    room.add(sid);
    const enc = new OpusEncoder();
    packets.set(sid, voice(1, i + 1).map((f) => enc.encode(f).slice()));
    enc.free();
  }
  let packetMs = 0;
  let tickMs = 0;
  let c0 = process.cpuUsage();
  let w0 = performance.now();
  for (let k = 0; k < ticks; k++) {
    if (k === 50) [c0, w0, packetMs, tickMs] = [process.cpuUsage(), performance.now(), 0, 0]; // after warm-up
    const now = k * 20;
    const t0 = performance.now();
    for (const sid of sids) room.packet(sid, k & 0xffff, k * 960, packets.get(sid)![k % FRAMES], now + 2);
    const t1 = performance.now();
    room.tick(now);
    const t2 = performance.now();
    packetMs += t1 - t0;
    tickMs += t2 - t1;
  }
  const c = process.cpuUsage(c0);
  const cpuMs = (c.user + c.system) / 1000;
  const wall = performance.now() - w0;
  const s = room.stats();
  room.close();
  // CPU time of the measured ticks, split between packet() and tick() as their wall times are
  const perP = (cpuMs * 1000) / (ticks - 50) / n;
  const tickUsPerP = (perP * tickMs) / (tickMs + packetMs);
  const packetUs = perP - tickUsPerP;
  return { tickUsPerP, packetUs, p50: s.tickUs.p50, p99: s.tickUs.p99, perCore: Math.floor(20_000 / perP), silk: (100 * silk) / frames, cpu: cpuMs / wall };
}

function rooms(): void {
  const rows: string[][] = [];
  for (const n of [4, 8, 16]) {
    const runs = [0, 1, 2].map(() => benchRoom(n, Math.max(150, Math.round((SECONDS * 1500) / n))));
    runs.sort((a, b) => a.tickUsPerP - b.tickUsPerP);
    const r = runs[1]; // the median of 3
    rows.push([String(n), r.tickUsPerP.toFixed(1), r.packetUs.toFixed(1), String(r.p50), String(r.p99), String(r.perCore), r.silk.toFixed(0), r.cpu.toFixed(2)]);
  }
  console.log('\nAudioRoom (everyone talking, 32 kbit/s out), median of 3 runs:\n');
  console.log(table(['room', 'tick us/participant', 'packet() us', 'tick p50 us', 'tick p99 us', 'participants/core', 'SILK/hyb%', 'cpu/wall'], rows));
  console.log('\ntick = jitter pop + decode + N-1 mix + encode; participants/core = 20 ms / (tick + packet) per participant.');
  console.log('SILK/hyb% = share of output frames the encoder made in SILK/Hybrid mode: encoding those costs ~2.5x a');
  console.log('CELT-only frame (libopus picks per frame from the content), which is why the cost per participant varies.');
}

await codecs();
rooms();
