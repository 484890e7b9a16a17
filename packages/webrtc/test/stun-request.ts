// A Binding request as a browser sends one (RFC 5389 §6, RFC 8445 §7.1.2), built byte by byte
// here with node:crypto, independently of @switchboard/stun: USERNAME "ours:theirs",
// PRIORITY, ICE-CONTROLLING, optional USE-CANDIDATE, MESSAGE-INTEGRITY keyed with our password,
// FINGERPRINT (CRC-32 xor 0x5354554e).
import { createHmac, randomBytes } from 'node:crypto';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function attr(type: number, value: Uint8Array): Buffer {
  const pad = (4 - (value.length % 4)) % 4;
  const out = Buffer.alloc(4 + value.length + pad);
  out.writeUInt16BE(type, 0);
  out.writeUInt16BE(value.length, 2);
  out.set(value, 4);
  return out;
}

export function bindingRequest(o: { username: string; password: string; useCandidate?: boolean; badIntegrity?: boolean }): { bytes: Buffer; transactionId: Buffer } {
  const transactionId = randomBytes(12);
  const prio = Buffer.alloc(4);
  prio.writeUInt32BE(0x6e0001ff, 0);
  let body = Buffer.concat([
    attr(0x0006, Buffer.from(o.username, 'utf8')),
    attr(0x0024, prio),
    attr(0x802a, randomBytes(8)), // ICE-CONTROLLING
    ...(o.useCandidate ? [attr(0x0025, new Uint8Array(0))] : []),
  ]);
  const header = (bodyLength: number): Buffer => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(0x0001, 0);
    h.writeUInt16BE(bodyLength, 2);
    h.writeUInt32BE(0x2112a442, 4);
    transactionId.copy(h, 8);
    return h;
  };
  // MESSAGE-INTEGRITY over the message with the length field counting it (24 bytes)
  const mac = createHmac('sha1', Buffer.from(o.password, 'utf8')).update(Buffer.concat([header(body.length + 24), body])).digest();
  if (o.badIntegrity) mac[0] ^= 0xff;
  body = Buffer.concat([body, attr(0x0008, mac)]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE((crc32(Buffer.concat([header(body.length + 8), body])) ^ 0x5354554e) >>> 0, 0);
  body = Buffer.concat([body, attr(0x8028, crc)]);
  return { bytes: Buffer.concat([header(body.length), body]), transactionId };
}

/** A minimal RTP packet (version 2, no extensions). */
export function rtpPacket(seq: number, ssrc: number, payload: number[]): Uint8Array {
  const b = Buffer.alloc(12 + payload.length);
  b[0] = 0x80;
  b[1] = 96;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(seq * 3000, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  b.set(payload, 12);
  return new Uint8Array(b);
}
