/**
 * Browser-side harness for MCU rooms (and, as a baseline, SFU rooms), plus the Node-side analysis
 * of what the pages measure.
 *
 * In the page (MCU_PAGE_SETUP, plain JavaScript: see test/helpers/chromium.ts on why), `window.mcu`:
 * - join(room, identity, { color, tone, ... }) publishes a canvas.captureStream() of one solid
 *   colour (redrawn every frame) and a WebAudio oscillator tone (straight to publishTrack, no
 *   getUserMedia processing), and plays every received track (<video>/<audio>, so Chromium decodes);
 * - grid(sel) draws a received video at its native size and returns the average colour of each
 *   cell of a coarse grid; spectrum(sel, freqs, ms) averages an AnalyserNode's spectrum (fftSize
 *   8192, no smoothing) over `ms` and returns the level at each tone and the noise floor;
 * - setColor / setTone change what is published and return when (performance.timeOrigin +
 *   performance.now(): one clock for every page of the browser); watchVideo / watchAudio wait on
 *   the receiving side for the change (decoded frames from a MediaStreamTrackProcessor; 10 ms
 *   analyser polls).
 * Node side: compositeProblems() (which colours are in which separate regions), spectrumProblems(),
 * percentiles, and decoding a recording's frame/audio through ffmpeg.
 */
import { execFileSync } from 'node:child_process';
import type { Page } from 'playwright-core';
import assert from 'node:assert/strict';
import { waitFor, type ServeWithBrowser } from './switchboard.js';
import { TRACK_FRAMES_JS, type FramesSeen } from './track-frames.js';

export type { FramesSeen };

export type RGB = readonly [number, number, number];

/** Far apart in RGB and still after BT.601 4:2:0 + VP8 at a low bitrate. */
export const PALETTE: Record<string, RGB> = {
  red: [255, 0, 0],
  green: [0, 255, 0],
  blue: [0, 0, 255],
  yellow: [255, 255, 0],
};

/**
 * Tone frequencies (Hz), one per participant: every 2nd/3rd harmonic and every a±b, 2a±b
 * intermodulation product of the set is at least 170 Hz (29 bins of 5.9 Hz) from each tone, so
 * mixing/clipping artefacts cannot pose as a participant.
 */
export const TONES = [690, 1030, 1550, 1890] as const;
/** A tone for a 5th participant (products with the four above are ≥ 90 Hz away from them). */
export const TONE_5 = 2330;

export interface ParticipantSpec {
  identity: string;
  /** Solid colour of the published video; null = no video (camera off). */
  color: RGB | null;
  /** Frequency of the published tone; null = no audio. */
  tone: number | null;
  /** Peak amplitude of the tone (default 0.1 = -20 dBFS, so 4 summed cannot clip). */
  toneGain?: number;
  /** Start with the tone silent (the track is published either way). */
  toneOff?: boolean;
}

export const FOUR: ParticipantSpec[] = Object.keys(PALETTE).map((name, i) => ({ identity: `p${i}-${name}`, color: PALETTE[name]!, tone: TONES[i]! }));

/** Which received track: by the sender's identity and/or the publication sid (default: the first live one). */
export interface TrackSel {
  from?: string;
  pub?: string;
}

