// Batched UDP I/O: recvmmsg into shared slots, sendmmsg from a queue, both areas, headers,
// batching, truncation, unwatch, unknown sockIds, exceptions in the callback, worker threads.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { after, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import {
  FLAG_HEADER, FLAG_PAD4, FLAG_SEND_AREA, intToIp4, ip4ToInt, localPort, META_WORDS, OP_FLAGS, OP_HEADER,
  OP_IP, OP_LENGTH, OP_OFFSET, OP_PORT, OP_SOCK, OP_WORDS, openUdp4, setSocketBuffers, UdpBatch, udpBatchAvailable,
} from '../src/index.ts';

const skip = !udpBatchAvailable() && 'netio addon not built (run npm run install in packages/netio)';
const LOOPBACK = ip4ToInt('127.0.0.1');

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Got { sockId: number; ip: number; port: number; data: Buffer }

/** A batch that copies out everything it receives. */
function recorder(opts: ConstructorParameters<typeof UdpBatch>[0] = {}) {
  const got: Got[] = [];
  const batches: number[] = [];
  const batch = new UdpBatch(opts, (count) => {
    batches.push(count);
    for (let i = 0; i < count; i++) {
      const m = i * META_WORDS;
      const len = batch.recvMeta[m + 3];
      const off = i * batch.slotSize;
      got.push({
        sockId: batch.recvMeta[m], ip: batch.recvMeta[m + 1], port: batch.recvMeta[m + 2],
        data: Buffer.from(batch.recvData.subarray(off, off + len)),
      });
    }
  });
  cleanups.push(() => batch.close());
  return { batch, got, batches };
}

async function dgramSocket(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  return s;
}

function collect(s: dgram.Socket): { msg: Buffer; port: number }[] {
  const out: { msg: Buffer; port: number }[] = [];
  s.on('message', (msg, rinfo) => out.push({ msg, port: rinfo.port }));
  return out;
}

function op(q: Int32Array, i: number, v: { sock: number; ip: number; port: number; header?: number; flags: number; offset: number; length: number }) {
  const o = i * OP_WORDS;
  q[o + OP_SOCK] = v.sock;
  q[o + OP_IP] = v.ip;
  q[o + OP_PORT] = v.port;
  q[o + OP_HEADER] = v.header ?? 0;
  q[o + OP_FLAGS] = v.flags;
  q[o + OP_OFFSET] = v.offset;
  q[o + OP_LENGTH] = v.length;
}

test('ip4ToInt / intToIp4', () => {
  assert.equal(ip4ToInt('127.0.0.1'), 0x7f000001);
  assert.equal(ip4ToInt('255.255.255.255'), -1);
  assert.equal(ip4ToInt('192.168.1.2'), (192 << 24 | 168 << 16 | 1 << 8 | 2) | 0);
  assert.equal(intToIp4(ip4ToInt('10.20.30.40')), '10.20.30.40');
  assert.equal(intToIp4(-1), '255.255.255.255');
  assert.throws(() => ip4ToInt('1.2.3'), TypeError);
  assert.throws(() => ip4ToInt('1.2.3.256'), TypeError);
});

test('openUdp4: kernel-chosen port, EADDRINUSE recognisable, SO_REUSEPORT shares a port', { skip }, () => {
  const fd = openUdp4('127.0.0.1', 0, false);
  const port = localPort(fd);
  assert.ok(port > 0);
  setSocketBuffers(fd, 1 << 20, 1 << 20);
  assert.throws(() => openUdp4('127.0.0.1', port, false), (e: NodeJS.ErrnoException) => {
    assert.equal(e.code, 'EADDRINUSE');
    assert.equal(e.syscall, 'bind');
    assert.match(e.message, /in use/i);
    return true;
  });
  assert.throws(() => openUdp4('not-an-ip', 0, false), { code: 'SB_ERR_UDP' });
  const a = openUdp4('127.0.0.1', 0, true);
  const b = openUdp4('127.0.0.1', localPort(a), true);
  assert.equal(localPort(b), localPort(a));
  // Hand them to a batch so they get closed.
  const { batch } = recorder();
  batch.watch(fd, 0);
  batch.watch(a, 1);
  batch.watch(b, 2);
  assert.throws(() => batch.watch(openUdp4('127.0.0.1', 0, false), 2), { code: 'SB_ERR_UDP' }); // id taken (fd leaks; test only)
  batch.close();
});

