// WebRtcTransport on its own, through the TransportIo seam (a recording double of the mux):
// ICE → DTLS (a real OpenSSL handshake with a DtlsSession client) → SRTP both ways, the
// fingerprint check, consent freshness, application data, and close() releasing everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Certificate, DtlsSession, SrtpTable } from '@switchboard/dtls-srtp';
import { WebRtcTransport } from '../src/transport.js';
import type { TransportState } from '../src/transport.js';
import type { SendTarget, TransportIo } from '../src/io.js';
import { rtpPacket } from './stun-request.js';

class RecordingIo implements TransportIo<WebRtcTransport> {
  readonly srtp = new SrtpTable();
  readonly sendData = new Uint8Array(4096);
  readonly raw: Uint8Array[] = [];
  readonly media: { to: SendTarget; bytes: Uint8Array; srtpId: number }[] = [];
  forgotten: WebRtcTransport[] = [];
  beginSend(src: Uint8Array, off: number, len: number): number {
    this.sendData.set(src.subarray(off, off + len), 100);
    return 100;
  }
  commitSend(to: SendTarget, len: number, srtpId: number): void {
    this.media.push({ to, bytes: this.sendData.slice(100, 100 + len), srtpId });
  }
  sendRaw(_to: SendTarget, bytes: Uint8Array): void {
    this.raw.push(bytes.slice());
  }
  forget(t: WebRtcTransport): void {
    this.forgotten.push(t);
  }
}

function setup(opts: { fingerprint?: string } = {}) {
  const io = new RecordingIo();
  const serverCert = Certificate.generate();
  const clientCert = Certificate.generate();
  const states: TransportState[] = [];
  const appData: Uint8Array[] = [];
  const rtp: Uint8Array[] = [];
  const t = new WebRtcTransport(1, io, serverCert, {
    onRtp: (b, o, l) => rtp.push(b.slice(o, o + l)),
    onRtcp: () => undefined,
    onState: (s) => states.push(s),
    onAppData: (d) => appData.push(d),
  });
  t.setRemoteParameters({ ufrag: 'them', fingerprint: { algorithm: 'sha-256', value: opts.fingerprint ?? clientCert.fingerprint }, setup: 'active' });
  const client = new DtlsSession(clientCert, 'client');
  /** Runs the handshake in memory until neither side has anything to say. */
  const pump = (): void => {
    for (let i = 0; i < 20; i++) {
      const toServer = client.takeOutgoing();
      const toClient = io.raw.splice(0);
      if (toServer.length === 0 && toClient.length === 0) return;
      for (const d of toServer) t.onDtls(d);
      for (const d of toClient) client.receive(d);
    }
  };
  return { io, t, client, states, appData, rtp, pump, serverCert };
}

