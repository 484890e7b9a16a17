// AudioRoom through real Opus: participants send distinct tones (encode -> packet()), the room
// ticks every 20 ms, and each participant's output is decoded and analysed with a DFT: everyone
// hears the others' tones and not its own; mute, gain, loss/reordering, speakers, recording,
// remove/close and the stats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AudioRoom } from '../../src/audio/audio-room.js';
import { OpusDecoder, OpusEncoder } from '../../src/audio/opus.js';
import { createHandler, destroyHandler, encodeInto, liveHandlers, MAX_PACKET_SIZE, type OpusHandler } from '../../src/audio/opus-wasm.js';
import { RATE, tone } from './helpers.js';



const db = (a: number, b: number) => 20 * Math.log10(a / Math.max(b, 1e-9));
const rms = (x: Int16Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);

interface Sender {
  freq: number;
  amp: number;
  enc: OpusEncoder | null;
  /** A stereo encoder (Chrome's opus/48000/2) instead of enc. */
  stereo: OpusHandler | null;
  seq: number;
}

/** A room with senders (tones, real Opus) and receivers (decoding what the room sends each). */
class Harness {
  readonly room: AudioRoom;
  readonly received = new Map<string, Int16Array[]>();
  readonly mixes: Int16Array[] = [];
  private readonly receivers = new Map<string, OpusDecoder>();
  private readonly senders = new Map<string, Sender>();
  private readonly stereoPkt = new Uint8Array(MAX_PACKET_SIZE);
  now = 1000;
  frame = 0;
  /** Delivery of each packet (default: at once); tests replace it to delay, reorder or drop. */
  deliver = (sid: string, seq: number, payload: Uint8Array): void => this.room.packet(sid, seq, seq * 960, payload, this.now + 3);

  constructor() {
    this.room = new AudioRoom({
      encoded: (sid, payload) => {
        this.received.get(sid)!.push(this.receivers.get(sid)!.decode(payload).slice());
      },
      roomMix: (pcm) => {
        assert.equal(pcm.length, 960);
        this.mixes.push(pcm.slice());
      },
    });
  }

  /** A participant sending a tone (freq 0: sends nothing). */
  add(sid: string, freq: number, amp = 6000, opts: { stereo?: boolean } = {}): void {
    this.room.add(sid);
    this.received.set(sid, []);
    this.receivers.set(sid, new OpusDecoder());
    const stereo = opts.stereo === true;
    this.senders.set(sid, { freq, amp, enc: stereo ? null : new OpusEncoder(), stereo: stereo ? createHandler(2) : null, seq: 5000 });
  }

  /** One 20 ms round: every sender's next frame goes to deliver(), then the room ticks. */
  step(): void {
    for (const [sid, s] of this.senders) {
      if (s.freq === 0) continue;
      const pcm = new Int16Array(960);
      for (let i = 0; i < 960; i++) pcm[i] = Math.round(s.amp * Math.sin((2 * Math.PI * s.freq * (this.frame * 960 + i)) / RATE));
      let payload: Uint8Array;
      if (s.stereo !== null) {
        const st = new Int16Array(1920);
        for (let i = 0; i < 960; i++) st[2 * i] = st[2 * i + 1] = pcm[i];
        payload = this.stereoPkt.subarray(0, encodeInto(s.stereo, st, 2, this.stereoPkt));
      } else {
        payload = s.enc!.encode(pcm);
      }
      this.deliver(sid, s.seq++ & 0xffff, payload);
    }
    this.room.tick(this.now);
    this.now += 20;
    this.frame++;
  }

  run(n: number): void {
    for (let i = 0; i < n; i++) this.step();
  }

  /** The last n frames a participant received, decoded. */
  tail(sid: string, n = 20): Int16Array {
    const frames = this.received.get(sid)!.slice(-n);
    const out = new Int16Array(frames.length * 960);
    frames.forEach((f, i) => out.set(f, i * 960));
    return out;
  }

  close(): void {
    this.room.close();
    for (const d of this.receivers.values()) d.free();
    for (const s of this.senders.values()) {
      s.enc?.free();
      if (s.stereo !== null) destroyHandler(s.stereo);
    }
  }
}

const TONES: Record<string, number> = { a: 440, b: 660, c: 880, d: 1100 };

