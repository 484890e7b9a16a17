// The generator against itself ("direct"): no SFU. A tiny WebSocket signaling server here makes
// one sending peer connection per subscriber and offers it; the subscribers (usually in the
// worker processes) answer. Shows how many subscribers the load generator can receive from
// before it, rather than the server under test, becomes the limit.
import { WebSocketServer, type WebSocket } from 'ws';
import { JsonSocket } from '../ws-json.js';
import type { Pacer } from '../pacer.js';
import { PublisherPeer, type SubscriberPeer } from '../scenarios/sfu/peers.js';

export class DirectSender {
  private readonly wss: WebSocketServer;
  readonly peers: PublisherPeer[] = [];
  readonly errors: string[] = [];
  private constructor(
    wss: WebSocketServer,
    readonly pump: Pacer,
  ) {
    this.wss = wss;
    wss.on('connection', (ws: WebSocket) => {
      const p = new PublisherPeer(`direct-${this.peers.length}`, { bindAddress: '127.0.0.1' });
      this.peers.push(p);
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString()) as { answer?: string };
        if (m.answer) {
          try {
            p.setAnswer(m.answer);
          } catch (err) {
            this.errors.push(`${(err as Error).message} (state ${p.connectionState}, gathering ${p.pc.gatheringState()})`);
            ws.close();
            return;
          }
          p.waitOpen().then(
            () => this.pump.add(p),
            () => undefined,
          );
        }
      });
      ws.on('close', () => {
        this.pump.remove(p);
        p.close();
      });
      void p.createOffer().then((sdp) => ws.send(JSON.stringify({ offer: sdp })));
    });
  }

  static async start(pump: Pacer): Promise<DirectSender> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    return new DirectSender(wss, pump);
  }

  get url(): string {
    const a = this.wss.address();
    if (a === null || typeof a === 'string') throw new Error('the direct signaling server is not listening');
    return `ws://127.0.0.1:${a.port}`;
  }

  /** Packets sent by every sending connection together. */
  get sentPackets(): number {
    return this.peers.reduce((a, p) => a + p.sentPackets, 0);
  }

  close(): void {
    for (const p of this.peers) p.close();
    this.wss.close();
  }
}

export async function directSubscribe(url: string, sub: SubscriberPeer, expectStreams: number, timeoutMs = 20_000): Promise<{ close(): void }> {
  const sock = await JsonSocket.open(url);
  try {
    const m = await sock.wait('direct offer', (x) => typeof x.offer === 'string', timeoutMs);
    const answer = await sub.answer(String(m.offer));
    sock.send({ answer });
    sub.expectStreams = expectStreams;
    await sub.waitConnected(timeoutMs);
    return { close: () => sock.close() };
  } catch (err) {
    sock.close();
    throw err;
  }
}
