// Interop with an independent SCTP implementation: werift 0.24.4's pure-TS SCTP (the class its
// RTCPeerConnection uses), connected to ours over an in-memory transport (no DTLS). werift's SCTP
// class has no DCEP of its own (that lives in its RTCDataChannel), so on the werift side this
// test speaks DCEP by hand with SCTP.send(streamId, ppid, data) / onReceive.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { SctpAssociation } from '../src/index.js';
import type { DataChannel } from '../src/index.js';

const require = createRequire(import.meta.url);
const weriftSctpPath = resolve(process.cwd(), 'node_modules/werift/lib/sctp/src/sctp.js');

interface WEvent<T extends unknown[]> {
  subscribe(fn: (...args: T) => void): { unSubscribe(): void };
}
interface WeriftSctp {
  state: string;
  stateChanged: Record<'new' | 'closed' | 'connected' | 'connecting', WEvent<[]>>;
  onReceive: WEvent<[number, number, Buffer]>;
  onReconfigStreams: WEvent<[number[]]>;
  start(remotePort?: number): Promise<void>;
  stop(): Promise<void>;
  send(sid: number, ppid: number, data: Buffer, o?: { ordered?: boolean; maxRetransmits?: number; expiry?: number }): Promise<void>;
  sendResetRequest?(sid: number): Promise<void>;
}
interface WeriftTransport {
  onData?: (buf: Buffer) => void;
  send(buf: Buffer): Promise<void>;
  close(): void;
}
const { SCTP } = require(weriftSctpPath) as {
  SCTP: { client(t: WeriftTransport, port?: number): WeriftSctp; server(t: WeriftTransport, port?: number): WeriftSctp };
};

