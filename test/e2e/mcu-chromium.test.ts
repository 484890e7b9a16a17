/**
 * End to end: MCU rooms with the browser SDK in headless Chromium. Each participant publishes a
 * solid-colour canvas and a sine tone (test/helpers/mcu-page.ts); the server decodes them, composes
 * one grid picture for the room and mixes audio N-1, so every participant receives one video and
 * one audio track, from a virtual participant 'mcu'. What arrives is checked by content: the
 * colours, each in a separate region of the decoded picture (grid positions are not fixed), and
 * the tones in the decoded audio's spectrum (everyone's but one's own). Plus a recording of the
 * composed room (ffprobe, a frame and the audio of the file) and a 5th participant without video.
 *
 * The server runs at 640x360, 15 fps (SWITCHBOARD_MCU_*) to spare the CPU.
 *
 * MCU_E2E_MODE=sfu-baseline runs, instead, the same detectors on an SFU room (each received track is
 * one participant's colour / tone): the control that shows they work on real decoded Chromium
 * media; MCU_E2E_MODE=both runs both.
 */
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { chromiumSkipReason } from '../helpers/chromium.js';
import {
  FOUR,
  PALETTE,
  TONES,
  TONE_5,
  colourRegions,
  compositeProblems,
  counts,
  describeGrid,
  describeSpectrum,
  ffprobe,
  fileFrameGrid,
  fileToneLevels,
  grid,
  grids,
  inbound,
  joinPage,
  framesSeen,
  spectrum,
  spectrumProblems,
  transceivers,
  type Grid,
  type Spectrum,
} from '../helpers/mcu-page.js';
import { startServeWithBrowser, waitFor, type ServeWithBrowser } from '../helpers/switchboard.js';

const skip = chromiumSkipReason();
const MODE = process.env.MCU_E2E_MODE ?? 'mcu';
const skipMcu = skip || (MODE === 'mcu' || MODE === 'both' ? false : `MCU_E2E_MODE=${MODE}`);
const skipBaseline = skip || (MODE === 'sfu-baseline' || MODE === 'both' ? false : 'the SFU baseline runs with MCU_E2E_MODE=sfu-baseline (or both)');
const W = 640;
const H = 360;
const MCU_ENV = { SWITCHBOARD_MCU_WIDTH: String(W), SWITCHBOARD_MCU_HEIGHT: String(H), SWITCHBOARD_MCU_FPS: '15' };
const COLOURS = Object.keys(PALETTE);
const MCU = { from: 'mcu' };
const ALL_TONES = [...TONES, TONE_5];

/** Grid of the composed picture plus what is wrong with it, for waitFor (its error prints the last value). */
async function composite(page: Page, exp: Parameters<typeof compositeProblems>[1]): Promise<{ g: Grid; problems: string[]; view: string }> {
  const g = await grid(page, MCU);
  const problems = compositeProblems(g, exp);
  return { g, problems, view: describeGrid(g, problems) };
}

