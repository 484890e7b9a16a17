import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SctpAssociation, SctpError, wire } from '../src/index.js';
import { collect, connected, makePair, mulberry32, openChannel } from './helpers.js';

test('handshake: client INIT, server answers statelessly, both established', () => {
  const p = makePair();
  let est = 0;
  p.client.onestablished = () => est++;
  p.server.onestablished = () => est++;
  p.server.start();
  assert.equal(p.sent.server.length, 0, 'server waits for INIT');
  p.client.start();
  assert.equal(p.client.state, 'cookie-wait');
  p.run(() => p.client.state === 'established' && p.server.state === 'established');
  assert.equal(est, 2);
  // INIT advertises FORWARD-TSN and RE-CONFIG.
  const init = wire.decodePacket(p.sent.client[0]);
  assert.equal(init.vtag, 0);
  assert.equal(init.chunks[0].type, wire.ChunkType.INIT);
  const i = wire.decodeInit(init.chunks[0]);
  assert.ok(i.forwardTsn && i.reconfig);
  assert.equal(p.server.state, 'established');
});

test('lost INIT is retransmitted after the initial RTO', () => {
  let dropped = false;
  const q = makePair({ filter: (from) => (from === 'client' && !dropped ? ((dropped = true), false) : true) });
  q.server.start();
  q.client.start();
  q.run(() => q.client.state === 'established' && q.server.state === 'established');
  assert.ok(dropped);
  assert.ok(q.now() >= 1000);
});

test('INIT collision (both sides send INIT, as Chromium does) still establishes once', () => {
  const q = makePair({ server: { role: 'client' } });
  let est = 0;
  q.client.onestablished = () => est++;
  q.server.onestablished = () => est++;
  q.client.start();
  q.server.start();
  q.run(() => q.client.state === 'established' && q.server.state === 'established');
  q.settle();
  assert.equal(est, 2);
  const ch = q.client.createDataChannel('after-collision', { negotiated: true, id: 0 });
  const other = q.server.createDataChannel('after-collision', { negotiated: true, id: 0 });
  const got = collect(other);
  ch.send('ok');
  q.run(() => got.length === 1);
});

test('DCEP open in both directions, strings, binary and empty messages', () => {
  const p = connected();
  const a = openChannel(p, 'client', 'chat', { protocol: 'json' });
  assert.equal(a.local.id % 2, 0, 'DTLS client uses even ids');
  assert.equal(a.remote.label, 'chat');
  assert.equal(a.remote.protocol, 'json');
  assert.equal(a.remote.ordered, true);
  const b = openChannel(p, 'server', 'back', { ordered: false, maxRetransmits: 3 });
  assert.equal(b.local.id % 2, 1, 'DTLS server uses odd ids');
  assert.equal(b.remote.ordered, false);
  assert.equal(b.remote.maxRetransmits, 3);
  assert.equal(b.remote.maxPacketLifeTime, null);

  const gotA = collect(a.remote);
  const gotB = collect(b.remote);
  a.local.send('héllo');
  a.local.send(Uint8Array.of(1, 2, 3));
  a.local.send('');
  a.local.send(new Uint8Array(0));
  b.local.send('from server');
  p.run(() => gotA.length === 4 && gotB.length === 1);
  assert.equal(gotA[0], 'héllo');
  assert.deepEqual(gotA[1], Uint8Array.of(1, 2, 3));
  assert.equal(gotA[2], '');
  assert.ok(gotA[3] instanceof Uint8Array && gotA[3].length === 0);
  assert.equal(gotB[0], 'from server');
  const s = p.client.stats();
  assert.equal(s.messagesSent, 4);
  assert.equal(s.bytesSent, 6 + 3);
  assert.equal(p.server.stats().messagesReceived, 4);
});

test('maxPacketLifeTime is carried by DCEP', () => {
  const p = connected();
  const c = openChannel(p, 'client', 'timed', { maxPacketLifeTime: 150, ordered: false });
  assert.equal(c.remote.maxPacketLifeTime, 150);
  assert.equal(c.remote.maxRetransmits, null);
  assert.equal(c.remote.ordered, false);
});

