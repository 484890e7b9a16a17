// Published test vectors: RFC 3711 appendix B.2 (AES-CM keystream) and B.3 (key derivation),
// RFC 7714 sections 16 and 17 (AEAD_AES_128_GCM SRTP and SRTCP), plus protect output checked
// against an independent AES-CTR/HMAC-SHA1 computed with node:crypto.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { SrtpTable, deriveSrtpSessionKeys, SRTP_ERR_AUTH } from '../src/index.js';
import { hex, toHex, rtp, withRoom } from './helpers.js';

test('RFC 3711 B.3: key derivation (AES-CM PRF)', () => {
  const k = deriveSrtpSessionKeys('SRTP_AES128_CM_SHA1_80', hex('E1F97A0D3E018BE0D64FA32C06DE4139'), hex('0EC675AD498AFEEBB6960B3AABE6'));
  assert.equal(toHex(k.rtpKey), 'c61e7a93744f39ee10734afe3ff7a087');
  assert.equal(toHex(k.rtpSalt), '30cbbc08863d8c85d49db34a9ae1');
  assert.equal(toHex(k.rtpAuth!), 'cebe321f6ff7716b6fd4ab49af256a156d38baa4');
  assert.equal(k.rtcpKey.length, 16);
  assert.equal(k.rtcpSalt.length, 14);
  assert.equal(k.rtcpAuth!.length, 20);
  assert.notEqual(toHex(k.rtcpKey), toHex(k.rtpKey));
});

test('key derivation for GCM: 12-byte salts, no auth keys, same PRF as CM (salt zero-padded)', () => {
  const mk = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
  const ms = hex('0EC675AD498AFEEBB6960B3A');
  const g = deriveSrtpSessionKeys('SRTP_AEAD_AES_128_GCM', mk, ms);
  assert.equal(g.rtpSalt.length, 12);
  assert.equal(g.rtpAuth, undefined);
  const c = deriveSrtpSessionKeys('SRTP_AES128_CM_SHA1_80', mk, hex('0EC675AD498AFEEBB6960B3A0000'));
  assert.equal(toHex(g.rtpKey), toHex(c.rtpKey));
  assert.equal(toHex(g.rtpSalt), toHex(c.rtpSalt).slice(0, 24));
  assert.equal(toHex(g.rtcpKey), toHex(c.rtcpKey));
});

test('RFC 3711 B.2: AES-CM keystream through protectRtp (session key/salt, SSRC 0, index 0)', () => {
  const table = new SrtpTable();
  const key = hex('2B7E151628AED2A6ABF7158809CF4F3C');
  const salt = hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD');
  const auth = new Uint8Array(20).fill(0x11);
  const id = table.addSessionKeysForTest('SRTP_AES128_CM_SHA1_80', key, salt, auth, key, salt, auth);
  const pkt = rtp(0, 0, new Uint8Array(48)); // zero payload: ciphertext = keystream
  const buf = withRoom(pkt, 10);
  const n = table.protectRtp(id, buf, 0, pkt.length);
  assert.equal(n, pkt.length + 10);
  assert.equal(
    toHex(buf.subarray(12, 60)),
    'e03ead0935c95e80e166b16dd92b4eb4' + 'd23513162b02d0f72a43a2fe4a5f97ab' + '41e95b3bb0a2e8dd477901e4fca894c0',
  );
  // The tag: HMAC-SHA1(auth, packet || ROC) truncated to 80 bits.
  const mac = crypto.createHmac('sha1', auth).update(buf.subarray(0, 60)).update(new Uint8Array(4)).digest();
  assert.equal(toHex(buf.subarray(60, 70)), mac.subarray(0, 10).toString('hex'));
  // And back.
  assert.equal(table.unprotectRtp(id, buf, 0, n), pkt.length);
  assert.equal(toHex(buf.subarray(0, pkt.length)), toHex(pkt));
});

test('CM protect equals AES-CTR + HMAC-SHA1 computed with node:crypto from derived session keys', () => {
  const mk = crypto.randomBytes(16);
  const ms = crypto.randomBytes(14);
  const sk = deriveSrtpSessionKeys('SRTP_AES128_CM_SHA1_80', mk, ms);
  const table = new SrtpTable();
  const id = table.add('SRTP_AES128_CM_SHA1_80', mk, ms, mk, ms);
  const ssrc = 0xdeadbeef;
  const seq = 0x1234;
  const pkt = rtp(seq, ssrc, 100, { csrcs: [1, 2], ext: new Uint8Array(8).fill(5) });
  const hl = 12 + 8 + 12;
  const buf = withRoom(pkt);
  const n = table.protectRtp(id, buf, 0, pkt.length);
  // IV = salt<<16 XOR ssrc<<64 XOR index<<16
  const iv = Buffer.alloc(16);
  Buffer.from(sk.rtpSalt).copy(iv, 0);
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  iv.writeUInt16BE(iv.readUInt16BE(12) ^ seq, 12);
  const c = crypto.createCipheriv('aes-128-ctr', sk.rtpKey, iv);
  const expected = Buffer.concat([Buffer.from(pkt.subarray(0, hl)), c.update(pkt.subarray(hl)), c.final()]);
  assert.equal(toHex(buf.subarray(0, pkt.length)), expected.toString('hex'));
  const mac = crypto.createHmac('sha1', sk.rtpAuth!).update(expected).update(Buffer.alloc(4)).digest();
  assert.equal(toHex(buf.subarray(pkt.length, n)), mac.subarray(0, 10).toString('hex'));
});

