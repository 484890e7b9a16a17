// The state cookie (RFC 9260 §5.1.3): the server keeps no state for an INIT; what it needs to
// establish the association travels in the cookie, authenticated with an HMAC under a key
// only this association knows, and dated so an old cookie is refused.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { InitChunk } from './wire.js';

const COOKIE_BODY = 34;
export const COOKIE_LENGTH = COOKIE_BODY + 32;
const COOKIE_LIFETIME = 60_000;

export function makeCookie(key: Uint8Array, localTag: number, localInitialTsn: number, init: InitChunk, nowMs: number): Uint8Array {
  const b = Buffer.alloc(COOKIE_LENGTH);
  b[0] = 1;
  b.writeUInt32BE(localTag, 1);
  b.writeUInt32BE(localInitialTsn, 5);
  b.writeUInt32BE(init.initiateTag, 9);
  b.writeUInt32BE(init.initialTsn, 13);
  b.writeUInt32BE(init.arwnd, 17);
  b.writeUInt16BE(init.outboundStreams, 21);
  b.writeUInt16BE(init.inboundStreams, 23);
  b[25] = (init.forwardTsn ? 1 : 0) | (init.reconfig ? 2 : 0);
  b.writeDoubleBE(nowMs, 26);
  createHmac('sha256', key).update(b.subarray(0, COOKIE_BODY)).digest().copy(b, COOKIE_BODY);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** The peer's INIT from a COOKIE-ECHO, or null if the cookie is not ours, not for this tag, or too old. */
export function openCookie(key: Uint8Array, localTag: number, value: Uint8Array, nowMs: number): InitChunk | null {
  if (value.length !== COOKIE_LENGTH || value[0] !== 1) return null;
  const b = Buffer.from(value.buffer, value.byteOffset, value.length);
  const mac = createHmac('sha256', key).update(b.subarray(0, COOKIE_BODY)).digest();
  if (!timingSafeEqual(mac, b.subarray(COOKIE_BODY))) return null;
  if (b.readUInt32BE(1) !== localTag) return null;
  const age = nowMs - b.readDoubleBE(26);
  if (!(age <= COOKIE_LIFETIME && age >= -COOKIE_LIFETIME)) return null;
  return {
    initiateTag: b.readUInt32BE(9),
    initialTsn: b.readUInt32BE(13),
    arwnd: b.readUInt32BE(17),
    outboundStreams: b.readUInt16BE(21),
    inboundStreams: b.readUInt16BE(23),
    forwardTsn: (b[25] & 1) !== 0,
    reconfig: (b[25] & 2) !== 0,
    unrecognized: [],
  };
}