export const MCU_PAGE_SETUP = TRACK_FRAMES_JS + `
window.mcu = (() => {
  const S = { tracks: [], topology: null, errors: [] };
  window.mcuState = S;
  let room = null;
  let actx = null;
  const local = { canvas: null, ctx: null, color: null, timer: null, gain: null, toneGain: 0.1, fps: 15, frames: 0 };
  const watches = new Map();
  let watchSeq = 0;
  const now = () => performance.timeOrigin + performance.now();
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const audioCtx = () => {
    if (!actx) actx = new AudioContext({ sampleRate: 48000, latencyHint: 'interactive' });
    if (actx.state !== 'running') actx.resume().catch(() => {});
    return actx;
  };
  const css = (c) => 'rgb(' + c[0] + ',' + c[1] + ',' + c[2] + ')';
  const draw = () => {
    local.ctx.fillStyle = css(local.color);
    local.ctx.fillRect(0, 0, local.canvas.width, local.canvas.height);
    local.frames++;
  };
  const scratch = {};
  const canvasOf = (key, w, h) => {
    let c = scratch[key];
    if (!c) {
      const el = document.createElement('canvas');
      c = scratch[key] = { el, ctx: el.getContext('2d', { willReadFrequently: true }) };
    }
    if (c.el.width !== w) c.el.width = w;
    if (c.el.height !== h) c.el.height = h;
    return c;
  };
  const live = (kind, sel) => S.tracks.filter((t) => t.kind === kind && !t.ended && t.track.readyState === 'live'
    && (!sel || ((!sel.from || t.from === sel.from) && (!sel.pub || t.pub === sel.pub))));
  const pick = (kind, sel) => live(kind, sel)[0] || null;

  async function join(roomName, identity, o) {
    o = o || {};
    const { Room } = await import('/sdk/switchboard.js');
    const res = await fetch('/api/dev/token?room=' + encodeURIComponent(roomName) + '&identity=' + encodeURIComponent(identity));
    if (!res.ok) throw new Error('token: HTTP ' + res.status + ' ' + (await res.text()));
    const { token } = await res.json();
    room = await Room.connect(location.origin, token, o.connect || {});
    window.sbRoom = room;
    S.topology = room.topology;
    room.on('trackSubscribed', (track, pub, p) => {
      // played out, so it is decoded (Chromium pulls remote audio only for a sink)
      const el = document.createElement(track.kind === 'video' ? 'video' : 'audio');
      el.autoplay = true;
      if (track.kind === 'video') { el.muted = true; el.playsInline = true; el.style.width = '160px'; }
      el.srcObject = new MediaStream([track]);
      document.body.appendChild(el);
      el.play().catch((e) => S.errors.push('play: ' + e.message));
      S.tracks.push({ kind: track.kind, pub: pub.sid, from: p.identity, track, el, at: now(), ended: false });
    });
    room.on('trackUnsubscribed', (track) => {
      for (const t of S.tracks) if (t.track === track && !t.ended) { t.ended = true; t.el.remove(); }
    });
    if (o.color) {
      const w = o.width || 320, h = o.height || 180;
      local.fps = o.fps || 15;
      local.canvas = document.createElement('canvas');
      local.canvas.width = w; local.canvas.height = h;
      local.canvas.style.width = '80px';
      document.body.appendChild(local.canvas);
      local.ctx = local.canvas.getContext('2d');
      local.color = o.color;
      draw();
      // redraw every frame: captureStream emits a frame only when the canvas was painted
      local.timer = setInterval(draw, Math.round(1000 / local.fps));
      const track = local.canvas.captureStream(local.fps).getVideoTracks()[0];
      await room.localParticipant.publishTrack(track, { source: 'camera' });
    }
    if (o.tone) {
      const ctx = audioCtx();
      const osc = ctx.createOscillator();
      osc.type = 'sine';
      osc.frequency.value = o.tone;
      local.toneGain = o.toneGain === undefined ? 0.1 : o.toneGain;
      local.gain = ctx.createGain();
      local.gain.gain.value = o.toneOff ? 0 : local.toneGain;
      const dest = ctx.createMediaStreamDestination();
      osc.connect(local.gain).connect(dest);
      osc.start();
      await room.localParticipant.publishTrack(dest.stream.getAudioTracks()[0], { source: 'microphone' });
    }
    return { sid: room.localParticipant.sid, topology: room.topology };
  }

  function counts() {
    const l = S.tracks.filter((t) => !t.ended && t.track.readyState === 'live');
    return {
      video: l.filter((t) => t.kind === 'video').length,
      audio: l.filter((t) => t.kind === 'audio').length,
      tracks: l.map((t) => ({ kind: t.kind, from: t.from, pub: t.pub })),
      everSubscribed: S.tracks.length,
      localFrames: local.frames,
      audioState: actx ? actx.state : null,
      errors: S.errors.slice(-5),
    };
  }

  /** inbound-rtp of every connection of the engine (SFU/MCU: 'publisher' and 'subscriber'). */
  async function inbound() {
    const stats = await room.getStats();
    const out = [];
    stats.forEach((report, conn) => report.forEach((r) => {
      if (r.type !== 'inbound-rtp') return;
      out.push({ conn, kind: r.kind, ssrc: r.ssrc, mid: r.mid || null, codec: (report.get(r.codecId) || {}).mimeType || '',
        packetsReceived: r.packetsReceived || 0, packetsLost: r.packetsLost || 0, bytesReceived: r.bytesReceived || 0,
        framesDecoded: r.framesDecoded || 0, frameWidth: r.frameWidth || 0, frameHeight: r.frameHeight || 0,
        samples: r.totalSamplesReceived || 0, audioEnergy: r.totalAudioEnergy || 0,
        jitterBufferDelay: r.jitterBufferDelay || 0, jitterBufferEmittedCount: r.jitterBufferEmittedCount || 0 });
    }));
    return out;
  }

  /** Transceivers of the engine's peer connections (found by type, whatever the engine calls them). */
  function receivers() {
    const e = room && room._engine;
    const out = [];
    if (!e) return out;
    const pcs = [];
    for (const k of Object.keys(e)) {
      const v = e[k];
      if (v instanceof RTCPeerConnection) pcs.push([k, v]);
      else if (v instanceof Map) v.forEach((x, mk) => { if (x instanceof RTCPeerConnection) pcs.push([k + ':' + mk, x]); else if (x && x.pc instanceof RTCPeerConnection) pcs.push([k + ':' + mk, x.pc]); });
    }
    for (const [conn, pc] of pcs) {
      for (const t of pc.getTransceivers()) {
        out.push({ conn, mid: t.mid, kind: t.receiver.track.kind, direction: t.direction, currentDirection: t.currentDirection, track: t.receiver.track.readyState, muted: t.receiver.track.muted });
      }
    }
    return out;
  }

  function averages(d, w, h, cols, rows) {
    const cells = [];
    for (let r = 0; r < rows; r++) {
      const y0 = Math.floor(r * h / rows), y1 = Math.floor((r + 1) * h / rows);
      for (let c = 0; c < cols; c++) {
        const x0 = Math.floor(c * w / cols), x1 = Math.floor((c + 1) * w / cols);
        let sr = 0, sg = 0, sb = 0, n = 0;
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) { const i = (y * w + x) * 4; sr += d[i]; sg += d[i + 1]; sb += d[i + 2]; n++; }
        }
        cells.push(Math.round(sr / Math.max(n, 1)), Math.round(sg / Math.max(n, 1)), Math.round(sb / Math.max(n, 1)));
      }
    }
    return cells;
  }

  /** The current frame of a received video: average colour of cols x rows cells, row-major, r,g,b flat. */
  function grid(sel, cols, rows) {
    cols = cols || 16; rows = rows || 16;
    const t = pick('video', sel);
    if (!t) return { width: 0, height: 0, cols, rows, cells: [], reason: 'no live video track' };
    const v = t.el, w = v.videoWidth, h = v.videoHeight;
    if (!w || !h) return { width: 0, height: 0, cols, rows, cells: [], from: t.from, reason: 'no frame yet (paused=' + v.paused + ')' };
    const c = canvasOf('grid', w, h);
    c.ctx.drawImage(v, 0, 0, w, h);
    return { from: t.from, pub: t.pub, width: w, height: h, cols, rows, cells: averages(c.ctx.getImageData(0, 0, w, h).data, w, h, cols, rows) };
  }
  function grids(cols, rows) {
    return live('video').map((t) => grid({ pub: t.pub }, cols, rows));
  }

  const nodes = new Map();
  function analyser(t, fftSize) {
    const ctx = audioCtx();
    let n = nodes.get(t.track);
    if (!n) { n = { src: ctx.createMediaStreamSource(new MediaStream([t.track])), by: {} }; nodes.set(t.track, n); }
    if (!n.by[fftSize]) {
      const a = ctx.createAnalyser();
      a.fftSize = fftSize;
      a.smoothingTimeConstant = 0;
      n.src.connect(a);
      n.by[fftSize] = a;
    }
    return n.by[fftSize];
  }

  /** Per received audio track: mean power spectrum over ms, the dB at each tone (peak within ±2 bins) and the floor (median 100..4000 Hz away from the tones). */
  async function spectrum(sel, freqs, ms) {
    const list = live('audio', sel);
    const ctx = audioCtx();
    const fft = 8192;
    const an = list.map((t) => analyser(t, fft));
    const bins = fft / 2;
    const sums = an.map(() => new Float64Array(bins));
    const buf = new Float32Array(bins);
    let frames = 0;
    const end = performance.now() + ms;
    for (;;) {
      an.forEach((a, i) => { a.getFloatFrequencyData(buf); const s = sums[i]; for (let k = 0; k < bins; k++) s[k] += Math.pow(10, buf[k] / 10); });
      frames++;
      if (performance.now() >= end) break;
      await sleep(50);
    }
    const sr = ctx.sampleRate, hz = sr / fft;
    const db = (p) => (p > 0 ? Math.max(-200, 10 * Math.log10(p / frames)) : -200);
    return list.map((t, i) => {
      const s = sums[i];
      const tones = freqs.map((f) => { const b = Math.round(f / hz); let m = 0; for (let k = b - 2; k <= b + 2; k++) m = Math.max(m, s[k] || 0); return Math.round(db(m) * 10) / 10; });
      const rest = [];
      for (let k = Math.ceil(100 / hz); k <= Math.floor(4000 / hz); k++) {
        if (freqs.some((f) => Math.abs(k - f / hz) <= 8)) continue;
        rest.push(db(s[k]));
      }
      rest.sort((a, b) => a - b);
      return { from: t.from, pub: t.pub, tones, floor: Math.round(rest[Math.floor(rest.length / 2)] * 10) / 10, sampleRate: sr, frames, state: ctx.state };
    });
  }

  function setColor(c) { local.color = c; draw(); return now(); }
  function setTone(on) { const ctx = audioCtx(); local.gain.gain.setValueAtTime(on ? local.toneGain : 0, ctx.currentTime); return now(); }
  function setToneGain(g) { local.toneGain = g; return true; }

  /**
   * Waits for the region (fractions x0,y0,x1,y1 of the frame) of a received video to average
   * within tol of target; returns an id for result(id). Frames are read as they leave the decoder
   * (MediaStreamTrackProcessor on a clone of the track), not from the <video> element: Chromium
   * throttles requestAnimationFrame / requestVideoFrameCallback to ~1 Hz in some of a headless
   * browser's pages (seen with 4 pages), while decoding and timers go on at full rate.
   */
  function watchVideo(sel, region, target, tol, timeoutMs) {
    const t = pick('video', sel);
    const id = ++watchSeq;
    if (!t) { watches.set(id, Promise.resolve({ ok: false, reason: 'no live video track' })); return id; }
    const clone = t.track.clone();
    const reader = new MediaStreamTrackProcessor({ track: clone }).readable.getReader();
    const oc = new OffscreenCanvas(16, 16);
    const octx = oc.getContext('2d', { willReadFrequently: true });
    watches.set(id, new Promise((resolve) => {
      let frames = 0, last = null, done = false;
      const finish = (r) => { if (done) return; done = true; clearTimeout(timer); reader.cancel().catch(() => {}); clone.stop(); resolve(r); };
      const timer = setTimeout(() => finish({ ok: false, reason: 'timeout', frames, last }), timeoutMs);
      (async () => {
        while (!done) {
          const { value: frame, done: end } = await reader.read();
          if (end || done) { if (frame) frame.close(); break; }
          const at = now();
          frames++;
          const w = frame.displayWidth, h = frame.displayHeight;
          const sx = Math.floor(region.x0 * w), sy = Math.floor(region.y0 * h);
          const sw = Math.max(1, Math.floor((region.x1 - region.x0) * w)), sh = Math.max(1, Math.floor((region.y1 - region.y0) * h));
          octx.drawImage(frame, sx, sy, sw, sh, 0, 0, 16, 16);
          let meta = {};
          try { meta = frame.metadata ? frame.metadata() : {}; } catch (e) { meta = {}; }
          frame.close();
          const d = octx.getImageData(0, 0, 16, 16).data;
          let r = 0, g = 0, b = 0;
          for (let i = 0; i < d.length; i += 4) { r += d[i]; g += d[i + 1]; b += d[i + 2]; }
          last = [Math.round(r / 256), Math.round(g / 256), Math.round(b / 256)];
          if (Math.hypot(last[0] - target[0], last[1] - target[1], last[2] - target[2]) <= tol) {
            finish({ ok: true, t: at, received: typeof meta.receiveTime === 'number' ? performance.timeOrigin + meta.receiveTime : null, frames, last });
          }
        }
      })().catch((e) => finish({ ok: false, reason: 'reader: ' + e.message, frames, last }));
    }));
    return id;
  }

  /**
   * Waits for a tone at freq (amplitude over the last 10 ms ≥ threshold) in a received audio
   * track, polling a 2048-sample analyser every 10 ms; the onset is refined inside the buffer
   * (the 2 ms block after the last one below threshold/2). Returns an id for result(id).
   */
  function watchAudio(sel, freq, threshold, timeoutMs) {
    const t = pick('audio', sel);
    const id = ++watchSeq;
    if (!t) { watches.set(id, Promise.resolve({ ok: false, reason: 'no live audio track' })); return id; }
    const a = analyser(t, 2048);
    const sr = audioCtx().sampleRate;
    const buf = new Float32Array(2048);
    const goertzel = (start, n) => {
      const w = 2 * Math.PI * freq / sr, k = 2 * Math.cos(w);
      let s1 = 0, s2 = 0;
      for (let i = 0; i < n; i++) { const s0 = buf[start + i] + k * s1 - s2; s2 = s1; s1 = s0; }
      return 2 * Math.sqrt(Math.max(0, s1 * s1 + s2 * s2 - k * s1 * s2)) / n;
    };
    watches.set(id, new Promise((resolve) => {
      let polls = 0, last = 0;
      const started = performance.now();
      const timer = setInterval(() => {
        const pollAt = now();
        a.getFloatTimeDomainData(buf);
        polls++;
        const n10 = Math.round(sr / 100);
        last = goertzel(buf.length - n10, n10);
        if (last >= threshold) {
          clearInterval(timer);
          const blk = Math.round(sr / 500);
          let onset = 0;
          for (let s = buf.length - blk; s >= 0; s -= blk) {
            let e = 0;
            for (let i = s; i < s + blk; i++) e += buf[i] * buf[i];
            if (Math.sqrt(2 * e / blk) < threshold / 2) { onset = s + blk; break; }
          }
          resolve({ ok: true, poll: pollAt, t: pollAt - ((buf.length - onset) / sr) * 1000, amplitude: last, polls });
        } else if (performance.now() - started > timeoutMs) {
          clearInterval(timer);
          resolve({ ok: false, reason: 'timeout', amplitude: last, polls });
        }
      }, 10);
    }));
    return id;
  }

  /** Tone amplitude (Goertzel over the last 20 ms) in a received audio track, now. */
  function toneLevel(sel, freq) {
    const t = pick('audio', sel);
    if (!t) return -1;
    const a = analyser(t, 2048);
    const sr = audioCtx().sampleRate;
    const buf = new Float32Array(2048);
    a.getFloatTimeDomainData(buf);
    const n = Math.round(sr / 50), start = buf.length - n;
    const w = 2 * Math.PI * freq / sr, k = 2 * Math.cos(w);
    let s1 = 0, s2 = 0;
    for (let i = 0; i < n; i++) { const s0 = buf[start + i] + k * s1 - s2; s2 = s1; s1 = s0; }
    return 2 * Math.sqrt(Math.max(0, s1 * s1 + s2 * s2 - k * s1 * s2)) / n;
  }

  /** Frames reaching a received video track as the application holds it (track-frames.ts). */
  async function frames(sel, n, timeoutMs) {
    const t = pick('video', sel);
    if (!t) return { frames: 0, width: 0, height: 0, centre: null, ms: 0, reason: 'no live video track' };
    return { from: t.from, pub: t.pub, ...(await window.sbFrames(t.track, n, timeoutMs)) };
  }

  async function result(id) { const p = watches.get(id); watches.delete(id); return p ? await p : { ok: false, reason: 'unknown watch ' + id }; }

  return { join, counts, inbound, receivers, grid, grids, spectrum, setColor, setTone, setToneGain, watchVideo, watchAudio, toneLevel, frames, result, now };
})();
true;
`;

