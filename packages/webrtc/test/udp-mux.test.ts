// UdpMux on a real UDP port (and ICE-TCP on the same port number), driven by a client built
// here: hand-made Binding requests (stun-request.ts), a DtlsSession client and its own SRTP
// context. Checks that only valid checks open an address, that one port carries several
// transports, that SRTP arrives decrypted at the right listener and goes back encrypted, and
// that closing leaves nothing behind.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { connect } from 'node:net';
import { once } from 'node:events';
import { Certificate, DtlsSession, SrtpTable } from '@switchboard/dtls-srtp';
import { UdpMux } from '../src/udp-mux.js';
import type { WebRtcTransport } from '../src/transport.js';
import { bindingRequest, rtpPacket } from './stun-request.js';

const IP = '127.0.0.1';

/** A UDP client socket that collects what it receives. */
async function client(t: TestContext): Promise<{ sock: Socket; inbox: Buffer[]; next: (pred: (b: Buffer) => boolean, ms?: number) => Promise<Buffer | null> }> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, IP, () => r()));
  t.after(() => sock.close());
  const inbox: Buffer[] = [];
  sock.on('message', (m) => inbox.push(m));
  const next = async (pred: (b: Buffer) => boolean, ms = 2000): Promise<Buffer | null> => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const i = inbox.findIndex(pred);
      if (i >= 0) return inbox.splice(i, 1)[0];
      await new Promise((r) => setTimeout(r, 5));
    }
    return null;
  };
  return { sock, inbox, next };
}

const isStunResponse = (tid: Buffer) => (b: Buffer) => b.length >= 20 && b.readUInt16BE(0) === 0x0101 && b.subarray(8, 20).equals(tid);

/** A mux on a fresh port, closed (with the test's sockets) when the test ends, passed or not. */
function listen(t: TestContext): { mux: UdpMux; port: number } {
  const mux = new UdpMux({ ip: IP, port: 0, sendThread: false });
  t.after(() => mux.close());
  return { mux, port: mux.listen() };
}

function transport(mux: UdpMux, clientCert: Certificate, rtp: Uint8Array[] = []): WebRtcTransport {
  const t = mux.createTransport({ onRtp: (b, o, l) => rtp.push(b.slice(o, o + l)), onRtcp: () => undefined, onState: () => undefined });
  t.setRemoteParameters({ ufrag: 'them', fingerprint: { algorithm: 'sha-256', value: clientCert.fingerprint }, setup: 'active' });
  return t;
}

test('only a valid Binding request opens an address; one port serves several transports', async (t) => {
  const { mux, port } = listen(t);
  const cert = Certificate.generate();
  const a = transport(mux, cert);
  const b = transport(mux, cert);
  const c = await client(t);
  // wrong password, unknown ufrag, wrong remote ufrag: no answer, nothing learned
  for (const req of [
    bindingRequest({ username: `${a.ice.localUfrag}:them`, password: 'wrong-password-0123456789' }),
    bindingRequest({ username: `nobody:them`, password: a.ice.localPwd }),
    bindingRequest({ username: `${a.ice.localUfrag}:someone-else`, password: a.ice.localPwd }),
  ]) {
    c.sock.send(req.bytes, port, IP);
    assert.equal(await c.next(isStunResponse(req.transactionId), 300), null);
  }
  assert.equal(a.state, 'new');
  // a valid check gets a success response with our integrity, and the transport its address
  const ok = bindingRequest({ username: `${b.ice.localUfrag}:them`, password: b.ice.localPwd, useCandidate: true });
  c.sock.send(ok.bytes, port, IP);
  assert.ok(await c.next(isStunResponse(ok.transactionId)), 'success response');
  assert.equal(b.state, 'connecting');
  assert.equal(b.port, c.sock.address().port);
  assert.equal(a.state, 'new', 'the other transport is untouched');
  assert.equal(mux.stats().transports, 2);
  mux.close();
  assert.equal(mux.stats().transports, 0);
});

