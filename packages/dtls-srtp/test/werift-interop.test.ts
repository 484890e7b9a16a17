// Interop with werift 0.24.4, an independent pure-TypeScript WebRTC stack: DTLS handshakes in
// both roles over an in-memory path, the same exported SRTP keys, and SRTP/SRTCP packets
// protected by one implementation and unprotected by the other, for both profiles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  CipherContext,
  DtlsClient,
  DtlsServer,
  HashAlgorithm,
  NamedCurveAlgorithm,
  RtpPacket,
  SignatureAlgorithm,
  SrtcpSession,
  SrtpSession,
} from 'werift';
import { Certificate, DtlsSession, SrtpTable, srtpOverhead, type SrtpKeys, type SrtpProfile } from '../src/index.js';
import { rtcpSr, rtp, toHex, withRoom } from './helpers.js';

const WERIFT_ID: Record<SrtpProfile, 1 | 7> = { SRTP_AES128_CM_SHA1_80: 1, SRTP_AEAD_AES_128_GCM: 7 };
const wcert = await CipherContext.createSelfSignedCertificateWithKey(
  { signature: SignatureAlgorithm.ecdsa_3, hash: HashAlgorithm.sha256_4 },
  NamedCurveAlgorithm.secp256r1_23,
);

type WeriftSocket = DtlsClient | DtlsServer;

/** Runs a handshake between our session (in `ourRole`) and werift's opposite role. */
async function handshake(ourRole: 'client' | 'server', profiles: SrtpProfile[], drop?: (d: Uint8Array) => boolean) {
  const cert = Certificate.generate();
  const ours = new DtlsSession(cert, ourRole, { profiles });
  // werift's Transport: send() is werift -> us; transport.onData() is us -> werift.
  const transport = {
    type: 'memory',
    address: {} as never,
    closed: false,
    onData: (_d: Buffer, _a: unknown) => {},
    send: async (d: Buffer) => {
      setImmediate(() => {
        if (drop?.(d)) return;
        ours.receive(d);
        flush();
      });
    },
    close: async () => {},
  };
  const flush = () => {
    for (const d of ours.takeOutgoing()) setImmediate(() => transport.onData(Buffer.from(d), {}));
  };
  const opts = {
    transport,
    cert: wcert.certPem,
    key: wcert.keyPem,
    signatureHash: wcert.signatureHash,
    srtpProfiles: profiles.map((p) => WERIFT_ID[p]),
    extendedMasterSecret: true,
    certificateRequest: true,
  };
  const peer: WeriftSocket = ourRole === 'server' ? new DtlsClient(opts) : new DtlsServer(opts);
  const connected = new Promise<void>((resolve, reject) => {
    peer.onConnect.subscribe(() => resolve());
    peer.onError.subscribe((e: Error) => reject(e));
  });
  ours.start();
  flush();
  if (peer instanceof DtlsClient) void peer.connect().catch(() => {});
  // Drive our retransmission timer while waiting.
  const timer = setInterval(() => {
    const t = ours.nextTimeoutMs();
    if (t === 0) {
      ours.handleTimeout();
      flush();
    }
  }, 20);
  try {
    await Promise.race([connected, new Promise((_, rej) => setTimeout(() => rej(new Error(`timeout, ours: ${ours.state} ${ours.error ?? ''}`)), 8000))]);
    for (let i = 0; i < 50 && ours.state !== 'connected'; i++) await new Promise((r) => setTimeout(r, 10));
  } finally {
    clearInterval(timer);
  }
  return { ours, peer, cert };
}

function weriftKeys(peer: WeriftSocket, profile: SrtpProfile) {
  const k = peer.extractSessionKeys(16, profile === 'SRTP_AES128_CM_SHA1_80' ? 14 : 12);
  return { localMasterKey: k.localKey as Buffer, localMasterSalt: k.localSalt as Buffer, remoteMasterKey: k.remoteKey as Buffer, remoteMasterSalt: k.remoteSalt as Buffer };
}

