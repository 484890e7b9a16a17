// The room engine end to end with real codecs (opusscript, ffmpeg): three participants send
// Opus tones and VP8 pictures of distinct colours as RTP; each receives 50 audio packets a second
// whose decoded mix holds the others' tones and not its own, and everyone receives one VP8
// stream whose decoded picture shows the three colours in separate tiles. Also: keyframes on
// request, a participant whose video ends becomes a placeholder, and a recording is a WebM
// with both streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RoomEngine } from '../src/room-engine.js';
import type { EngineSink } from '../src/room-engine.js';
import { OpusDecoder, OpusEncoder } from '../src/audio/opus.js';
import { Vp8Encoder } from '../src/video/vp8-encoder.js';
import { Vp8Decoder } from '../src/video/vp8-decoder.js';
import { Vp8Packetizer } from '../src/video/vp8-packetizer.js';
import { Vp8Depacketizer } from '../src/video/vp8-depacketizer.js';
import { layout } from '../src/layout.js';

const W = 320;
const H = 180;
const FPS = 15;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Y, U, V of a few saturated colours (BT.601 limited range). */
const COLOURS: Record<string, [number, number, number]> = {
  red: [81, 90, 240],
  green: [145, 54, 34],
  blue: [41, 240, 110],
};
const TONES: Record<string, number> = { red: 440, green: 700, blue: 1000 };

function solid(w: number, h: number, [y, u, v]: [number, number, number]): Uint8Array {
  const f = new Uint8Array((w * h * 3) / 2);
  f.fill(y, 0, w * h);
  f.fill(u, w * h, w * h + (w * h) / 4);
  f.fill(v, w * h + (w * h) / 4);
  return f;
}

function rtp(pt: number, seq: number, ts: number, ssrc: number, marker: boolean, payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(12 + payload.length);
  p[0] = 0x80;
  p[1] = (marker ? 0x80 : 0) | pt;
  p[2] = (seq >> 8) & 0xff;
  p[3] = seq & 0xff;
  new DataView(p.buffer).setUint32(4, ts >>> 0);
  new DataView(p.buffer).setUint32(8, ssrc >>> 0);
  p.set(payload, 12);
  return p;
}

/** Energy of a tone in PCM (Goertzel), relative to the signal's total energy. */
function toneDb(pcm: Int16Array, hz: number): number {
  const k = (2 * Math.cos((2 * Math.PI * hz) / 48000)) as number;
  let s1 = 0;
  let s2 = 0;
  let total = 0;
  for (let i = 0; i < pcm.length; i++) {
    const s0 = pcm[i] + k * s1 - s2;
    s2 = s1;
    s1 = s0;
    total += pcm[i] * pcm[i];
  }
  const power = s1 * s1 + s2 * s2 - k * s1 * s2;
  return 10 * Math.log10((power / (pcm.length * pcm.length)) * 2 + 1e-9) - 10 * Math.log10(total / pcm.length + 1e-9);
}

