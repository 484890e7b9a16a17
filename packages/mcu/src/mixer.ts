// The MCU's audio mixer: 48 kHz, 20 ms frames of 16-bit PCM (interleaved when stereo). Each
// participant hears everyone but itself (an N-1 mix): the frame's total is summed once in 32 bits
// and each participant's own (gained) signal is taken back out, so N mixes cost O(N) passes, not
// O(N^2). Sums that leave the 16-bit range saturate instead of wrapping around. Per participant:
// gain, mute, and the level of what it sent (RFC 6464 dBov). No allocation per frame.

export const SAMPLE_RATE = 48_000;
export const FRAME_MS = 20;

export interface MixerOptions {
  channels?: 1 | 2;
}

export class MixerInput {
  /** The participant's last frame (zeros when it sent none this round). */
  readonly frame: Int16Array;
  /** The frame after gain/mute, as summed into the mix. */
  readonly contribution: Int32Array;
  gain = 1;
  muted = false;
  /** Whether a frame was pushed for the current round. */
  fresh = false;
  /** Level of the last frame, -dBov: 0 loud .. 127 silence (RFC 6464 scale). */
  level = 127;

  constructor(
    readonly id: string,
    samples: number,
  ) {
    this.frame = new Int16Array(samples);
    this.contribution = new Int32Array(samples);
  }
}

export class AudioMixer {
  readonly channels: 1 | 2;
  /** Samples per frame (all channels). */
  readonly samples: number;
  private readonly inputs = new Map<string, MixerInput>();
  private readonly total: Int32Array;
  private readonly scratch: Int16Array;
  /** Times a mixed sample had to be saturated (it would have clipped). */
  saturated = 0;

  constructor(opts: MixerOptions = {}) {
    this.channels = opts.channels ?? 1;
    this.samples = ((SAMPLE_RATE * FRAME_MS) / 1000) * this.channels;
    this.total = new Int32Array(this.samples);
    this.scratch = new Int16Array(this.samples);
  }

  add(id: string): MixerInput {
    let input = this.inputs.get(id);
    if (input === undefined) {
      input = new MixerInput(id, this.samples);
      this.inputs.set(id, input);
    }
    return input;
  }

  remove(id: string): void {
    this.inputs.delete(id);
  }

  get size(): number {
    return this.inputs.size;
  }

  setGain(id: string, gain: number): void {
    const input = this.inputs.get(id);
    if (input === undefined) return;
    if (!(gain >= 0 && gain <= 16)) throw new RangeError('gain must be 0..16');
    input.gain = gain;
  }

  setMuted(id: string, muted: boolean): void {
    const input = this.inputs.get(id);
    if (input !== undefined) input.muted = muted;
  }

  /** A decoded (or concealed) frame from a participant for this round. */
  push(id: string, pcm: Int16Array): void {
    const input = this.inputs.get(id);
    if (input === undefined) return;
    if (pcm.length !== this.samples) throw new RangeError(`a frame is ${this.samples} samples, not ${pcm.length}`);
    input.frame.set(pcm);
    input.fresh = true;
  }

  /**
   * Mixes the round: sums every input's contribution, then calls `out(id, mix)` for each
   * participant with everyone but itself. `mix` is a reused buffer: copy or encode it during the call.
   */
  mix(out: (id: string, mix: Int16Array) => void): void {
    const total = this.total;
    total.fill(0);
    for (const input of this.inputs.values()) {
      const c = input.contribution;
      if (!input.fresh || input.muted || input.gain === 0) {
        c.fill(0);
        input.level = input.fresh ? levelOf(input.frame) : 127;
        input.fresh = false;
        continue;
      }
      const f = input.frame;
      if (input.gain === 1) {
        for (let i = 0; i < f.length; i++) c[i] = f[i];
      } else {
        const g = input.gain;
        for (let i = 0; i < f.length; i++) c[i] = Math.round(f[i] * g);
      }
      for (let i = 0; i < c.length; i++) total[i] += c[i];
      input.level = levelOf(f);
      input.fresh = false;
    }
    const mixBuf = this.scratch;
    for (const input of this.inputs.values()) {
      const c = input.contribution;
      let sat = 0;
      for (let i = 0; i < total.length; i++) {
        const v = total[i] - c[i];
        if (v > 32767) {
          mixBuf[i] = 32767;
          sat++;
        } else if (v < -32768) {
          mixBuf[i] = -32768;
          sat++;
        } else {
          mixBuf[i] = v;
        }
      }
      this.saturated += sat;
      out(input.id, mixBuf);
    }
  }

  /** Participants by level, loudest first, those above `threshold` (-dBov, lower = louder). */
  speakers(threshold = 60): { id: string; level: number }[] {
    const out: { id: string; level: number }[] = [];
    for (const input of this.inputs.values()) if (input.level < threshold && !input.muted) out.push({ id: input.id, level: input.level });
    return out.sort((a, b) => a.level - b.level);
  }
}

/** RMS level of a frame in -dBov (RFC 6464): 0 = full scale, 127 = silence or quieter. */
export function levelOf(pcm: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += pcm[i] * pcm[i];
  if (sum === 0) return 127;
  const rms = Math.sqrt(sum / pcm.length) / 32768;
  const db = -20 * Math.log10(rms);
  return Math.max(0, Math.min(127, Math.round(db)));
}
