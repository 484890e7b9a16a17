import dgram from 'node:dgram';
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