test('room engine: three participants get their N-1 audio mix and one composed picture with everyone', { timeout: 60_000 }, async () => {
  const names = ['red', 'green', 'blue'];
  const audioOut = new Map<string, Uint8Array[]>(names.map((n) => [n, []]));
  const videoOut: Uint8Array[] = [];
  const plis: string[] = [];
  const sink: EngineSink = {
    audio: (sid, pkt) => audioOut.get(sid)!.push(pkt),
    video: (pkt) => videoOut.push(pkt),
    requestKeyframe: (sid) => plis.push(sid),
    log: () => undefined,
  };
  const engine = new RoomEngine({ width: W * 2, height: H * 2, fps: FPS, videoBitrate: 600_000, audioBitrate: 32_000, audioPayloadType: 111, videoPayloadType: 96 }, sink);
  for (const n of names) engine.join(n, n);

  // each participant: an Opus tone and a VP8 picture of its colour, paced in real time
  const senders = names.map((n, i) => {
    const enc = new OpusEncoder();
    const packetizer = new Vp8Packetizer({ ssrc: 1000 + i, payloadType: 96 });
    const video = new Vp8Encoder({
      width: 320,
      height: 180,
      fps: FPS,
      bitrate: 300_000,
      onFrame: (data, key, ptsMs) => {
        for (const p of packetizer.packetize(data, key, ptsMs * 90)) engine.media(n, 1, p);
      },
      onExit: () => undefined,
    });
    return { n, enc, video, seq: 0, phase: 0, frame: solid(320, 180, COLOURS[n]) };
  });
  const t0 = Date.now();
  let audioTicks = 0;
  let videoTicks = 0;
  const pcm = new Int16Array(960);
  // Send until every participant has 4 s of mix (bounded): on a cold machine the first codec
  // starts stall this event loop, and the engine then skips the ticks it missed (by design).
  const enough = () => names.every((n) => audioOut.get(n)!.length >= 200);
  while (!enough() && Date.now() - t0 < 30_000) {
    const now = Date.now() - t0;
    while (audioTicks * 20 <= now) {
      for (const s of senders) {
        const hz = TONES[s.n];
        for (let j = 0; j < 960; j++) pcm[j] = Math.round(6000 * Math.sin(s.phase + (2 * Math.PI * hz * j) / 48000));
        s.phase += (2 * Math.PI * hz * 960) / 48000;
        const payload = s.enc.encode(pcm);
        engine.media(s.n, 0, rtp(111, s.seq++ & 0xffff, audioTicks * 960, 2000 + names.indexOf(s.n), false, payload));
      }
      audioTicks++;
    }
    while ((videoTicks * 1000) / FPS <= now) {
      for (const s of senders) s.video.encode(s.frame, Math.round((videoTicks * 1000) / FPS));
      videoTicks++;
    }
    await sleep(5);
  }

  // audio: one packet per participant for every 20 ms tick the engine ran (ticks after a stall
  // are skipped, and the timestamps jump over them); the last second's mix holds the others'
  // tones, not its own
  const ticks = engine.stats();
  const ran = ticks.audioTicks - ticks.audioTicksSkipped;
  for (const n of names) {
    const pkts = audioOut.get(n)!;
    assert.ok(pkts.length >= 200, `${n}: ${pkts.length} audio packets in ${Date.now() - t0} ms`);
    assert.ok(Math.abs(pkts.length - ran) <= 1, `${n}: ${pkts.length} audio packets for ${ran} ticks run (${ticks.audioTicksSkipped} skipped)`);
    const view = (p: Uint8Array) => new DataView(p.buffer, p.byteOffset);
    let gaps = 0;
    for (let i = 1; i < pkts.length; i++) {
      assert.equal((view(pkts[i]!).getUint16(2) - view(pkts[i - 1]!).getUint16(2)) & 0xffff, 1, `${n}: sequence numbers are consecutive`);
      const dts = (view(pkts[i]!).getUint32(4) - view(pkts[i - 1]!).getUint32(4)) >>> 0;
      assert.ok(dts >= 960 && dts % 960 === 0, `${n}: timestamps step by 20 ms frames (${dts})`);
      gaps += dts / 960 - 1;
    }
    assert.ok(gaps <= ticks.audioTicksSkipped, `${n}: ${gaps} frames of timestamp jumps for ${ticks.audioTicksSkipped} skipped ticks`);
    const dec = new OpusDecoder();
    const tail = pkts.slice(-50);
    const all = new Int16Array(tail.length * 960);
    tail.forEach((p, i) => all.set(dec.decode(p.subarray(12)), i * 960));
    dec.free();
    for (const other of names) {
      const db = toneDb(all, TONES[other]);
      if (other === n) assert.ok(db < -25, `${n} hears itself at ${db.toFixed(1)} dB`);
      else assert.ok(db > -12, `${n} hears ${other} at only ${db.toFixed(1)} dB`);
    }
  }

  // video: decode the composed stream; each participant's colour is in its own tile
  assert.ok(videoOut.length > 0, 'composed video was sent');
  const depack = new Vp8Depacketizer();
  let last: Uint8Array | null = null;
  const decoded = await new Promise<number>((resolve) => {
    let count = 0;
    const dec = new Vp8Decoder({
      width: W * 2,
      height: H * 2,
      onFrame: (f) => {
        last = f.slice();
        count++;
      },
      onExit: () => undefined,
    });
    for (const p of videoOut) {
      const f = depack.push((p[2] << 8) | p[3], new DataView(p.buffer, p.byteOffset).getUint32(4), (p[1] & 0x80) !== 0, p.subarray(12));
      if (f !== null) dec.decode(f);
    }
    setTimeout(() => {
      dec.close();
      resolve(count);
    }, 1500);
  });
  assert.ok(decoded > 10, `decoded ${decoded} composed frames`);
  const rects = layout(3, W * 2, H * 2);
  names.forEach((n, i) => {
    const r = rects[i];
    const cx = r.x + Math.floor(r.width / 2);
    const cy = r.y + Math.floor(r.height / 3);
    const y = last![cy * W * 2 + cx];
    const u = last![W * 2 * H * 2 + Math.floor(cy / 2) * W + Math.floor(cx / 2)];
    const v = last![W * 2 * H * 2 + (W * 2 * H * 2) / 4 + Math.floor(cy / 2) * W + Math.floor(cx / 2)];
    const [ey, eu, ev] = COLOURS[n];
    assert.ok(Math.abs(y - ey) < 30 && Math.abs(u - eu) < 30 && Math.abs(v - ev) < 30, `tile ${i} (${n}) is ${y},${u},${v}, expected ${ey},${eu},${ev}`);
  });

  const st = engine.stats();
  assert.equal(st.participants, 3);
  assert.ok(st.video.keyframes >= 1);
  assert.ok(st.audio.framesDecoded > 400, `decoded ${st.audio.framesDecoded}`);

  // a recording: WebM with VP8 and Opus
  const dir = mkdtempSync(join(tmpdir(), 'sb-rec-'));
  engine.startRecording(join(dir, 'room.webm'));
  const rt0 = Date.now();
  while (Date.now() - rt0 < 2000) {
    const now = Date.now() - t0;
    while ((videoTicks * 1000) / FPS <= now) {
      for (const s of senders) s.video.encode(s.frame, Math.round((videoTicks * 1000) / FPS));
      videoTicks++;
    }
    await sleep(10);
  }
  const rec = await engine.stopRecording();
  assert.ok(rec.bytes > 1000, `recording has ${rec.bytes} bytes`);
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', rec.path], { encoding: 'utf8' })) as { streams: { codec_name: string }[]; format: { duration: string } };
  assert.deepEqual(probe.streams.map((s) => s.codec_name).sort(), ['opus', 'vp8']);
  assert.ok(Math.abs(Number(probe.format.duration) * 1000 - rec.durationMs) < 1000, `duration ${probe.format.duration} s vs ${rec.durationMs} ms`);
  rmSync(dir, { recursive: true, force: true });

  for (const s of senders) {
    s.video.close();
    s.enc.free();
  }
  await engine.close();
});
