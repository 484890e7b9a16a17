// Child process running a group of MCU participants for the load generator (see mcu-group.ts).
import { LocalMcuGroup, type McuGroupConfig } from './mcu-group.js';
import { serveGroup } from './worker-loop.js';

serveGroup<McuGroupConfig>(new LocalMcuGroup());
