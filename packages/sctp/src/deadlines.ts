// The association's timers (T1-init/cookie, T2-shutdown, T3-rtx, delayed SACK, RECONFIG) as
// deadlines on the association's clock. In 'auto' mode one unref'd setTimeout is kept armed
// for the earliest; in 'manual' mode the caller polls next() and calls the association's
// handleTimeout().
import { TIMERS } from './constants.js';
import type { TimerName, Timers } from './constants.js';

export class Deadlines implements Timers {
  private readonly at: Record<TimerName, number | null> = { t1: null, t2: null, t3: null, sack: null, reconfig: null };
  private handle: ReturnType<typeof setTimeout> | null = null;
  private handleAt = Infinity;

  constructor(
    readonly now: () => number,
    /** null: manual mode (no setTimeout of our own). */
    private readonly onDue: (() => void) | null,
  ) {}

  set(t: TimerName, delayMs: number): void {
    this.at[t] = this.now() + delayMs;
  }

  clear(t: TimerName): void {
    this.at[t] = null;
  }

  isSet(t: TimerName): boolean {
    return this.at[t] !== null;
  }

  /** The earliest deadline, or null. */
  next(): number | null {
    let min: number | null = null;
    for (const t of TIMERS) {
      const d = this.at[t];
      if (d !== null && (min === null || d < min)) min = d;
    }
    return min;
  }

  /** Whether `t` is still due at `now` (an earlier timer's handler may have moved it). */
  stillDue(t: TimerName, now: number): boolean {
    const d = this.at[t];
    if (d === null || d > now) return false;
    this.at[t] = null;
    return true;
  }

  /** Auto mode: keeps one setTimeout armed for the earliest deadline (none when `stopped`). */
  arm(stopped: boolean): void {
    if (this.onDue === null) return;
    const next = stopped ? null : this.next();
    if (next === null) {
      this.cancel();
      return;
    }
    if (this.handle && this.handleAt === next) return;
    if (this.handle) clearTimeout(this.handle);
    this.handleAt = next;
    const onDue = this.onDue;
    this.handle = setTimeout(
      () => {
        this.handle = null;
        this.handleAt = Infinity;
        onDue();
        if (!this.handle) this.arm(false);
      },
      Math.max(0, next - this.now()),
    );
    this.handle.unref?.();
  }

  /** Clears every deadline and the setTimeout. */
  stop(): void {
    for (const t of TIMERS) this.at[t] = null;
    this.cancel();
  }

  private cancel(): void {
    if (this.handle) clearTimeout(this.handle);
    this.handle = null;
    this.handleAt = Infinity;
  }
}
