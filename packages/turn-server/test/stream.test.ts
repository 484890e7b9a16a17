// STUN and TURN over TCP and TLS: framing, padded ChannelData, allocation lifetime = connection.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { test } from 'node:test';
import {
  Attr, decodeErrorCode, decodeStun, decodeString, decodeXorAddress, getAttribute, longTermKey, Method,
  randomTransactionId, StunClass, StunWriter, type StunMessage,
} from '@switchboard/stun';
import { until } from './client.js';
import { cleanupsFor, startServer, udpPeer } from './fixtures.js';

const cleanups = { push: cleanupsFor('stream.test.ts') };

/** Frames what the server sends: STUN messages and ChannelData padded to 4 bytes. */
class StreamClient {
  private buf = Buffer.alloc(0);
  readonly messages: StunMessage[] = [];
  readonly frames: { channel: number; data: Buffer; frameLength: number }[] = [];
  key: Uint8Array | null = null;
  auth: { username: string; realm: string; nonce: string } | null = null;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      for (;;) {
        if (this.buf.length < 4) return;
        if ((this.buf[0] & 0xc0) === 0x40) {
          const len = this.buf.readUInt16BE(2);
          const frame = (4 + len + 3) & ~3;
          if (this.buf.length < frame) return;
          this.frames.push({ channel: this.buf.readUInt16BE(0), data: Buffer.from(this.buf.subarray(4, 4 + len)), frameLength: frame });
          this.buf = this.buf.subarray(frame);
        } else {
          if (this.buf.length < 20) return;
          const total = 20 + this.buf.readUInt16BE(2);
          if (this.buf.length < total) return;
          this.messages.push(decodeStun(new Uint8Array(this.buf.subarray(0, total))));
          this.buf = this.buf.subarray(total);
        }
      }
    });
  }

  async request(method: number, build: (w: StunWriter) => void): Promise<{ msg: StunMessage; code?: number }> {
    const tx = randomTransactionId();
    const w = new StunWriter().start(method, StunClass.Request, tx);
    build(w);
    if (this.key && this.auth) {
      w.addString(Attr.Username, this.auth.username).addString(Attr.Realm, this.auth.realm).addString(Attr.Nonce, this.auth.nonce);
      w.addMessageIntegrity(this.key);
    }
    this.socket.write(w.addFingerprint().toBytes());
    const hex = Buffer.from(tx).toString('hex');
    let msg: StunMessage | undefined;
    await until(() => !!(msg = this.messages.find((m) => Buffer.from(m.transactionId).toString('hex') === hex)));
    const ec = getAttribute(msg!, Attr.ErrorCode);
    return { msg: msg!, code: ec ? decodeErrorCode(ec).code : undefined };
  }

  async allocate(username: string, password: string) {
    const build = (w: StunWriter) => w.addRequestedTransport(17);
    const first = await this.request(Method.Allocate, build);
    assert.equal(first.code, 401);
    const realm = decodeString(getAttribute(first.msg, Attr.Realm)!);
    this.auth = { username, realm, nonce: decodeString(getAttribute(first.msg, Attr.Nonce)!) };
    this.key = longTermKey(username, realm, password);
    const r = await this.request(Method.Allocate, build);
    assert.equal(r.code, undefined);
    return decodeXorAddress(getAttribute(r.msg, Attr.XorRelayedAddress)!, r.msg.transactionId);
  }
}

function selfSignedCert(): { cert: string; key: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  return { cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'), key: readFileSync(path.join(dir, 'key.pem'), 'utf8') };
}

for (const transport of ['tcp', 'tls'] as const) {
  test(`${transport}: Binding, Allocate, padded ChannelData both ways, allocation closes with the connection`, async () => {
    const tlsMaterial = transport === 'tls' ? selfSignedCert() : null;
    const { server, port } = await startServer({
      allowLoopbackPeers: true,
      ...(tlsMaterial ? { cert: tlsMaterial.cert, pkey: tlsMaterial.key } : {}),
    });
    cleanups.push(() => server.stop());
    const connectPort = tlsMaterial ? port + 1 : port; // fixtures put TLS on port + 1
    const socket: net.Socket = tlsMaterial
      ? tls.connect({ host: '127.0.0.1', port: connectPort, rejectUnauthorized: false })
      : net.connect({ host: '127.0.0.1', port: connectPort });
    await new Promise<void>((r) => socket.once(tlsMaterial ? 'secureConnect' : 'connect', () => r()));
    cleanups.push(() => socket.destroy());
    const c = new StreamClient(socket);
    const binding = await c.request(Method.Binding, () => {});
    const mapped = decodeXorAddress(getAttribute(binding.msg, Attr.XorMappedAddress)!, binding.msg.transactionId);
    assert.equal(mapped.port, socket.localPort);
    const relay = await c.allocate('test', 'test');
    const peer = await udpPeer();
    cleanups.push(() => peer.socket.close());
    const peerAddr = { family: 4 as const, address: '127.0.0.1', port: peer.port };
    const bound = await c.request(Method.ChannelBind, (w) => w.addChannelNumber(0x4001).addXorAddress(Attr.XorPeerAddress, peerAddr));
    assert.equal(bound.code, undefined);
    // 5 bytes of payload: the frame is padded to 12, and two frames in one write still parse.
    const frame = Buffer.from([0x40, 0x01, 0x00, 0x05, 104, 101, 108, 108, 111, 0, 0, 0]);
    socket.write(Buffer.concat([frame, frame]));
    await until(() => peer.received.length === 2);
    assert.equal(peer.received[0].toString(), 'hello');
    peer.socket.send('abcdef', relay.port, relay.address);
    await until(() => c.frames.length === 1);
    assert.equal(c.frames[0].data.toString(), 'abcdef');
    assert.equal(c.frames[0].frameLength, 12);
    assert.equal(server.counters().allocations, 1);
    socket.destroy();
    await until(() => server.counters().allocations === 0);
  });
}

test('garbage on a TCP stream closes that connection only', async () => {
  const { server, port } = await startServer();
  cleanups.push(() => server.stop());
  // A TLS ClientHello (no STUN magic cookie) and bytes that are neither STUN nor ChannelData.
  for (const garbage of [Buffer.from('16030100a5010000a10303aabbccdd', 'hex'), Buffer.from([0xff, 0xfe, 0, 1, 2, 3, 4, 5])]) {
    const bad = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((r) => bad.once('connect', () => r()));
    const closed = new Promise<void>((r) => bad.once('close', () => r()));
    bad.on('error', () => {});
    bad.write(garbage);
    await closed;
  }
  const good = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((r) => good.once('connect', () => r()));
  cleanups.push(() => good.destroy());
  const c = new StreamClient(good);
  const r = await c.request(Method.Binding, () => {});
  assert.equal(r.msg.cls, StunClass.SuccessResponse);
});

test('stop() ends connections that never finished a TLS handshake, or never sent a byte', async () => {
  const tlsMaterial = selfSignedCert();
  const { server, port } = await startServer({ cert: tlsMaterial.cert, pkey: tlsMaterial.key });
  // silent clients: one on the TCP port, one on the TLS port that never starts its handshake
  const silent = [net.connect({ host: '127.0.0.1', port }), net.connect({ host: '127.0.0.1', port: port + 1 })];
  for (const s of silent) {
    s.on('error', () => {});
    await new Promise<void>((r) => s.once('connect', () => r()));
  }
  await new Promise((r) => setTimeout(r, 100));
  const stopped = await Promise.race([server.stop().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
  for (const s of silent) s.destroy();
  assert.ok(stopped, 'stop() did not finish within 3 s with a silent client on the TLS port');
});
