// The server's handle on one MCU room's media process. Decoding, mixing, composing and encoding
// run in a child process (room-process.ts, which runs ffmpeg children of its own), so the
// server's event loop keeps forwarding and signaling, and a codec crash ends only that process:
// it is started again with the room's participants (at most MAX_RESTARTS a minute), and the
// participants are asked for keyframes. Packets are copied into a batch sent once per turn.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EngineOptions, EngineStats, FromEngine, ToEngine } from './ipc.js';
import { McuError } from './errors.js';

/** Where the engine's output goes (the SFU room's synthetic producers). */
export interface MixerSink {
  audio(sid: string, pkt: Uint8Array): void;
  video(pkt: Uint8Array): void;
  requestKeyframe(sid: string): void;
  log?(level: 'info' | 'warn', obj: Record<string, unknown>, msg: string): void;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = { width: 1280, height: 720, fps: 30, videoBitrate: 1_500_000, audioBitrate: 32_000, audioPayloadType: 111, videoPayloadType: 96 };

const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
/** Packets waiting for the next batch; beyond this (the process is stuck) they are dropped. */
const MAX_BATCH = 4096;


export class MixerProcess {
  private child: ChildProcess | null = null;
  private readonly participants = new Map<string, string>(); // sid -> name
  private sids: string[] = [];
  private kinds: number[] = [];
  private packets: Uint8Array[] = [];
  private flushQueued = false;
  private closed = false;
  private readonly restartTimes: number[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private speakers: string[] = [];
  private bitrate = 0;
  /** Times the media process was started again after it died. */
  restarts = 0;
  dropped = 0;
  /** The media process gave up (restarted too often). */
  failed = false;

  constructor(
    private readonly opts: EngineOptions,
    private readonly sink: MixerSink,
  ) {
    this.start();
  }

  private start(): void {
    const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
    const file = fileURLToPath(new URL(`./room-process.${ext}`, import.meta.url));
    const child = fork(file, [], { execArgv: process.execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child = child;
    child.on('message', (m: FromEngine) => this.onMessage(m));
    child.on('error', (err) => this.sink.log?.('warn', { err: err.message }, 'mcu media process error'));
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    this.post({ t: 'init', opts: this.opts });
    for (const [sid, name] of this.participants) this.post({ t: 'join', sid, name });
    if (this.speakers.length > 0) this.post({ t: 'speakers', sids: this.speakers });
    if (this.bitrate > 0) this.post({ t: 'bitrate', bps: this.bitrate });
  }

  private onExit(child: ChildProcess, code: number | null, signal: string | null): void {
    if (this.child !== child) return;
    this.child = null;
    for (const [id, p] of this.pending) {
      p.reject(new McuError('SB_ERR_MCU_ENGINE_EXITED', 'the media process exited'));
      this.pending.delete(id);
    }
    if (this.closed) return;
    const now = Date.now();
    while (this.restartTimes.length > 0 && now - this.restartTimes[0] > RESTART_WINDOW_MS) this.restartTimes.shift();
    if (this.restartTimes.length >= MAX_RESTARTS) {
      this.failed = true;
      this.sink.log?.('warn', { code, signal }, 'mcu media process keeps dying; the room has no mixed media');
      return;
    }
    this.restartTimes.push(now);
    this.restarts++;
    this.sink.log?.('warn', { code, signal, restarts: this.restarts }, 'mcu media process exited; starting it again');
    const t = setTimeout(() => {
      if (this.closed || this.child !== null) return;
      this.start();
      // fresh decoders need keyframes
      for (const sid of this.participants.keys()) this.sink.requestKeyframe(sid);
    }, 200);
    t.unref();
  }

  private onMessage(m: FromEngine): void {
    switch (m.t) {
      case 'out':
        for (let i = 0; i < m.audio.length; i++) this.sink.audio(m.audioSids[i], m.audio[i]);
        for (const p of m.video) this.sink.video(p);
        break;
      case 'pli':
        this.sink.requestKeyframe(m.sid);
        break;
      case 'log':
        this.sink.log?.(m.level, m.obj, m.msg);
        break;
      case 'reply': {
        const p = this.pending.get(m.id);
        if (p === undefined) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.value);
        else p.reject(Object.assign(new Error(m.message), { code: m.code }));
        break;
      }
    }
  }

  private post(m: ToEngine): void {
    const c = this.child;
    if (c === null || !c.connected) return;
    try {
      c.send(m);
    } catch {
      // the channel closed under us: the exit handler restarts
    }
  }

  private request<T>(m: ToEngine & { id: number }): Promise<T> {
    if (this.child === null) return Promise.reject(new McuError('SB_ERR_MCU_ENGINE_EXITED', 'the media process is not running'));
    return new Promise<T>((resolve, reject) => {
      this.pending.set(m.id, { resolve: resolve as (v: unknown) => void, reject });
      this.post(m);
    });
  }

  /** The media process's pid (undefined between a crash and its restart). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  participantJoined(sid: string, name: string): void {
    this.participants.set(sid, name);
    this.post({ t: 'join', sid, name });
  }

  participantLeft(sid: string): void {
    this.participants.delete(sid);
    this.post({ t: 'leave', sid });
  }

  media(sid: string, kind: 'audio' | 'video', buf: Uint8Array, off: number, len: number): void {
    if (this.child === null) return;
    if (this.packets.length >= MAX_BATCH) {
      this.dropped++;
      return;
    }
    this.sids.push(sid);
    this.kinds.push(kind === 'audio' ? 0 : 1);
    this.packets.push(buf.slice(off, off + len));
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.packets.length === 0) return;
    this.post({ t: 'media', sids: this.sids, kinds: this.kinds, packets: this.packets });
    this.sids = [];
    this.kinds = [];
    this.packets = [];
  }

  videoEnded(sid: string): void {
    this.post({ t: 'videoEnded', sid });
  }

  keyframeRequested(): void {
    this.post({ t: 'keyframe' });
  }

  receiverBitrate(bps: number): void {
    this.bitrate = bps;
    this.post({ t: 'bitrate', bps });
  }

  activeSpeakers(sids: string[]): void {
    this.speakers = sids;
    this.post({ t: 'speakers', sids });
  }

  setGain(sid: string, gain: number): void {
    this.post({ t: 'gain', sid, gain });
  }

  setMuted(sid: string, muted: boolean): void {
    this.post({ t: 'mute', sid, muted });
  }

  /** Starts recording the composed room (audio and video) to a WebM file. */
  startRecording(path: string): Promise<{ path: string }> {
    return this.request({ t: 'record', id: this.nextId++, path });
  }

  stopRecording(): Promise<{ path: string; bytes: number; durationMs: number }> {
    return this.request({ t: 'stopRecord', id: this.nextId++ });
  }

  stats(): Promise<EngineStats> {
    return this.request({ t: 'stats', id: this.nextId++ });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const c = this.child;
    this.child = null;
    for (const p of this.pending.values()) p.reject(new McuError('SB_ERR_MCU_ENGINE_EXITED', 'the room closed'));
    this.pending.clear();
    if (c !== null) {
      // the process finishes a recording in progress on disconnect, then exits
      c.disconnect?.();
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      t.unref();
      c.once('exit', () => clearTimeout(t));
    }
  }
}
