/**
 * RFC 6156 / RFC 8656 IPv6: the server listens and relays on ::1, and coturn's uclient relays
 * through it with zero loss over UDP and TCP, with channels and with Send indications
 * (its RTCP allocations exercise EVEN-PORT reservations and RESERVATION-TOKEN too).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { coturnToolsSkipReason, runUclient, startPeer } from '../helpers/coturn.js';
import { freePort } from '../helpers/processes.js';
import { startTurnUnderTest, turnUnderTestSkipReason, type TurnUnderTest } from '../helpers/turn-under-test.js';

const skip = coturnToolsSkipReason() || turnUnderTestSkipReason();
let turn: TurnUnderTest;
let peerPort: number;
const stops: (() => Promise<unknown>)[] = [];

before(async () => {
  if (skip) return;
  turn = await startTurnUnderTest({ host: '::1' });
  stops.push(() => turn.stop());
  peerPort = await freePort();
  const peer = await startPeer(peerPort, { host: '::1' });
  stops.push(() => peer.stop());
});
after(async () => {
  for (const s of stops.reverse()) await s();
});

for (const variant of [{}, { tcp: true }, { sendIndications: true }] as const) {
  const name = 'tcp' in variant ? 'TCP' : 'sendIndications' in variant ? 'Send indications' : 'UDP ChannelData';
  test(`IPv6 relay on ::1, ${name}: zero loss`, { skip }, async () => {
    const r = await runUclient({
      user: 'test', password: 'test', serverHost: '::1', serverPort: turn.port, peerHost: '::1', peerPort,
      allocations: 5, messages: 100, intervalMs: 5, length: 170, ...variant,
    });
    assert.equal(r.exitCode, 0, r.stdout);
    assert.ok(r.sentPackets >= 500, `sent ${r.sentPackets}`);
    assert.equal(r.receivedPackets, r.sentPackets);
    assert.equal(r.lostPackets, 0);
  });
}