describe('MCU rooms in Chromium', { skip: skipMcu }, () => {
  let env: ServeWithBrowser;
  const ROOM = 'mcu-four';
  const pages: Page[] = [];

  before(async () => {
    env = await startServeWithBrowser(MCU_ENV);
    const created = await env.admin('POST', '/api/rooms', { name: ROOM, topology: 'mcu' });
    assert.equal(created.status, 201, `creating an MCU room: ${JSON.stringify(created.json)}`);
    assert.equal(created.json.room.topology, 'mcu');
    for (const spec of FOUR) pages.push(await joinPage(env, ROOM, spec));
  }, { timeout: 240_000 });
  after(async () => {
    await env?.stop();
  });

  test('4 participants: each receives exactly one audio and one video track, from the mcu', { timeout: 240_000 }, async () => {
    for (const [i, page] of pages.entries()) {
      const c = await waitFor(`${FOUR[i]!.identity} subscribed to 1 video + 1 audio`, () => counts(page), (c) => c.video >= 1 && c.audio >= 1, 60_000);
      assert.deepEqual(c.tracks.map((t) => t.from), ['mcu', 'mcu'], `${FOUR[i]!.identity}: tracks come from the virtual participant 'mcu': ${JSON.stringify(c.tracks)}`);
    }
    for (const [i, page] of pages.entries()) {
      const who = FOUR[i]!.identity;
      const s = await waitFor(
        `${who} decodes the composed video and plays the mixed audio`,
        () => inbound(page),
        (s) => s.some((x) => x.kind === 'video' && x.framesDecoded > 15) && s.some((x) => x.kind === 'audio' && x.samples > 48_000 && x.audioEnergy > 0),
        60_000,
      );
      const video = s.filter((x) => x.kind === 'video');
      const audio = s.filter((x) => x.kind === 'audio');
      assert.equal(video.length, 1, `${who}: one video inbound-rtp, got ${JSON.stringify(video)}`);
      assert.equal(audio.length, 1, `${who}: one audio inbound-rtp, got ${JSON.stringify(audio)}`);
      assert.equal(video[0]!.conn, audio[0]!.conn, 'both on the same (subscriber) connection');
      if (s.some((x) => x.conn === 'subscriber')) assert.equal(video[0]!.conn, 'subscriber');
      assert.equal(video[0]!.codec.toLowerCase(), 'video/vp8');
      assert.equal(audio[0]!.codec.toLowerCase(), 'audio/opus');
      assert.equal(video[0]!.frameWidth, W, `the composed picture is ${W} wide`);
      assert.equal(video[0]!.frameHeight, H, `and ${H} high`);
      // and the composed frames reach the video track the SDK handed to the application
      const seen = await framesSeen(page, { from: 'mcu' }, 10, 10_000);
      assert.equal(seen.frames, 10, `${who}: the mcu's video track delivered ${seen.frames} frames in 10 s to the application`);
      assert.deepEqual([seen.width, seen.height], [W, H]);
      // the receivers that carry media: exactly one of each kind
      const recv = (await transceivers(page)).filter((t) => t.currentDirection === 'recvonly' || t.currentDirection === 'sendrecv');
      assert.equal(recv.filter((t) => t.kind === 'video').length, 1, `${who}: receiving video transceivers ${JSON.stringify(recv)}`);
      assert.equal(recv.filter((t) => t.kind === 'audio').length, 1, `${who}: receiving audio transceivers ${JSON.stringify(recv)}`);
      const c = await counts(page);
      assert.equal(c.video, 1, `${who}: still one video track`);
      assert.equal(c.audio, 1, `${who}: still one audio track`);
    }
  });

  test('the composed picture: everyone\'s colour in its own separate region, at 640x360, for each receiver', { timeout: 240_000 }, async () => {
    for (const [i, page] of pages.entries()) {
      const who = FOUR[i]!.identity;
      const { g } = await waitFor(
        `${who} sees the 4 colours in 4 separate regions`,
        () => composite(page, { present: COLOURS, width: W, height: H, minCells: 9 }),
        (v) => v.problems.length === 0,
        60_000,
      );
      // a tile of a 2x2 grid at 640x360 is about 310x174: about a quarter of the 16x16 cells each
      const regions = colourRegions(g);
      for (const name of COLOURS) {
        const r = regions[name]!;
        assert.ok(r.components[0]! >= 30 && r.components[0]! <= 72, `${who}: ${name} covers ${r.components[0]} cells, not about a quarter of 256: ${describeGrid(g)}`);
      }
    }
  });

  test('N-1 audio: each hears the other three tones well above the floor and not its own', { timeout: 240_000 }, async () => {
    for (const [i, page] of pages.entries()) {
      const who = FOUR[i]!.identity;
      const own = TONES[i]!;
      const others = TONES.filter((f) => f !== own);
      const { s, problems } = await waitFor(
        `${who} hears ${others.join(', ')} Hz and not ${own} Hz`,
        async () => {
          const list = await spectrum(page, MCU, TONES, 1000);
          const s = list[0] as Spectrum | undefined;
          const problems = list.length !== 1 ? [`${list.length} audio tracks`] : spectrumProblems(s!, TONES, { heard: others, silent: [own], aboveFloorDb: 20, belowDb: 20 });
          return { s, problems, view: s ? describeSpectrum(s, TONES) : 'no audio' };
        },
        (v) => v.problems.length === 0,
        45_000,
      );
      assert.deepEqual(problems, []);
      console.log(`  ${who} ${describeSpectrum(s!, TONES)}`);
    }
  });

  test('recording the composed room: a WebM with VP8 + Opus, its duration, picture and sound', { timeout: 240_000 }, async () => {
    const start = await env.admin('POST', `/api/rooms/${ROOM}/recording`, {});
    assert.equal(start.status, 201, `start recording: ${JSON.stringify(start.json)}`);
    assert.equal(typeof start.json.path, 'string');
    await new Promise((r) => setTimeout(r, 6000)); // the recording's length is the point
    const stop = await env.admin('DELETE', `/api/rooms/${ROOM}/recording`);
    assert.equal(stop.status, 200, `stop recording: ${JSON.stringify(stop.json)}`);
    const { path, bytes, durationMs } = stop.json as { path: string; bytes: number; durationMs: number };
    assert.equal(path, start.json.path);
    assert.ok(durationMs >= 4500 && durationMs <= 9000, `durationMs ${durationMs} for ~6 s`);
    await waitFor('the recording file is complete', async () => (existsSync(path) ? statSync(path).size : -1), (n) => n === bytes, 10_000);
    const probe = ffprobe(path);
    const video = probe.streams.filter((s) => s.codec_type === 'video');
    const audio = probe.streams.filter((s) => s.codec_type === 'audio');
    assert.equal(video.length, 1, `one video stream: ${JSON.stringify(probe.streams)}`);
    assert.equal(audio.length, 1, `one audio stream: ${JSON.stringify(probe.streams)}`);
    assert.equal(video[0]!.codec_name, 'vp8');
    assert.equal(audio[0]!.codec_name, 'opus');
    assert.match(probe.format.format_name, /webm|matroska/);
    assert.equal(video[0]!.width, W);
    assert.equal(video[0]!.height, H);
    const duration = Number(probe.format.duration);
    assert.ok(Number.isFinite(duration), `ffprobe finds a duration: ${JSON.stringify(probe.format)}`);
    assert.ok(Math.abs(duration * 1000 - durationMs) <= 1500, `file duration ${duration} s vs durationMs ${durationMs}`);
    // what is in it: the composed picture (4 colours, separate) and the mix of all four tones
    const frame = fileFrameGrid(path, Math.min(3, duration / 2));
    assert.deepEqual(compositeProblems(frame, { present: COLOURS, minCells: 9 }), [], `recorded frame: ${describeGrid(frame)}`);
    const sound = fileToneLevels(path, 1, Math.min(3, duration - 1.5), TONES);
    for (const [k, f] of TONES.entries()) assert.ok(sound.tones[k]! - sound.floor >= 20, `recording: ${f} Hz at ${sound.tones[k]!.toFixed(1)} dB, floor ${sound.floor.toFixed(1)} dB`);
    const again = await env.admin('DELETE', `/api/rooms/${ROOM}/recording`);
    assert.ok(again.status >= 400, `stopping twice is an error (${again.status})`);
  });

  test('a 5th participant with its camera off gets a placeholder tile: 5 tiles, the 4 colours still there, its audio mixed', { timeout: 240_000 }, async () => {
    const [p0] = pages as [Page];
    const before = await waitFor('p0 sees 4 tiles', () => composite(p0, { present: COLOURS, width: W, height: H, minCells: 9 }), (v) => v.problems.length === 0, 30_000);
    const width4 = Object.fromEntries(COLOURS.map((n) => [n, colourRegions(before.g)[n]!.box.c1 - colourRegions(before.g)[n]!.box.c0 + 1]));
    const fifth = await joinPage(env, ROOM, { identity: 'p4-audio-only', color: null, tone: TONE_5 });
    // the tiles shrink (a 3x2 grid at 640x360: about 208x117, 5 cells of 40 px wide instead of 7-8)
    const { g } = await waitFor(
      'p0 sees the 4 colours in smaller, separate tiles',
      async () => {
        const v = await composite(p0, { present: COLOURS, width: W, height: H, minCells: 4 });
        const regions = colourRegions(v.g);
        for (const n of COLOURS) {
          const r = regions[n];
          if (r && r.box.c1 - r.box.c0 + 1 >= width4[n]!) v.problems.push(`${n} is ${r.box.c1 - r.box.c0 + 1} cells wide, as wide as with 4 tiles`);
        }
        return v;
      },
      (v) => v.problems.length === 0,
      45_000,
    );
    console.log(`  p0 with 5 participants: ${describeGrid(g)}`);
    for (const [i, page] of pages.entries()) {
      const c = await counts(page);
      assert.deepEqual([c.video, c.audio], [1, 1], `${FOUR[i]!.identity} still receives one video + one audio track: ${JSON.stringify(c.tracks)}`);
    }
    const c = await waitFor('the 5th receives 1 video + 1 audio', () => counts(fifth), (c) => c.video === 1 && c.audio === 1, 30_000);
    assert.deepEqual(c.tracks.map((t) => t.from).sort(), ['mcu', 'mcu']);
    await waitFor('the 5th sees the 4 colours too', () => composite(fifth, { present: COLOURS, width: W, height: H, minCells: 4 }), (v) => v.problems.length === 0, 45_000);
    // its audio is mixed for the others (and not for itself)
    await waitFor(
      'p0 hears the 5th participant',
      async () => {
        const s = (await spectrum(p0, MCU, ALL_TONES, 1000))[0];
        return { problems: s ? spectrumProblems(s, ALL_TONES, { heard: [TONES[1], TONES[2], TONES[3], TONE_5], silent: [TONES[0]] }) : ['no audio'], view: s ? describeSpectrum(s, ALL_TONES) : '' };
      },
      (v) => v.problems.length === 0,
      30_000,
    );
    await waitFor(
      'the 5th hears the four and not itself',
      async () => {
        const s = (await spectrum(fifth, MCU, ALL_TONES, 1000))[0];
        return { problems: s ? spectrumProblems(s, ALL_TONES, { heard: TONES, silent: [TONE_5] }) : ['no audio'], view: s ? describeSpectrum(s, ALL_TONES) : '' };
      },
      (v) => v.problems.length === 0,
      30_000,
    );
    await fifth.close();
  });
});

