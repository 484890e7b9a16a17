// Child process running a group of MCU participants for the load generator (see mcu-group.ts).
import { LocalMcuGroup, type McuGroupConfig } from './mcu-group.js';

const group = new LocalMcuGroup();
const send = (m: unknown) => process.send?.(m);

process.on('disconnect', () => process.exit(0));
process.on('message', (m: { id: number; cmd: string; arg?: unknown }) => {
  void (async () => {
    try {
      let result: unknown;
      if (m.cmd === 'connect') result = await group.connect(m.arg as McuGroupConfig, (done, total) => send({ progress: [done, total] }));
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
