// The TURN server: one AllocationBroker on this thread and one RelayEngine per relay thread
// (or one here when threads is 0). Counters live in shared memory and are summed on demand.

import { randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { reusePortAvailable } from '@switchboard/netio';
import { AllocationBroker, counterBytes, createCounters, sumCounters, TurnError } from '@switchboard/turn';
import { localBroker, serveBrokerRequest } from './broker-client.js';
import { RelayEngine } from './engine.js';
import { silentLogger, type TurnCounters, type TurnLogger, type TurnServerOptions } from './options.js';
import type { WorkerInit, WorkerMessage } from './worker.js';

export const TURN_DEFAULTS: TurnServerOptions = {
  listeningIps: ['0.0.0.0'],
  listeningPort: 3478,
  tlsListeningPort: 5349,
  minPort: 49152,
  maxPort: 65535,
  realm: 'switchboard',
  users: {},
  authSecrets: [],
  allowLoopbackPeers: false,
  deniedPeerIp: [],
  allowedPeerIp: [],
  userQuota: 0,
  totalQuota: 0,
  maxBps: 0,
  threads: 0,
  software: 'Switchboard',
  maxTcpConnections: 10_000,
  udpIo: 'auto',
  socketBufferBytes: 4 << 20,
};

/** The address relays bind to: relayIp, else a concrete listening IP, else a local interface. */
export function chooseRelayIp(opts: TurnServerOptions): string {
  if (opts.relayIp) return opts.relayIp;
  const concrete = opts.listeningIps.find((ip) => ip !== '0.0.0.0' && ip !== '::');
  if (concrete) return concrete;
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

function workerUrl(): URL {
  // Under tsx (tests) this module is the .ts source; built, it is .js.
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./worker${ext}`, import.meta.url);
}

export class TurnServer {
  readonly options: TurnServerOptions;
  readonly relayIp: string;
  private readonly logger: TurnLogger;
  private readonly broker: AllocationBroker;
  private readonly counterArrays: Float64Array[] = [];
  private readonly workers: Worker[] = [];
  private local: RelayEngine | null = null;
  /** How many relay threads actually run (0 = in this thread). */
  threads = 0;

  constructor(options: Partial<TurnServerOptions>, logger: TurnLogger = silentLogger) {
    this.options = { ...TURN_DEFAULTS, ...options };
    this.logger = logger;
    this.relayIp = chooseRelayIp(this.options);
    for (const ip of [...this.options.listeningIps, this.relayIp]) {
      if (!net.isIP(ip)) throw new TurnError('TURN_ERR_CONFIG', `not an IP address: ${ip}`);
    }
    if (Object.keys(this.options.users).length === 0 && this.options.authSecrets.length === 0) {
      throw new TurnError('TURN_ERR_CONFIG', 'TURN needs at least one user or an auth secret: nothing is relayed without authentication');
    }
    this.broker = new AllocationBroker({
      minPort: this.options.minPort,
      maxPort: this.options.maxPort,
      userQuota: this.options.userQuota,
      totalQuota: this.options.totalQuota,
    });
  }

  async start(): Promise<void> {
    const nonceSecret = new Uint8Array(randomBytes(32));
    let threads = this.options.threads;
    if (threads > 0 && !reusePortAvailable()) {
      this.logger.warn({ threads }, 'SO_REUSEPORT addon not available: relaying on the main thread');
      threads = 0;
    }
    this.threads = threads;
    if (threads === 0) {
      const counters = createCounters();
      this.counterArrays.push(counters);
      this.local = new RelayEngine({
        server: this.options,
        relayIp: this.relayIp,
        reusePort: false,
        nonceSecret,
        counters,
        broker: localBroker(this.broker),
        logger: this.logger,
      });
      await this.local.start();
      return;
    }
    try {
      await Promise.all(Array.from({ length: threads }, () => this.startWorker(nonceSecret)));
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private startWorker(nonceSecret: Uint8Array): Promise<void> {
    const shared = new SharedArrayBuffer(counterBytes());
    this.counterArrays.push(createCounters(shared));
    const init: WorkerInit = { server: this.options, relayIp: this.relayIp, nonceSecret, counters: shared };
    const url = workerUrl();
    let worker: Worker;
    if (url.pathname.endsWith('.ts')) {
      // Running from source (tests under tsx): Node 20 workers do not inherit the loader, so
      // a small bootstrap registers tsx in the thread before importing the worker.
      const tsx = import.meta.resolve('tsx/esm/api');
      const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
      worker = new Worker(boot, { eval: true, workerData: init, execArgv: ['--conditions=source'] });
    } else {
      worker = new Worker(url, { workerData: init });
    }
    this.workers.push(worker);
    return new Promise((resolve, reject) => {
      worker.on('message', (m: WorkerMessage) => {
        switch (m.type) {
          case 'ready':
            resolve();
            break;
          case 'failed':
            reject(Object.assign(new Error(m.error), { code: m.code }));
            break;
          case 'log':
            this.logger[m.level](m.fields, m.msg);
            break;
          case 'broker': {
            const reply = serveBrokerRequest(this.broker, m);
            if (reply) worker.postMessage(reply);
            break;
          }
        }
      });
      worker.on('error', (err) => {
        this.logger.error({ err: err.message }, 'relay thread failed');
        reject(err);
      });
    });
  }

  /** Every thread's counters, added up. */
  counters(): TurnCounters {
    return sumCounters(this.counterArrays);
  }

  async stop(): Promise<void> {
    if (this.local) await this.local.stop();
    this.local = null;
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(() => void w.terminate().then(() => resolve()), 2000);
            w.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            w.postMessage({ type: 'stop' });
          }),
      ),
    );
    this.workers.length = 0;
  }
}