/** Asserts that `sid` hears exactly the tones of `hears` (each > 1500 and > 20 dB over the others). */
function assertHears(h: Harness, sid: string, hears: string[], n = 20): void {
  const x = h.tail(sid, n);
  const present = hears.map((p) => tone(x, TONES[p]));
  const weakest = Math.min(...present);
  assert.ok(weakest > 1500, `${sid} hears ${hears.join(',')}: ${present.map((a) => a.toFixed(0)).join(', ')}`);
  for (const p of Object.keys(TONES).filter((q) => !hears.includes(q))) {
    const a = tone(x, TONES[p]);
    assert.ok(db(weakest, a) > 20, `${sid} should not hear ${p}: ${a.toFixed(0)} vs ${weakest.toFixed(0)} (${db(weakest, a).toFixed(1)} dB)`);
  }
}

test('N-1 through real Opus: each of 4 hears the 3 others (one sends stereo Opus), not itself', () => {
  const h = new Harness();
  h.add('a', 440);
  h.add('b', 660);
  h.add('c', 880);
  h.add('d', 1100, 6000, { stereo: true });
  h.run(40);
  assertHears(h, 'a', ['b', 'c', 'd']);
  assertHears(h, 'b', ['a', 'c', 'd']);
  assertHears(h, 'c', ['a', 'b', 'd']);
  assertHears(h, 'd', ['a', 'b', 'c']);
  for (const sid of 'abcd') assert.equal(h.received.get(sid)!.length, 40, 'one frame per tick from the first tick on');
  const s = h.room.stats();
  assert.equal(s.participants, 4);
  assert.equal(s.framesDecoded + s.framesConcealed + s.framesSilent, 4 * 40);
  assert.ok(s.framesDecoded >= 4 * 36, `decoded ${s.framesDecoded}`);
  assert.equal(s.decodeErrors, 0);
  assert.ok(s.tickUs.p50 > 0 && s.tickUs.p99 >= s.tickUs.p50);
  h.close();
});

test('mute removes a participant from the others\' mixes (and from speakers); unmute brings it back', () => {
  const h = new Harness();
  h.add('a', 440);
  h.add('b', 660);
  h.add('c', 880);
  h.run(10);
  h.room.setMuted('b', true);
  h.run(25);
  assertHears(h, 'a', ['c']);
  assertHears(h, 'c', ['a']);
  assertHears(h, 'b', ['a', 'c']);
  assert.ok(!h.room.speakers().some((s) => s.sid === 'b'));
  h.room.setMuted('b', false);
  h.run(20);
  assertHears(h, 'a', ['b', 'c'], 15);
  h.close();
});

test('gain 0.5 halves a participant\'s amplitude in the others\' mixes; bad gains throw with a code', () => {
  const h = new Harness();
  h.add('a', 440);
  h.add('b', 660);
  h.run(30);
  const before = tone(h.tail('b'), 440);
  h.room.setGain('a', 0.5);
  h.run(30);
  const after = tone(h.tail('b'), 440);
  assert.ok(Math.abs(after / before - 0.5) < 0.08, `440 Hz in b: ${before.toFixed(0)} -> ${after.toFixed(0)}`);
  assert.ok(Math.abs(db(tone(h.tail('a'), 660), 6000)) < 2, 'b unchanged in a');
  assert.throws(() => h.room.setGain('a', -1), { code: 'SB_ERR_AUDIO_GAIN' });
  assert.throws(() => h.room.setGain('a', Number.NaN), { code: 'SB_ERR_AUDIO_GAIN' });
  h.close();
});

test('loss and reordering go through the jitter buffer: concealed, late ones dropped, tone intact', () => {
  const h = new Harness();
  h.add('a', 440);
  h.add('b', 660);
  let held: { seq: number; payload: Uint8Array } | null = null;
  let dropped = 0;
  let old: { seq: number; payload: Uint8Array } | null = null;
  h.deliver = (sid, seq, payload) => {
    const send = (s: number, p: Uint8Array) => h.room.packet(sid, s, s * 960, p, h.now + 3);
    if (sid !== 'a') return send(seq, payload);
    if (seq % 8 === 6) {
      dropped++;
      return; // lost (never the one held for a swap, nor the one after it)
    }
    if (seq === 5031) old = { seq, payload: payload.slice() };
    if (seq === 5060 && old !== null) send(old.seq, old.payload); // 30 frames late
    if (held === null && seq % 4 === 0) {
      held = { seq, payload: payload.slice() }; // swapped with the next one
      return;
    }
    send(seq, payload);
    if (held !== null) {
      send(held.seq, held.payload);
      held = null;
    }
  };
  h.run(80);
  const s = h.room.stats();
  assert.ok(s.framesConcealed >= dropped - 1 && s.framesConcealed <= dropped, `concealed ${s.framesConcealed}, dropped ${dropped}`);
  assert.equal(s.lateDropped, 1, 'the very late packet was dropped, the swapped ones were not');
  assert.equal(s.decodeErrors, 0);
  const x = h.tail('b', 40);
  assert.ok(tone(x, 440) > 4000, `440 in b after loss: ${tone(x, 440).toFixed(0)}`);
  assert.ok(db(tone(x, 440), tone(x, 660)) > 20);
  h.close();
});

