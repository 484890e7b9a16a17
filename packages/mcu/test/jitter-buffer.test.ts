// The audio jitter buffer: order restored, duplicates and late frames dropped, gaps concealed,
// sequence wrap, a target delay that follows the jitter, and recovery after long silences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AudioJitterBuffer, type PopResult } from '../src/index.js';

const pkt = (n: number) => Uint8Array.of(n & 0xff, (n >> 8) & 0xff);
const id = (r: PopResult) => (r.kind === 'frame' ? r.payload[0] | (r.payload[1] << 8) : r.kind === 'lost' ? `lost${r.seq}` : 'empty');

/** Pushes frames seq0.. at 20 ms spacing (arrival = send + delay(i)), popping every 20 ms; returns what played. */
function run(jb: AudioJitterBuffer, count: number, opts: { seq0?: number; delay?: (i: number) => number; drop?: (i: number) => boolean } = {}): (string | number)[] {
  const seq0 = opts.seq0 ?? 1000;
  const events: { at: number; i: number }[] = [];
  for (let i = 0; i < count; i++) if (!opts.drop?.(i)) events.push({ at: i * 20 + (opts.delay?.(i) ?? 5), i });
  events.sort((a, b) => a.at - b.at);
  const out: (string | number)[] = [];
  let e = 0;
  for (let t = 0; t < count * 20 + 400; t += 20) {
    while (e < events.length && events[e].at <= t) {
      const i = events[e++].i;
      jb.push((seq0 + i) & 0xffff, ((seq0 + i) * 960) >>> 0, pkt(i), events[e - 1].at);
    }
    out.push(id(jb.pop()));
  }
  return out;
}

test('in order: plays every frame in order after the initial target delay', () => {
  const jb = new AudioJitterBuffer();
  const played = run(jb, 50).filter((x) => x !== 'empty');
  assert.deepEqual(played.slice(0, 50), Array.from({ length: 50 }, (_, i) => i));
  assert.equal(jb.played, 50);
});

test('reordering within the target delay is undone; duplicates are dropped', () => {
  const jb = new AudioJitterBuffer({ minFrames: 3 });
  const played = run(jb, 60, { delay: (i) => (i % 4 === 1 ? 35 : 5) }).filter((x) => typeof x === 'number');
  assert.deepEqual(played, Array.from({ length: 60 }, (_, i) => i));
  jb.push(1000 + 59, 0, pkt(59), 99_999);
  assert.ok(jb.duplicates + jb.late >= 1);
});

test('a lost frame is concealed in its turn; a frame after its turn is late and dropped', () => {
  const jb = new AudioJitterBuffer();
  const played = run(jb, 30, { drop: (i) => i === 10 }).filter((x) => x !== 'empty');
  assert.equal(played[10], 'lost1010');
  assert.equal(played[11], 11);
  jb.push(1010, 1010 * 960, pkt(10), 1_000_000);
  assert.equal(jb.late, 1);
});

test('sequence numbers wrap at 65535', () => {
  const jb = new AudioJitterBuffer();
  const played = run(jb, 40, { seq0: 65520 }).filter((x) => x !== 'empty');
  assert.deepEqual(played.slice(0, 40), Array.from({ length: 40 }, (_, i) => i));
});

test('the target delay follows the jitter', () => {
  const calm = new AudioJitterBuffer();
  run(calm, 100);
  const jittery = new AudioJitterBuffer();
  run(jittery, 100, { delay: (i) => ((i * 7919) % 97) % 60 });
  assert.equal(calm.targetFrames, 2);
  assert.ok(jittery.targetFrames > calm.targetFrames, `target ${jittery.targetFrames}`);
  assert.ok(jittery.jitterMs > 5);
});

test('after the sender stops: concealment for a while, then nothing until it starts again', () => {
  const jb = new AudioJitterBuffer();
  const played = run(jb, 20);
  const tail = played.slice(played.lastIndexOf(19) + 1);
  assert.ok(tail.length > 0 && tail.every((x) => String(x).startsWith('lost')), 'concealment right after');
  // about a second of concealment, then it stops
  const later: string[] = [];
  for (let i = 0; i < 60; i++) later.push(String(id(jb.pop())));
  assert.equal(later.at(-1), 'empty');
  // restarts cleanly on new packets
  for (let i = 0; i < 3; i++) jb.push(5000 + i, (5000 + i) * 960, pkt(100 + i), 10_000 + i * 20);
  const again = [id(jb.pop()), id(jb.pop())];
  assert.deepEqual(again, [100, 101]);
});

test('overflow: at most `capacity` frames are held', () => {
  const jb = new AudioJitterBuffer({ capacity: 10 });
  for (let i = 0; i < 30; i++) jb.push(i, i * 960, pkt(i), i);
  assert.equal(jb.buffered, 10);
  assert.equal(jb.overflowed, 20);
});
