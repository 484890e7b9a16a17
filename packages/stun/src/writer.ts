// The encoder: one reusable writer over one buffer, so building a message does not allocate
// (apart from growing the buffer for an oversized message, and what node:crypto does for HMACs).
import { Attr, HEADER_LENGTH, MAGIC_COOKIE, TRANSACTION_ID_LENGTH, messageType } from './constants.js';
import type { StunClass } from './constants.js';
import { addressValueLength, writeAddressValue } from './address.js';
import type { TransportAddress } from './address.js';
import { randomBytes } from './crypto.js';
import { StunError } from './errors.js';
import { fingerprintValue, integrityHmac } from './integrity.js';

const DEFAULT_CAPACITY = 2048;
const MAX_LENGTH = 0xffff;
const encoder = new TextEncoder();

function invalid(message: string): StunError {
  return new StunError('STUN_ERR_INVALID_ARGUMENT', message);
}

export class StunWriter {
  private buf: Uint8Array;
  /** End of what has been written; 0 before the first start(). */
  private pos = 0;
  /** Set once FINGERPRINT is written: nothing may follow it. */
  private sealed = false;

  constructor(capacity: number = DEFAULT_CAPACITY) {
    this.buf = new Uint8Array(Math.max(HEADER_LENGTH + 4, Math.floor(capacity) || DEFAULT_CAPACITY));
  }

  /** Starts a new message (resets the writer). transactionId is 12 bytes. */
  start(method: number, cls: StunClass, transactionId: Uint8Array): this {
    if (!Number.isInteger(method) || method < 0 || method > 0xfff) throw invalid(`bad method ${method}`);
    if (cls !== 0 && cls !== 1 && cls !== 2 && cls !== 3) throw invalid(`bad class ${String(cls)}`);
    if (transactionId.length !== TRANSACTION_ID_LENGTH) throw invalid('transaction id must be 12 bytes');
    const b = this.buf;
    const type = messageType(method, cls);
    b[0] = type >>> 8;
    b[1] = type & 0xff;
    b[2] = 0;
    b[3] = 0;
    b[4] = MAGIC_COOKIE >>> 24;
    b[5] = (MAGIC_COOKIE >>> 16) & 0xff;
    b[6] = (MAGIC_COOKIE >>> 8) & 0xff;
    b[7] = MAGIC_COOKIE & 0xff;
    b.set(transactionId, 8);
    this.pos = HEADER_LENGTH;
    this.sealed = false;
    return this;
  }

  /** Checks that an attribute with a value of `valueLength` bytes may be added and makes room for it; returns its offset. */
  private begin(type: number, valueLength: number): number {
    if (this.pos === 0) throw invalid('start() a message first');
    if (this.sealed) throw invalid('FINGERPRINT must be the last attribute');
    if (!Number.isInteger(type) || type < 0 || type > 0xffff) throw invalid(`bad attribute type ${type}`);
    if (valueLength > MAX_LENGTH) throw new StunError('STUN_ERR_TOO_LARGE', `attribute value of ${valueLength} bytes`);
    const end = this.pos + 4 + ((valueLength + 3) & ~3);
    if (end - HEADER_LENGTH > MAX_LENGTH) throw new StunError('STUN_ERR_TOO_LARGE', 'message longer than 65535 bytes');
    this.reserve(end);
    return this.pos;
  }

  private reserve(end: number): void {
    if (end <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(end, this.buf.length * 2));
    grown.set(this.buf);
    this.buf = grown;
  }

  /** Writes the attribute header at off for a value of valueLength bytes already in place, zero-pads, and updates the message length. */
  private finish(off: number, type: number, valueLength: number): this {
    const b = this.buf;
    b[off] = type >>> 8;
    b[off + 1] = type & 0xff;
    b[off + 2] = valueLength >>> 8;
    b[off + 3] = valueLength & 0xff;
    let end = off + 4 + valueLength;
    while ((end & 3) !== 0) b[end++] = 0;
    this.pos = end;
    const len = end - HEADER_LENGTH;
    b[2] = len >>> 8;
    b[3] = len & 0xff;
    return this;
  }

