// The N-1 mixer: each participant's mix is exactly the sum of everyone else's frame (saturated to
// 16 bits, never wrapped), with gain and mute applied; levels on the RFC 6464 scale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AudioMixer, levelOf } from '../src/index.js';

const clamp = (v: number) => Math.max(-32768, Math.min(32767, v));

function mixAll(m: AudioMixer): Map<string, Int16Array> {
  const out = new Map<string, Int16Array>();
  m.mix((id, pcm) => out.set(id, pcm.slice()));
  return out;
}

test('each N-1 mix is the exact sum of the others (property, 1..8 participants, any samples)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 2 ** 31 }), (n, seed) => {
      const m = new AudioMixer();
      const frames: Int16Array[] = [];
      let s = seed;
      const rnd = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff), s);
      for (let p = 0; p < n; p++) {
        m.add(`p${p}`);
        const f = new Int16Array(m.samples);
        for (let i = 0; i < f.length; i++) f[i] = (rnd() % 65536) - 32768;
        frames.push(f);
        m.push(`p${p}`, f);
      }
      const out = mixAll(m);
      for (let p = 0; p < n; p++) {
        const mix = out.get(`p${p}`)!;
        for (let i = 0; i < m.samples; i += 37) {
          let sum = 0;
          for (let q = 0; q < n; q++) if (q !== p) sum += frames[q][i];
          assert.equal(mix[i], clamp(sum));
        }
      }
    }),
    { numRuns: 60 },
  );
});

test('no wrap-around: loud participants saturate at full scale and the count says so', () => {
  const m = new AudioMixer();
  for (const id of ['a', 'b', 'c']) {
    m.add(id);
    m.push(id, new Int16Array(m.samples).fill(30000));
  }
  const out = mixAll(m);
  assert.ok(out.get('a')!.every((v) => v === 32767));
  assert.ok(m.saturated >= 3 * m.samples);
  const n = new AudioMixer();
  for (const id of ['a', 'b', 'c']) {
    n.add(id);
    n.push(id, new Int16Array(n.samples).fill(-30000));
  }
  assert.ok(mixAll(n).get('b')!.every((v) => v === -32768));
});

test('a participant never hears itself; silence and a missing frame contribute nothing', () => {
  const m = new AudioMixer();
  m.add('a');
  m.add('b');
  m.add('c');
  m.push('a', new Int16Array(m.samples).fill(1000));
  m.push('b', new Int16Array(m.samples).fill(-200));
  // c sends nothing this round
  const out = mixAll(m);
  assert.ok(out.get('a')!.every((v) => v === -200));
  assert.ok(out.get('b')!.every((v) => v === 1000));
  assert.ok(out.get('c')!.every((v) => v === 800));
  // the next round: nobody sent: silence for everyone (no stale frames)
  assert.ok([...mixAll(m).values()].every((f) => f.every((v) => v === 0)));
});

test('gain and mute', () => {
  const m = new AudioMixer({ channels: 2 });
  assert.equal(m.samples, 1920);
  m.add('a');
  m.add('b');
  m.add('c');
  m.setGain('a', 0.5);
  m.setMuted('b', true);
  m.push('a', new Int16Array(m.samples).fill(1000));
  m.push('b', new Int16Array(m.samples).fill(1000));
  m.push('c', new Int16Array(m.samples).fill(10));
  const out = mixAll(m);
  assert.ok(out.get('c')!.every((v) => v === 500));
  assert.ok(out.get('b')!.every((v) => v === 510));
  assert.ok(out.get('a')!.every((v) => v === 10));
  assert.throws(() => m.setGain('a', -1), RangeError);
  assert.throws(() => m.push('a', new Int16Array(10)), RangeError);
});

test('levels (RFC 6464 -dBov) and speakers, loudest first', () => {
  assert.equal(levelOf(new Int16Array(960)), 127);
  const full = new Int16Array(960).fill(32767);
  assert.equal(levelOf(full), 0);
  const m = new AudioMixer();
  m.add('quiet');
  m.add('loud');
  m.add('silent');
  const tone = (amp: number) => Int16Array.from({ length: m.samples }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * 440 * i) / 48000)));
  m.push('quiet', tone(300));
  m.push('loud', tone(20000));
  m.push('silent', new Int16Array(m.samples));
  mixAll(m);
  assert.deepEqual(m.speakers().map((s) => s.id), ['loud', 'quiet']);
  assert.ok(m.speakers()[0].level < 10);
});