test('receives into recvData/recvMeta from two sockets', { skip }, async () => {
  const { batch, got } = recorder();
  const fa = openUdp4('127.0.0.1', 0, false);
  const fb = openUdp4('127.0.0.1', 0, false);
  const pa = localPort(fa), pb = localPort(fb);
  batch.watch(fa, 3);
  batch.watch(fb, 7);
  const sender = await dgramSocket();
  const sport = sender.address().port;
  sender.send(Buffer.from('hello a'), pa, '127.0.0.1');
  sender.send(Buffer.from('hello b!'), pb, '127.0.0.1');
  sender.send(Buffer.alloc(0), pa, '127.0.0.1');
  await until(() => got.length === 3, '3 datagrams');
  const a = got.filter((g) => g.sockId === 3);
  const b = got.filter((g) => g.sockId === 7);
  assert.deepEqual(a.map((g) => g.data.toString()).sort(), ['', 'hello a']);
  assert.deepEqual(b.map((g) => g.data.toString()), ['hello b!']);
  for (const g of got) {
    assert.equal(g.ip, LOOPBACK);
    assert.equal(intToIp4(g.ip), '127.0.0.1');
    assert.equal(g.port, sport);
  }
  const s = batch.stats();
  assert.equal(s.received, 3);
  assert.ok(s.batches >= 1 && s.batches <= 3);
});

test('flush sends from recvData (zero copy, inside onBatch) and sendData, with and without header', { skip }, async () => {
  const rx = await dgramSocket();
  const out = collect(rx);
  const rxPort = rx.address().port;
  let sentInCallback = -1;
  const batch: UdpBatch = new UdpBatch({ slotSize: 256 }, (count) => {
    // Echo each datagram to rx: plain, and with a ChannelData-style header + padding.
    let n = 0;
    for (let i = 0; i < count; i++) {
      const len = batch.recvMeta[i * META_WORDS + 3];
      op(batch.sendQueue, n++, { sock: 1, ip: LOOPBACK, port: rxPort, flags: 0, offset: i * batch.slotSize, length: len });
      op(batch.sendQueue, n++, {
        sock: 1, ip: LOOPBACK, port: rxPort, header: (0x4001 << 16) | len, flags: FLAG_HEADER | FLAG_PAD4,
        offset: i * batch.slotSize, length: len,
      });
    }
    sentInCallback = batch.flush(n);
  });
  cleanups.push(() => batch.close());
  const fd = openUdp4('127.0.0.1', 0, false);
  const myPort = localPort(fd);
  batch.watch(fd, 1);
  const sender = await dgramSocket();
  sender.send(Buffer.from('abcde'), myPort, '127.0.0.1');
  await until(() => out.length === 2, 'echo of 2');
  assert.equal(sentInCallback, 2);
  assert.ok(out.every((o) => o.port === myPort), 'source port is the watched socket');
  const plain = out.find((o) => o.msg.length === 5)!;
  const framed = out.find((o) => o.msg.length !== 5)!;
  assert.equal(plain.msg.toString(), 'abcde');
  assert.deepEqual([...framed.msg], [0x40, 0x01, 0x00, 0x05, 0x61, 0x62, 0x63, 0x64, 0x65, 0, 0, 0]);

  // From a timer, out of sendData: header with the top bit set (any 32-bit value), no padding.
  out.length = 0;
  batch.sendData.set(Buffer.from('xyz'), 100);
  op(batch.sendQueue, 0, { sock: 1, ip: LOOPBACK, port: rxPort, header: 0xdeadbeef | 0, flags: FLAG_SEND_AREA | FLAG_HEADER, offset: 100, length: 3 });
  op(batch.sendQueue, 1, { sock: 1, ip: LOOPBACK, port: rxPort, flags: FLAG_SEND_AREA, offset: 100, length: 3 });
  op(batch.sendQueue, 2, { sock: 1, ip: LOOPBACK, port: rxPort, flags: FLAG_SEND_AREA | FLAG_PAD4, offset: 100, length: 3 });
  const sent = await new Promise<number>((r) => setTimeout(() => r(batch.flush(3)), 1));
  assert.equal(sent, 3);
  await until(() => out.length === 3, '3 from sendData');
  const hexes = out.map((o) => o.msg.toString('hex')).sort();
  assert.deepEqual(hexes, ['78797a', '78797a00', 'deadbeef78797a'].sort());
  assert.ok(out.every((o) => o.port === myPort));
  assert.equal(batch.stats().sent, 5);
});

