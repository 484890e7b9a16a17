// Opus on libopus wasm: a sine survives encode/decode at its frequency, stereo packets decode to
// mono, libopus PLC continues speech after a loss and fades to silence, garbage never throws,
// errors carry codes, and many codecs in one process keep working after wasm memory grows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FADE_FRAMES, OpusDecoder, OpusEncoder, PLC_FRAMES, toc20ms } from '../../src/audio/opus.js';
import { createHandler, destroyHandler, encodeInto, liveHandlers, MAX_PACKET_SIZE, wasmHeapBytes } from '../../src/audio/opus-wasm.js';
import { RATE, tone } from './helpers.js';



const rms = (x: Int16Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
const db = (a: number, b: number) => 20 * Math.log10(a / Math.max(b, 1e-9));

function sine(f: number, frame: number, amp = 8000, n = 960): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * f * (frame * n + i)) / RATE));
  return out;
}

function concat(frames: Int16Array[]): Int16Array {
  const out = new Int16Array(frames.reduce((s, f) => s + f.length, 0));
  let o = 0;
  for (const f of frames) {
    out.set(f, o);
    o += f.length;
  }
  return out;
}

test('a 440 Hz sine round-trips: the tone dominates other bins by > 30 dB, level kept', () => {
  const enc = new OpusEncoder();
  const dec = new OpusDecoder();
  const out: Int16Array[] = [];
  for (let k = 0; k < 25; k++) out.push(dec.decode(enc.encode(sine(440, k))).slice());
  const x = concat(out.slice(5)); // past the codec's start-up
  const a440 = tone(x, 440);
  assert.ok(Math.abs(db(a440, 8000)) < 2, `440 Hz amplitude ${a440.toFixed(0)} (sent 8000)`);
  for (const f of [220, 330, 550, 660, 880, 1000, 2000, 5000]) assert.ok(db(a440, tone(x, f)) > 30, `440 Hz vs ${f} Hz: ${db(a440, tone(x, f)).toFixed(1)} dB`);
  // the strongest frequency from 100 to 4000 Hz (10 Hz steps) is 440
  let best = 0;
  let bestF = 0;
  for (let f = 100; f <= 4000; f += 10) {
    const a = tone(x, f);
    if (a > best) [best, bestF] = [a, f];
  }
  assert.equal(bestF, 440);
  assert.equal(dec.decoded, 25);
  assert.equal(dec.errors, 0);
  enc.free();
  dec.free();
});

test('stereo Opus (as Chrome sends) decodes to mono: both channels present in the downmix', () => {
  const h = createHandler(2);
  const dec = new OpusDecoder();
  const pkt = new Uint8Array(MAX_PACKET_SIZE);
  const out: Int16Array[] = [];
  for (let k = 0; k < 25; k++) {
    const l = sine(440, k, 8000);
    const r = sine(880, k, 8000);
    const st = new Int16Array(1920);
    for (let i = 0; i < 960; i++) [st[2 * i], st[2 * i + 1]] = [l[i], r[i]];
    const n = encodeInto(h, st, 2, pkt);
    assert.ok(n > 0);
    assert.equal((pkt[0] >> 2) & 1, 1, 'the stereo flag is set in the TOC');
    const pcm = dec.decode(pkt.subarray(0, n));
    assert.equal(pcm.length, 960);
    out.push(pcm.slice());
  }
  const x = concat(out.slice(5));
  assert.ok(tone(x, 440) > 2000 && tone(x, 880) > 2000, `downmix: 440 ${tone(x, 440).toFixed(0)}, 880 ${tone(x, 880).toFixed(0)}`);
  assert.ok(db(tone(x, 440), tone(x, 660)) > 20);
  assert.equal(dec.errors, 0);
  destroyHandler(h);
  dec.free();
});

test('PLC: a lost frame right after speech is plausible (same tone), then fades to silence', () => {
  const enc = new OpusEncoder();
  const dec = new OpusDecoder();
  for (let k = 0; k < 20; k++) dec.decode(enc.encode(sine(300, k, 10000)));
  const speech = rms(sine(300, 0, 10000));
  const levels: number[] = [];
  for (let k = 0; k < PLC_FRAMES + FADE_FRAMES + 3; k++) {
    const pcm = dec.conceal();
    assert.equal(pcm.length, 960);
    if (k === 0) {
      assert.ok(rms(pcm) > 0.3 * speech, `first concealed frame rms ${rms(pcm).toFixed(0)} vs speech ${speech.toFixed(0)}`);
      assert.ok(db(tone(pcm, 300), tone(pcm, 1200)) > 10, 'the concealment continues the tone');
    }
    levels.push(rms(pcm));
  }
  assert.ok(levels[PLC_FRAMES + FADE_FRAMES - 1] < levels[0] / 4, `decays: ${levels.map((l) => l.toFixed(0)).join(' ')}`);
  for (let k = PLC_FRAMES; k < PLC_FRAMES + FADE_FRAMES; k++) assert.ok(levels[k] <= levels[k - 1] * 1.5, `fade at ${k}`);
  for (const l of levels.slice(PLC_FRAMES + FADE_FRAMES)) assert.equal(l, 0);
  assert.equal(dec.concealed, levels.length);
  // and decoding resumes
  const back: Int16Array[] = [];
  for (let k = 40; k < 50; k++) back.push(dec.decode(enc.encode(sine(300, k, 10000))).slice());
  assert.ok(tone(concat(back.slice(3)), 300) > 5000);
  enc.free();
  dec.free();
});

