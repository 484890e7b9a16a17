// Where each participant goes in the composed picture. A grid that adapts to the count (the
// columns x rows that give the largest tiles at the tiles' aspect ratio), or, with an active
// speaker and 3+ participants, the speaker large on top and the others in a row below.
// Integer, even coordinates (I420 chroma is subsampled by 2). Pure.

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LayoutOptions {
  /** Index of the active speaker to emphasise (3+ tiles), or -1. */
  speaker?: number;
  /** Pixels between tiles and around them. Default 4. */
  gap?: number;
  /** Tile aspect ratio (width / height). Default 16/9. */
  aspect?: number;
}

const even = (v: number): number => Math.max(0, Math.floor(v / 2) * 2);

/** The columns x rows grid giving the largest tiles of the given aspect for n tiles. */
export function bestGrid(n: number, width: number, height: number, aspect: number, gap: number): { cols: number; rows: number; tileW: number; tileH: number } {
  let best = { cols: 1, rows: n, tileW: 0, tileH: 0 };
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    const cellW = (width - gap * (cols + 1)) / cols;
    const cellH = (height - gap * (rows + 1)) / rows;
    if (cellW <= 0 || cellH <= 0) continue;
    const tileW = Math.min(cellW, cellH * aspect);
    const tileH = tileW / aspect;
    if (tileW * tileH > best.tileW * best.tileH) best = { cols, rows, tileW, tileH };
  }
  return best;
}

function grid(n: number, x0: number, y0: number, width: number, height: number, aspect: number, gap: number): Rect[] {
  if (n === 0) return [];
  const g = bestGrid(n, width, height, aspect, gap);
  const out: Rect[] = [];
  const usedH = g.rows * g.tileH + (g.rows - 1) * gap;
  const top = y0 + (height - usedH) / 2;
  for (let i = 0; i < n; i++) {
    const row = Math.floor(i / g.cols);
    const inRow = row === g.rows - 1 ? n - row * g.cols : g.cols; // the last row is centred
    const col = i - row * g.cols;
    const usedW = inRow * g.tileW + (inRow - 1) * gap;
    const left = x0 + (width - usedW) / 2;
    out.push({
      x: even(left + col * (g.tileW + gap)),
      y: even(top + row * (g.tileH + gap)),
      width: even(g.tileW),
      height: even(g.tileH),
    });
  }
  return out;
}

/** Rectangles for n tiles on a width x height canvas, in input order. */
export function layout(n: number, width: number, height: number, opts: LayoutOptions = {}): Rect[] {
  const gap = opts.gap ?? 4;
  const aspect = opts.aspect ?? 16 / 9;
  const speaker = opts.speaker ?? -1;
  if (n <= 0) return [];
  if (n < 3 || speaker < 0 || speaker >= n) return grid(n, 0, 0, width, height, aspect, gap);
  // speaker view: the speaker in the top 3/4, the others in a strip below
  const stripH = Math.floor(height / 4);
  const main = grid(1, 0, 0, width, height - stripH, aspect, gap)[0];
  const others = grid(n - 1, 0, height - stripH, width, stripH, aspect, gap);
  const out: Rect[] = [];
  let k = 0;
  for (let i = 0; i < n; i++) out.push(i === speaker ? main : others[k++]);
  return out;
}