test('ICE check, then a DTLS handshake as server, then SRTP both ways', () => {
  const { io, t, client, states, rtp, pump, serverCert } = setup();
  assert.equal(t.state, 'new');
  assert.equal(t.beginSend(new Uint8Array(20), 0, 20), -1, 'no media before ICE and DTLS');
  t.onIceCheck(0x7f000001, 5000, true);
  assert.deepEqual([t.state, t.hasAddress, t.ip4, t.port], ['connecting', true, 0x7f000001, 5000]);
  assert.equal(t.dtlsRole, 'server', 'remote setup active: we are the DTLS server');
  client.start();
  pump();
  assert.equal(client.state, 'connected');
  assert.equal(t.state, 'connected');
  assert.deepEqual(states, ['connecting', 'connected']);
  assert.equal(client.remoteFingerprint()?.toUpperCase(), serverCert.fingerprint.toUpperCase());
  assert.ok(t.srtpId >= 0);

  // client -> server: what the mux would decrypt with the transport's context
  const k = client.srtpKeys();
  const clientSrtp = new SrtpTable();
  const cid = clientSrtp.add(k.profile, k.localKey, k.localSalt, k.remoteKey, k.remoteSalt);
  const pkt = rtpPacket(1, 0x1234, [1, 2, 3, 4]);
  const buf = new Uint8Array(200);
  buf.set(pkt);
  const n = clientSrtp.protectRtp(cid, buf, 0, pkt.length);
  assert.ok(n > pkt.length);
  const m = io.srtp.unprotectRtp(t.srtpId, buf, 0, n);
  assert.deepEqual(buf.slice(0, m), pkt);

  // server -> client: send() queues the plain packet with the context id; the client decrypts it
  assert.equal(t.send(pkt, 0, pkt.length), true);
  const out = io.media.at(-1)!;
  assert.equal(out.srtpId, t.srtpId);
  assert.equal(out.to, t, 'addressed to the transport (its ip4/port or TCP path)');
  const wire = new Uint8Array(200);
  wire.set(out.bytes);
  const sent = io.srtp.protectRtp(out.srtpId, wire, 0, out.bytes.length);
  const back = clientSrtp.unprotectRtp(cid, wire, 0, sent);
  assert.deepEqual(wire.slice(0, back), pkt);
  assert.deepEqual([t.packetsOut, t.bytesOut], [1, pkt.length]);
  assert.equal(rtp.length, 0, 'the mux, not the transport, calls onRtp');
  t.close();
  clientSrtp.close();
  io.srtp.close();
});

test('a DTLS certificate that does not match the SDP fingerprint fails the transport', () => {
  const other = Certificate.generate();
  const { io, t, client, states, pump } = setup({ fingerprint: other.fingerprint });
  t.onIceCheck(0x7f000001, 5000, true);
  client.start();
  pump();
  assert.equal(t.state, 'failed');
  assert.deepEqual(states, ['connecting', 'failed']);
  assert.equal(t.srtpId, -1, 'no SRTP context');
  assert.deepEqual(io.forgotten, [t], 'the mux drops its index entries');
  io.srtp.close();
});

test('consent freshness: disconnected after 10 s without a check, back on a check, failed after 30 s', () => {
  const { io, t, client, states, pump } = setup();
  t.onIceCheck(0x7f000001, 5000, true);
  client.start();
  pump();
  t.ice.lastConsentMs = 1_000_000;
  t.tick(1_000_000 + 9_999);
  assert.equal(t.state, 'connected');
  t.tick(1_000_000 + 10_001);
  assert.equal(t.state, 'disconnected');
  t.onIceCheck(0x7f000001, 5000, false);
  assert.equal(t.state, 'connected', 'a check while disconnected (with SRTP up) reconnects');
  t.tick(1_000_000 + 30_001);
  assert.equal(t.state, 'failed');
  assert.deepEqual(states, ['connecting', 'connected', 'disconnected', 'connected', 'failed']);
  assert.equal(t.beginSend(new Uint8Array(20), 0, 20), -1, 'a failed transport sends nothing');
  io.srtp.close();
});

test('application data goes over DTLS both ways; close() sends close_notify and releases everything once', () => {
  const { io, t, client, appData, pump } = setup();
  t.onIceCheck(0x7f000001, 5000, true);
  client.start();
  pump();
  client.send(new TextEncoder().encode('to server'));
  for (const d of client.takeOutgoing()) t.onDtls(d);
  assert.deepEqual(appData.map((d) => new TextDecoder().decode(d)), ['to server']);
  t.sendAppData(new TextEncoder().encode('to client'));
  for (const d of io.raw.splice(0)) client.receive(d);
  assert.deepEqual(client.takeAppData().map((d) => new TextDecoder().decode(d)), ['to client']);
  t.close();
  assert.equal(t.state, 'closed');
  for (const d of io.raw.splice(0)) client.receive(d);
  assert.equal(client.state, 'closed', 'the client saw close_notify');
  assert.equal(io.srtp.unprotectRtp(0, new Uint8Array(64), 0, 40) < 0, true, 'the SRTP context is gone');
  t.close();
  assert.deepEqual(io.forgotten, [t], 'released once');
  io.srtp.close();
});