test('flush groups by sockId, drops unknown sockIds and invalid ops', { skip }, async () => {
  const rx = await dgramSocket();
  const out = collect(rx);
  const { batch } = recorder({ sendSlots: 8 });
  const fa = openUdp4('127.0.0.1', 0, false);
  const fb = openUdp4('127.0.0.1', 0, false);
  batch.watch(fa, 0);
  batch.watch(fb, 5);
  batch.sendData.set(Buffer.from('0123456789'));
  const to = { ip: LOOPBACK, port: rx.address().port, flags: FLAG_SEND_AREA };
  op(batch.sendQueue, 0, { ...to, sock: 0, offset: 0, length: 1 });
  op(batch.sendQueue, 1, { ...to, sock: 0, offset: 1, length: 1 });
  op(batch.sendQueue, 2, { ...to, sock: 99, offset: 2, length: 1 }); // unknown
  op(batch.sendQueue, 3, { ...to, sock: 5, offset: 3, length: 1 });
  op(batch.sendQueue, 4, { ...to, sock: 5, offset: batch.sendData.length, length: 1 }); // out of range
  op(batch.sendQueue, 5, { ...to, sock: 0, offset: 5, length: 1 });
  assert.equal(batch.flush(6), 4);
  await until(() => out.length === 4, '4 datagrams');
  const bySrc = new Map<number, string>();
  for (const o of out) bySrc.set(o.port, (bySrc.get(o.port) ?? '') + o.msg.toString());
  assert.equal([...bySrc.get(localPort(fa))!].sort().join(''), '015');
  assert.equal(bySrc.get(localPort(fb)), '3');
  const s = batch.stats();
  assert.equal(s.sent, 4);
  assert.equal(s.dropped_send, 2);
  assert.throws(() => batch.flush(9), RangeError);
  assert.equal(batch.flush(0), 0);
});

test('a burst of 500 datagrams arrives in fewer than 500 batches', { skip }, async () => {
  const { batch, got, batches } = recorder({ slots: 64 });
  const fd = openUdp4('127.0.0.1', 0, false);
  setSocketBuffers(fd, 4 << 20, 0);
  const port = localPort(fd);
  batch.watch(fd, 0);
  const sender = await dgramSocket();
  const N = 500;
  // Send synchronously (one event-loop turn), so the datagrams queue up in the kernel.
  for (let i = 0; i < N; i++) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(i);
    sender.send(b, port, '127.0.0.1');
  }
  await until(() => got.length === N, `${N} datagrams`, 5000);
  const seen = new Set(got.map((g) => g.data.readUInt32BE(0)));
  assert.equal(seen.size, N);
  assert.ok(batches.length < N, `batches ${batches.length}`);
  assert.ok(Math.max(...batches) > 1);
  assert.equal(batch.stats().batches, batches.length);
});

test('a datagram larger than slotSize is counted as truncated and not delivered', { skip }, async () => {
  const { batch, got } = recorder({ slotSize: 100 });
  const fd = openUdp4('127.0.0.1', 0, false);
  const port = localPort(fd);
  batch.watch(fd, 0);
  const sender = await dgramSocket();
  sender.send(Buffer.alloc(100, 1), port, '127.0.0.1');
  sender.send(Buffer.alloc(101, 2), port, '127.0.0.1');
  sender.send(Buffer.alloc(3, 3), port, '127.0.0.1');
  await until(() => got.length === 2 && batch.stats().dropped_truncated === 1, 'two delivered, one truncated');
  assert.deepEqual(got.map((g) => g.data.length), [100, 3]);
  assert.ok(got[0].data.every((b) => b === 1));
  assert.ok(got[1].data.every((b) => b === 3));
  assert.equal(batch.stats().received, 2);
});

