// The TURN server on real sockets: nothing relayed without authentication, no open relay,
// quotas hold, and garbage does not stop it serving.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Attr, Method } from '@switchboard/stun';
import { udpBatchAvailable } from '@switchboard/netio';
import { TestTurnClient, until } from './client.js';
import { cleanupsFor, startServer, udpPeer } from './fixtures.js';

const cleanups = { push: cleanupsFor('security.test.ts') };

async function client(port: number): Promise<TestTurnClient> {
  const c = new TestTurnClient(port);
  await c.bind();
  cleanups.push(() => c.close());
  return c;
}

test('Allocate without credentials gets 401 with REALM and NONCE, and nothing is allocated', async () => {
  const { server, port } = await startServer();
  cleanups.push(() => server.stop());
  const c = await client(port);
  const r = await c.request(Method.Allocate, (w) => w.addRequestedTransport(17), false);
  assert.equal(r.error?.code, 401);
  assert.ok(r.msg.attributes.some((a) => a.type === Attr.Realm));
  assert.ok(r.msg.attributes.some((a) => a.type === Attr.Nonce));
  assert.equal(server.counters().allocations, 0);
});

test('a wrong password gets 401 and counts an auth failure', async () => {
  const { server, port } = await startServer();
  cleanups.push(() => server.stop());
  const c = await client(port);
  const r = await c.allocate('test', 'wrong');
  assert.equal(r.error?.code, 401);
  assert.equal(server.counters().authFailBadIntegrity, 1);
  assert.equal(server.counters().allocations, 0);
});

test('REST credentials: valid ones allocate, expired ones get 401, a rotated secret still works', async () => {
  const { server, port } = await startServer({ users: {}, authSecrets: ['old-secret', 'new-secret'] });
  cleanups.push(() => server.stop());
  const rest = (secret: string, expires: number, user = 'alice') => {
    const username = `${expires}:${user}`;
    return { username, password: createHmac('sha1', secret).update(username).digest('base64') };
  };
  const now = Math.floor(Date.now() / 1000);
  const good = rest('new-secret', now + 3600);
  assert.ok((await (await client(port)).allocate(good.username, good.password)).relay);
  const rotated = rest('old-secret', now + 3600, 'bob');
  assert.ok((await (await client(port)).allocate(rotated.username, rotated.password)).relay);
  const expired = rest('new-secret', now - 10);
  assert.equal((await (await client(port)).allocate(expired.username, expired.password)).error?.code, 401);
  const forged = rest('not-the-secret', now + 3600);
  assert.equal((await (await client(port)).allocate(forged.username, forged.password)).error?.code, 401);
  const c = server.counters();
  assert.equal(c.authFailExpired, 1);
  assert.equal(c.authFailBadIntegrity, 1);
  assert.equal(c.allocations, 2);
});

test('CreatePermission to denied ranges gets 403; the relay is no proxy into private networks', async () => {
  const { server, port } = await startServer({ deniedPeerIp: ['203.0.113.0/24'] });
  cleanups.push(() => server.stop());
  const c = await client(port);
  assert.ok((await c.allocate('test', 'test')).relay);
  for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '224.0.0.251', '0.0.0.0', '203.0.113.7']) {
    const r = await c.createPermission({ family: 4, address, port: 9 });
    assert.equal(r.error?.code, 403, address);
  }
  assert.equal((await c.createPermission({ family: 4, address: '198.51.100.1', port: 9 })).error, undefined);
});

