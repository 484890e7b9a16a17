/**
 * The uclient/stunclient parsers against real coturn 4.6.1 output (no processes started).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coturnConfig, parseUclientOutput, uclientArgs } from './coturn.js';
import { turnCliArgs, turnRestCredentials } from './turn-under-test.js';

// `turnutils_uclient -u test -w test -e 127.0.0.1 -r 3480 -m 10 -n 200 -z 5 -l 170 127.0.0.1`
const OK_RUN = `0: : Total connect time is 1
0: : Total connect time is 1
0: : start_mclient: msz=10, tot_send_msgs=0, tot_recv_msgs=0, tot_send_bytes ~ 0, tot_recv_bytes ~ 0
2: : start_mclient: msz=10, tot_send_msgs=0, tot_recv_msgs=0, tot_send_bytes ~ 0, tot_recv_bytes ~ 0
3: : start_mclient: msz=10, tot_send_msgs=262, tot_recv_msgs=262, tot_send_bytes ~ 44540, tot_recv_bytes ~ 44540
4: : start_mclient: msz=10, tot_send_msgs=504, tot_recv_msgs=503, tot_send_bytes ~ 85680, tot_recv_bytes ~ 85510
5: : start_mclient: msz=10, tot_send_msgs=831, tot_recv_msgs=828, tot_send_bytes ~ 141270, tot_recv_bytes ~ 140760
6: : start_mclient: msz=10, tot_send_msgs=1433, tot_recv_msgs=1429, tot_send_bytes ~ 243610, tot_recv_bytes ~ 242930
7: : start_mclient: msz=10, tot_send_msgs=1903, tot_recv_msgs=1902, tot_send_bytes ~ 323510, tot_recv_bytes ~ 323340
7: : start_mclient: tot_send_msgs=2000, tot_recv_msgs=2000
7: : start_mclient: tot_send_bytes ~ 340000, tot_recv_bytes ~ 340000
7: : Total transmit time is 7
7: : Total lost packets 0 (0.000000%), total send dropped 0 (0.000000%)
7: : Average round trip delay 0.000000 ms; min = 0 ms, max = 0 ms
7: : Average jitter 2.035000 ms; min = 0 ms, max = 7 ms
`;

describe('parseUclientOutput', () => {
  it('reads the final report of a clean run', () => {
    const r = parseUclientOutput(OK_RUN);
    assert.equal(r.complete, true);
    assert.equal(r.sentPackets, 2000);
    assert.equal(r.receivedPackets, 2000);
    assert.equal(r.sentBytes, 340000);
    assert.equal(r.receivedBytes, 340000);
    assert.equal(r.lostPackets, 0);
    assert.equal(r.lossPercent, 0);
    assert.equal(r.sendDropped, 0);
    assert.equal(r.transmitTimeS, 7);
    assert.equal(r.rttAvgMs, 0);
    assert.equal(r.jitterAvgMs, 2.035);
    assert.equal(r.progress.length, 7);
    assert.deepEqual(r.progress[3], { t: 4, clients: 10, sentPackets: 504, receivedPackets: 503, sentBytes: 85680, receivedBytes: 85510 });
    assert.deepEqual(r.errors, []);
  });

  it('reads loss and send drops', () => {
    const lossy = OK_RUN.replace('tot_send_msgs=2000, tot_recv_msgs=2000', 'tot_send_msgs=2000, tot_recv_msgs=1890').replace(
      'Total lost packets 0 (0.000000%), total send dropped 0 (0.000000%)',
      'Total lost packets 110 (5.500000%), total send dropped 3 (0.150000%)',
    );
    const r = parseUclientOutput(lossy);
    assert.equal(r.receivedPackets, 1890);
    assert.equal(r.lostPackets, 110);
    assert.equal(r.lossPercent, 5.5);
    assert.equal(r.sendDropped, 3);
    assert.equal(r.sendDroppedPercent, 0.15);
  });

  it('reports a failed run (wrong password, exit 255) as incomplete with its errors', () => {
    const r = parseUclientOutput('0: : ERROR: Cannot complete Allocation\n0: : ERROR: Cannot complete Allocation\n');
    assert.equal(r.complete, false);
    assert.ok(Number.isNaN(r.sentPackets));
    assert.deepEqual(r.errors, ['ERROR: Cannot complete Allocation']);
    const forbidden = parseUclientOutput('0: : channel bind: error 403 (Forbidden IP)\n');
    assert.deepEqual(forbidden.errors, ['channel bind: error 403 (Forbidden IP)']);
  });
});

describe('command lines', () => {
  it('uclientArgs maps options to flags', () => {
    assert.deepEqual(
      uclientArgs({ user: 'u', password: 'p', serverPort: 3478, peerPort: 3480, tcp: true, sendIndications: true, allocations: 10, messages: 200, intervalMs: 5, length: 170 }),
      ['-t', '-s', '-u', 'u', '-w', 'p', '-p', '3478', '-e', '127.0.0.1', '-r', '3480', '-m', '10', '-n', '200', '-z', '5', '-l', '170', '127.0.0.1'],
    );
    const y = uclientArgs({ user: 'u', restSecret: 's', serverPort: 1, peerPort: 2, clientToClient: true, allocations: 1, messages: 1, intervalMs: 1, length: 1 });
    assert.ok(y.includes('-y') && y.includes('-W') && !y.includes('-e'), y.join(' '));
  });

  it('turnCliArgs uses coturn option names', () => {
    const a = turnCliArgs({ port: 3478, minPort: 40000, maxPort: 40099, realm: 'r', users: [{ name: 'a', password: 'b' }], authSecret: 's', deniedPeerIps: ['10.0.0.0-10.255.255.255'] });
    assert.deepEqual(a, [
      '--listening-ip', '127.0.0.1', '--listening-port', '3478', '--realm', 'r', '--min-port', '40000', '--max-port', '40099',
      '--user', 'a:b', '--use-auth-secret', '--static-auth-secret', 's', '--allow-loopback-peers',
      '--denied-peer-ip', '10.0.0.0-10.255.255.255',
    ]);
  });

  it('coturnConfig replaces the base settings instead of duplicating them', () => {
    const conf = coturnConfig({ port: 3999, minPort: 41000, maxPort: 41009, users: [{ name: 'x', password: 'y' }] }, '/tmp/dir');
    const lines = conf.split('\n').filter((l) => l && !l.startsWith('#'));
    const values = (key: string) => lines.filter((l) => l.split('=')[0] === key);
    assert.deepEqual(values('listening-port'), ['listening-port=3999']);
    assert.deepEqual(values('min-port'), ['min-port=41000']);
    assert.deepEqual(values('user'), ['user=x:y']);
    assert.deepEqual(values('log-file'), ['log-file=stdout']);
    assert.deepEqual(values('pidfile'), ['pidfile=/tmp/dir/turnserver.pid']);
    assert.ok(!conf.includes('@RUNDIR@') && !conf.includes('@CONFDIR@'));
  });

  it('turnRestCredentials follows the TURN REST API', () => {
    const { username, credential } = turnRestCredentials('secret', 'alice', 3600, 1_700_000_000_000);
    assert.equal(username, '1700003600:alice');
    // printf '1700003600:alice' | openssl dgst -sha1 -hmac secret -binary | base64
    assert.equal(credential, 'LLPLO4qjdVL2qZhwr3eImhn7J20=');
  });
});