// ---- Node side: driving pages ------------------------------------------------------------

export interface JoinOptions {
  /** Published canvas size (default 320x180) and frame rate (default 15). */
  width?: number;
  height?: number;
  fps?: number;
  /** Room.connect options (default { simulcast: false }). */
  connect?: Record<string, unknown>;
}

export async function joinPage(env: ServeWithBrowser, room: string, spec: ParticipantSpec, opts: JoinOptions = {}): Promise<Page> {
  const page = await env.openPage(MCU_PAGE_SETUP);
  page.on('console', (m) => {
    if (/Failed to load resource.*404/.test(m.text())) return; // the favicon
    if (m.type() === 'error' || (m.type() === 'warning' && /switchboard/.test(m.text()))) console.error(`[${spec.identity} console.${m.type()}]`, m.text());
  });
  const o = { color: spec.color, tone: spec.tone, toneGain: spec.toneGain, toneOff: spec.toneOff, width: opts.width, height: opts.height, fps: opts.fps, connect: opts.connect ?? { simulcast: false } };
  await page.evaluate(`window.mcu.join(${JSON.stringify(room)}, ${JSON.stringify(spec.identity)}, ${JSON.stringify(o)})`);
  return page;
}

export interface Counts {
  video: number;
  audio: number;
  tracks: { kind: string; from: string; pub: string }[];
  everSubscribed: number;
  localFrames: number;
  audioState: string | null;
  errors: string[];
}

