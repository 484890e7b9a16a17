// DtlsSession between two of our own sessions over an in-memory path: handshake, SRTP key
// export, application data, retransmission, failures and teardown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { Certificate, DtlsSession, DtlsSrtpError, SrtpTable, dtlsSrtpAvailable, type SrtpProfile } from '../src/index.js';
import { pump, rtp, sleep, toHex, withRoom } from './helpers.js';

const FP = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

function connect(opts: { client?: SrtpProfile[]; server?: SrtpProfile[]; mtu?: number } = {}) {
  const cc = Certificate.generate();
  const sc = Certificate.generate();
  const client = new DtlsSession(cc, 'client', { profiles: opts.client, mtu: opts.mtu });
  const server = new DtlsSession(sc, 'server', { profiles: opts.server, mtu: opts.mtu });
  assert.equal(client.state, 'new');
  server.start();
  client.start();
  assert.equal(client.state, 'connecting');
  return { cc, sc, client, server };
}

test('addon is available and certificates have SHA-256 fingerprints', () => {
  assert.equal(dtlsSrtpAvailable(), true);
  const a = Certificate.generate();
  const b = Certificate.generate();
  assert.match(a.fingerprint, FP);
  assert.notEqual(a.fingerprint, b.fingerprint);
});

test('client <-> server: handshake, fingerprints, matching SRTP keys (GCM preferred), app data both ways', () => {
  const { cc, sc, client, server } = connect();
  pump(client, server);
  assert.equal(client.state, 'connected');
  assert.equal(server.state, 'connected');
  assert.equal(client.error, undefined);
  assert.equal(client.remoteFingerprint(), sc.fingerprint);
  assert.equal(server.remoteFingerprint(), cc.fingerprint);
  const ck = client.srtpKeys();
  const sk = server.srtpKeys();
  assert.equal(ck.profile, 'SRTP_AEAD_AES_128_GCM');
  assert.equal(sk.profile, 'SRTP_AEAD_AES_128_GCM');
  assert.equal(ck.localSalt.length, 12);
  assert.equal(toHex(ck.localKey), toHex(sk.remoteKey));
  assert.equal(toHex(ck.localSalt), toHex(sk.remoteSalt));
  assert.equal(toHex(ck.remoteKey), toHex(sk.localKey));
  assert.equal(toHex(ck.remoteSalt), toHex(sk.localSalt));
  assert.notEqual(toHex(ck.localKey), toHex(ck.remoteKey));
  assert.equal(client.nextTimeoutMs(), -1);

  // The exported keys drive SrtpTable on both sides.
  const ct = new SrtpTable();
  const st = new SrtpTable();
  const cid = ct.add(ck.profile, ck.localKey, ck.localSalt, ck.remoteKey, ck.remoteSalt);
  const sid = st.add(sk.profile, sk.localKey, sk.localSalt, sk.remoteKey, sk.remoteSalt);
  const pkt = rtp(1, 5, 200);
  const buf = withRoom(pkt);
  const n = ct.protectRtp(cid, buf, 0, pkt.length);
  assert.equal(st.unprotectRtp(sid, buf, 0, n), pkt.length);

  // Application data (SCTP packets) both ways, including a large one.
  const big = crypto.randomBytes(1100);
  client.send(new TextEncoder().encode('hello'));
  server.send(big);
  server.send(new Uint8Array([1, 2, 3]));
  pump(client, server);
  assert.deepEqual(server.takeAppData().map((d) => Buffer.from(d).toString()), ['hello']);
  const got = client.takeAppData();
  assert.equal(got.length, 2);
  assert.equal(toHex(got[0]), big.toString('hex'));
  assert.deepEqual([...got[1]], [1, 2, 3]);
  assert.deepEqual(client.takeAppData(), []);

  // close_notify
  client.close();
  assert.equal(client.state, 'closed');
  pump(client, server);
  assert.equal(server.state, 'closed');
  assert.throws(() => client.send(new Uint8Array(1)), (e: unknown) => e instanceof DtlsSrtpError && e.code === 'SB_ERR_DTLS');
  client.destroy();
  server.destroy();
});

