// Shared by the audio tests: measuring a tone's amplitude in PCM.

export const RATE = 48_000;

/** Amplitude of frequency f in x (Hann-windowed DFT at f; a pure tone of amplitude A gives ~A). */
export function tone(x: Int16Array, f: number): number {
  let re = 0;
  let im = 0;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    const ph = (2 * Math.PI * f * i) / RATE;
    re += x[i] * w * Math.cos(ph);
    im -= x[i] * w * Math.sin(ph);
  }
  return (2 * Math.hypot(re, im)) / (n * 0.5);
}