function checkSrtp(profile: SrtpProfile, ours: SrtpKeys, wk: ReturnType<typeof weriftKeys>) {
  const table = new SrtpTable();
  const id = table.add(profile, ours.localKey, ours.localSalt, ours.remoteKey, ours.remoteSalt);
  const wsrtp = new SrtpSession({ keys: wk, profile: WERIFT_ID[profile] });
  const wsrtcp = new SrtcpSession({ keys: wk, profile: WERIFT_ID[profile] });
  const ssrcA = 0x1234abcd;
  const ssrcB = 0x0badf00d;
  // Sequence numbers cross the 16-bit wrap, so both sides must agree on the ROC.
  const seqs = [65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3, 500, 33000, 65535, 0, 7];
  for (const [i, seq] of seqs.entries()) {
    // werift -> us
    const pkt = rtp(seq, ssrcA, 80 + i * 13, { csrcs: i % 3 === 0 ? [9] : [] });
    const parsed = RtpPacket.deSerialize(Buffer.from(pkt));
    const enc = wsrtp.encrypt(parsed.payload, parsed.header);
    assert.equal(enc.length, pkt.length + srtpOverhead(profile, false));
    const buf = withRoom(enc);
    const n = table.unprotectRtp(id, buf, 0, enc.length);
    assert.equal(n, pkt.length, `werift->us seq ${seq}`);
    assert.equal(toHex(buf.subarray(0, n)), toHex(pkt));
    // us -> werift
    const pkt2 = rtp(seq, ssrcB, 60 + i * 17);
    const buf2 = withRoom(pkt2);
    const m = table.protectRtp(id, buf2, 0, pkt2.length);
    const dec = wsrtp.decrypt(Buffer.from(buf2.subarray(0, m)));
    assert.equal(toHex(dec), toHex(pkt2), `us->werift seq ${seq}`);
  }
  for (let i = 0; i < 4; i++) {
    const sr = rtcpSr(ssrcA, 4 * i);
    const enc = wsrtcp.encrypt(Buffer.from(sr));
    assert.equal(enc.length, sr.length + srtpOverhead(profile, true));
    const buf = withRoom(enc);
    const n = table.unprotectRtcp(id, buf, 0, enc.length);
    assert.equal(n, sr.length, 'werift->us RTCP');
    assert.equal(toHex(buf.subarray(0, n)), toHex(sr));
    const sr2 = rtcpSr(ssrcB, 8 * i);
    const b2 = withRoom(sr2);
    const m = table.protectRtcp(id, b2, 0, sr2.length);
    const dec = wsrtcp.decrypt(Buffer.from(b2.subarray(0, m)));
    assert.equal(toHex(dec), toHex(sr2), 'us->werift RTCP');
  }
  // A packet werift protected with the wrong key is rejected by us.
  const wrong = new SrtpSession({
    keys: { ...wk, localMasterKey: crypto.randomBytes(16) },
    profile: WERIFT_ID[profile],
  });
  const pkt = rtp(20, ssrcA, 40);
  const parsed = RtpPacket.deSerialize(Buffer.from(pkt));
  const enc = withRoom(wrong.encrypt(parsed.payload, parsed.header));
  assert.ok(table.unprotectRtp(id, enc, 0, pkt.length + srtpOverhead(profile, false)) < 0);
  table.close();
}

for (const profile of ['SRTP_AEAD_AES_128_GCM', 'SRTP_AES128_CM_SHA1_80'] as SrtpProfile[]) {
  for (const ourRole of ['server', 'client'] as const) {
    test(`werift ${ourRole === 'server' ? 'client -> our server' : 'server <- our client'}, ${profile}: same keys, SRTP/SRTCP both ways`, async () => {
      const { ours, peer, cert } = await handshake(ourRole, [profile]);
      assert.equal(ours.state, 'connected', ours.error);
      assert.equal(peer.srtp.srtpProfile, WERIFT_ID[profile]);
      const keys = ours.srtpKeys();
      assert.equal(keys.profile, profile);
      const wk = weriftKeys(peer, profile);
      assert.equal(toHex(keys.localKey), wk.remoteMasterKey.toString('hex'));
      assert.equal(toHex(keys.localSalt), wk.remoteMasterSalt.toString('hex'));
      assert.equal(toHex(keys.remoteKey), wk.localMasterKey.toString('hex'));
      assert.equal(toHex(keys.remoteSalt), wk.localMasterSalt.toString('hex'));
      // Certificates: werift saw ours; we saw werift's.
      const theirs = new crypto.X509Certificate(peer.remoteCertificate!);
      assert.equal(theirs.fingerprint256, cert.fingerprint);
      assert.match(theirs.subject, /CN=switchboard/);
      const now = Date.now();
      assert.ok(Date.parse(theirs.validFrom) <= now - 23 * 3600e3);
      assert.ok(Date.parse(theirs.validTo) >= now + 29 * 86400e3);
      assert.equal(theirs.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
      assert.ok(theirs.verify(theirs.publicKey), 'self-signed');
      const wx = new crypto.X509Certificate(wcert.certPem);
      assert.equal(ours.remoteFingerprint(), wx.fingerprint256);
      checkSrtp(profile, keys, wk);
      // Application data over DTLS.
      const got = new Promise<Buffer>((r) => peer.onData.subscribe((d: Buffer) => r(d)));
      ours.send(new TextEncoder().encode('sctp?'));
      for (const d of ours.takeOutgoing()) peer.transport.socket.onData(Buffer.from(d), {} as never);
      assert.equal((await got).toString(), 'sctp?');
      ours.destroy();
      peer.close();
    });
  }
}

test('werift client with both profiles offered: our server picks GCM', async () => {
  const { ours, peer } = await handshake('server', ['SRTP_AEAD_AES_128_GCM', 'SRTP_AES128_CM_SHA1_80']);
  assert.equal(ours.state, 'connected');
  assert.equal(ours.srtpKeys().profile, 'SRTP_AEAD_AES_128_GCM');
  ours.destroy();
  peer.close();
});

test('our client recovers a lost werift server flight through its retransmission timer', async () => {
  let dropped = 0;
  const { ours, peer } = await handshake('client', ['SRTP_AEAD_AES_128_GCM'], () => dropped++ === 0);
  assert.ok(dropped >= 2);
  assert.equal(ours.state, 'connected', ours.error);
  const wk = weriftKeys(peer, 'SRTP_AEAD_AES_128_GCM');
  assert.equal(toHex(ours.srtpKeys().localKey), wk.remoteMasterKey.toString('hex'));
  ours.destroy();
  peer.close();
});