  /** Pads to 4 bytes with zeros. */
  addBytes(type: number, value: Uint8Array): this {
    const off = this.begin(type, value.length);
    this.buf.set(value, off + 4);
    return this.finish(off, type, value.length);
  }

  /** UTF-8. */
  addString(type: number, value: string): this {
    const off = this.begin(type, 0);
    const written = this.writeUtf8(value, off + 4);
    this.checkSize(off, written);
    return this.finish(off, type, written);
  }

  /** Encodes value as UTF-8 straight into the buffer at at (after making room for the worst case); returns the byte count. */
  private writeUtf8(value: string, at: number): number {
    // UTF-8 never takes fewer bytes than UTF-16 units, so a longer string cannot fit.
    if (value.length > MAX_LENGTH) throw new StunError('STUN_ERR_TOO_LARGE', `string of ${value.length} characters`);
    this.reserve(at + value.length * 3 + 3);
    return encoder.encodeInto(value, this.buf.subarray(at)).written;
  }

  private checkSize(off: number, valueLength: number): void {
    if (valueLength > MAX_LENGTH || off + 4 + valueLength - HEADER_LENGTH > MAX_LENGTH) {
      throw new StunError('STUN_ERR_TOO_LARGE', `attribute value of ${valueLength} bytes does not fit`);
    }
  }

  addU32(type: number, value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw invalid(`bad 32-bit value ${value}`);
    const off = this.begin(type, 4);
    const b = this.buf;
    b[off + 4] = value >>> 24;
    b[off + 5] = (value >>> 16) & 0xff;
    b[off + 6] = (value >>> 8) & 0xff;
    b[off + 7] = value & 0xff;
    return this.finish(off, type, 4);
  }

  /** An 8-byte value: ICE-CONTROLLED, ICE-CONTROLLING, RESERVATION-TOKEN. */
  addU64(type: number, value: bigint): this {
    if (value < 0n || value > 0xffffffffffffffffn) throw invalid(`bad 64-bit value ${value}`);
    const off = this.begin(type, 8);
    const hi = Number(value >> 32n);
    const lo = Number(value & 0xffffffffn);
    const b = this.buf;
    b[off + 4] = hi >>> 24;
    b[off + 5] = (hi >>> 16) & 0xff;
    b[off + 6] = (hi >>> 8) & 0xff;
    b[off + 7] = hi & 0xff;
    b[off + 8] = lo >>> 24;
    b[off + 9] = (lo >>> 16) & 0xff;
    b[off + 10] = (lo >>> 8) & 0xff;
    b[off + 11] = lo & 0xff;
    return this.finish(off, type, 8);
  }

  /** Zero-length attribute (DONT-FRAGMENT, USE-CANDIDATE). */
  addFlag(type: number): this {
    return this.finish(this.begin(type, 0), type, 0);
  }

  /** XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS (uses the transaction id given to start()). */
  addXorAddress(type: number, addr: TransportAddress): this {
    const n = addressValueLength(addr);
    const off = this.begin(type, n);
    writeAddressValue(this.buf, off + 4, addr, this.buf, 4);
    return this.finish(off, type, n);
  }

  /** MAPPED-ADDRESS, ALTERNATE-SERVER. */
  addAddress(type: number, addr: TransportAddress): this {
    const n = addressValueLength(addr);
    const off = this.begin(type, n);
    writeAddressValue(this.buf, off + 4, addr, null);
    return this.finish(off, type, n);
  }

  /** ERROR-CODE: code 300-699, UTF-8 reason. */
  addErrorCode(code: number, reason: string): this {
    if (!Number.isInteger(code) || code < 300 || code > 699) throw invalid(`bad error code ${code}`);
    const off = this.begin(Attr.ErrorCode, 4);
    const b = this.buf;
    b[off + 4] = 0;
    b[off + 5] = 0;
    b[off + 6] = Math.floor(code / 100);
    b[off + 7] = code % 100;
    const written = this.writeUtf8(reason, off + 8);
    this.checkSize(off, 4 + written);
    return this.finish(off, Attr.ErrorCode, 4 + written);
  }

