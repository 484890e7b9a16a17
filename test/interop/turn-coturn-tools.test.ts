/**
 * Acceptance: coturn's own client tools against the TURN server under test
 * (TURN_UNDER_TEST=switchboard|coturn, default switchboard).
 *
 * Each uclient run has a random 1–6 s start delay, so the runs of a suite go
 * concurrently (a few at a time, modest load) to keep the file well under a minute.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { coturnToolsSkipReason, describeUclient, runStunClient, runUclient, startPeer, type UclientOptions } from '../helpers/coturn.js';
import { freePort, type ManagedProcess } from '../helpers/processes.js';
import { startTurnUnderTest, turnImplementation, turnUnderTestSkipReason, type TurnUnderTest } from '../helpers/turn-under-test.js';

const skip = coturnToolsSkipReason(['turnutils_uclient', 'turnutils_peer', 'turnutils_stunclient']) || turnUnderTestSkipReason();
const impl = turnImplementation();

/** Modest load: 10 allocations × 200 messages of 170 B every 5 ms (≈2,000 messages/s). */
const LOAD = { allocations: 10, messages: 200, intervalMs: 5, length: 170 } as const;
const CONCURRENCY = 3;
const RUN_TIMEOUT_MS = 40_000;

function assertNoLoss(r: Awaited<ReturnType<typeof runUclient>>, minSent: number): void {
  const info = describeUclient(r);
  assert.equal(r.exitCode, 0, `uclient failed\n${info}`);
  assert.ok(r.complete, `uclient printed no final report\n${info}`);
  assert.ok(r.sentPackets >= minSent, `sent ${r.sentPackets} messages, expected at least ${minSent}\n${info}`);
  assert.equal(r.receivedPackets, r.sentPackets, `not every message came back\n${info}`);
  assert.equal(r.lostPackets, 0, `lost packets\n${info}`);
  assert.equal(r.lossPercent, 0, `loss\n${info}`);
  assert.equal(r.sendDropped, 0, `send dropped\n${info}`);
}

describe(`TURN (${impl}) with coturn's tools: long-term credentials`, { skip, concurrency: CONCURRENCY, timeout: 120_000 }, () => {
  let turn: TurnUnderTest;
  let peer: ManagedProcess;
  let peerPort: number;
  const user = 'alice';
  const password = 'wonderland-3';

  before(async () => {
    turn = await startTurnUnderTest({ users: [{ name: user, password }], realm: 'switchboard.test' });
    peerPort = await freePort();
    peer = await startPeer(peerPort);
  });
  after(async () => {
    await peer?.stop();
    await turn?.stop();
  });

  const base = (): UclientOptions => ({ user, password, serverPort: turn.port, peerPort, ...LOAD });

  it('turnutils_stunclient gets the reflexive address 127.0.0.1:PORT', { timeout: 20_000 }, async () => {
    const r = await runStunClient(turn.port);
    assert.equal(r.address, '127.0.0.1', r.stdout);
    assert.ok(r.port > 0 && r.port < 65536, r.stdout);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  });

  it('a wrong password makes uclient fail', { timeout: 20_000 }, async () => {
    const r = await runUclient({ ...base(), password: 'not-the-password', allocations: 1, messages: 5 });
    const info = describeUclient(r);
    assert.notEqual(r.exitCode, 0, `uclient succeeded with a wrong password\n${info}`);
    if (impl === 'coturn') assert.equal(r.exitCode, 255, info);
    assert.ok(!(r.receivedPackets > 0), `packets were relayed with a wrong password\n${info}`);
  });

  // uclient sends at least allocations × messages (2,000); against coturn 4.6 it reports
  // exactly 2,000 in peer mode and 2,400 client to client.
  const cases: Array<[string, Partial<UclientOptions>]> = [
    ['UDP, ChannelData', {}],
    ['UDP, Send indications (-s)', { sendIndications: true }],
    ['TCP (-t), ChannelData', { tcp: true }],
    ['TCP (-t), Send indications (-s)', { tcp: true, sendIndications: true }],
    ['UDP, client to client (-y)', { clientToClient: true }],
    ['TCP (-t), client to client (-y)', { clientToClient: true, tcp: true }],
  ];
  for (const [name, extra] of cases) {
    it(`turnutils_uclient relays with zero loss: ${name}`, { timeout: RUN_TIMEOUT_MS }, async () => {
      assertNoLoss(await runUclient({ ...base(), ...extra }), LOAD.allocations * LOAD.messages);
    });
  }
});

describe(`TURN (${impl}) with coturn's tools: TURN REST API secret`, { skip, timeout: 60_000 }, () => {
  let turn: TurnUnderTest;
  let peer: ManagedProcess;
  let peerPort: number;
  const secret = 'rest-api-shared-secret';

  before(async () => {
    turn = await startTurnUnderTest({ authSecret: secret });
    peerPort = await freePort();
    peer = await startPeer(peerPort);
  });
  after(async () => {
    await peer?.stop();
    await turn?.stop();
  });

  it('uclient with the shared secret (-W) relays with zero loss', { timeout: RUN_TIMEOUT_MS }, async () => {
    const r = await runUclient({ user: 'bob', restSecret: secret, serverPort: turn.port, peerPort, ...LOAD, allocations: 2 });
    assertNoLoss(r, 400);
  });

  it('uclient with a wrong secret fails', { timeout: 20_000 }, async () => {
    const r = await runUclient({ user: 'bob', restSecret: 'wrong', serverPort: turn.port, peerPort, ...LOAD, allocations: 1, messages: 5 });
    assert.notEqual(r.exitCode, 0, describeUclient(r));
  });
});