test('PLC before any packet is silence; toc20ms maps each mode to its 20 ms config', () => {
  const dec = new OpusDecoder();
  assert.ok(dec.conceal().every((v) => v === 0));
  dec.free();
  // config -> 20 ms config, stereo flag kept, frame count code cleared
  const cases: [number, number][] = [
    [0, 1], [3, 1], [6, 5], [11, 9], // SILK NB/MB/WB
    [12, 13], [14, 15], // Hybrid SWB/FB
    [16, 19], [21, 23], [26, 27], [28, 31], // CELT
  ];
  for (const [from, to] of cases) {
    assert.equal(toc20ms((from << 3) | 0b111), (to << 3) | 0b100);
    assert.equal(toc20ms((from << 3) | 0b010), to << 3);
  }
});

test('garbage payloads never throw: concealment or silence, errors counted, decoder still works (property)', () => {
  const enc = new OpusEncoder();
  const dec = new OpusDecoder();
  const good = Array.from({ length: 8 }, (_, k) => enc.encode(sine(500, k)).slice());
  let k = 0;
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 1500 }), fc.boolean(), (garbage, withGood) => {
      if (withGood) dec.decode(good[k++ % good.length]);
      const pcm = dec.decode(garbage);
      assert.equal(pcm.length, 960);
    }),
    { numRuns: 400 },
  );
  const errors = dec.errors;
  assert.ok(errors > 0);
  assert.doesNotThrow(() => dec.decode(new Uint8Array(MAX_PACKET_SIZE + 1)));
  assert.doesNotThrow(() => dec.decode(new Uint8Array(0)));
  assert.equal(dec.errors, errors + 2);
  // a packet whose frames do not fit: code 3, 48 x 20 ms
  assert.doesNotThrow(() => dec.decode(Uint8Array.of((31 << 3) | 3, 48, ...new Array(48).fill(0))));
  // the decoder is not poisoned
  const out: Int16Array[] = [];
  for (let j = 20; j < 35; j++) out.push(dec.decode(enc.encode(sine(500, j))).slice());
  assert.ok(tone(concat(out.slice(5)), 500) > 4000);
  enc.free();
  dec.free();
  assert.ok(dec.decode(good[0]).every((v) => v === 0), 'decode after free: silence, no throw');
});

test('encoder: bitrate changes the packet size; bad input throws errors with a code', () => {
  const frames = Array.from({ length: 30 }, (_, k) => {
    const f = sine(350, k, 6000);
    for (let i = 0; i < f.length; i++) f[i] += ((i * 7919 + k * 104729) % 2001) - 1000; // some noise to spend bits on
    return f;
  });
  const size = (bitrate: number) => {
    const enc = new OpusEncoder({ bitrate });
    let bytes = 0;
    for (const f of frames) bytes += enc.encode(f).length;
    enc.free();
    return bytes / frames.length;
  };
  const s16 = size(16_000);
  const s64 = size(64_000);
  assert.ok(s64 > 2 * s16, `64 kbit/s: ${s64.toFixed(0)} B/frame, 16 kbit/s: ${s16.toFixed(0)} B/frame`);
  assert.ok(s64 > 100 && s64 < 200, `64 kbit/s is ~160 B per 20 ms, got ${s64}`);

  const enc = new OpusEncoder();
  assert.throws(() => enc.encode(new Int16Array(480)), { code: 'SB_ERR_OPUS_FRAME_SIZE' });
  assert.throws(() => enc.setBitrate(100), { code: 'SB_ERR_OPUS_BITRATE' });
  assert.throws(() => enc.setBitrate(Number.NaN), { code: 'SB_ERR_OPUS_BITRATE' });
  assert.throws(() => new OpusEncoder({ bitrate: 1e9 }), { code: 'SB_ERR_OPUS_BITRATE' });
  enc.setBitrate(24_000);
  const p = enc.encode(frames[0]);
  assert.equal(enc.encode(frames[1]).buffer, p.buffer, 'the output buffer is reused');
  enc.free();
  enc.free(); // idempotent
  assert.throws(() => enc.encode(frames[0]), { code: 'SB_ERR_OPUS_FREED' });
});

test('many codecs in one process: wasm memory grows and the first codec still works; free() releases', () => {
  const base = liveHandlers();
  const enc = new OpusEncoder();
  const dec = new OpusDecoder();
  const heap0 = wasmHeapBytes();
  const more: (OpusEncoder | OpusDecoder)[] = [];
  for (let i = 0; i < 150 && wasmHeapBytes() === heap0; i++) more.push(new OpusEncoder(), new OpusDecoder());
  assert.ok(wasmHeapBytes() > heap0, 'the heap grew');
  assert.equal(liveHandlers(), base + 2 + more.length);
  const out: Int16Array[] = [];
  for (let k = 0; k < 15; k++) out.push(dec.decode(enc.encode(sine(700, k))).slice());
  assert.ok(tone(concat(out.slice(5)), 700) > 6000);
  for (const c of more) c.free();
  enc.free();
  dec.free();
  assert.equal(liveHandlers(), base);
});
