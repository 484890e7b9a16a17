// The compositor: sources land in their rects with their colours (scaled, cropped to fill), a
// placeholder with initials when there is no picture, a name label bottom-left, a border on the
// speaker, nothing drawn outside the tiles or the canvas whatever the input (property), and the
// cost of a 1280x720 frame of 8 tiles (printed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Compositor, initialsOf, type CompositorTile } from '../../src/video/compositor.js';
import { layout, type Rect } from '../../src/layout.js';

const W = 640;
const H = 360;

function solid(w: number, h: number, Y: number, U: number, V: number): Uint8Array {
  const f = new Uint8Array((w * h * 3) / 2);
  f.fill(Y, 0, w * h);
  f.fill(U, w * h, (w * h * 5) / 4);
  f.fill(V, (w * h * 5) / 4);
  return f;
}

function yuv(f: Uint8Array, w: number, h: number, x: number, y: number): [number, number, number] {
  const c = (y >> 1) * (w >> 1) + (x >> 1);
  return [f[y * w + x], f[w * h + c], f[(w * h * 5) / 4 + c]];
}

/** Luma values in a region. */
function lumaIn(f: Uint8Array, w: number, r: Rect): Set<number> {
  const s = new Set<number>();
  for (let y = r.y; y < r.y + r.height; y++) for (let x = r.x; x < r.x + r.width; x++) s.add(f[y * w + x]);
  return s;
}

const tile = (rect: Rect, source: Uint8Array | null, extra: Partial<CompositorTile> = {}): CompositorTile => ({ rect, source, sourceWidth: 320, sourceHeight: 180, label: '', speaking: false, ...extra });

test('sources land in their rects with their colours; the background stays dark grey', () => {
  const c = new Compositor(W, H);
  const a = { x: 0, y: 0, width: 320, height: 180 };
  const b = { x: 320, y: 180, width: 160, height: 90 };
  const out = c.render([tile(a, solid(320, 180, 81, 90, 240)), tile(b, solid(320, 180, 41, 240, 110))]);
  assert.equal(out, c.frame);
  assert.equal(out.length, (W * H * 3) / 2);
  assert.deepEqual(yuv(out, W, H, 10, 10), [81, 90, 240]);
  assert.deepEqual(yuv(out, W, H, 319, 179), [81, 90, 240]);
  assert.deepEqual(yuv(out, W, H, 400, 200), [41, 240, 110]);
  assert.deepEqual(yuv(out, W, H, 478, 268), [41, 240, 110]);
  const bg = yuv(out, W, H, 600, 20);
  assert.deepEqual(bg, yuv(out, W, H, 330, 20));
  assert.ok(bg[0] < 40 && bg[1] === 128 && bg[2] === 128, `dark grey background ${bg}`);
  assert.deepEqual(yuv(out, W, H, 480, 270), bg, 'just past the scaled tile');
});

test('scaling is bilinear and crops to fill: a ramp stays a ramp, a 4:3 source is not squeezed', () => {
  const c = new Compositor(W, H);
  // horizontal ramp 0..255 over 256 px, scaled 2x up
  const src = solid(256, 64, 0, 128, 128);
  for (let y = 0; y < 64; y++) for (let x = 0; x < 256; x++) src[y * 256 + x] = x;
  const out = c.render([tile({ x: 0, y: 0, width: 512, height: 128 }, src, { sourceWidth: 256, sourceHeight: 64 })]);
  for (let x = 2; x < 508; x++) {
    const v = out[64 * W + x];
    assert.ok(Math.abs(v - (x + 0.5) / 2 + 0.5) <= 1, `x=${x}: ${v}`);
    assert.ok(v >= out[64 * W + x - 1], 'monotonic');
  }
  // 4:3 source with a left half red and right half blue into 16:9: the middle of the source is kept
  const q = solid(160, 120, 81, 90, 240);
  for (let y = 0; y < 120; y++) q.fill(41, y * 160 + 80, y * 160 + 160);
  const out2 = c.render([tile({ x: 0, y: 0, width: 320, height: 180 }, q, { sourceWidth: 160, sourceHeight: 120 })]);
  assert.equal(out2[90 * W + 100], 81);
  assert.equal(out2[90 * W + 220], 41);
  assert.equal(out2[0], 81, 'top row filled: cropped, not letterboxed');
});

