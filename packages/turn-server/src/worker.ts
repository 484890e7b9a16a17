// A relay thread: one RelayEngine, its broker requests and logs routed to the main thread.

import { parentPort, workerData } from 'node:worker_threads';
import { remoteBroker, type BrokerReply, type BrokerRequest } from './broker-client.js';
import { RelayEngine } from './engine.js';
import type { TurnLogger, TurnServerOptions } from './options.js';

export interface WorkerInit {
  server: TurnServerOptions;
  relayIp: string;
  nonceSecret: Uint8Array;
  counters: SharedArrayBuffer;
}

export type WorkerMessage =
  | BrokerRequest
  | { type: 'log'; level: 'info' | 'warn' | 'debug' | 'error'; fields: Record<string, unknown>; msg: string }
  | { type: 'ready' }
  | { type: 'failed'; error: string; code?: string };

const port = parentPort;
if (!port) throw new Error('worker.ts runs only as a worker thread');
const init = workerData as WorkerInit;
const post = (m: WorkerMessage) => port.postMessage(m);
const log = (level: 'info' | 'warn' | 'debug' | 'error') => (fields: Record<string, unknown>, msg: string) => post({ type: 'log', level, fields, msg });
const logger: TurnLogger = { info: log('info'), warn: log('warn'), debug: log('debug'), error: log('error') };
const broker = remoteBroker(post);
const engine = new RelayEngine({
  server: init.server,
  relayIp: init.relayIp,
  reusePort: true,
  nonceSecret: init.nonceSecret,
  counters: new Float64Array(init.counters),
  broker: broker.client,
  logger,
});

port.on('message', (m: BrokerReply | { type: 'stop' }) => {
  if (m.type === 'broker-reply') broker.onReply(m);
  else if (m.type === 'stop') void engine.stop().then(() => process.exit(0));
});

engine.start().then(
  () => post({ type: 'ready' }),
  (err: NodeJS.ErrnoException) => post({ type: 'failed', error: err.message, code: err.code }),
);
