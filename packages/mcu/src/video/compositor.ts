// The composed picture: one I420 canvas, a dark grey background and one tile per participant at
// the layout's rects. A tile is the participant's decoded picture scaled into the rect (bilinear,
// 8-bit fixed point, cropped to the rect's aspect ratio so nothing is stretched), or, with no
// picture (camera off, nothing decoded yet), a mid-grey placeholder with their initials large in
// the middle. Each tile has its name bottom-left (white on a darkened box, built-in 5x7 font,
// doubled on tiles 320+ px wide, cut with '..' to fit) and the active speaker a bright border.
// Per frame nothing is allocated: the canvas is reused, and the scaling index tables are cached
// per (source size, rect size). Rects are clipped to the canvas and rounded to even numbers.
import type { Rect } from '../layout.js';
import { McuError } from '../errors.js';
import { CELL_W, GLYPH_H, GLYPH_W, glyphIndex, glyphRows } from './font.js';

export interface CompositorTile {
  rect: Rect;
  /** I420, sourceWidth x sourceHeight; null for the placeholder. */
  source: Uint8Array | null;
  sourceWidth: number;
  sourceHeight: number;
  label: string;
  speaking: boolean;
}

const BG_Y = 24;
const PLACEHOLDER_Y = 96;
const INITIALS_Y = 220;
const TEXT_Y = 235;
const BORDER = 4;
// bright green (about RGB 70,255,10): visible on any picture
const BORDER_Y = 170;
const BORDER_U = 44;
const BORDER_V = 60;
const LABEL_MARGIN = 6;
const LABEL_PAD = 2;

/**
 * Index tables for scaling one source size into one rect size: per destination column (row) the
 * source column (row) i to blend with i+1, and the weight of i+1 (0..256), packed as i << 9 | w.
 * Luma and chroma (half size) separately.
 */
interface ScaleTables {
  yx: Int32Array;
  yy: Int32Array;
  cx: Int32Array;
  cy: Int32Array;
}

const MAX_CACHED_TABLES = 64;
const MAX_DIM = 8192;

const even = (v: number): number => v - (v & 1);