test('unwatch closes the socket; unknown ids are ignored', { skip }, async () => {
  const { batch, got } = recorder();
  const fd = openUdp4('127.0.0.1', 0, false);
  const port = localPort(fd);
  batch.watch(fd, 4);
  const sender = await dgramSocket();
  sender.send(Buffer.from('1'), port, '127.0.0.1');
  await until(() => got.length === 1, 'first datagram');
  batch.unwatch(4);
  batch.unwatch(4);
  batch.unwatch(12345);
  batch.unwatch(-1);
  await new Promise((r) => setTimeout(r, 20));
  // The port is free again: the descriptor was closed.
  const again = openUdp4('127.0.0.1', port, false);
  batch.watch(again, 4); // and the id can be reused
  batch.unwatch(4);
  sender.send(Buffer.from('2'), port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(got.length, 1);
  assert.equal(batch.stats().received, 1);
  // Sending from an unwatched id drops.
  op(batch.sendQueue, 0, { sock: 4, ip: LOOPBACK, port: sender.address().port, flags: FLAG_SEND_AREA, offset: 0, length: 1 });
  assert.equal(batch.flush(1), 0);
  assert.equal(batch.stats().dropped_send, 1);
});

test('close stops everything; flush after close sends nothing; buffers stay usable', { skip }, async () => {
  const { batch } = recorder();
  const fd = openUdp4('127.0.0.1', 0, false);
  const port = localPort(fd);
  batch.watch(fd, 0);
  batch.close();
  batch.close();
  assert.throws(() => batch.watch(openUdp4('127.0.0.1', 0, false), 1), { code: 'SB_ERR_UDP' });
  op(batch.sendQueue, 0, { sock: 0, ip: LOOPBACK, port, flags: 0, offset: 0, length: 1 });
  assert.equal(batch.flush(1), 0);
  batch.recvData[0] = 42;
  assert.equal(batch.recvData[0], 42);
  await new Promise((r) => setTimeout(r, 20));
  openUdp4('127.0.0.1', port, false); // port free again (fd leaks until exit; test only)
});

test('an exception thrown in onBatch surfaces as an uncaught exception', { skip }, () => {
  const src = `
    import dgram from 'node:dgram';
    import { UdpBatch, openUdp4, localPort } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
    let calls = 0;
    process.on('uncaughtException', (e) => {
      console.log('caught:' + e.message + ':' + calls);
      if (calls === 2) { b.close(); s.close(); }
    });
    const b = new UdpBatch({}, () => { calls++; throw new Error('boom'); });
    const fd = openUdp4('127.0.0.1', 0, false);
    b.watch(fd, 0);
    const s = dgram.createSocket('udp4');
    s.send('x', localPort(fd), '127.0.0.1', () => setTimeout(() => s.send('y', localPort(fd), '127.0.0.1'), 20));
  `;
  const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', src], {
    encoding: 'utf8', timeout: 20000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['caught:boom:1', 'caught:boom:2']);
  // Without a handler the process dies with the error.
  const r2 = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e',
    src.replace(/process\.on[\s\S]*?\}\);/, '')], { encoding: 'utf8', timeout: 20000 });
  assert.notEqual(r2.status, 0);
  assert.match(r2.stderr, /boom/);
});

test('works inside a worker thread (and a worker exiting with sockets watched cleans up)', { skip }, async () => {
  const tsx = import.meta.resolve('tsx/esm/api');
  const mod = new URL('./worker-echo.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(mod)}); })`;
  const w = new Worker(boot, { eval: true, execArgv: ['--conditions=source'] });
  const port = await new Promise<number>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  const s = await dgramSocket();
  const out = collect(s);
  for (let i = 0; i < 10; i++) s.send(Buffer.from(`w${i}`), port, '127.0.0.1');
  await until(() => out.length === 10, '10 echoes from the worker');
  assert.deepEqual(out.map((o) => o.msg.toString()).sort(), Array.from({ length: 10 }, (_, i) => `w${i}`).sort());
  assert.ok(out.every((o) => o.port === port));
  // The worker is still watching its socket: terminating it must not crash the process.
  const code = await w.terminate();
  assert.equal(code, 1);
  await new Promise((r) => setTimeout(r, 20));
  // Its socket was closed with it.
  const fd = openUdp4('127.0.0.1', port, false);
  const { batch } = recorder();
  batch.watch(fd, 0);
});
