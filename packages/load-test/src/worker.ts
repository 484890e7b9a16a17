// A load-generator child process: serves one scenario's local peer group (see worker-group.ts)
// over IPC. argv[2] says which.
import { LocalSubscriberGroup, type GroupConfig } from './scenarios/sfu/group.js';
import { LocalMcuGroup, type McuGroupConfig } from './scenarios/mcu/group.js';
import type { GroupKind } from './worker-group.js';
import { serveGroup } from './worker-loop.js';

const kind = process.argv[2] as GroupKind;
if (kind === 'mcu-participants') serveGroup<McuGroupConfig>(new LocalMcuGroup());
else if (kind === 'sfu-subscribers') serveGroup<GroupConfig>(new LocalSubscriberGroup());
else throw new Error(`worker: unknown group kind ${String(kind)}`);
