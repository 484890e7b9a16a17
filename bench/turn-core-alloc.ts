/**
 * Proves the TURN core's relay path allocates nothing: drives a real TurnCore (no sockets)
 * through an authenticated Allocate and ChannelBind, then forwards N ChannelData packets each
 * way and counts the garbage collections and heap growth that happen meanwhile. Zero young-
 * generation collections over millions of packets means no per-packet allocation.
 *
 *   npm run bench:turn-core [-- --packets 2000000]
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Attr, decodeString, getAttribute, decodeStun, longTermKey, Method, StunClass, StunWriter } from '@switchboard/stun';
import { Credentials, PeerPolicy, TurnCore, type Allocation, type ClientRef, type TurnHost } from '@switchboard/turn';

const { values } = parseArgs({ options: { packets: { type: 'string', default: '2000000' } } });
const N = Number(values.packets);

let lastResponse: Uint8Array = new Uint8Array(0);
let sentToPeer = 0;
let sentToClient = 0;
const host: TurnHost = {
  sendToClient(_c, buf, offset, length) {
    lastResponse = buf.slice(offset, offset + length);
  },
  sendToPeer() {
    sentToPeer++;
  },
  sendChannelDataToClient() {
    sentToClient++;
  },
  openRelay(alloc: Allocation) {
    core.relayReady(alloc, { family: 4, address: '192.0.2.1', port: 50000 });
  },
  closeRelay() {},
};
const core = new TurnCore(
  { credentials: new Credentials({ realm: 'example.org', users: { test: 'test' } }), policy: new PeerPolicy({ allowedPeerIp: ['198.51.100.0/24'] }) },
  host,
  Date.now(),
);
const client: ClientRef = { key: 'udp:0:203.0.113.9:40000', transport: 'udp', address: '203.0.113.9', port: 40000, family: 4, ip4: 0xcb007109 };

// The 401 dance, then an authenticated Allocate and ChannelBind, as a client would.
const w = new StunWriter();
let txn = 0;
const tx = () => Uint8Array.from({ length: 12 }, (_, i) => (i === 11 ? ++txn : i));
core.handleClientMessage(client, w.start(Method.Allocate, StunClass.Request, tx()).addRequestedTransport(17).addFingerprint().toBytes());
const challenge = decodeStun(lastResponse);
const nonce = decodeString(getAttribute(challenge, Attr.Nonce)!);
const key = longTermKey('test', 'example.org', 'test');
const signed = (method: number, build: (w: StunWriter) => void) => {
  build(w.start(method, StunClass.Request, tx()));
  w.addString(Attr.Username, 'test').addString(Attr.Realm, 'example.org').addString(Attr.Nonce, nonce).addMessageIntegrity(key).addFingerprint();
  core.handleClientMessage(client, w.toBytes());
  const res = decodeStun(lastResponse);
  if (res.cls !== StunClass.SuccessResponse) throw new Error(`method ${method} failed`);
};
signed(Method.Allocate, (w) => w.addRequestedTransport(17));
const peer = { family: 4 as const, address: '198.51.100.7', port: 5000 };
signed(Method.ChannelBind, (w) => w.addChannelNumber(0x4000).addXorAddress(Attr.XorPeerAddress, peer));
const alloc = core.allocationFor(client)!;

// One receive buffer, as batched I/O gives: ChannelData from the client, raw data from the peer.
const buf = new Uint8Array(2048);
buf.set([0x40, 0x00, 0x00, 170]);
const peerIp4 = (198 << 24 | 51 << 16 | 100 << 8 | 7) >>> 0;

let gcs = 0;
const obs = new PerformanceObserver((list) => (gcs += list.getEntries().length));
obs.observe({ entryTypes: ['gc'] });

function run(label: string, step: () => void): void {
  for (let i = 0; i < 100_000; i++) step(); // warm up: let the JIT settle
  const before = gcs;
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) step();
  const ms = performance.now() - t0;
  const heap1 = process.memoryUsage().heapUsed;
  setImmediate(() => {
    console.log(
      `${label.padEnd(34)} ${N.toLocaleString()} packets  ${((ms * 1e6) / N).toFixed(0).padStart(4)} ns/packet  ` +
        `GCs during run: ${gcs - before}  heap growth: ${((heap1 - heap0) / 1024).toFixed(0)} KiB`,
    );
  });
}

run('client -> peer (ChannelData)', () => core.handleChannelData(core.udpAllocationV4(client.ip4!, client.port), buf, 0, 174));
await new Promise((r) => setTimeout(r, 50));
run('peer -> client (to ChannelData)', () => core.handlePeerDataV4(alloc, peerIp4, 5000, buf, 4, 170));
await new Promise((r) => setTimeout(r, 50));
obs.disconnect();
console.log(`forwarded: to peer ${sentToPeer.toLocaleString()}, to client ${sentToClient.toLocaleString()}`);
