// The command loop of a load-generator child process (worker.ts: SFU subscribers or MCU
// participants): connect / resetWindow / collect / close requests over IPC, one reply each.

/** What a child process serves: a group of peers it runs. */
export interface ServedGroup<C> {
  connect(cfg: C, progress: (done: number, total: number) => void): Promise<unknown>;
  resetWindow(): Promise<unknown>;
  collect(): Promise<unknown>;
  close(): Promise<void>;
}

export function serveGroup<C>(group: ServedGroup<C>): void {
  const send = (m: unknown) => process.send?.(m);
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: { id: number; cmd: string; arg?: unknown }) => {
    void (async () => {
      try {
        let result: unknown;
        if (m.cmd === 'connect') result = await group.connect(m.arg as C, (done, total) => send({ progress: [done, total] }));
        else if (m.cmd === 'resetWindow') result = await group.resetWindow();
        else if (m.cmd === 'collect') result = await group.collect();
        else if (m.cmd === 'close') {
          await group.close();
          send({ id: m.id, ok: true });
          setTimeout(() => process.exit(0), 200);
          return;
        } else throw new Error(`unknown command ${m.cmd}`);
        send({ id: m.id, ok: true, result });
      } catch (err) {
        send({ id: m.id, ok: false, error: (err as Error).message });
      }
    })();
  });
}