const until = async (cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

function dcepOpen(label: string, protocol = '', type = 0, rel = 0): Buffer {
  const l = Buffer.from(label);
  const p = Buffer.from(protocol);
  const b = Buffer.alloc(12 + l.length + p.length);
  b[0] = 3;
  b[1] = type;
  b.writeUInt16BE(256, 2);
  b.writeUInt32BE(rel, 4);
  b.writeUInt16BE(l.length, 8);
  b.writeUInt16BE(p.length, 10);
  l.copy(b, 12);
  p.copy(b, 12 + l.length);
  return b;
}

interface Wired {
  ours: SctpAssociation;
  theirs: WeriftSctp;
  received: { sid: number; ppid: number; data: Buffer }[];
  resets: number[][];
  drop: { rate: number; count: number };
  /** FORWARD-TSN chunks seen on the wire, by sender. */
  fwd: { ours: number; theirs: number };
}

const hasForwardTsn = (p: Uint8Array): boolean => {
  for (let off = 12; off + 4 <= p.length; ) {
    if (p[off] === 192) return true;
    const len = (p[off + 2] << 8) | p[off + 3];
    if (len < 4) return false;
    off += (len + 3) & ~3;
  }
  return false;
};

function wire(ourRole: 'client' | 'server'): Wired {
  const drop = { rate: 0, count: 0 };
  const fwd = { ours: 0, theirs: 0 };
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const transport: WeriftTransport = {
    send: async (buf) => {
      if (hasForwardTsn(buf)) fwd.theirs++;
      if (drop.rate && rnd() < drop.rate) return void drop.count++;
      const copy = new Uint8Array(buf);
      setImmediate(() => ours.receive(copy));
    },
    close: () => {},
  };
  const ours = new SctpAssociation({
    role: ourRole,
    remoteMaxMessageSize: 262144,
    send: (p) => {
      if (hasForwardTsn(p)) fwd.ours++;
      if (drop.rate && rnd() < drop.rate) return void drop.count++;
      const b = Buffer.from(p);
      setImmediate(() => transport.onData?.(b));
    },
  });
  const theirs = ourRole === 'client' ? SCTP.server(transport, 5000) : SCTP.client(transport, 5000);
  const received: Wired['received'] = [];
  const resets: number[][] = [];
  theirs.onReceive.subscribe((sid, ppid, data) => received.push({ sid, ppid, data: Buffer.from(data) }));
  theirs.onReconfigStreams.subscribe((s) => resets.push([...s]));
  return { ours, theirs, received, resets, drop, fwd };
}

async function connect(w: Wired): Promise<void> {
  void w.theirs.start(5000);
  w.ours.start();
  await until(() => w.ours.state === 'established' && w.theirs.state === 'connected', 15_000, 'association');
}

for (const ourRole of ['client', 'server'] as const) {
  describe(`werift interop, we are the ${ourRole === 'client' ? 'DTLS client (we send INIT)' : 'DTLS server (werift sends INIT)'}`, () => {
    const w = wire(ourRole);
    after(async () => {
      await w.theirs.stop().catch(() => {});
      w.ours.close();
    });

    test('association comes up', async () => {
      await connect(w);
    });

    test('we open a channel (DCEP OPEN -> werift, ACK <- werift) and send strings, binary, empty, 150 KB', async () => {
      const ch = w.ours.createDataChannel('ours', { protocol: 'proto' });
      await until(() => w.received.some((r) => r.ppid === 50 && r.sid === ch.id), 5000, 'DCEP OPEN at werift');
      const open = w.received.find((r) => r.ppid === 50 && r.sid === ch.id)!.data;
      assert.equal(open[0], 3);
      assert.equal(open.subarray(12, 16).toString(), 'ours');
      assert.equal(open.subarray(16, 21).toString(), 'proto');
      assert.equal(ch.id % 2, ourRole === 'client' ? 0 : 1);
      let opened = false;
      ch.onopen = () => (opened = true);
      await w.theirs.send(ch.id, 50, Buffer.from([2]));
      await until(() => opened, 5000, 'open');
      const big = Buffer.alloc(150_000);
      for (let i = 0; i < big.length; i++) big[i] = i % 251;
      ch.send('hello werift');
      ch.send(Uint8Array.of(9, 8, 7));
      ch.send('');
      ch.send(new Uint8Array(0));
      ch.send(big);
      await until(() => w.received.filter((r) => r.sid === ch.id && r.ppid !== 50).length === 5, 20_000, 'messages at werift');
      const msgs = w.received.filter((r) => r.sid === ch.id && r.ppid !== 50);
      assert.deepEqual(
        msgs.map((m) => m.ppid),
        [51, 53, 56, 57, 53],
      );
      assert.equal(msgs[0].data.toString(), 'hello werift');
      assert.deepEqual([...msgs[1].data], [9, 8, 7]);
      assert.ok(msgs[4].data.equals(big), '150 KB message intact');
      await until(() => ch.bufferedAmount === 0, 5000, 'acks');
    });

    test('werift opens a channel (we ACK) and messages flow both ways, 500 in order', async () => {
      let remote: DataChannel | undefined;
      w.ours.onchannel = (ch) => (remote = ch);
      const sid = ourRole === 'client' ? 1 : 2;
      await w.theirs.send(sid, 50, dcepOpen('theirs', 'p2', 0x81, 5)); // unordered, rexmit 5
      await until(() => remote !== undefined, 5000, 'onchannel');
      assert.equal(remote!.label, 'theirs');
      assert.equal(remote!.protocol, 'p2');
      assert.equal(remote!.ordered, false);
      assert.equal(remote!.maxRetransmits, 5);
      await until(() => w.received.some((r) => r.sid === sid && r.ppid === 50 && r.data[0] === 2), 5000, 'DCEP ACK at werift');
      const got: (string | Uint8Array)[] = [];
      remote!.onmessage = (m) => got.push(m);
      // Use an ordered reliable channel on a fresh stream for the ordering check.
      const sid2 = sid + 2;
      let ordered: DataChannel | undefined;
      w.ours.onchannel = (ch) => (ordered = ch);
      await w.theirs.send(sid2, 50, dcepOpen('ordered'));
      await until(() => ordered !== undefined, 5000, 'second channel');
      const got2: (string | Uint8Array)[] = [];
      ordered!.onmessage = (m) => got2.push(m);
      void w.theirs.send(sid, 51, Buffer.from('u1'), { ordered: false });
      void w.theirs.send(sid, 53, Buffer.from([1, 2]), { ordered: false });
      for (let i = 0; i < 500; i++) void w.theirs.send(sid2, 51, Buffer.from(`n${i}`));
      void w.theirs.send(sid2, 53, Buffer.alloc(70_000, 7));
      await until(() => got.length === 2 && got2.length === 501, 20_000, 'messages from werift');
      assert.deepEqual(new Set(got.map((m) => (typeof m === 'string' ? m : `bin${m.length}`))), new Set(['u1', 'bin2']));
      assert.deepEqual(got2.slice(0, 500), Array.from({ length: 500 }, (_, i) => `n${i}`));
      assert.equal((got2[500] as Uint8Array).length, 70_000);
      // And answers from our side on the werift-opened channel.
      ordered!.send('reply');
      await until(() => w.received.some((r) => r.sid === sid2 && r.ppid === 51 && r.data.toString() === 'reply'), 5000, 'reply');
    });

    test('closing our channel resets the stream; werift resets back; channel closed', async () => {
      const ch = w.ours.createDataChannel('to-close');
      let opened = false;
      ch.onopen = () => (opened = true);
      await until(() => w.received.some((r) => r.ppid === 50 && r.sid === ch.id && r.data[0] === 3 && r.data.includes(Buffer.from('to-close'))), 5000, 'OPEN');
      await w.theirs.send(ch.id, 50, Buffer.from([2]));
      await until(() => opened, 5000, 'open');
      let closed = false;
      ch.onclose = () => (closed = true);
      ch.close();
      await until(() => closed, 10_000, 'close');
      assert.equal(ch.readyState, 'closed');
      assert.ok(w.resets.some((s) => s.includes(ch.id)), 'werift saw the reset');
    });

    test('10% loss both ways: reliable ordered data still arrives in order', async () => {
      let ch: DataChannel | undefined;
      w.ours.onchannel = (c) => (ch = c);
      const sid = ourRole === 'client' ? 11 : 12;
      await w.theirs.send(sid, 50, dcepOpen('lossy'));
      await until(() => ch !== undefined, 5000, 'channel');
      const got: (string | Uint8Array)[] = [];
      ch!.onmessage = (m) => got.push(m);
      await until(() => w.received.some((r) => r.sid === sid && r.ppid === 50), 5000, 'ack');
      w.drop.rate = 0.1;
      const pad = 'x'.repeat(1500);
      for (let i = 0; i < 100; i++) ch!.send(`o${i}${pad}`);
      const fromThem = Array.from({ length: 100 }, (_, i) => w.theirs.send(sid, 51, Buffer.from(`t${i}${pad}`)));
      await until(
        () => got.length === 100 && w.received.filter((r) => r.sid === sid && r.ppid === 51).length === 100,
        60_000,
        'lossy transfer',
      );
      w.drop.rate = 0;
      await Promise.all(fromThem);
      assert.ok(w.drop.count > 5, `packets dropped: ${w.drop.count}`);
      assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => `t${i}${pad}`));
      assert.deepEqual(
        w.received.filter((r) => r.sid === sid && r.ppid === 51).map((r) => r.data.toString()),
        Array.from({ length: 100 }, (_, i) => `o${i}${pad}`),
      );
    });

    test('partial reliability under 20% loss: FORWARD-TSN both ways, no stall', async () => {
      // Ours -> werift on a maxRetransmits: 0 channel (werift must honour our FORWARD-TSN).
      const ch = w.ours.createDataChannel('pr', { maxRetransmits: 0 });
      let opened = false;
      ch.onopen = () => (opened = true);
      await until(() => w.received.some((r) => r.ppid === 50 && r.sid === ch.id && r.data.includes(Buffer.from('pr'))), 5000, 'OPEN');
      await w.theirs.send(ch.id, 50, Buffer.from([2]));
      await until(() => opened, 5000, 'open');
      // werift -> ours on a channel it opened, sending with maxRetransmits: 1 (werift treats 0 as
      // "no limit"), so werift abandons and sends FORWARD-TSN to us.
      let theirs: DataChannel | undefined;
      w.ours.onchannel = (c) => (theirs = c);
      const sid = ourRole === 'client' ? 21 : 22;
      await w.theirs.send(sid, 50, dcepOpen('pr-back', '', 0x01, 1));
      await until(() => theirs !== undefined, 5000, 'channel');
      const got: (string | Uint8Array)[] = [];
      theirs!.onmessage = (m) => got.push(m);
      const before = w.drop.count;
      w.drop.rate = 0.2;
      const pad = 'p'.repeat(800);
      for (let i = 0; i < 150; i++) ch.send(`q${i}${pad}`);
      const sends = Array.from({ length: 150 }, (_, i) => w.theirs.send(sid, 51, Buffer.from(`r${i}${pad}`), { maxRetransmits: 1, ordered: true }));
      await new Promise((r) => setTimeout(r, 1500));
      w.drop.rate = 0;
      ch.send('last');
      void w.theirs.send(sid, 51, Buffer.from('last'), { maxRetransmits: 1, ordered: true });
      await until(
        () => got.includes('last') && w.received.some((r) => r.sid === ch.id && r.data.toString() === 'last'),
        30_000,
        'last messages after loss',
      );
      await Promise.race([Promise.all(sends), new Promise((r) => setTimeout(r, 3000))]);
      assert.ok(w.drop.count > before, 'loss happened');
      const atThem = w.received.filter((r) => r.sid === ch.id && r.ppid === 51).map((r) => r.data.toString());
      const idx = atThem.filter((m) => m !== 'last').map((m) => Number(m.slice(1, m.indexOf('p'))));
      assert.deepEqual(idx, [...idx].sort((a, b) => a - b), 'ordered at werift');
      assert.ok(atThem.length <= 151);
      assert.ok(w.fwd.ours > 0, 'we sent FORWARD-TSN');
      const atUs = got.filter((m) => m !== 'last').map((m) => Number(String(m).slice(1, String(m).indexOf('p'))));
      assert.deepEqual(atUs, [...atUs].sort((a, b) => a - b), 'ordered at our side');
      // For the report: how much partial reliability actually kicked in.
      console.log(`# PR interop (${ourRole}): werift got ${atThem.length - 1}/150, we got ${atUs.length}/150, FORWARD-TSN ours=${w.fwd.ours} werift=${w.fwd.theirs}`);
      await until(() => ch.bufferedAmount === 0, 10_000, 'buffered drained');
    });

    test('werift stop() sends ABORT: we close', async () => {
      let closed = false;
      w.ours.onclose = () => (closed = true);
      await w.theirs.stop();
      await until(() => closed, 5000, 'ABORT');
      assert.equal(w.ours.state, 'closed');
    });
  });
}