// RFC 7714 §16/§17: the vectors give the session key and salt directly.
const GCM_KEY = hex('000102030405060708090a0b0c0d0e0f');
const GCM_SALT = hex('517569642070726f2071756f');
const RTP_PLAIN = hex('8040f17b8041f8d35501a0b2' + Buffer.from('Gallia est omnis divisa in partes tres').toString('hex'));
const RTP_PROTECTED = hex(
  '8040f17b8041f8d35501a0b2f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833899d7f27beb16a9152cf765ee4390cce',
);
const RTCP_PLAIN = hex('81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61' + 'deadbeef'.repeat(5));
const RTCP_PROTECTED = hex(
  '81c8000d4d61727363e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda4ce09b4686303ded0bb9275bc84aa45896cf4d2fc5abf87245d9eade800005d4',
);

function gcmTable(): { table: SrtpTable; id: number } {
  const table = new SrtpTable();
  const none = new Uint8Array(0);
  const id = table.addSessionKeysForTest('SRTP_AEAD_AES_128_GCM', GCM_KEY, GCM_SALT, none, GCM_KEY, GCM_SALT, none);
  return { table, id };
}

test('RFC 7714 vectors are self-consistent with node:crypto AES-GCM (sanity of the transcription)', () => {
  assert.equal(RTP_PLAIN.length, 50);
  assert.equal(RTCP_PLAIN.length, 52);
  const iv = hex('51753c6580c2726f20718414');
  const c = crypto.createCipheriv('aes-128-gcm', GCM_KEY, iv);
  c.setAAD(RTP_PLAIN.subarray(0, 12));
  const ct = Buffer.concat([c.update(RTP_PLAIN.subarray(12)), c.final(), c.getAuthTag()]);
  assert.equal(ct.toString('hex'), toHex(RTP_PROTECTED.subarray(12)));
});

test('RFC 7714 16.1.1: SRTP AEAD_AES_128_GCM encryption', () => {
  const { table, id } = gcmTable();
  const buf = withRoom(RTP_PLAIN, 16);
  assert.equal(table.protectRtp(id, buf, 0, RTP_PLAIN.length), RTP_PROTECTED.length);
  assert.equal(toHex(buf), toHex(RTP_PROTECTED));
});

test('RFC 7714 16.1.2: SRTP AEAD_AES_128_GCM decryption, and a tampered packet fails', () => {
  const { table, id } = gcmTable();
  const buf = RTP_PROTECTED.slice();
  assert.equal(table.unprotectRtp(id, buf, 0, buf.length), RTP_PLAIN.length);
  assert.equal(toHex(buf.subarray(0, RTP_PLAIN.length)), toHex(RTP_PLAIN));
  const bad = RTP_PROTECTED.slice();
  bad[20] ^= 1;
  assert.equal(gcmTable().table.unprotectRtp(0, bad, 0, bad.length), SRTP_ERR_AUTH);
});

test('RFC 7714 17.1: SRTCP AEAD_AES_128_GCM decryption (index 0x5d4), tampering fails', () => {
  const { table, id } = gcmTable();
  const buf = RTCP_PROTECTED.slice();
  assert.equal(table.unprotectRtcp(id, buf, 0, buf.length), RTCP_PLAIN.length);
  assert.equal(toHex(buf.subarray(0, RTCP_PLAIN.length)), toHex(RTCP_PLAIN));
  for (const i of [10, 30, RTCP_PROTECTED.length - 1]) {
    const bad = RTCP_PROTECTED.slice();
    bad[i] ^= 0x08;
    const t = gcmTable();
    assert.equal(t.table.unprotectRtcp(t.id, bad, 0, bad.length), SRTP_ERR_AUTH, `byte ${i}`);
  }
});

test('GCM SRTCP protect matches node:crypto (IV 00 00|SSRC|00 00|index, AAD header|E+index, tag then E+index)', () => {
  const { table, id } = gcmTable();
  const buf = withRoom(RTCP_PLAIN, 20);
  const n = table.protectRtcp(id, buf, 0, RTCP_PLAIN.length);
  assert.equal(n, RTCP_PLAIN.length + 20);
  const trailer = buf.subarray(n - 4, n);
  const index = new DataView(trailer.buffer, trailer.byteOffset).getUint32(0);
  assert.equal(index >>> 31, 1);
  const raw = Buffer.alloc(12);
  raw.writeUInt32BE(0x4d617273, 2);
  raw.writeUInt32BE(index & 0x7fffffff, 8);
  const iv = raw.map((b, i) => b ^ GCM_SALT[i]);
  const c = crypto.createCipheriv('aes-128-gcm', GCM_KEY, iv);
  c.setAAD(Buffer.concat([RTCP_PLAIN.subarray(0, 8), trailer]));
  const ct = Buffer.concat([c.update(RTCP_PLAIN.subarray(8)), c.final(), c.getAuthTag()]);
  assert.equal(toHex(buf.subarray(8, n - 4)), ct.toString('hex'));
});