export interface InboundRtp {
  conn: string;
  kind: string;
  ssrc: number;
  mid: string | null;
  codec: string;
  packetsReceived: number;
  packetsLost: number;
  bytesReceived: number;
  framesDecoded: number;
  frameWidth: number;
  frameHeight: number;
  samples: number;
  audioEnergy: number;
  jitterBufferDelay: number;
  jitterBufferEmittedCount: number;
}

export interface Transceiver {
  conn: string;
  mid: string | null;
  kind: string;
  direction: string;
  currentDirection: string | null;
  track: string;
  muted: boolean;
}

export interface Grid {
  from?: string;
  pub?: string;
  width: number;
  height: number;
  cols: number;
  rows: number;
  /** r,g,b per cell, row-major. */
  cells: number[];
  reason?: string;
}

export interface Spectrum {
  from: string;
  pub: string;
  /** dB at each requested frequency. */
  tones: number[];
  floor: number;
  sampleRate: number;
  frames: number;
  state: string;
}

const call = <T>(page: Page, expr: string): Promise<T> => page.evaluate(expr) as Promise<T>;
const js = (v: unknown) => JSON.stringify(v ?? null);

export const counts = (page: Page) => call<Counts>(page, 'window.mcu.counts()');
export const inbound = (page: Page) => call<InboundRtp[]>(page, 'window.mcu.inbound()');
export const transceivers = (page: Page) => call<Transceiver[]>(page, 'window.mcu.receivers()');
export const grid = (page: Page, sel?: TrackSel, cols = 16, rows = 16) => call<Grid>(page, `window.mcu.grid(${js(sel)}, ${cols}, ${rows})`);
export const grids = (page: Page, cols = 16, rows = 16) => call<Grid[]>(page, `window.mcu.grids(${cols}, ${rows})`);
export const spectrum = (page: Page, sel: TrackSel | undefined, freqs: readonly number[], ms = 1000) =>
  call<Spectrum[]>(page, `window.mcu.spectrum(${js(sel)}, ${js(freqs)}, ${ms})`);
