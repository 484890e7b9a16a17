import dgram from 'node:dgram';
import { after } from 'node:test';
import { TurnServer, type TurnServerOptions } from '../src/index.js';

let nextPort = 31000 + Math.floor(Math.random() * 4000) * 2;

/** Starts a TurnServer on 127.0.0.1, on a fresh port (retrying if one is taken). */
export async function startServer(opts: Partial<TurnServerOptions> = {}): Promise<{ server: TurnServer; port: number }> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const port = nextPort;
    nextPort += 2;
    const server = new TurnServer({
      listeningIps: ['127.0.0.1'],
      listeningPort: port,
      realm: 'example.org',
      users: { test: 'test' },
      minPort: 42000 + (port % 1000) * 10,
      maxPort: 42000 + (port % 1000) * 10 + 9,
      threads: 0,
      tlsListeningPort: port + 1,
      ...opts,
    });
    try {
      await server.start();
      return { server, port };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
  throw new Error('no free port');
}

export async function udpPeer(): Promise<{ socket: dgram.Socket; port: number; received: Buffer[] }> {
  const socket = dgram.createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (m) => received.push(m));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { socket, port: socket.address().port, received };
}

/**
 * Cleanups run after the file's tests, last registered first. Every one runs even if another
 * throws (a server left open would keep the test process alive until the runner kills it), and
 * one that takes over 5 s, or anything still keeping the process alive 5 s after them, is named.
 * (Once in five full-suite runs, December 2026, security.test.ts did not end after all its tests
 * had passed; it never happened with the file on its own, idle or under load.)
 */
export function cleanupsFor(file: string): (fn: () => unknown) => void {
  const cleanups: (() => unknown)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) {
      const t = setTimeout(() => console.error(`${file}: a cleanup has not finished after 5 s: ${c.toString()}`), 5000);
      try {
        await c();
      } catch (err) {
        console.error(`${file}: a cleanup threw: ${c.toString()}: ${(err as Error).message}`);
      } finally {
        clearTimeout(t);
      }
    }
    setTimeout(() => console.error(`${file}: still running 5 s after the cleanups: ${JSON.stringify(process.getActiveResourcesInfo())}`), 5000).unref();
  });
  return (fn) => void cleanups.push(fn);
}