// The detectors' own check on an SFU room (each track one colour, one tone); registered only when asked for
// (MCU_E2E_MODE=sfu-baseline or both), so the suite never reports it as skipped.
if (skipBaseline === false) describe('harness baseline: the same detectors on an SFU room', { skip: skipBaseline }, () => {
  let env: ServeWithBrowser;
  const ROOM = 'baseline-sfu';
  const pages: Page[] = [];
  before(async () => {
    env = await startServeWithBrowser(MCU_ENV);
    const created = await env.admin('POST', '/api/rooms', { name: ROOM, topology: 'sfu' });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    for (const spec of FOUR) pages.push(await joinPage(env, ROOM, spec));
  }, { timeout: 240_000 });
  after(async () => {
    await env?.stop();
  });

  test('each receives 3 videos of the others\' colours and 3 audio tracks of the others\' tones', { timeout: 240_000 }, async () => {
    for (const [i, page] of pages.entries()) {
      const me = FOUR[i]!;
      const others = FOUR.filter((p) => p !== me);
      await waitFor(`${me.identity} subscribed to 3 video + 3 audio`, () => counts(page), (c) => c.video === 3 && c.audio === 3, 60_000);
      const s = await waitFor(`${me.identity} decodes 3 videos`, () => inbound(page), (s) => s.filter((x) => x.kind === 'video' && x.framesDecoded > 15).length === 3, 60_000);
      assert.equal(s.filter((x) => x.kind === 'audio').length, 3);
      const recv = (await transceivers(page)).filter((t) => t.currentDirection === 'recvonly');
      assert.deepEqual([recv.filter((t) => t.kind === 'video').length, recv.filter((t) => t.kind === 'audio').length], [3, 3], JSON.stringify(recv));
      // each video: all one colour, the sender's
      await waitFor(
        `${me.identity} sees each sender's colour`,
        async () => {
          const gs = await grids(page);
          const problems: string[] = [];
          for (const g of gs) {
            const sender = FOUR.find((p) => p.identity === g.from)!;
            const colour = COLOURS[FOUR.indexOf(sender)]!;
            problems.push(...compositeProblems(g, { present: [colour], absent: COLOURS.filter((c) => c !== colour), minCells: 200 }).map((p) => `${g.from}: ${p}`));
          }
          if (gs.length !== 3) problems.push(`${gs.length} videos`);
          return { problems, view: gs.map((g) => describeGrid(g)).join(' | ') };
        },
        (v) => v.problems.length === 0,
        60_000,
      );
      // each audio track: the sender's tone and no other
      const { list } = await waitFor(
        `${me.identity} hears each sender's tone on its track`,
        async () => {
          const list = await spectrum(page, undefined, TONES, 1000);
          const problems: string[] = [];
          for (const s of list) {
            const tone = others.find((p) => p.identity === s.from)!.tone!;
            problems.push(...spectrumProblems(s, TONES, { heard: [tone], silent: TONES.filter((f) => f !== tone) }).map((p) => `${s.from}: ${p}`));
          }
          if (list.length !== 3) problems.push(`${list.length} audio tracks`);
          return { list, problems, view: list.map((s) => describeSpectrum(s, TONES)).join(' | ') };
        },
        (v) => v.problems.length === 0,
        45_000,
      );
      for (const s of list) console.log(`  ${me.identity} <- ${describeSpectrum(s, TONES)}`);
    }
  });
});
