// Several relay threads share the listening port through SO_REUSEPORT: clients land on
// different threads, yet quotas hold process-wide and the counters add up.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reusePortAvailable } from '@switchboard/netio';
import { TestTurnClient, until } from './client.js';
import { cleanupsFor, startServer, udpPeer } from './fixtures.js';

const cleanups = { push: cleanupsFor('threads.test.ts') };

test('two relay threads: relaying, process-wide quotas and summed counters', { skip: !reusePortAvailable() && 'SO_REUSEPORT addon not built' }, async () => {
  const { server, port } = await startServer({ threads: 2, userQuota: 5, allowLoopbackPeers: true });
  cleanups.push(() => server.stop());
  assert.equal(server.threads, 2);
  const peer = await udpPeer();
  cleanups.push(() => peer.socket.close());
  peer.socket.on('message', (m, r) => peer.socket.send(m, r.port, r.address)); // echo
  const clients: TestTurnClient[] = [];
  for (let i = 0; i < 8; i++) {
    const c = new TestTurnClient(port);
    await c.bind();
    cleanups.push(() => c.close());
    clients.push(c);
  }
  const results = await Promise.all(clients.map((c) => c.allocate('test', 'test')));
  const ok = results.filter((r) => r.relay);
  assert.equal(ok.length, 5, 'the user quota of 5 holds across threads');
  assert.ok(results.filter((r) => r.error?.code === 486).length === 3);
  const active = clients.filter((_, i) => results[i].relay);
  const peerAddr = { family: 4 as const, address: '127.0.0.1', port: peer.port };
  for (const [i, c] of active.entries()) {
    assert.equal((await c.channelBind(0x4000 + i, peerAddr)).error, undefined);
    for (let k = 0; k < 10; k++) c.sendChannelData(0x4000 + i, Buffer.from(`m${i}-${k}`));
  }
  await until(() => active.every((c) => c.channelData.length === 10));
  const counters = server.counters();
  assert.equal(counters.allocations, 5);
  assert.equal(counters.channels, 5);
  assert.equal(counters.toPeerPackets, 50);
  assert.equal(counters.toClientPackets, 50);
});