test('no source: a mid-grey placeholder with large initials, and the name label bottom-left', () => {
  const c = new Compositor(W, H);
  const r = { x: 0, y: 0, width: 320, height: 180 };
  const out = c.render([tile(r, null, { label: 'ada lovelace' })]);
  const centre = lumaIn(out, W, { x: 100, y: 60, width: 120, height: 60 });
  assert.ok(centre.size === 2, `placeholder and initials: ${[...centre]}`);
  const [grey, ink] = [...centre].sort((x, y) => x - y);
  assert.ok(grey > 60 && grey < 160, `mid grey ${grey}`);
  assert.ok(ink > 200, `bright initials ${ink}`);
  // the initials are big: some row crossing them has a long run of ink
  let longest = 0;
  for (let y = 60; y < 120; y++) {
    let run = 0;
    for (let x = 60; x < 260; x++) {
      run = out[y * W + x] === ink ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
  }
  assert.ok(longest >= 20, `initials stroke ${longest} px`);
  // label: white text on a darker box in the bottom-left corner
  const label = lumaIn(out, W, { x: 4, y: 150, width: 150, height: 26 });
  assert.ok([...label].some((v) => v >= 230), 'white text');
  assert.ok([...label].some((v) => v < grey - 20), 'darkened box');
  assert.deepEqual(lumaIn(out, W, { x: 200, y: 150, width: 100, height: 26 }), new Set([grey]), 'a short name leaves the right side alone');
  assert.equal(initialsOf('ada lovelace'), 'AL');
  assert.equal(initialsOf('  Grace  Brewster Hopper '), 'GH');
  assert.equal(initialsOf('zoë'), 'Z');
  assert.equal(initialsOf('Élodie'), '?');
  assert.equal(initialsOf(''), '');
});

test('a long name is cut to fit its tile; non-ASCII draws as ?', () => {
  const c = new Compositor(W, H);
  const r = { x: 0, y: 0, width: 160, height: 90 };
  const out = c.render([tile(r, solid(320, 180, 100, 128, 128), { label: 'Bartholomew Fitzgerald-Montgomery ☃' }), tile({ x: 160, y: 0, width: 160, height: 90 }, solid(320, 180, 100, 128, 128))]);
  // text reaches near the right edge of its tile but not into the next tile
  let rightmost = -1;
  for (let y = 60; y < 90; y++) for (let x = 0; x < 160; x++) if (out[y * W + x] >= 230) rightmost = Math.max(rightmost, x);
  assert.ok(rightmost > 120 && rightmost < 160, `text ends at ${rightmost}`);
  assert.deepEqual(lumaIn(out, W, { x: 160, y: 0, width: 160, height: 90 }), new Set([100]));
});

test('the speaker has a bright 4-px border; others do not', () => {
  const c = new Compositor(W, H);
  const a = { x: 0, y: 0, width: 320, height: 180 };
  const b = { x: 320, y: 0, width: 320, height: 180 };
  const out = c.render([tile(a, solid(320, 180, 60, 128, 128), { speaking: true }), tile(b, solid(320, 180, 60, 128, 128))]);
  const border = yuv(out, W, H, 0, 0);
  assert.ok(border[0] > 150 && Math.abs(border[1] - 128) > 50, `bright and coloured: ${border}`);
  for (const [x, y] of [[2, 90], [317, 90], [160, 3], [160, 177], [319, 179]]) assert.deepEqual(yuv(out, W, H, x, y), border, `border at ${x},${y}`);
  assert.deepEqual(yuv(out, W, H, 4, 90), [60, 128, 128], 'inside the border');
  assert.deepEqual(yuv(out, W, H, 322, 2), [60, 128, 128], 'no border on the other tile');
});

test('any tiles: never throws, draws only inside the clipped rects (property)', () => {
  const CW = 96;
  const CH = 64;
  const c = new Compositor(CW, CH);
  const bg = c.render([]).slice();
  const arbRect = fc.record({ x: fc.integer({ min: -60, max: 120 }), y: fc.integer({ min: -60, max: 90 }), width: fc.integer({ min: -4, max: 140 }), height: fc.integer({ min: -4, max: 100 }) });
  const arbTile = fc.record({
    rect: arbRect,
    sw: fc.integer({ min: 0, max: 40 }),
    sh: fc.integer({ min: 0, max: 40 }),
    short: fc.boolean(),
    none: fc.boolean(),
    label: fc.string({ maxLength: 30, unit: 'grapheme' }),
    speaking: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.array(arbTile, { maxLength: 6 }), (specs) => {
      const tiles: CompositorTile[] = specs.map((s) => ({
        rect: s.rect,
        source: s.none ? null : new Uint8Array(Math.max(0, Math.floor((s.sw * s.sh * 3) / 2) - (s.short ? 1 : 0))).fill(200),
        sourceWidth: s.sw,
        sourceHeight: s.sh,
        label: s.label,
        speaking: s.speaking,
      }));
      const out = c.render(tiles);
      assert.equal(out.length, bg.length);
      // every pixel outside all (clipped, even-rounded) rects is still background
      const inside = (x: number, y: number) => specs.some(({ rect: r }) => x >= r.x - 1 && x < r.x + r.width + 1 && y >= r.y - 1 && y < r.y + r.height + 1);
      for (let y = 0; y < CH; y++) for (let x = 0; x < CW; x++) if (!inside(x, y)) assert.equal(out[y * CW + x], bg[y * CW + x], `luma at ${x},${y}`);
      for (let y = 0; y < CH / 2; y++) {
        for (let x = 0; x < CW / 2; x++) {
          if (inside(2 * x, 2 * y) || inside(2 * x + 1, 2 * y + 1)) continue;
          const o = CW * CH + y * (CW / 2) + x;
          assert.equal(out[o], bg[o], `U at ${x},${y}`);
          assert.equal(out[o + (CW * CH) / 4], bg[o + (CW * CH) / 4], `V at ${x},${y}`);
        }
      }
    }),
    { numRuns: 300 },
  );
});

test('cost: 1280x720 with 8 tiles of 640x360 sources (printed, not asserted)', () => {
  const c = new Compositor(1280, 720);
  const sources = Array.from({ length: 8 }, (_, k) => {
    const s = solid(640, 360, 0, 100 + k, 150 - k);
    for (let i = 0; i < 640 * 360; i++) s[i] = (i * 7 + k * 31) & 0xff;
    return s;
  });
  const rects = layout(8, 1280, 720, { speaker: 2 });
  const tiles = rects.map((rect, i) => ({ rect, source: sources[i], sourceWidth: 640, sourceHeight: 360, label: `Participant ${i + 1}`, speaking: i === 2 }));
  const grid = layout(8, 1280, 720).map((rect, i) => ({ ...tiles[i], rect }));
  for (let i = 0; i < 30; i++) c.render(grid); // warm up the JIT
  // per frame: the best of 10 batches of 10 (the machine is shared) and the median batch
  const time = (ts: CompositorTile[]) => {
    const batches: number[] = [];
    for (let b = 0; b < 10; b++) {
      const t = performance.now();
      for (let i = 0; i < 10; i++) c.render(ts);
      batches.push((performance.now() - t) / 10);
    }
    batches.sort((x, y) => x - y);
    return `${batches[0].toFixed(2)} ms (median ${batches[5].toFixed(2)})`;
  };
  console.log(`# compositor 1280x720, 8 tiles of 640x360: grid ${time(grid)}, speaker view ${time(tiles)} per frame`);
});
