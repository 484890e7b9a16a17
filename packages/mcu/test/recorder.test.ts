// The WebM recorder with the real ffmpeg: ~3 s of encoded video frames and 20 ms audio blocks
// become a file with one VP8 and one Opus stream of the right duration; video before the first
// keyframe is skipped; a recorder whose ffmpeg died reports it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebmRecorder } from '../src/recorder.js';
import { Vp8Encoder } from '../src/video/vp8-encoder.js';

const skip = spawnSync('ffmpeg', ['-version']).status === 0 ? false : 'ffmpeg is not installed';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Probe {
  streams: { codec_type: string; codec_name: string; width?: number; sample_rate?: string; channels?: number }[];
  format: { format_name: string; duration: string };
}

function probe(path: string): Probe {
  const r = spawnSync('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', path], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Probe;
}

function colour(w: number, h: number, i: number): Uint8Array {
  const f = new Uint8Array((w * h * 3) / 2);
  f.fill(40 + ((i * 5) % 180), 0, w * h);
  f.fill(90 + (i % 60), w * h, (w * h * 5) / 4);
  f.fill(200 - (i % 60), (w * h * 5) / 4);
  return f;
}

test('3 s of video and audio make a WebM with one VP8 and one Opus stream of 3 s', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-rec-'));
  try {
    const W = 320;
    const H = 180;
    const path = join(dir, 'room.webm');
    const rec = new WebmRecorder({ path, width: W, height: H, onExit: (e) => assert.fail(e) });
    const clock0 = 123_456; // the caller's own clock: the recorder counts from its first frame
    let delivered = 0;
    const enc = new Vp8Encoder({
      width: W,
      height: H,
      fps: 30,
      bitrate: 300_000,
      onFrame: (data, keyframe, ptsMs) => {
        rec.video(data, keyframe, ptsMs);
        delivered++;
      },
      onExit: (e) => assert.fail(e),
    });
    // 90 video frames (30 fps) and 150 audio blocks (20 ms) of a 440 Hz sine, interleaved in time
    // order, fed as fast as the encoder takes them
    const pcm = new Int16Array(960);
    let audioBlocks = 0;
    for (let i = 0; i < 90; i++) {
      enc.encode(colour(W, H, i), clock0 + Math.round((i * 1000) / 30));
      const t = Date.now();
      while (delivered <= i && Date.now() - t < 3000) await sleep(1);
      while (audioBlocks * 20 <= ((i + 1) * 1000) / 30 && audioBlocks < 150) {
        for (let s = 0; s < 960; s++) pcm[s] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * (audioBlocks * 960 + s)) / 48000));
        rec.audio(pcm);
        audioBlocks++;
      }
    }
    while (audioBlocks < 150) {
      rec.audio(pcm);
      audioBlocks++;
    }
    enc.close();
    assert.equal(delivered, 90);
    const out = await rec.stop();
    assert.equal(out.path, path);
    assert.ok(out.bytes > 10_000, `${out.bytes} bytes`);
    assert.equal(rec.videoFrames, 90);
    assert.equal(rec.audioFrames, 150);
    const p = probe(path);
    const video = p.streams.filter((s) => s.codec_type === 'video');
    const audio = p.streams.filter((s) => s.codec_type === 'audio');
    assert.equal(video.length, 1);
    assert.equal(audio.length, 1);
    assert.equal(video[0].codec_name, 'vp8');
    assert.equal(video[0].width, W);
    assert.equal(audio[0].codec_name, 'opus');
    assert.match(p.format.format_name, /webm|matroska/);
    const duration = Number(p.format.duration);
    assert.ok(Math.abs(duration - 3) <= 0.5, `duration ${duration} s`);
    assert.deepEqual(await rec.stop(), out, 'stop() twice gives the same answer');
    // and it decodes cleanly from start to end
    const check = spawnSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 'null', '-'], { encoding: 'utf8' });
    assert.equal(check.status, 0);
    assert.equal(check.stderr.trim(), '');
    console.log(`# recording: ${out.bytes} bytes, ${duration} s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('video before the first keyframe is skipped; a dead ffmpeg is reported and stop() rejects', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-rec-'));
  try {
    const errors: Error[] = [];
    const rec = new WebmRecorder({ path: join(dir, 'x.webm'), width: 160, height: 96, onExit: (e) => errors.push(e) });
    rec.video(Uint8Array.of(0x01, 0, 0, 1, 2, 3), false, 0); // an interframe: skipped
    rec.audio(new Int16Array(960)); // before any keyframe: skipped too
    assert.equal(rec.videoFrames, 0);
    assert.equal(rec.audioFrames, 0);
    process.kill(rec.pid as number, 'SIGKILL');
    const t = Date.now();
    while (errors.length === 0 && Date.now() - t < 2000) await sleep(10);
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as Error & { code: string }).code, 'SB_ERR_CODEC_EXITED');
    rec.video(Uint8Array.of(0x10, 0, 0, 0x9d, 1, 0x2a, 160, 0, 96, 0), true, 0); // no throw
    await assert.rejects(rec.stop(), (e: Error & { code: string }) => e.code === 'SB_ERR_RECORDER_FAILED');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
