// The composed picture's layout: tiles inside the canvas, never overlapping, even coordinates,
// the grid adapting to the count, and the active speaker emphasised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bestGrid, layout, type Rect } from '../src/index.js';

const overlap = (a: Rect, b: Rect) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

test('any count on any canvas: inside, disjoint, even, non-empty (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 25 }), fc.integer({ min: 160, max: 3840 }), fc.integer({ min: 120, max: 2160 }), fc.integer({ min: -1, max: 24 }), (n, w, h, speaker) => {
      const rects = layout(n, w, h, { speaker });
      assert.equal(rects.length, n);
      for (const r of rects) {
        assert.ok(r.width > 0 && r.height > 0, JSON.stringify(r));
        assert.ok(r.x >= 0 && r.y >= 0 && r.x + r.width <= w && r.y + r.height <= h, JSON.stringify({ r, w, h }));
        for (const v of [r.x, r.y, r.width, r.height]) assert.equal(v % 2, 0);
      }
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) assert.ok(!overlap(rects[i], rects[j]), `${i} and ${j} overlap`);
    }),
    { numRuns: 300 },
  );
});

test('the grid adapts: 1 fills the canvas, 2 side by side, 4 as 2x2, 9 as 3x3 on 1280x720', () => {
  assert.deepEqual(bestGrid(1, 1280, 720, 16 / 9, 0), { cols: 1, rows: 1, tileW: 1280, tileH: 720 });
  assert.equal(bestGrid(2, 1280, 720, 16 / 9, 4).cols, 2);
  assert.deepEqual([bestGrid(4, 1280, 720, 16 / 9, 4).cols, bestGrid(4, 1280, 720, 16 / 9, 4).rows], [2, 2]);
  assert.deepEqual([bestGrid(9, 1280, 720, 16 / 9, 4).cols, bestGrid(9, 1280, 720, 16 / 9, 4).rows], [3, 3]);
  const one = layout(1, 1280, 720, { gap: 0 });
  assert.deepEqual(one, [{ x: 0, y: 0, width: 1280, height: 720 }]);
  const two = layout(2, 1280, 720);
  assert.ok(two[0].x < two[1].x && two[0].y === two[1].y, 'side by side');
});

test('the active speaker gets the large tile; the others share a strip below', () => {
  const rects = layout(5, 1280, 720, { speaker: 2 });
  const area = (r: Rect) => r.width * r.height;
  for (let i = 0; i < 5; i++) if (i !== 2) assert.ok(area(rects[2]) > 4 * area(rects[i]));
  for (let i = 0; i < 5; i++) if (i !== 2) assert.ok(rects[i].y >= rects[2].y + rects[2].height);
  // no emphasis with fewer than 3, or without a speaker
  const grid3 = layout(3, 1280, 720);
  assert.equal(new Set(grid3.map((r) => r.width)).size, 1);
});