test('speakers(): loudest first, levels 0..1, silent and absent ones left out', () => {
  const h = new Harness();
  h.add('quiet', 660, 1000);
  h.add('loud', 440, 16000);
  h.add('mute-mic', 880, 0); // sends encoded silence
  h.add('listener', 0); // sends nothing
  h.run(10);
  const sp = h.room.speakers();
  assert.deepEqual(
    sp.map((s) => s.sid),
    ['loud', 'quiet'],
  );
  assert.ok(Math.abs(sp[0].level - 16000 / Math.SQRT2 / 32768) < 0.05, `loud level ${sp[0].level}`);
  assert.ok(sp[1].level > 0.01 && sp[1].level < 0.05, `quiet level ${sp[1].level}`);
  h.close();
});

test('a participant that sent nothing still hears the others; one alone gets encoded silence every tick', () => {
  const h = new Harness();
  h.add('a', 440);
  h.run(20);
  assert.equal(h.received.get('a')!.length, 20);
  assert.ok(rms(h.tail('a')) < 5, `alone: ${rms(h.tail('a'))}`);
  h.add('listener', 0);
  h.run(20);
  assert.equal(h.received.get('listener')!.length, 20);
  assert.ok(tone(h.tail('listener', 10), 440) > 4000);
  assert.ok(rms(h.tail('a', 10)) < 5, 'the listener sends nothing: a still hears silence');
  assert.ok(h.room.stats().framesSilent >= 20);
  h.close();
});

test('recording: roomMix gets everyone (saturated) each tick only while on', () => {
  const h = new Harness();
  h.add('a', 440);
  h.add('b', 660);
  h.add('c', 880);
  h.run(10);
  assert.equal(h.mixes.length, 0);
  h.room.recording = true;
  h.run(20);
  assert.equal(h.mixes.length, 20);
  const x = new Int16Array(15 * 960);
  h.mixes.slice(-15).forEach((m, i) => x.set(m, i * 960));
  for (const f of [440, 660, 880]) assert.ok(Math.abs(db(tone(x, f), 6000)) < 2, `${f} Hz in the room mix: ${tone(x, f).toFixed(0)}`);
  h.room.recording = false;
  h.run(3);
  assert.equal(h.mixes.length, 20);
  h.close();
});

test('garbage payloads in the room: counted as decode errors, concealed, nothing throws', () => {
  const h = new Harness();
  h.add('a', 440);
  h.add('b', 0);
  let seq = 100;
  for (let k = 0; k < 30; k++) {
    const junk = new Uint8Array(1 + ((k * 37) % 300)).map((_, i) => (i * 131 + k * 17) & 0xff);
    h.room.packet('b', seq++, seq * 960, junk, h.now);
    h.step();
  }
  const s = h.room.stats();
  assert.ok(s.decodeErrors > 0);
  assert.ok(tone(h.tail('b', 10), 440) > 4000, 'b still hears a');
  h.close();
});

test('remove() frees the codecs and stops the stream; close() frees all, then refuses add()', () => {
  const base = liveHandlers();
  const frames = new Map<string, number>();
  const room = new AudioRoom({ encoded: (sid) => frames.set(sid, (frames.get(sid) ?? 0) + 1) });
  for (const sid of ['a', 'b', 'c']) room.add(sid);
  room.add('a'); // already there: no-op
  assert.equal(liveHandlers(), base + 6, 'an encoder and a decoder each');
  room.tick(0);
  room.remove('b');
  room.remove('b');
  assert.equal(liveHandlers(), base + 4);
  room.packet('b', 1, 960, Uint8Array.of(0xf8, 0xff, 0xfe), 20); // ignored
  room.tick(20);
  assert.deepEqual([...frames], [['a', 2], ['b', 1], ['c', 2]]);
  assert.equal(room.stats().participants, 2);
  room.close();
  assert.equal(liveHandlers(), base);
  room.tick(40); // ignored
  assert.throws(() => room.add('d'), { code: 'SB_ERR_AUDIO_CLOSED' });
  assert.throws(() => new AudioRoom({ encoded() {} }, { bitrate: 10 }), { code: 'SB_ERR_OPUS_BITRATE' });
});