test('a 200 KB message is fragmented and reassembled', () => {
  const p = connected();
  const { local, remote } = openChannel(p, 'client', 'big');
  const got = collect(remote);
  const big = new Uint8Array(200 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
  local.send(big);
  assert.equal(local.bufferedAmount, big.length);
  p.run(() => got.length === 1);
  assert.deepEqual(got[0], big);
  p.settle();
  assert.equal(local.bufferedAmount, 0);
  for (const pk of [...p.sent.client, ...p.sent.server]) assert.ok(pk.length <= 1200, 'packet within budget');
});

test('1000 small messages arrive in order, bundled', () => {
  const p = connected();
  const { local, remote } = openChannel(p, 'client', 'many');
  const got = collect(remote);
  const before = p.sent.client.length;
  for (let i = 0; i < 1000; i++) local.send(`m${i}`);
  p.run(() => got.length === 1000);
  assert.deepEqual(got, Array.from({ length: 1000 }, (_, i) => `m${i}`));
  assert.ok(p.sent.client.length - before < 500, `bundling: ${p.sent.client.length - before} packets`);
});

test('unordered channel delivers everything', () => {
  const p = connected();
  const { local, remote } = openChannel(p, 'server', 'u', { ordered: false });
  const got = collect(remote);
  for (let i = 0; i < 100; i++) local.send(`u${i}`);
  p.run(() => got.length === 100);
  assert.deepEqual(new Set(got), new Set(Array.from({ length: 100 }, (_, i) => `u${i}`)));
});

test('10% random loss: reliable ordered data still arrives complete and in order', () => {
  const p = connected();
  const { local, remote } = openChannel(p, 'client', 'lossy');
  const back = openChannel(p, 'server', 'lossy-back');
  p.loss = 0.1;
  const got = collect(remote);
  const gotBack = collect(back.remote);
  const rng = mulberry32(7);
  const sentMsgs: string[] = [];
  for (let i = 0; i < 500; i++) {
    const m = `x${i}:` + 'y'.repeat(Math.floor(rng() * 3000));
    sentMsgs.push(m);
    local.send(m);
    if (i % 5 === 0) back.local.send(`b${i}`);
  }
  const big = new Uint8Array(100_000).fill(9);
  local.send(big);
  p.run(() => got.length === 501 && gotBack.length === 100, 600_000);
  assert.deepEqual(got.slice(0, 500), sentMsgs);
  assert.deepEqual(got[500], big);
  assert.ok(p.client.stats().retransmissions > 0);
  assert.equal(p.client.state, 'established');
});

test('maxRetransmits: 0 under loss: some messages lost, FORWARD-TSN advances, no stall', () => {
  for (const ordered of [true, false]) {
    const p = connected();
    const { local, remote } = openChannel(p, 'client', 'pr', { maxRetransmits: 0, ordered });
    const rel = openChannel(p, 'client', 'reliable');
    const got = collect(remote);
    const gotRel = collect(rel.remote);
    p.loss = 0.2;
    for (let i = 0; i < 300; i++) {
      local.send(`p${i}`);
      if (i % 10 === 0) rel.local.send(`r${i}`);
    }
    p.run(() => gotRel.length === 30, 600_000);
    p.loss = 0;
    local.send('last');
    p.run(() => got.includes('last'), 60_000);
    p.settle();
    assert.ok(got.length < 301, `some lost (${got.length})`);
    assert.ok(got.length > 100, `most arrive (${got.length})`);
    if (ordered) {
      const idx = got.filter((m) => m !== 'last').map((m) => Number(String(m).slice(1)));
      assert.deepEqual(idx, [...idx].sort((a, b) => a - b), 'still in order');
    }
    const fwd = p.sent.client.some((pk) => wire.decodePacket(pk).chunks.some((c) => c.type === wire.ChunkType.FORWARD_TSN));
    assert.ok(fwd, 'FORWARD-TSN sent');
    assert.equal(local.bufferedAmount, 0);
    assert.deepEqual(gotRel, Array.from({ length: 30 }, (_, i) => `r${i * 10}`));
  }
});

test('maxPacketLifeTime: stale messages are abandoned', () => {
  const p = connected();
  const { local, remote } = openChannel(p, 'client', 'timed', { maxPacketLifeTime: 50 });
  const got = collect(remote);
  p.loss = 1; // black hole
  local.send('lost');
  p.run(() => p.now() > 3000 && true, 10_000);
  p.loss = 0;
  local.send('after');
  p.run(() => got.includes('after'));
  assert.deepEqual(got, ['after']);
});

test('channel close via stream reset (both directions), stream id reusable', () => {
  const p = connected();
  const { local, remote } = openChannel(p, 'client', 'c1');
  const events: string[] = [];
  local.onclose = () => events.push('local');
  remote.onclose = () => events.push('remote');
  const got = collect(remote);
  local.send('before close');
  local.close();
  assert.equal(local.readyState, 'closing');
  assert.throws(() => local.send('x'), (e: unknown) => e instanceof SctpError && e.code === 'SB_ERR_SCTP_NOT_OPEN');
  p.run(() => local.readyState === 'closed' && remote.readyState === 'closed');
  assert.deepEqual(got, ['before close']);
  assert.deepEqual(events.sort(), ['local', 'remote']);
  const resets = p.sent.client.some((pk) => wire.decodePacket(pk).chunks.some((c) => c.type === wire.ChunkType.RECONFIG));
  assert.ok(resets);
  // Same id again, SSNs restart at 0 on both sides.
  const again = openChannel(p, 'client', 'c2');
  assert.equal(again.local.id, local.id);
  const got2 = collect(again.remote);
  again.local.send('new');
  p.run(() => got2.length === 1);
  assert.deepEqual(got2, ['new']);
  // Closing from the remote side works too.
  again.remote.close();
  p.run(() => again.local.readyState === 'closed' && again.remote.readyState === 'closed');
});

test('ABORT: close() on one side tears down the other', () => {
  const p = connected();
  const { local, remote } = openChannel(p, 'client', 'x');
  let closed = 0;
  p.server.onclose = () => closed++;
  remote.onclose = () => closed++;
  p.client.close();
  assert.equal(p.client.state, 'closed');
  assert.equal(local.readyState, 'closed');
  p.run(() => p.server.state === 'closed');
  assert.equal(closed, 2);
  assert.equal(p.client.nextTimeout(), null);
  assert.equal(p.server.nextTimeout(), null);
});

test('graceful SHUTDOWN after queued data is delivered', () => {
  const p = connected();
  const { local, remote } = openChannel(p, 'client', 'x');
  const got = collect(remote);
  for (let i = 0; i < 50; i++) local.send('z'.repeat(1000));
  p.client.shutdown();
  p.run(() => p.client.state === 'closed' && p.server.state === 'closed');
  assert.equal(got.length, 50);
});

test('packets with a bad CRC32c are dropped', () => {
  const p = connected();
  const { local, remote } = openChannel(p, 'client', 'crc');
  const got = collect(remote);
  const origLen = p.sent.client.length;
  p.loss = 1;
  local.send('payload');
  p.client.flush();
  const pk = p.sent.client[origLen];
  assert.ok(pk, 'DATA packet captured');
  const bad = pk.slice();
  bad[bad.length - 1] ^= 0xff;
  p.server.receive(bad);
  assert.equal(p.server.stats().messagesReceived, 0, 'bad packet not delivered');
  const badHeader = pk.slice();
  badHeader[8] ^= 1; // the checksum itself
  p.server.receive(badHeader);
  assert.equal(p.server.stats().messagesReceived, 0);
  p.server.receive(pk);
  assert.deepEqual(got, ['payload']);
});

test('send() refuses messages over the peer max message size, and when not open', () => {
  const p = connected({ client: { remoteMaxMessageSize: 1000 } });
  const { local } = openChannel(p, 'client', 'small');
  assert.throws(() => local.send(new Uint8Array(1001)), (e: unknown) => e instanceof SctpError && e.code === 'SB_ERR_SCTP_MESSAGE_TOO_LARGE');
  local.send(new Uint8Array(1000));
  assert.throws(() => p.client.createDataChannel('x', { maxRetransmits: 1, maxPacketLifeTime: 1 }), SctpError);
});

test('negotiated channels skip DCEP', () => {
  const p = connected();
  const a = p.client.createDataChannel('neg', { negotiated: true, id: 7 });
  const b = p.server.createDataChannel('neg', { negotiated: true, id: 7 });
  assert.equal(a.readyState, 'open');
  const got = collect(b);
  a.send('hi');
  p.run(() => got.length === 1);
  assert.deepEqual(got, ['hi']);
  const dcep = p.sent.client.some((pk) =>
    wire.decodePacket(pk).chunks.some((c) => c.type === wire.ChunkType.DATA && wire.decodeData(c).ppid === 50),
  );
  assert.equal(dcep, false);
});

test('channels created before the association is up open once it is', () => {
  const p = makePair();
  p.server.start();
  const ch = p.client.createDataChannel('early');
  let remote: import('../src/index.js').DataChannel | undefined;
  p.server.onchannel = (c) => (remote = c);
  p.client.start();
  p.run(() => ch.readyState === 'open' && remote !== undefined);
  assert.equal(remote!.label, 'early');
});

test('handshake gives up after Max.Init.Retransmits', () => {
  const p = makePair({ filter: () => false });
  let closed = 0;
  p.client.onclose = () => closed++;
  p.client.start();
  p.run(() => p.client.state === 'failed', 200_000);
  assert.equal(closed, 1);
});

test('T3 expiry and peer silence: association fails after Association.Max.Retrans', () => {
  const p = connected();
  const { local } = openChannel(p, 'client', 'x');
  p.loss = 1;
  local.send('never');
  p.run(() => p.client.state === 'failed', 600_000);
});

test('auto timers: real setTimeout drives retransmission', async () => {
  const queue: [SctpAssociation, Uint8Array][] = [];
  let drop = 1;
  const client: SctpAssociation = new SctpAssociation({ role: 'client', send: (pk) => (drop-- > 0 ? undefined : void queue.push([server, pk])) });
  const server: SctpAssociation = new SctpAssociation({ role: 'server', send: (pk) => void queue.push([client, pk]) });
  const pump = setInterval(() => {
    for (const [to, pk] of queue.splice(0)) to.receive(pk);
  }, 5);
  server.start();
  client.start();
  const t0 = Date.now();
  while (client.state !== 'established' || server.state !== 'established') {
    await new Promise((r) => setTimeout(r, 20));
    if (Date.now() - t0 > 5000) break;
  }
  clearInterval(pump);
  assert.equal(client.state, 'established');
  client.close();
  server.close();
});
