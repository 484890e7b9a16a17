/**
 * What the application sees: page code (plain JavaScript, see test/helpers/chromium.ts) that reads
 * the frames reaching a MediaStreamTrack, the very object the SDK handed to the application, and
 * the Node-side call for it. getStats' framesDecoded counts what the decoder produced; this counts
 * what arrived at the track (a MediaStreamTrackProcessor on a clone of it), which is what a
 * <video> element or a canvas would show.
 *
 * In the page: `window.sbFrames(track, n, timeoutMs, wantWidth)` reads until n frames (and, with
 * wantWidth, one frame that wide) or timeoutMs, and resolves to { frames, width, height, centre:
 * [r,g,b] of the middle ninth of the last frame, sawWidth, ms }.
 */
import type { Page } from 'playwright-core';

export const TRACK_FRAMES_JS = `
window.sbFrames = async (track, n, timeoutMs, wantWidth) => {
  if (!track || track.readyState !== 'live') return { frames: 0, width: 0, height: 0, centre: null, ms: 0, reason: 'no live track' };
  const clone = track.clone();
  const reader = new MediaStreamTrackProcessor({ track: clone }).readable.getReader();
  const oc = new OffscreenCanvas(8, 8);
  const octx = oc.getContext('2d', { willReadFrequently: true });
  let count = 0, width = 0, height = 0, centre = null, sawWidth = false;
  const started = performance.now();
  const timer = setTimeout(() => reader.cancel().catch(() => {}), timeoutMs);
  try {
    while (count < n || (wantWidth && !sawWidth)) {
      const { value: frame, done } = await reader.read();
      if (done) break;
      count++;
      width = frame.displayWidth; height = frame.displayHeight;
      if (width === wantWidth) sawWidth = true;
      if (count === n || count % 5 === 1) {
        octx.drawImage(frame, width / 3, height / 3, width / 3, height / 3, 0, 0, 8, 8);
        const d = octx.getImageData(0, 0, 8, 8).data;
        let r = 0, g = 0, b = 0;
        for (let i = 0; i < d.length; i += 4) { r += d[i]; g += d[i + 1]; b += d[i + 2]; }
        centre = [Math.round(r / 64), Math.round(g / 64), Math.round(b / 64)];
      }
      frame.close();
    }
  } catch (e) {
    /* cancelled at the timeout */
  } finally {
    clearTimeout(timer);
    reader.cancel().catch(() => {});
    clone.stop();
  }
  return { frames: count, width, height, centre, sawWidth, ms: Math.round(performance.now() - started) };
};
true;
`;

export interface FramesSeen {
  from?: string;
  pub?: string;
  frames: number;
  width: number;
  height: number;
  /** Average colour of the middle ninth of the last frame read. */
  centre: number[] | null;
  /** A frame of the width asked for arrived. */
  sawWidth?: boolean;
  ms: number;
  reason?: string;
}

/**
 * Reads up to n frames (at most timeoutMs) from the track that `trackExpr` (page JavaScript)
 * evaluates to, e.g. a track kept from the SDK's trackSubscribed event.
 */
export const framesOf = (page: Page, trackExpr: string, n: number, timeoutMs: number, wantWidth?: number) =>
  page.evaluate(`window.sbFrames(${trackExpr}, ${n}, ${timeoutMs}, ${wantWidth ?? 0})`) as Promise<FramesSeen>;