export class Compositor {
  readonly frame: Uint8Array;
  private readonly ySize: number;
  private readonly cw: number;
  private readonly tables = new Map<number, ScaleTables>();
  private readonly initials = new Map<string, string>();

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    if (!(width >= 2 && height >= 2 && width % 2 === 0 && height % 2 === 0 && width <= MAX_DIM && height <= MAX_DIM)) {
      throw new McuError('SB_ERR_VIDEO_INVALID', `canvas ${width}x${height} must be even, 2..${MAX_DIM}`);
    }
    this.ySize = width * height;
    this.cw = width / 2;
    this.frame = new Uint8Array((this.ySize * 3) / 2);
  }

  /** Draws the tiles (in order, later ones on top) and returns the canvas (this.frame, reused). */
  render(tiles: CompositorTile[]): Uint8Array {
    const f = this.frame;
    f.fill(BG_Y, 0, this.ySize);
    f.fill(128, this.ySize);
    for (let i = 0; i < tiles.length; i++) this.drawTile(tiles[i]);
    return f;
  }

  private drawTile(t: CompositorTile): void {
    // clip to the canvas, even coordinates (chroma is subsampled by 2)
    const x0 = Math.max(0, even(Math.round(t.rect.x)));
    const y0 = Math.max(0, even(Math.round(t.rect.y)));
    const x1 = Math.min(this.width, even(Math.round(t.rect.x + t.rect.width)));
    const y1 = Math.min(this.height, even(Math.round(t.rect.y + t.rect.height)));
    if (!(x1 > x0 && y1 > y0)) return; // also false for NaN
    const w = x1 - x0;
    const h = y1 - y0;
    const sw = t.sourceWidth;
    const sh = t.sourceHeight;
    // (4+: the chroma planes need two columns and rows to blend)
    const usable = t.source !== null && Number.isInteger(sw) && Number.isInteger(sh) && sw >= 4 && sh >= 4 && sw % 2 === 0 && sh % 2 === 0 && sw <= MAX_DIM && sh <= MAX_DIM && t.source.length >= (sw * sh * 3) / 2;
    if (usable) this.scale(t.source as Uint8Array, sw, sh, x0, y0, w, h);
    else this.placeholder(t.label, x0, y0, w, h);
    this.label(t.label, x0, y0, w, h);
    if (t.speaking) this.border(x0, y0, w, h);
  }

  private scale(src: Uint8Array, sw: number, sh: number, x0: number, y0: number, w: number, h: number): void {
    const tb = this.tablesFor(sw, sh, w, h);
    const f = this.frame;
    scalePlane(src, 0, sw, f, y0 * this.width + x0, this.width, w, h, tb.yx, tb.yy);
    const sy = sw * sh;
    const scw = sw / 2;
    const cOff = (y0 / 2) * this.cw + x0 / 2;
    scalePlane(src, sy, scw, f, this.ySize + cOff, this.cw, w / 2, h / 2, tb.cx, tb.cy);
    scalePlane(src, sy + sy / 4, scw, f, this.ySize + this.ySize / 4 + cOff, this.cw, w / 2, h / 2, tb.cx, tb.cy);
  }

  private tablesFor(sw: number, sh: number, w: number, h: number): ScaleTables {
    const key = ((sw * MAX_DIM + sh) * MAX_DIM + w) * MAX_DIM + h; // < 2^52: exact
    let tb = this.tables.get(key);
    if (tb === undefined) {
      if (this.tables.size >= MAX_CACHED_TABLES) this.tables.clear();
      tb = makeTables(sw, sh, w, h);
      this.tables.set(key, tb);
    }
    return tb;
  }

  private placeholder(label: string, x0: number, y0: number, w: number, h: number): void {
    this.fillRect(x0, y0, w, h, PLACEHOLDER_Y, 128, 128);
    let ini = this.initials.get(label);
    if (ini === undefined) {
      if (this.initials.size > 256) this.initials.clear();
      ini = initialsOf(label);
      this.initials.set(label, ini);
    }
    if (ini.length === 0) return;
    // as large as fits: about 40% of the tile's height
    const scale = Math.max(1, Math.min(Math.floor((h * 0.4) / GLYPH_H), Math.floor((w * 0.8) / (ini.length * CELL_W))));
    const tw = (ini.length * CELL_W - 1) * scale;
    const th = GLYPH_H * scale;
    this.text(ini, ini.length, x0 + ((w - tw) >> 1), y0 + ((h - th) >> 1), scale, INITIALS_Y, x0, y0, x0 + w, y0 + h);
  }

  private label(label: string, x0: number, y0: number, w: number, h: number): void {
    if (label.length === 0) return;
    const scale = w >= 320 ? 2 : 1;
    const boxH = even(GLYPH_H * scale + 2 * LABEL_PAD + 1);
    const maxBoxW = w - 2 * LABEL_MARGIN;
    const room = Math.floor((maxBoxW - 2 * LABEL_PAD + scale) / (CELL_W * scale)); // characters that fit
    if (room < 1 || boxH + 2 * LABEL_MARGIN > h) return;
    const fits = label.length <= room;
    const chars = fits ? label.length : Math.max(0, room - 2);
    const shown = fits ? chars : chars + 2;
    const boxW = even(Math.min(maxBoxW, shown * CELL_W * scale - scale + 2 * LABEL_PAD + 1));
    const bx = x0 + LABEL_MARGIN;
    const by = y0 + h - LABEL_MARGIN - boxH;
    this.darken(bx, by, boxW, boxH);
    const tx = bx + LABEL_PAD;
    const ty = by + ((boxH - GLYPH_H * scale) >> 1);
    this.text(label, chars, tx, ty, scale, TEXT_Y, bx, by, bx + boxW, by + boxH);
    if (!fits) this.text('..', 2, tx + chars * CELL_W * scale, ty, scale, TEXT_Y, bx, by, bx + boxW, by + boxH);
  }

  /** Draws the first n characters of s in luma at (x, y), clipped to [xMin, xMax) x [yMin, yMax) (inside the canvas). */
  private text(s: string, n: number, x: number, y: number, scale: number, value: number, xMin: number, yMin: number, xMax: number, yMax: number): void {
    const f = this.frame;
    const rows = glyphRows();
    const W = this.width;
    xMin = Math.max(0, xMin);
    yMin = Math.max(0, yMin);
    xMax = Math.min(xMax, W);
    yMax = Math.min(yMax, this.height);
    for (let i = 0; i < n; i++) {
      const g = glyphIndex(s.charCodeAt(i));
      const gx = x + i * CELL_W * scale;
      for (let r = 0; r < GLYPH_H; r++) {
        const bits = rows[g + r];
        if (bits === 0) continue;
        for (let c = 0; c < GLYPH_W; c++) {
          if ((bits & (1 << (GLYPH_W - 1 - c))) === 0) continue;
          const px = gx + c * scale;
          const py = y + r * scale;
          for (let dy = 0; dy < scale; dy++) {
            const yy = py + dy;
            if (yy < yMin || yy >= yMax) continue;
            const row = yy * W;
            for (let dx = 0; dx < scale; dx++) {
              const xx = px + dx;
              if (xx >= xMin && xx < xMax) f[row + xx] = value;
            }
          }
        }
      }
    }
  }

  /** Darkens a box (even coordinates): luma to 3/8, chroma halfway to neutral. */
  private darken(x0: number, y0: number, w: number, h: number): void {
    const f = this.frame;
    const W = this.width;
    for (let y = y0; y < y0 + h; y++) {
      const row = y * W;
      for (let x = x0; x < x0 + w; x++) f[row + x] = (f[row + x] * 3) >> 3;
    }
    const cw = this.cw;
    for (let p = 0; p < 2; p++) {
      const base = this.ySize + p * (this.ySize / 4);
      for (let y = y0 / 2; y < (y0 + h) / 2; y++) {
        const row = base + y * cw;
        for (let x = x0 / 2; x < (x0 + w) / 2; x++) f[row + x] = (f[row + x] + 128) >> 1;
      }
    }
  }

  private border(x0: number, y0: number, w: number, h: number): void {
    const b = Math.min(BORDER, even(w / 2), even(h / 2));
    if (b === 0) return;
    this.fillRect(x0, y0, w, b, BORDER_Y, BORDER_U, BORDER_V);
    this.fillRect(x0, y0 + h - b, w, b, BORDER_Y, BORDER_U, BORDER_V);
    this.fillRect(x0, y0 + b, b, h - 2 * b, BORDER_Y, BORDER_U, BORDER_V);
    this.fillRect(x0 + w - b, y0 + b, b, h - 2 * b, BORDER_Y, BORDER_U, BORDER_V);
  }

  /** Fills a rect (even coordinates and size) with one colour. */
  private fillRect(x0: number, y0: number, w: number, h: number, Y: number, U: number, V: number): void {
    const f = this.frame;
    const W = this.width;
    for (let y = y0; y < y0 + h; y++) f.fill(Y, y * W + x0, y * W + x0 + w);
    const cw = this.cw;
    const uBase = this.ySize;
    const vBase = this.ySize + this.ySize / 4;
    for (let y = y0 / 2; y < (y0 + h) / 2; y++) {
      const o = y * cw + x0 / 2;
      f.fill(U, uBase + o, uBase + o + w / 2);
      f.fill(V, vBase + o, vBase + o + w / 2);
    }
  }
}