test('SRTP profile negotiation follows the offered lists', () => {
  const cases: [SrtpProfile[] | undefined, SrtpProfile[] | undefined, SrtpProfile][] = [
    [['SRTP_AES128_CM_SHA1_80'], undefined, 'SRTP_AES128_CM_SHA1_80'],
    [undefined, ['SRTP_AES128_CM_SHA1_80'], 'SRTP_AES128_CM_SHA1_80'],
    [['SRTP_AES128_CM_SHA1_80', 'SRTP_AEAD_AES_128_GCM'], undefined, 'SRTP_AEAD_AES_128_GCM'],
  ];
  for (const [c, s, want] of cases) {
    const { client, server } = connect({ client: c, server: s });
    pump(client, server);
    assert.equal(client.state, 'connected');
    const ck = client.srtpKeys();
    assert.equal(ck.profile, want);
    assert.equal(ck.localSalt.length, want === 'SRTP_AES128_CM_SHA1_80' ? 14 : 12);
    assert.equal(toHex(server.srtpKeys().remoteKey), toHex(ck.localKey));
  }
});

test('small MTU: every datagram fits and the handshake completes', () => {
  const { client, server } = connect({ mtu: 300 });
  let max = 0;
  let count = 0;
  pump(client, server, (_fromA, d) => {
    max = Math.max(max, d.length);
    count++;
    return false;
  });
  assert.equal(client.state, 'connected');
  assert.equal(server.state, 'connected');
  assert.ok(max <= 300, `largest datagram ${max}`);
  assert.ok(count > 4);
});

test('retransmission: a dropped server flight is recovered through handleTimeout()', async () => {
  const { client, server } = connect();
  let dropped = 0;
  pump(client, server, (fromClient) => {
    if (!fromClient && dropped === 0) {
      dropped++;
      return true;
    }
    return false;
  });
  assert.equal(dropped, 1);
  assert.equal(client.state, 'connecting');
  const t = client.nextTimeoutMs();
  assert.ok(t > 0 && t <= 1000, `timeout ${t}`);
  client.handleTimeout(); // not yet expired: nothing
  assert.equal(client.takeOutgoing().length, 0);
  await sleep(t + 20);
  client.handleTimeout();
  pump(client, server);
  assert.equal(client.state, 'connected');
  assert.equal(server.state, 'connected');
  assert.equal(toHex(client.srtpKeys().localKey), toHex(server.srtpKeys().remoteKey));
});

test('retransmission: a dropped client Finished flight is resent by the client timer', async () => {
  const { client, server } = connect();
  let fromClient = 0;
  pump(client, server, (fc) => fc && ++fromClient === 2);
  assert.equal(server.state, 'connecting');
  const t = client.nextTimeoutMs();
  assert.ok(t > 0, `client timer ${t}`);
  await sleep(t + 20);
  client.handleTimeout();
  pump(client, server);
  assert.equal(server.state, 'connected');
  assert.equal(client.state, 'connected');
  assert.equal(toHex(client.srtpKeys().localKey), toHex(server.srtpKeys().remoteKey));
});

test('garbage input: random bytes are ignored, a malformed ClientHello fails the handshake', () => {
  const sc = Certificate.generate();
  const server = new DtlsSession(sc, 'server');
  for (let i = 0; i < 200; i++) server.receive(crypto.randomBytes(1 + (i % 200)));
  assert.notEqual(server.state, 'connected');
  // A DTLS 1.2 handshake record whose ClientHello body is garbage.
  const body = crypto.randomBytes(60);
  const hs = Buffer.alloc(12 + body.length);
  hs[0] = 1; // client_hello
  hs.writeUIntBE(body.length, 1, 3);
  hs.writeUInt16BE(0, 4);
  hs.writeUIntBE(0, 6, 3);
  hs.writeUIntBE(body.length, 9, 3);
  body.copy(hs, 12);
  const rec = Buffer.alloc(13 + hs.length);
  rec[0] = 22;
  rec.writeUInt16BE(0xfefd, 1);
  rec.writeUInt16BE(hs.length, 11);
  hs.copy(rec, 13);
  const s2 = new DtlsSession(sc, 'server');
  s2.receive(rec);
  assert.equal(s2.state, 'failed');
  assert.equal(typeof s2.error, 'string');
  assert.ok(s2.error!.length > 0);
  s2.takeOutgoing(); // an alert, possibly
  s2.receive(rec); // ignored now
  assert.equal(s2.state, 'failed');
  assert.equal(s2.nextTimeoutMs(), -1);
  assert.throws(() => s2.srtpKeys(), DtlsSrtpError);
  s2.destroy();
  server.destroy();
});

