// A WebRTC data channel (RFC 8831) on one SCTP stream, and the Data Channel Establishment
// Protocol messages that open it (DCEP, RFC 8832): DATA_CHANNEL_OPEN and DATA_CHANNEL_ACK.
// A channel only asks its owner (the association) to send and to close; the association's
// ChannelTable (channels.ts) drives its state.
import { SctpError } from './errors.js';
import { PPID } from './constants.js';

export type DataChannelState = 'connecting' | 'open' | 'closing' | 'closed';

export interface DataChannelOptions {
  ordered?: boolean;
  maxRetransmits?: number;
  maxPacketLifeTime?: number;
  protocol?: string;
  negotiated?: boolean;
  id?: number;
  priority?: number;
}

/** What a channel needs of the association it lives on. */
export interface ChannelOwner {
  /** The peer's max message size (from its SDP); 0 = no limit. */
  readonly remoteMaxMessageSize: number;
  _sendUser(ch: DataChannel, ppid: number, bytes: Uint8Array): void;
  _closeChannel(ch: DataChannel): void;
}

export interface ChannelParameters {
  ordered: boolean;
  maxRetransmits: number | null;
  maxPacketLifeTime: number | null;
  protocol: string;
  negotiated: boolean;
  priority: number;
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

export class DataChannel {
  readonly id: number;
  readonly label: string;
  readonly protocol: string;
  readonly ordered: boolean;
  readonly maxRetransmits: number | null;
  readonly maxPacketLifeTime: number | null;
  readonly negotiated: boolean;
  readonly priority: number;
  onopen?: () => void;
  onclose?: () => void;
  onmessage?: (data: string | Uint8Array) => void;
  /** @internal */ _state: DataChannelState = 'connecting';
  /** @internal */ _buffered = 0;
  /** @internal */ _outReset = false;
  /** @internal */ _inReset = false;
  /** @internal */ readonly _assoc: ChannelOwner;

  /** @internal */
  constructor(assoc: ChannelOwner, id: number, label: string, o: ChannelParameters) {
    this._assoc = assoc;
    this.id = id;
    this.label = label;
    this.protocol = o.protocol;
    this.ordered = o.ordered;
    this.maxRetransmits = o.maxRetransmits;
    this.maxPacketLifeTime = o.maxPacketLifeTime;
    this.negotiated = o.negotiated;
    this.priority = o.priority;
  }

  get readyState(): DataChannelState {
    return this._state;
  }

  /** Bytes of user data handed to send() and not yet acknowledged (or abandoned). */
  get bufferedAmount(): number {
    return this._buffered;
  }

  send(data: string | Uint8Array): void {
    if (this._state !== 'open') throw new SctpError('SB_ERR_SCTP_NOT_OPEN', `data channel ${this.id} is ${this._state}`);
    let bytes: Uint8Array;
    let ppid: number;
    if (typeof data === 'string') {
      bytes = utf8.encode(data);
      ppid = bytes.length ? PPID.STRING : PPID.STRING_EMPTY;
    } else if (data instanceof Uint8Array) {
      bytes = data.slice();
      ppid = bytes.length ? PPID.BINARY : PPID.BINARY_EMPTY;
    } else {
      throw new TypeError('data must be a string or a Uint8Array');
    }
    const max = this._assoc.remoteMaxMessageSize;
    if (max > 0 && bytes.length > max) {
      throw new SctpError('SB_ERR_SCTP_MESSAGE_TOO_LARGE', `message of ${bytes.length} bytes exceeds the peer's max message size ${max}`);
    }
    this._assoc._sendUser(this, ppid, bytes);
  }

  close(): void {
    this._assoc._closeChannel(this);
  }
}

export const DCEP_OPEN = 0x03;
export const DCEP_ACK = 0x02;

/** DATA_CHANNEL_OPEN (RFC 8832 §5.1) for a channel. */
export function encodeDcepOpen(ch: DataChannel): Uint8Array {
  const label = utf8.encode(ch.label);
  const proto = utf8.encode(ch.protocol);
  const b = new Uint8Array(12 + label.length + proto.length);
  const v = new DataView(b.buffer);
  let type = 0;
  let rel = 0;
  if (ch.maxRetransmits !== null) {
    type = 0x01;
    rel = ch.maxRetransmits;
  } else if (ch.maxPacketLifeTime !== null) {
    type = 0x02;
    rel = ch.maxPacketLifeTime;
  }
  if (!ch.ordered) type |= 0x80;
  b[0] = DCEP_OPEN;
  b[1] = type;
  v.setUint16(2, ch.priority & 0xffff);
  v.setUint32(4, rel >>> 0);
  v.setUint16(8, label.length);
  v.setUint16(10, proto.length);
  b.set(label, 12);
  b.set(proto, 12 + label.length);
  return b;
}

/** A DATA_CHANNEL_OPEN's label and parameters, or null if it is malformed. */
export function decodeDcepOpen(data: Uint8Array): { label: string; params: ChannelParameters } | null {
  if (data.length < 12 || data[0] !== DCEP_OPEN) return null;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const type = data[1];
  const priority = v.getUint16(2);
  const rel = v.getUint32(4);
  const labelLen = v.getUint16(8);
  const protoLen = v.getUint16(10);
  if (12 + labelLen + protoLen > data.length) return null;
  const label = utf8d.decode(data.subarray(12, 12 + labelLen));
  const protocol = utf8d.decode(data.subarray(12 + labelLen, 12 + labelLen + protoLen));
  const base = type & 0x7f;
  return {
    label,
    params: {
      ordered: (type & 0x80) === 0,
      maxRetransmits: base === 0x01 ? rel : null,
      maxPacketLifeTime: base === 0x02 ? rel : null,
      protocol,
      negotiated: false,
      priority,
    },
  };
}

/** A received message as the application sees it: text for the string PPIDs, bytes otherwise. */
export function decodeUserMessage(ppid: number, data: Uint8Array): { msg: string | Uint8Array; bytes: number } {
  switch (ppid) {
    case PPID.STRING:
    case PPID.STRING_PARTIAL:
      return { msg: utf8d.decode(data), bytes: data.length };
    case PPID.STRING_EMPTY:
      return { msg: '', bytes: 0 };
    case PPID.BINARY_EMPTY:
      return { msg: new Uint8Array(0), bytes: 0 };
    default:
      return { msg: data, bytes: data.length };
  }
}