/** Up to two uppercase initials: first letters of the first and last words; '?' for non-ASCII. */
export function initialsOf(label: string): string {
  const words = label.trim().split(/\s+/).filter((s) => s.length > 0);
  if (words.length === 0) return '';
  const first = (s: string) => {
    const c = String.fromCodePoint(s.codePointAt(0) as number).toUpperCase().charCodeAt(0);
    return c >= 32 && c <= 126 ? String.fromCharCode(c) : '?';
  };
  return words.length === 1 ? first(words[0]) : first(words[0]) + first(words[words.length - 1]);
}

/** Bilinear scaling of one plane with 8-bit weights, from tables made by makeTables. */
function scalePlane(src: Uint8Array, srcOff: number, srcStride: number, dst: Uint8Array, dstOff: number, dstStride: number, w: number, h: number, xt: Int32Array, yt: Int32Array): void {
  for (let dy = 0; dy < h; dy++) {
    const ty = yt[dy];
    const r0 = srcOff + (ty >> 9) * srcStride;
    const r1 = r0 + srcStride;
    const wy = ty & 511;
    const o = dstOff + dy * dstStride;
    for (let dx = 0; dx < w; dx++) {
      const tx = xt[dx];
      const a = tx >> 9;
      const wx = tx & 511;
      const s00 = src[r0 + a];
      const s10 = src[r1 + a];
      const top = (s00 << 8) + (src[r0 + a + 1] - s00) * wx;
      const bot = (s10 << 8) + (src[r1 + a + 1] - s10) * wx;
      dst[o + dx] = ((top << 8) + (bot - top) * wy + 32768) >> 16;
    }
  }
}

/** The source region of the rect's aspect ratio, centred (crop to fill), and the index tables. */
function makeTables(sw: number, sh: number, w: number, h: number): ScaleTables {
  let cropW = sw;
  let cropH = sh;
  if (sw * h > sh * w) cropW = (sh * w) / h;
  else cropH = (sw * h) / w;
  const cropX = (sw - cropW) / 2;
  const cropY = (sh - cropH) / 2;
  const axis = (n: number, srcN: number, start: number, len: number): Int32Array => {
    const t = new Int32Array(n);
    for (let d = 0; d < n; d++) {
      // the destination pixel's centre in source coordinates
      const s = Math.min(srcN - 1, Math.max(0, start + ((d + 0.5) * len) / n - 0.5));
      let i = Math.floor(s);
      let wt = Math.round((s - i) * 256);
      // the last column blends from the one before at full weight: i+1 always exists
      if (i >= srcN - 1) {
        i = srcN - 2;
        wt = 256;
      }
      t[d] = (i << 9) | wt;
    }
    return t;
  };
  return {
    yx: axis(w, sw, cropX, cropW),
    yy: axis(h, sh, cropY, cropH),
    cx: axis(w / 2, sw / 2, cropX / 2, cropW / 2),
    cy: axis(h / 2, sh / 2, cropY / 2, cropH / 2),
  };
}
