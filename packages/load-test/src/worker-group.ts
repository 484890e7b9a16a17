// A group of load-generator peers run in this process or in a child process, behind one
// interface: the SFU scenario's subscribers and the MCU scenario's participants are both
// PeerGroups. WorkerGroup runs a scenario's local group in a child (worker.ts, which serves it
// with worker-loop.ts), so that receiving hundreds of streams, or timing the arrival of every
// audio frame, is not done on one overloaded event loop.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface PeerGroup<C, S> {
  connect(cfg: C, onProgress?: (done: number, total: number) => void): Promise<void>;
  /** Starts the measurement window. */
  resetWindow(): Promise<void>;
  collect(): Promise<S>;
  close(): Promise<void>;
}

/** Which scenario's group a worker runs (worker.ts maps it to the class). */
export type GroupKind = 'sfu-subscribers' | 'mcu-participants';

type Reply = { id: number; ok: boolean; result?: unknown; error?: string } | { progress: [number, number] };

/** A scenario's local group in a child process (worker.ts), forked with this process' loader flags. */
export class WorkerGroup<C, S> implements PeerGroup<C, S> {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private onProgress: ((done: number, total: number) => void) | undefined;
  private exited = false;

  constructor(private readonly kind: GroupKind) {
    const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
    const file = fileURLToPath(new URL(`./worker.${ext}`, import.meta.url));
    // 'advanced' serialization: results carry NaN (no packet yet), which JSON would turn into null
    this.child = fork(file, [kind], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    this.child.on('message', (m: Reply) => {
      if ('progress' in m) {
        this.onProgress?.(m.progress[0], m.progress[1]);
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error));
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`${this.kind} worker exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private call<T>(cmd: string, arg?: unknown): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.kind} worker has exited`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, cmd, arg });
    });
  }

  connect(cfg: C, onProgress?: (done: number, total: number) => void): Promise<void> {
    this.onProgress = onProgress;
    return this.call('connect', cfg);
  }

  resetWindow(): Promise<void> {
    return this.call('resetWindow');
  }

  collect(): Promise<S> {
    return this.call('collect');
  }

  async close(): Promise<void> {
    if (this.exited) return;
    await this.call('close').catch(() => undefined);
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.child.kill('SIGKILL');
        resolve();
      }, 3000);
      this.child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