for (const udpIo of ['batch', 'dgram'] as const) test(`${udpIo} I/O: relaying works end to end over channels and Data indications, only for permitted peers`, { skip: udpIo === 'batch' && !udpBatchAvailable() && 'netio addon not built' }, async () => {
  const { server, port } = await startServer({ allowLoopbackPeers: true, udpIo });
  cleanups.push(() => server.stop());
  const peer = await udpPeer();
  cleanups.push(() => peer.socket.close());
  const c = await client(port);
  const { relay } = await c.allocate('test', 'test');
  assert.ok(relay);
  // No permission yet: the peer's datagram is not relayed.
  peer.socket.send('early', relay.port, relay.address);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(c.data.length + c.channelData.length, 0);
  const peerAddr = { family: 4 as const, address: '127.0.0.1', port: peer.port };
  assert.equal((await c.createPermission(peerAddr)).error, undefined);
  peer.socket.send('via-indication', relay.port, relay.address);
  await until(() => c.data.length === 1);
  assert.equal(Buffer.from(c.data[0].data).toString(), 'via-indication');
  assert.equal((await c.channelBind(0x4001, peerAddr)).error, undefined);
  c.sendChannelData(0x4001, Buffer.from('to-peer'));
  await until(() => peer.received.length === 1);
  assert.equal(peer.received[0].toString(), 'to-peer');
  peer.socket.send('to-client', relay.port, relay.address);
  await until(() => c.channelData.length === 1);
  assert.equal(c.channelData[0].channel, 0x4001);
  assert.equal(Buffer.from(c.channelData[0].data).toString(), 'to-client');
  // A stranger (another IP, no permission) cannot reach the client through the relay.
  // Permissions are per IP, so the stranger sends from 127.0.0.2 (all of 127/8 is loopback).
  const before = server.counters().droppedNoPermission;
  const alias = dgram.createSocket('udp4');
  cleanups.push(() => alias.close());
  const bound = await new Promise<boolean>((r) => {
    alias.once('error', () => r(false));
    alias.bind(0, '127.0.0.2', () => r(true));
  });
  if (bound) {
    alias.send('intruder', relay.port, relay.address);
    await until(() => server.counters().droppedNoPermission > before);
    assert.equal(c.channelData.length, 1);
  }
  assert.equal((await c.refresh(0)).error, undefined);
  await until(() => server.counters().allocations === 0);
});

test('user and total quotas are enforced with 486', async () => {
  const { server, port } = await startServer({ userQuota: 2, totalQuota: 3, users: { test: 'test', other: 'other' } });
  cleanups.push(() => server.stop());
  assert.ok((await (await client(port)).allocate('test', 'test')).relay);
  assert.ok((await (await client(port)).allocate('test', 'test')).relay);
  assert.equal((await (await client(port)).allocate('test', 'test')).error?.code, 486, 'user quota');
  assert.ok((await (await client(port)).allocate('other', 'other')).relay);
  assert.equal((await (await client(port)).allocate('other', 'other')).error?.code, 486, 'total quota');
});

test('running out of relay ports gets 508', async () => {
  const { server, port } = await startServer({ minPort: 44990, maxPort: 44991 });
  cleanups.push(() => server.stop());
  assert.ok((await (await client(port)).allocate('test', 'test')).relay);
  assert.ok((await (await client(port)).allocate('test', 'test')).relay);
  assert.equal((await (await client(port)).allocate('test', 'test')).error?.code, 508);
});

test('a flood of garbage datagrams leaves the server serving', async () => {
  const { server, port } = await startServer();
  cleanups.push(() => server.stop());
  const flood = dgram.createSocket('udp4');
  cleanups.push(() => flood.close());
  await new Promise<void>((r) => flood.bind(0, '127.0.0.1', () => r()));
  // Random bytes, STUN-looking headers with broken bodies, and ChannelData for unknown channels.
  for (let i = 0; i < 20000; i++) {
    const b = randomBytes(1 + (i % 300));
    if (i % 3 === 1) {
      b[0] = 0x00;
      b[1] = 0x01;
      if (b.length >= 8) b.writeUInt32BE(0x2112a442, 4);
    } else if (i % 3 === 2) b[0] = 0x40 | (b[0] & 0x3f);
    flood.send(b, port, '127.0.0.1');
    if (i % 500 === 0) await new Promise((r) => setImmediate(r));
  }
  const c = await client(port);
  assert.ok((await c.allocate('test', 'test')).relay, 'still allocates after the flood');
  assert.ok(server.counters().droppedMalformed > 0);
});

test('bandwidth cap drops what exceeds max-bps', async () => {
  const { server, port } = await startServer({ allowLoopbackPeers: true, maxBps: 2000 });
  cleanups.push(() => server.stop());
  const peer = await udpPeer();
  cleanups.push(() => peer.socket.close());
  const c = await client(port);
  const { relay } = await c.allocate('test', 'test');
  assert.ok(relay);
  const peerAddr = { family: 4 as const, address: '127.0.0.1', port: peer.port };
  assert.equal((await c.channelBind(0x4002, peerAddr)).error, undefined);
  for (let i = 0; i < 20; i++) c.sendChannelData(0x4002, Buffer.alloc(500));
  await until(() => server.counters().droppedBandwidth > 0);
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(peer.received.length <= 5, `at most ~2000 bytes pass, got ${peer.received.length} packets`);
});