test('a fatal alert from the peer fails the session; the reason names the alert', () => {
  // A client that offers no common SRTP profile still connects at the TLS level in OpenSSL,
  // so use a certificate-less path instead: feed the client a server flight from a different handshake.
  const { client, server } = connect();
  const other = connect();
  const hello = client.takeOutgoing();
  for (const d of hello) server.receive(d);
  for (const d of other.client.takeOutgoing()) other.server.receive(d);
  // Give our client the other server's flight (wrong randoms/transcript) and let it answer.
  for (const d of other.server.takeOutgoing()) client.receive(d);
  for (const d of client.takeOutgoing()) server.receive(d);
  for (const d of server.takeOutgoing()) client.receive(d);
  assert.ok(client.state === 'failed' || server.state === 'failed', `${client.state} ${server.state}`);
  const failed = client.state === 'failed' ? client : server;
  assert.match(failed.error!, /alert|handshake/i);
  console.log(`# client: ${client.state} ${client.error ?? ''}; server: ${server.state} ${server.error ?? ''}`);
});

test('destroy() twice is safe, and a destroyed session is inert', () => {
  const { client, server } = connect();
  pump(client, server);
  client.destroy();
  client.destroy();
  assert.equal(client.state, 'closed');
  assert.deepEqual(client.takeOutgoing(), []);
  client.receive(new Uint8Array([22, 1, 2]));
  client.handleTimeout();
  assert.equal(client.nextTimeoutMs(), -1);
  assert.equal(client.remoteFingerprint(), undefined);
  assert.throws(() => client.send(new Uint8Array(1)), DtlsSrtpError);
  assert.throws(() => client.srtpKeys(), DtlsSrtpError);
  client.close();
  server.destroy();
  server.close();
  server.destroy();
});

test('send before connected throws; options are validated', () => {
  const c = Certificate.generate();
  const s = new DtlsSession(c, 'client');
  assert.throws(() => s.send(new Uint8Array(3)), (e: unknown) => e instanceof DtlsSrtpError && e.code === 'SB_ERR_DTLS');
  assert.throws(() => new DtlsSession(c, 'client', { mtu: 10 }), RangeError);
  assert.throws(() => new DtlsSession(c, 'client', { profiles: [] }), TypeError);
  assert.throws(() => new DtlsSession(c, 'peer' as 'client'), TypeError);
  assert.throws(() => new DtlsSession({} as Certificate, 'client'), TypeError);
  s.destroy();
});

test('fuzz: mutated and truncated handshake datagrams never crash either side', () => {
  const cc = Certificate.generate();
  const sc = Certificate.generate();
  // Record a clean transcript.
  const client = new DtlsSession(cc, 'client');
  const server = new DtlsSession(sc, 'server');
  client.start();
  const flights: { toServer: boolean; d: Uint8Array }[] = [];
  pump(client, server, (fromClient, d) => {
    flights.push({ toServer: fromClient, d: d.slice() });
    return false;
  });
  assert.equal(server.state, 'connected');
  const rnd = (n: number) => crypto.randomInt(n);
  const states = new Set<string>();
  for (let i = 0; i < 300; i++) {
    const c = new DtlsSession(cc, 'client');
    const s = new DtlsSession(sc, 'server');
    c.start();
    const victim = rnd(flights.length);
    for (let f = 0; f < flights.length; f++) {
      let d: Uint8Array = f === 0 ? c.takeOutgoing()[0] ?? flights[0].d : flights[f].d;
      if (f === victim) {
        d = d.slice();
        const kind = rnd(3);
        if (kind === 0) for (let k = 0; k < 1 + rnd(4); k++) d[rnd(d.length)] ^= 1 << rnd(8);
        else if (kind === 1) d = d.subarray(0, rnd(d.length));
        else d = crypto.randomBytes(d.length);
      }
      (flights[f].toServer ? s : c).receive(d);
    }
    c.takeOutgoing();
    s.takeOutgoing();
    states.add(`${c.state}/${s.state}`);
    c.nextTimeoutMs();
    s.handleTimeout();
    c.destroy();
    s.destroy();
  }
  for (const st of states) assert.match(st, /^(new|connecting|connected|closed|failed)\/(new|connecting|connected|closed|failed)$/);
});