export const setColor = (page: Page, c: RGB) => call<number>(page, `window.mcu.setColor(${js(c)})`);
export const setTone = (page: Page, on: boolean) => call<number>(page, `window.mcu.setTone(${on})`);
export const toneLevel = (page: Page, sel: TrackSel | undefined, freq: number) => call<number>(page, `window.mcu.toneLevel(${js(sel)}, ${freq})`);

export interface Region {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface WatchResult {
  ok: boolean;
  reason?: string;
  /** When the page saw it (performance.timeOrigin + performance.now()): video, the frame out of the decoder. */
  t?: number;
  /** Video: the frame's receiveTime (its last packet in, VideoFrame.metadata()) if Chromium gives it, same clock. */
  received?: number | null;
  /** Audio: when the poll saw it. */
  poll?: number;
  frames?: number;
  polls?: number;
  last?: number[] | null;
  amplitude?: number;
}

export const watchVideo = (page: Page, sel: TrackSel | undefined, region: Region, target: RGB, tol: number, timeoutMs: number) =>
  call<number>(page, `window.mcu.watchVideo(${js(sel)}, ${js(region)}, ${js(target)}, ${tol}, ${timeoutMs})`);
export const watchAudio = (page: Page, sel: TrackSel | undefined, freq: number, threshold: number, timeoutMs: number) =>
  call<number>(page, `window.mcu.watchAudio(${js(sel)}, ${freq}, ${threshold}, ${timeoutMs})`);
export const watchResult = (page: Page, id: number) => call<WatchResult>(page, `window.mcu.result(${id})`);

/** Frames that reach a received video track as the application holds it (see frames() in the page). */
export const framesSeen = (page: Page, sel: TrackSel | undefined, n: number, timeoutMs: number) =>
  call<FramesSeen>(page, `window.mcu.frames(${js(sel)}, ${n}, ${timeoutMs})`);

/**
 * Mesh and SFU rooms, what each application sees and hears: every page holds one live video and
 * one live audio track from each other participant; each video track delivers frames of its
 * sender's colour (read at the track), and each audio track carries its sender's tone.
 */
export async function assertEachSeesAndHearsTheOthers(pages: Page[], specs: ParticipantSpec[]): Promise<void> {
  const others = specs.length - 1;
  for (const [i, page] of pages.entries()) {
    await waitFor(`${specs[i]!.identity} holds ${others} video + ${others} audio tracks`, () => counts(page), (c) => c.video === others && c.audio === others, 30_000);
  }
  for (const [i, page] of pages.entries()) {
    const who = specs[i]!.identity;
    for (const [j, sender] of specs.entries()) {
      if (i === j) continue;
      const seen = await framesSeen(page, { from: sender.identity }, 10, 10_000);
      assert.equal(seen.frames, 10, `${who}: ${sender.identity}'s video track delivered ${seen.frames} frames in 10 s (${JSON.stringify(seen)})`);
      assert.ok(seen.centre && distance(seen.centre, sender.color!) < 60, `${who}: ${sender.identity}'s track shows ${JSON.stringify(seen.centre)}, not ${JSON.stringify(sender.color)}`);
      // the tone is sent at amplitude 0.1 (-20 dBFS); Opus keeps a pure tone's level
      await waitFor(`${who} hears ${sender.identity}'s ${sender.tone} Hz tone`, () => toneLevel(page, { from: sender.identity }, sender.tone!), (a) => a > 0.03, 10_000);
    }
  }
}

// ---- Node side: analysis -------------------------------------------------------------------

export const distance = (a: RGB | number[], b: RGB | number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);

/** The palette name of each cell (nearest colour within tol), or null. */
export function classify(g: Grid, palette: Record<string, RGB> = PALETTE, tol = 80): (string | null)[] {
  const out: (string | null)[] = [];
  for (let i = 0; i < g.cols * g.rows; i++) {
    const c = [g.cells[i * 3]!, g.cells[i * 3 + 1]!, g.cells[i * 3 + 2]!];
    let best: string | null = null;
    let bestD = tol;
    for (const [name, rgb] of Object.entries(palette)) {
      const d = distance(c, rgb);
      if (d <= bestD) {
        best = name;
        bestD = d;
      }
    }
    out.push(best);
  }
  return out;
}

export interface ColourRegion {
  /** Cells of this colour in all. */
  cells: number;
  /** Sizes of its 4-connected components, largest first. */
  components: number[];
  /** Bounding box (cells, inclusive) of the largest component. */
  box: { c0: number; r0: number; c1: number; r1: number };
  /** The same as fractions of the frame (x1/y1 exclusive). */
  frac: Region;
}

/** Each palette colour's cells, components and the box of its largest component (null: absent). */
export function colourRegions(g: Grid, palette: Record<string, RGB> = PALETTE, tol = 80): Record<string, ColourRegion | null> {
  const names = classify(g, palette, tol);
  const out: Record<string, ColourRegion | null> = {};
  for (const name of Object.keys(palette)) {
    const seen = new Uint8Array(names.length);
    const comps: { size: number; box: ColourRegion['box'] }[] = [];
    for (let i = 0; i < names.length; i++) {
      if (names[i] !== name || seen[i]) continue;
      const stack = [i];
      seen[i] = 1;
      const box = { c0: g.cols, r0: g.rows, c1: -1, r1: -1 };
      let size = 0;
      while (stack.length) {
        const j = stack.pop()!;
        size++;
        const c = j % g.cols;
        const r = Math.floor(j / g.cols);
        box.c0 = Math.min(box.c0, c);
        box.c1 = Math.max(box.c1, c);
        box.r0 = Math.min(box.r0, r);
        box.r1 = Math.max(box.r1, r);
        for (const [dc, dr] of [[1, 0], [-1, 0], [0, 1], [0, -1]] as const) {
          const cc = c + dc;
          const rr = r + dr;
          if (cc < 0 || rr < 0 || cc >= g.cols || rr >= g.rows) continue;
          const k = rr * g.cols + cc;
          if (!seen[k] && names[k] === name) {
            seen[k] = 1;
            stack.push(k);
          }
        }
      }
      comps.push({ size, box });
    }
    comps.sort((a, b) => b.size - a.size);
    if (comps.length === 0) {
      out[name] = null;
      continue;
    }
    const box = comps[0]!.box;
    out[name] = {
      cells: comps.reduce((n, c) => n + c.size, 0),
      components: comps.map((c) => c.size),
      box,
      frac: { x0: box.c0 / g.cols, y0: box.r0 / g.rows, x1: (box.c1 + 1) / g.cols, y1: (box.r1 + 1) / g.rows },
    };
  }
  return out;
}

const overlap = (a: ColourRegion['box'], b: ColourRegion['box']) => a.c0 <= b.c1 && b.c0 <= a.c1 && a.r0 <= b.r1 && b.r0 <= a.r1;

/** One line per row: the first letter of the cell's colour, '.' for none. */
export function asciiMap(g: Grid, palette: Record<string, RGB> = PALETTE, tol = 80): string {
  const names = classify(g, palette, tol);
  const rows: string[] = [];
  for (let r = 0; r < g.rows; r++) rows.push(names.slice(r * g.cols, (r + 1) * g.cols).map((n) => (n ? n[0]!.toUpperCase() : '.')).join(''));
  return rows.join('/');
}

export interface CompositeExpectation {
  /** Colours that must be there, each in one region of at least minCells cells. */
  present: string[];
  /** Colours that must not be there (no region of minCells). */
  absent?: string[];
  minCells?: number;
  /** Frame size it must have. */
  width?: number;
  height?: number;
  tol?: number;
}

/**
 * What is wrong with a composed frame (empty: nothing): each expected colour present as one
 * region (a largest component of ≥ minCells, and no second one that big), the regions'
 * bounding boxes pairwise disjoint (separate tiles, wherever they are), the absent colours absent.
 */
export function compositeProblems(g: Grid, exp: CompositeExpectation, palette: Record<string, RGB> = PALETTE): string[] {
  if (!g.width || !g.height) return [`no frame: ${g.reason ?? 'size 0'}`];
  const problems: string[] = [];
  if (exp.width !== undefined && (g.width !== exp.width || g.height !== exp.height)) problems.push(`frame is ${g.width}x${g.height}, not ${exp.width}x${exp.height}`);
  const minCells = exp.minCells ?? 4;
  const regions = colourRegions(g, palette, exp.tol);
  for (const name of exp.present) {
    const r = regions[name];
    if (!r || r.components[0]! < minCells) problems.push(`${name}: not present (largest region ${r?.components[0] ?? 0} cells < ${minCells})`);
    else if ((r.components[1] ?? 0) >= minCells) problems.push(`${name}: in more than one region (${r.components.join(', ')} cells)`);
  }
  for (const name of exp.absent ?? []) {
    const r = regions[name];
    if (r && r.components[0]! >= minCells) problems.push(`${name}: present (${r.components[0]} cells) but should not be`);
  }
  const found = exp.present.filter((n) => regions[n] && regions[n]!.components[0]! >= minCells);
  for (let i = 0; i < found.length; i++) {
    for (let j = i + 1; j < found.length; j++) {
      const a = regions[found[i]!]!;
      const b = regions[found[j]!]!;
      if (overlap(a.box, b.box)) problems.push(`${found[i]} ${JSON.stringify(a.box)} and ${found[j]} ${JSON.stringify(b.box)} overlap`);
    }
  }
  return problems;
}

/** A compact view of a grid for messages: size, the colour map and the problems. */
export function describeGrid(g: Grid, problems: string[] = []): string {
  return `${g.from ?? '?'} ${g.width}x${g.height} [${asciiMap(g)}]${problems.length ? ' problems: ' + problems.join('; ') : ''}`;
}

export interface SpectrumExpectation {
  /** Frequencies that must be heard: at least aboveFloorDb over the floor. */
  heard: readonly number[];
  /** Frequencies that must not: at least belowDb under the weakest heard one. */
  silent: readonly number[];
  aboveFloorDb?: number;
  belowDb?: number;
}

/** What is wrong with a measured spectrum; `freqs` is the list it was measured at. */
export function spectrumProblems(s: Spectrum, freqs: readonly number[], exp: SpectrumExpectation): string[] {
  const above = exp.aboveFloorDb ?? 20;
  const below = exp.belowDb ?? 20;
  const level = (f: number) => s.tones[freqs.indexOf(f)]!;
  const problems: string[] = [];
  for (const f of exp.heard) if (!(level(f) - s.floor >= above)) problems.push(`${f} Hz at ${level(f)} dB is not ${above} dB over the floor (${s.floor} dB)`);
  if (exp.heard.length) {
    const weakest = Math.min(...exp.heard.map(level));
    for (const f of exp.silent) if (!(level(f) <= weakest - below)) problems.push(`${f} Hz at ${level(f)} dB is not ${below} dB under the weakest heard tone (${weakest} dB)`);
  }
  return problems;
}

export function describeSpectrum(s: Spectrum, freqs: readonly number[]): string {
  return `${s.from}: ${freqs.map((f, i) => `${f}Hz ${s.tones[i]}dB`).join(', ')}, floor ${s.floor}dB (${s.frames} frames @ ${s.sampleRate} Hz, ${s.state})`;
}

/** Region of a colour shrunk by `margin` cells on each side (labels, borders), as fractions. */
export function innerRegion(r: ColourRegion, g: Grid, margin = 1): Region {
  const m = (lo: number, hi: number) => (hi - lo >= 2 * margin + 1 ? margin : 0);
  const mc = m(r.box.c0, r.box.c1);
  const mr = m(r.box.r0, r.box.r1);
  return { x0: (r.box.c0 + mc) / g.cols, y0: (r.box.r0 + mr) / g.rows, x1: (r.box.c1 + 1 - mc) / g.cols, y1: (r.box.r1 + 1 - mr) / g.rows };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const idx = (p / 100) * (s.length - 1);
  const lo = Math.floor(idx);
  const hi = Math.ceil(idx);
  return s[lo]! + (s[hi]! - s[lo]!) * (idx - lo);
}

// ---- recordings (ffmpeg / ffprobe) -----------------------------------------------------------

export interface Probe {
  streams: { codec_type: string; codec_name: string; width?: number; height?: number; sample_rate?: string; channels?: number; duration?: string }[];
  format: { format_name: string; duration?: string; size?: string };
}

export function ffprobe(path: string): Probe {
  return JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', path], { encoding: 'utf8', timeout: 30_000 })) as Probe;
}

/** One frame of a video file at `atSec`, scaled to w x h, as a Grid. */
export function fileFrameGrid(path: string, atSec: number, w = 640, h = 360, cols = 16, rows = 16): Grid {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-ss', String(atSec), '-i', path, '-frames:v', '1', '-vf', `scale=${w}:${h}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { timeout: 60_000, maxBuffer: 64 << 20 });
  if (raw.length < w * h * 3) return { width: 0, height: 0, cols, rows, cells: [], reason: `ffmpeg gave ${raw.length} bytes` };
  const cells: number[] = [];
  for (let r = 0; r < rows; r++) {
    const y0 = Math.floor((r * h) / rows);
    const y1 = Math.floor(((r + 1) * h) / rows);
    for (let c = 0; c < cols; c++) {
      const x0 = Math.floor((c * w) / cols);
      const x1 = Math.floor(((c + 1) * w) / cols);
      const sum = [0, 0, 0];
      let n = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const i = (y * w + x) * 3;
          sum[0] += raw[i]!;
          sum[1] += raw[i + 1]!;
          sum[2] += raw[i + 2]!;
          n++;
        }
      }
      cells.push(...sum.map((v) => Math.round(v / n)));
    }
  }
  return { from: path, width: w, height: h, cols, rows, cells };
}

