// One ffmpeg child with pipes, shared by the VP8 decoder, the VP8 encoder and the recorder: spawn
// with the pipes asked for (stdin and/or extra fds like 3 and 4 to write, stdout to read), keep the
// last stderr lines for error messages, report the exit exactly once (with whether we asked for
// it), and kill on close (SIGTERM, then SIGKILL after a short grace). Writes to a dead child are
// ignored (EPIPE is swallowed): the exit report is where failures surface.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import { McuError } from '../errors.js';

/** The ffmpeg binary: $SB_FFMPEG, else `ffmpeg` on the PATH. */
export const FFMPEG = process.env.SB_FFMPEG ?? 'ffmpeg';

/** Arguments every child gets: quiet but for errors, and no keyboard commands read from stdin. */
export const FFMPEG_COMMON_ARGS: readonly string[] = ['-hide_banner', '-nostdin', '-loglevel', 'error'];

const STDERR_TAIL = 2000;

export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** close() or finish() was called before the child exited. */
  expected: boolean;
  /** Set when the exit was not asked for, or ffmpeg failed (non-zero exit / spawn error). */
  error: McuError | null;
}

export interface FfmpegProcessOptions {
  /** For messages: 'vp8 decoder', 'recorder', ... */
  name: string;
  /** Arguments after FFMPEG_COMMON_ARGS. */
  args: string[];
  /** File descriptors to open as pipes we write (0 = stdin, 3, 4, ...). */
  writeFds: number[];
  /** stdout chunks; without it stdout is ignored. */
  onStdout?(chunk: Buffer): void;
  /** Called exactly once when the child has exited and its pipes are closed. */
  onExit(exit: FfmpegExit): void;
}

export class FfmpegProcess {
  private readonly child: ChildProcess;
  private readonly pipes = new Map<number, Writable>();
  private tail = '';
  private expected = false;
  private killTimer: NodeJS.Timeout | null = null;
  private lastExit: FfmpegExit | null = null;
  private readonly exitWaiters: ((e: FfmpegExit) => void)[] = [];
  /** The child has exited (or never started). */
  exited = false;

  constructor(private readonly opts: FfmpegProcessOptions) {
    const maxFd = Math.max(2, ...opts.writeFds);
    const stdio: ('pipe' | 'ignore')[] = [];
    for (let fd = 0; fd <= maxFd; fd++) stdio.push(fd === 2 || opts.writeFds.includes(fd) || (fd === 1 && opts.onStdout) ? 'pipe' : 'ignore');
    this.child = spawn(FFMPEG, [...FFMPEG_COMMON_ARGS, ...opts.args], { stdio });
    for (const fd of opts.writeFds) {
      const w = this.child.stdio[fd] as Writable | null;
      if (w === null) continue;
      w.on('error', () => {}); // EPIPE when the child dies: the exit report says why
      this.pipes.set(fd, w);
    }
    if (opts.onStdout) {
      const out = this.child.stdout;
      out?.on('error', () => {});
      out?.on('data', (chunk: Buffer) => opts.onStdout?.(chunk));
    }
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (s: string) => {
      this.tail = (this.tail + s).slice(-STDERR_TAIL);
    });
    this.child.on('error', (err) => this.report(null, null, new McuError('SB_ERR_CODEC_SPAWN', `${opts.name}: cannot run ${FFMPEG}: ${err.message}`)));
    // 'close' (not 'exit'): stdout has been fully delivered by then
    this.child.on('close', (code, signal) => this.report(code, signal, null));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The last lines ffmpeg wrote to stderr. */
  stderrTail(): string {
    return this.tail.trim();
  }

  /**
   * Writes to pipe `fd`; `done` runs when the data has been handed to the OS (or dropped because
   * the child is gone). Returns false if the child is gone. Keep `buf` unchanged until `done`.
   */
  write(fd: number, buf: Uint8Array, done?: () => void): boolean {
    const w = this.pipes.get(fd);
    if (w === undefined || this.exited || w.destroyed || w.writableEnded) {
      if (done) queueMicrotask(done);
      return false;
    }
    if (done) w.write(buf, () => done());
    else w.write(buf);
    return true;
  }

  /** Bytes queued in Node for pipe `fd`, not yet taken by the OS. */
  queued(fd: number): number {
    return this.pipes.get(fd)?.writableLength ?? 0;
  }

  /** Ends the write pipes (ffmpeg sees EOF and finishes) and resolves when it has exited; SIGKILL after timeoutMs. */
  finish(timeoutMs: number): Promise<FfmpegExit> {
    if (this.lastExit !== null) return Promise.resolve(this.lastExit);
    this.expected = true;
    for (const w of this.pipes.values()) w.end();
    this.armKill(timeoutMs);
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  /** Stops the child: ends its pipes, SIGTERM, and SIGKILL if it is still there after graceMs. */
  close(graceMs = 500): void {
    if (this.exited) return;
    this.expected = true;
    for (const w of this.pipes.values()) w.destroy();
    this.signal('SIGTERM');
    this.armKill(graceMs);
  }

  /** Sends a signal (tests use SIGKILL to simulate a crash). */
  signal(sig: NodeJS.Signals): void {
    if (this.exited) return;
    try {
      this.child.kill(sig);
    } catch {
      /* already gone */
    }
  }

  private armKill(ms: number): void {
    if (this.killTimer !== null || this.exited) return;
    this.killTimer = setTimeout(() => this.signal('SIGKILL'), ms);
    this.killTimer.unref();
  }

  private report(code: number | null, signal: NodeJS.Signals | null, spawnError: McuError | null): void {
    this.exited = true;
    if (this.killTimer !== null) clearTimeout(this.killTimer);
    if (this.lastExit !== null) return;
    for (const w of this.pipes.values()) w.destroy();
    let error = spawnError;
    // expected exits still fail on a real error code (255 is ffmpeg stopping on our SIGTERM)
    if (error === null && (!this.expected || (code !== null && code !== 0 && code !== 255))) {
      const how = signal !== null ? `signal ${signal}` : `code ${code}`;
      const tail = this.stderrTail();
      error = new McuError('SB_ERR_CODEC_EXITED', `${this.opts.name}: ffmpeg exited (${how})${tail ? `: ${tail}` : ''}`);
    }
    const exit: FfmpegExit = { code, signal, expected: this.expected, error };
    this.lastExit = exit;
    this.opts.onExit(exit);
    for (const w of this.exitWaiters.splice(0)) w(exit);
  }
}