  addUnknownAttributes(types: number[]): this {
    for (const t of types) if (!Number.isInteger(t) || t < 0 || t > 0xffff) throw invalid(`bad attribute type ${t}`);
    const off = this.begin(Attr.UnknownAttributes, types.length * 2);
    const b = this.buf;
    for (let i = 0; i < types.length; i++) {
      b[off + 4 + 2 * i] = types[i] >>> 8;
      b[off + 5 + 2 * i] = types[i] & 0xff;
    }
    return this.finish(off, Attr.UnknownAttributes, types.length * 2);
  }

  /** CHANNEL-NUMBER: the number then 2 zero bytes. Any 16-bit number is written; ChannelData needs 0x4000-0x4FFF. */
  addChannelNumber(channel: number): this {
    if (!Number.isInteger(channel) || channel < 0 || channel > 0xffff) throw invalid(`bad channel number ${channel}`);
    const off = this.begin(Attr.ChannelNumber, 4);
    const b = this.buf;
    b[off + 4] = channel >>> 8;
    b[off + 5] = channel & 0xff;
    b[off + 6] = 0;
    b[off + 7] = 0;
    return this.finish(off, Attr.ChannelNumber, 4);
  }

  /** REQUESTED-TRANSPORT: the protocol byte (17 = UDP) then 3 zero bytes. */
  addRequestedTransport(protocol: number): this {
    if (!Number.isInteger(protocol) || protocol < 0 || protocol > 0xff) throw invalid(`bad protocol ${protocol}`);
    const off = this.begin(Attr.RequestedTransport, 4);
    const b = this.buf;
    b[off + 4] = protocol;
    b[off + 5] = 0;
    b[off + 6] = 0;
    b[off + 7] = 0;
    return this.finish(off, Attr.RequestedTransport, 4);
  }

  /** REQUESTED-ADDRESS-FAMILY: 0x01 (IPv4) or 0x02 (IPv6) then 3 zero bytes. */
  addRequestedAddressFamily(family: 4 | 6): this {
    return this.addFamily(Attr.RequestedAddressFamily, family);
  }

  /** ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §18.11), same format as REQUESTED-ADDRESS-FAMILY. */
  addAdditionalAddressFamily(family: 4 | 6): this {
    return this.addFamily(Attr.AdditionalAddressFamily, family);
  }

  private addFamily(type: number, family: 4 | 6): this {
    if (family !== 4 && family !== 6) throw invalid(`bad address family ${String(family)}`);
    const off = this.begin(type, 4);
    const b = this.buf;
    b[off + 4] = family === 4 ? 0x01 : 0x02;
    b[off + 5] = 0;
    b[off + 6] = 0;
    b[off + 7] = 0;
    return this.finish(off, type, 4);
  }

  /** HMAC-SHA1 per §14.5, over everything written so far. */
  addMessageIntegrity(key: Uint8Array): this {
    const off = this.begin(Attr.MessageIntegrity, 20);
    this.buf.set(integrityHmac('sha1', this.buf, off, 20, key), off + 4);
    return this.finish(off, Attr.MessageIntegrity, 20);
  }

  /** HMAC-SHA256 per §14.6 (the full 32 bytes), over everything written so far. */
  addMessageIntegritySha256(key: Uint8Array): this {
    const off = this.begin(Attr.MessageIntegritySha256, 32);
    this.buf.set(integrityHmac('sha256', this.buf, off, 32, key), off + 4);
    return this.finish(off, Attr.MessageIntegritySha256, 32);
  }

  /** FINGERPRINT per §14.7. Must be last: adding anything after it throws. */
  addFingerprint(): this {
    const off = this.begin(Attr.Fingerprint, 4);
    this.finish(off, Attr.Fingerprint, 4); // sets the header length to include FINGERPRINT
    const b = this.buf;
    const v = fingerprintValue(b, off);
    b[off + 4] = v >>> 24;
    b[off + 5] = (v >>> 16) & 0xff;
    b[off + 6] = (v >>> 8) & 0xff;
    b[off + 7] = v & 0xff;
    this.sealed = true;
    return this;
  }

  /** Bytes written so far (header included); 0 before the first start(). */
  get length(): number {
    return this.pos;
  }

  /** The finished message: a view into the writer's buffer, valid until the next start(). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of the finished message. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** Convenience: a fresh random 12-byte transaction id. */
export function randomTransactionId(): Uint8Array {
  return randomBytes(TRANSACTION_ID_LENGTH);
}