/**
 * The audio of a file from `fromSec` for `sec`, mono 48 kHz: the dB (Goertzel, Hann window) at
 * each of `freqs` and a floor (median over 60 frequencies between them, 100..4000 Hz).
 */
export function fileToneLevels(path: string, fromSec: number, sec: number, freqs: readonly number[]): { tones: number[]; floor: number; samples: number } {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-ss', String(fromSec), '-t', String(sec), '-i', path, '-vn', '-ac', '1', '-ar', '48000', '-f', 'f32le', '-'], { timeout: 60_000, maxBuffer: 64 << 20 });
  const x = new Float32Array(raw.buffer, raw.byteOffset, Math.floor(raw.length / 4));
  const n = x.length;
  const db = (f: number) => {
    const w = (2 * Math.PI * f) / 48000;
    const k = 2 * Math.cos(w);
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const win = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
      const s0 = x[i]! * win + k * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    const amp = (4 * Math.sqrt(Math.max(0, s1 * s1 + s2 * s2 - k * s1 * s2))) / n; // Hann: coherent gain 0.5
    return amp > 0 ? 20 * Math.log10(amp) : -200;
  };
  const others: number[] = [];
  for (let f = 100; others.length < 60 && f < 4000; f += 63) if (freqs.every((t) => Math.abs(t - f) > 40)) others.push(db(f));
  others.sort((a, b) => a - b);
  return { tones: freqs.map(db), floor: others[Math.floor(others.length / 2)] ?? -200, samples: n };
}
