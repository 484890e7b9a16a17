// A minimal TURN client on a real UDP socket, for tests: it speaks through the STUN codec.

import dgram from 'node:dgram';
import {
  Attr,
  decodeErrorCode,
  decodeStun,
  decodeString,
  decodeXorAddress,
  getAttribute,
  longTermKey,
  Method,
  randomTransactionId,
  StunClass,
  StunWriter,
  type StunMessage,
  type TransportAddress,
} from '@switchboard/stun';

export interface Reply {
  msg: StunMessage;
  error?: { code: number; reason: string };
}

export class TestTurnClient {
  readonly socket = dgram.createSocket('udp4');
  private readonly waiting = new Map<string, (m: StunMessage) => void>();
  readonly data: { from: TransportAddress; data: Uint8Array }[] = [];
  readonly channelData: { channel: number; data: Uint8Array }[] = [];
  realm = '';
  nonce = '';
  key: Uint8Array | null = null;
  username = '';

  constructor(readonly serverPort: number, readonly serverHost = '127.0.0.1') {
    this.socket.on('message', (buf) => {
      if ((buf[0] & 0xc0) === 0x40) {
        const len = buf.readUInt16BE(2);
        this.channelData.push({ channel: buf.readUInt16BE(0), data: new Uint8Array(buf.subarray(4, 4 + len)) });
        return;
      }
      const m = decodeStun(new Uint8Array(buf));
      if (m.cls === StunClass.Indication && m.method === Method.Data) {
        this.data.push({ from: decodeXorAddress(getAttribute(m, Attr.XorPeerAddress)!, m.transactionId), data: getAttribute(m, Attr.Data)! });
        return;
      }
      const k = Buffer.from(m.transactionId).toString('hex');
      this.waiting.get(k)?.(m);
    });
  }

  async bind(): Promise<void> {
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', () => r()));
  }

  get port(): number {
    return this.socket.address().port;
  }

  close(): void {
    this.socket.close();
  }

  /** Sends a request built by `build` and waits for its response (retransmitting, as UDP clients do). */
  async request(method: number, build: (w: StunWriter) => void, sign = true): Promise<Reply> {
    const tx = randomTransactionId();
    const w = new StunWriter().start(method, StunClass.Request, tx);
    build(w);
    if (sign && this.key) {
      w.addString(Attr.Username, this.username).addString(Attr.Realm, this.realm).addString(Attr.Nonce, this.nonce);
      w.addMessageIntegrity(this.key);
    }
    w.addFingerprint();
    const bytes = w.toBytes();
    const k = Buffer.from(tx).toString('hex');
    const msg = await new Promise<StunMessage>((resolve, reject) => {
      let tries = 0;
      const send = () => this.socket.send(bytes, this.serverPort, this.serverHost);
      const timer = setInterval(() => {
        if (++tries > 6) {
          clearInterval(timer);
          this.waiting.delete(k);
          reject(new Error('no response'));
        } else send();
      }, 250);
      this.waiting.set(k, (m) => {
        clearInterval(timer);
        this.waiting.delete(k);
        resolve(m);
      });
      send();
    });
    const ec = getAttribute(msg, Attr.ErrorCode);
    return { msg, error: ec ? decodeErrorCode(ec) : undefined };
  }

  /** Allocate with the 401 dance; returns the relayed address or the final error. */
  async allocate(username: string, password: string, extra?: (w: StunWriter) => void): Promise<{ relay?: TransportAddress; error?: { code: number; reason: string } }> {
    this.key = null;
    const build = (w: StunWriter) => {
      w.addRequestedTransport(17);
      extra?.(w);
    };
    let r = await this.request(Method.Allocate, build);
    for (let i = 0; i < 2 && r.error && (r.error.code === 401 || r.error.code === 438) && getAttribute(r.msg, Attr.Nonce); i++) {
      this.realm = decodeString(getAttribute(r.msg, Attr.Realm)!);
      this.nonce = decodeString(getAttribute(r.msg, Attr.Nonce)!);
      this.username = username;
      this.key = longTermKey(username, this.realm, password);
      r = await this.request(Method.Allocate, build);
      if (r.error?.code === 401) break;
    }
    if (r.error) return { error: r.error };
    return { relay: decodeXorAddress(getAttribute(r.msg, Attr.XorRelayedAddress)!, r.msg.transactionId) };
  }

  createPermission(peer: TransportAddress): Promise<Reply> {
    return this.request(Method.CreatePermission, (w) => w.addXorAddress(Attr.XorPeerAddress, peer));
  }

  channelBind(channel: number, peer: TransportAddress): Promise<Reply> {
    return this.request(Method.ChannelBind, (w) => w.addChannelNumber(channel).addXorAddress(Attr.XorPeerAddress, peer));
  }

  refresh(lifetime: number): Promise<Reply> {
    return this.request(Method.Refresh, (w) => w.addU32(Attr.Lifetime, lifetime));
  }

  sendChannelData(channel: number, payload: Uint8Array): void {
    const out = Buffer.alloc(4 + payload.length);
    out.writeUInt16BE(channel, 0);
    out.writeUInt16BE(payload.length, 2);
    out.set(payload, 4);
    this.socket.send(out, this.serverPort, this.serverHost);
  }
}

export async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