test('DTLS and SRTP over the mux: the right listener gets the decrypted packet, and the answer comes back encrypted', async (t) => {
  const { mux, port } = listen(t);
  const cert = Certificate.generate();
  const rtp: Uint8Array[] = [];
  const tr = transport(mux, cert, rtp);
  const c = await client(t);
  const req = bindingRequest({ username: `${tr.ice.localUfrag}:them`, password: tr.ice.localPwd, useCandidate: true });
  c.sock.send(req.bytes, port, IP);
  assert.ok(await c.next(isStunResponse(req.transactionId)));
  const dtls = new DtlsSession(cert, 'client');
  dtls.start();
  const until = Date.now() + 5000;
  while (dtls.state !== 'connected' && Date.now() < until) {
    for (const d of dtls.takeOutgoing()) c.sock.send(d, port, IP);
    const got = await c.next((b) => b[0] >= 20 && b[0] <= 63, 200);
    if (got !== null) dtls.receive(got);
    else dtls.handleTimeout();
  }
  assert.equal(dtls.state, 'connected');
  for (const d of dtls.takeOutgoing()) c.sock.send(d, port, IP); // the client's last flight, if any
  const deadline = Date.now() + 2000;
  while (tr.state !== 'connected' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(tr.state, 'connected');

  const k = dtls.srtpKeys();
  const srtp = new SrtpTable();
  t.after(() => srtp.close());
  const id = srtp.add(k.profile, k.localKey, k.localSalt, k.remoteKey, k.remoteSalt);
  const pkt = rtpPacket(7, 0xabcd, [9, 8, 7, 6, 5]);
  const wire = new Uint8Array(256);
  wire.set(pkt);
  c.sock.send(wire.subarray(0, srtp.protectRtp(id, wire, 0, pkt.length)), port, IP);
  const until2 = Date.now() + 2000;
  while (rtp.length === 0 && Date.now() < until2) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(rtp, [pkt]);

  const reply = rtpPacket(8, 0x5555, [1, 1, 2, 3, 5, 8]);
  assert.equal(tr.send(reply, 0, reply.length), true);
  mux.flush();
  const back = await c.next((b) => b[0] >= 128 && b[0] <= 191);
  assert.ok(back, 'an SRTP packet came back');
  const n = srtp.unprotectRtp(id, back, 0, back.length);
  assert.deepEqual(back.subarray(0, n), Buffer.from(reply));
  // a forged packet fails authentication and is counted, not delivered
  const forged = Buffer.from(back);
  forged[forged.length - 1] ^= 1;
  c.sock.send(forged, port, IP);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(rtp.length, 1);
});

test('ICE-TCP on the same port number: a framed Binding request gets a framed answer; oversized frames end the connection', async (t) => {
  const { mux, port } = listen(t);
  await mux.listenTcp();
  assert.ok(mux.candidates().some((x) => x.transport === 'tcp' && x.tcpType === 'passive' && x.port === port));
  const cert = Certificate.generate();
  const tr = transport(mux, cert);
  const sock = connect(port, IP);
  t.after(() => sock.destroy());
  await once(sock, 'connect');
  let got = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
  const req = bindingRequest({ username: `${tr.ice.localUfrag}:them`, password: tr.ice.localPwd, useCandidate: true });
  const frame = Buffer.alloc(2 + req.bytes.length);
  frame.writeUInt16BE(req.bytes.length, 0);
  req.bytes.copy(frame, 2);
  sock.write(frame);
  const until = Date.now() + 2000;
  while (got.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  const len = got.readUInt16BE(0);
  assert.ok(isStunResponse(req.transactionId)(got.subarray(2, 2 + len)));
  assert.equal(tr.state, 'connecting');
  assert.ok(tr.tcp !== null && tr.stats().selectedAddress?.startsWith('tcp:'));
  const big = Buffer.alloc(4);
  big.writeUInt16BE(60000, 0);
  sock.write(big);
  await once(sock, 'close');
});
