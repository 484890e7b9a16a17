// Test harness for the sans-IO TURN core: a fake host that records what the core asks for,
// a controllable clock, and a client that does the long-term credential dance (RFC 8489 §9.2).
// No sockets anywhere: bytes go in through handleClientMessage/handlePeerData and come out
// through the host callbacks.
import assert from 'node:assert/strict';
import {
  Attr,
  decodeErrorCode,
  decodeStun,
  decodeString,
  decodeU32,
  decodeUnknownAttributes,
  decodeXorAddress,
  getAttribute,
  longTermKey,
  Method,
  randomTransactionId,
  StunClass,
  StunWriter,
  verifyFingerprint,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
  type StunMessage,
  type TransportAddress,
} from '@switchboard/stun';
import {
  Credentials,
  PeerPolicy,
  TurnCore,
  type Allocation,
  type ClientRef,
  type ClientTransport,
  type CredentialOptions,
  type PeerPolicyOptions,
  type PortRequest,
  type TurnCoreOptions,
  type TurnHost,
} from '../src/index.js';

export const REALM = 'switchboard.test';
/** The start of every test's clock (ms); REST usernames are judged against it. */
export const T0 = 1_700_000_000_000;
export const USERS = { alice: 'alice-pass', bob: 'bob-pass' } as const;
export const UDP = 17;
export const TCP = 6;

export interface ToClient {
  client: ClientRef;
  bytes: Uint8Array;
}

export interface ToPeer {
  alloc: Allocation;
  address: string;
  port: number;
  bytes: Uint8Array;
}

/** How the fake host answers openRelay. */
export type RelayMode = 'sync' | 'defer';

/** Records every call the core makes, with copies of the bytes (the core reuses its buffers). */
export class FakeHost implements TurnHost {
  core!: TurnCore;
  mode: RelayMode = 'sync';
  /** RESERVATION-TOKEN the host hands back with relayReady when the request had EVEN-PORT R. */
  reservationToken: string | undefined;
  readonly toClient: ToClient[] = [];
  readonly toPeer: ToPeer[] = [];
  readonly opened: { alloc: Allocation; ports: PortRequest }[] = [];
  readonly closed: Allocation[] = [];
  readonly logs: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  private relays = 0;

  sendToClient(client: ClientRef, buf: Uint8Array, offset: number, length: number): void {
    assert.ok(offset >= 0 && offset + length <= buf.length, 'sendToClient range inside the buffer');
    this.toClient.push({ client, bytes: buf.slice(offset, offset + length) });
  }

  sendToPeer(alloc: Allocation, address: string, port: number, buf: Uint8Array, offset: number, length: number): void {
    assert.ok(offset >= 0 && offset + length <= buf.length, 'sendToPeer range inside the buffer');
    this.toPeer.push({ alloc, address, port, bytes: buf.slice(offset, offset + length) });
  }

  openRelay(alloc: Allocation, ports: PortRequest): void {
    this.opened.push({ alloc, ports });
    if (this.mode === 'sync') this.ready(alloc, ports.reserveNext ? this.reservationToken : undefined);
  }

  closeRelay(alloc: Allocation): void {
    this.closed.push(alloc);
  }

  log(level: 'info' | 'warn' | 'debug', msg: string, fields: Record<string, unknown>): void {
    this.logs.push({ level, msg, fields });
  }

  /** The relayed address the n-th relay socket gets. */
  static relayAddress(family: 4 | 6, n: number): TransportAddress {
    return family === 6 ? { family: 6, address: '2001:db8::1', port: 50000 + n } : { family: 4, address: '192.0.2.1', port: 50000 + n };
  }

  /** Answers an openRelay: the socket is open. */
  ready(alloc: Allocation, token?: string): TransportAddress {
    const relay = FakeHost.relayAddress(alloc.family, this.relays++);
    this.core.relayReady(alloc, relay, token);
    return relay;
  }

  /** The last openRelay not answered yet (deferred mode). */
  lastOpened(): Allocation {
    const o = this.opened.at(-1);
    assert.ok(o, 'openRelay was called');
    return o.alloc;
  }
}

export interface SetupOptions extends Partial<Omit<TurnCoreOptions, 'credentials' | 'policy'>> {
  credentials?: CredentialOptions;
  policy?: PeerPolicyOptions;
  mode?: RelayMode;
  /** A FakeHost subclass, for hosts that do more (a broker behind openRelay, say). */
  host?: FakeHost;
}

export interface Harness {
  core: TurnCore;
  host: FakeHost;
  /** Moves the clock forward by ms and lets the core expire what ran out. */
  advance(ms: number): void;
}

export function setup(opts: SetupOptions = {}): Harness {
  const { credentials, policy, mode, host: given, ...rest } = opts;
  const host = given ?? new FakeHost();
  host.mode = mode ?? 'sync';
  const core = new TurnCore(
    {
      credentials: new Credentials(credentials ?? { realm: REALM, users: { ...USERS } }),
      policy: new PeerPolicy(policy ?? {}),
      ...rest,
    },
    host,
    T0,
  );
  host.core = core;
  return { core, host, advance: (ms) => core.tick(core.now + ms) };
}

let nextPort = 40000;

/** A client 5-tuple as an adapter would describe it; a fresh source port each call unless given. */
export function clientRef(opts: { transport?: ClientTransport; address?: string; port?: number; family?: 4 | 6 } = {}): ClientRef {
  const transport = opts.transport ?? 'udp';
  const family = opts.family ?? (opts.address?.includes(':') ? 6 : 4);
  const address = opts.address ?? (family === 6 ? '2001:db8:c::5' : '203.0.113.5');
  const port = opts.port ?? nextPort++;
  return { key: `${transport}:${address}:${port}`, transport, address, port, family };
}

export type Attrs = (w: StunWriter) => void;

export interface Signature {
  username: string;
  realm: string;
  nonce: string;
  key: Uint8Array;
  sha256?: boolean;
}

/** Builds a request (or indication): attributes, then USERNAME/REALM/NONCE and MESSAGE-INTEGRITY if signed, then FINGERPRINT. */
export function buildMessage(
  method: number,
  opts: { attrs?: Attrs; sign?: Signature; tx?: Uint8Array; fingerprint?: boolean; cls?: 0 | 1 | 2 | 3 } = {},
): Uint8Array {
  const w = new StunWriter().start(method, opts.cls ?? StunClass.Request, opts.tx ?? randomTransactionId());
  opts.attrs?.(w);
  const s = opts.sign;
  if (s) {
    w.addString(Attr.Username, s.username).addString(Attr.Realm, s.realm).addString(Attr.Nonce, s.nonce);
    if (s.sha256) w.addMessageIntegritySha256(s.key);
    else w.addMessageIntegrity(s.key);
  }
  if (opts.fingerprint ?? true) w.addFingerprint();
  return w.toBytes();
}

/** Decodes a STUN message the core sent, checking its FINGERPRINT (the core always adds one to responses). */
export function decodeResponse(bytes: Uint8Array): StunMessage {
  const msg = decodeStun(bytes);
  assert.ok(getAttribute(msg, Attr.Fingerprint), 'response carries FINGERPRINT');
  assert.ok(verifyFingerprint(msg), 'response FINGERPRINT verifies');
  return msg;
}

export function errorCode(msg: StunMessage): number | undefined {
  const v = getAttribute(msg, Attr.ErrorCode);
  return v ? decodeErrorCode(v).code : undefined;
}

export function unknownAttributes(msg: StunMessage): number[] {
  const v = getAttribute(msg, Attr.UnknownAttributes);
  assert.ok(v, 'UNKNOWN-ATTRIBUTES present');
  return decodeUnknownAttributes(v);
}

export function stringAttr(msg: StunMessage, type: number): string | undefined {
  const v = getAttribute(msg, type);
  return v ? decodeString(v) : undefined;
}

export function u32Attr(msg: StunMessage, type: number): number | undefined {
  const v = getAttribute(msg, type);
  return v ? decodeU32(v) : undefined;
}

export function xorAddress(msg: StunMessage, type: number): TransportAddress {
  const v = getAttribute(msg, type);
  assert.ok(v, `attribute 0x${type.toString(16)} present`);
  return decodeXorAddress(v, msg.transactionId);
}

export function assertSuccess(msg: StunMessage, method: number): void {
  assert.equal(msg.method, method, 'method');
  assert.equal(msg.cls, StunClass.SuccessResponse, `success, got error ${errorCode(msg)}`);
}

export function assertError(msg: StunMessage, method: number, code: number): void {
  assert.equal(msg.method, method, 'method');
  assert.equal(msg.cls, StunClass.ErrorResponse, 'an error response');
  assert.equal(errorCode(msg), code, 'error code');
}

/** Response signed with MESSAGE-INTEGRITY (or -SHA256) under key. */
export function assertSigned(msg: StunMessage, key: Uint8Array, sha256 = false): void {
  if (sha256) {
    assert.ok(getAttribute(msg, Attr.MessageIntegritySha256), 'MESSAGE-INTEGRITY-SHA256 present');
    assert.ok(verifyMessageIntegritySha256(msg, key), 'MESSAGE-INTEGRITY-SHA256 verifies');
  } else {
    assert.ok(getAttribute(msg, Attr.MessageIntegrity), 'MESSAGE-INTEGRITY present');
    assert.ok(verifyMessageIntegrity(msg, key), 'MESSAGE-INTEGRITY verifies');
  }
}

export function assertUnsigned(msg: StunMessage): void {
  assert.equal(getAttribute(msg, Attr.MessageIntegrity), undefined, 'no MESSAGE-INTEGRITY');
  assert.equal(getAttribute(msg, Attr.MessageIntegritySha256), undefined, 'no MESSAGE-INTEGRITY-SHA256');
}

/** ChannelData frame: channel, length, payload, and zero padding to `pad` bytes when given. */
export function channelData(channel: number, payload: Uint8Array, padTo4 = false): Uint8Array {
  const total = 4 + payload.length;
  const out = new Uint8Array(padTo4 ? (total + 3) & ~3 : total);
  out[0] = channel >> 8;
  out[1] = channel & 0xff;
  out[2] = payload.length >> 8;
  out[3] = payload.length & 0xff;
  out.set(payload, 4);
  return out;
}

export function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

export function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/**
 * A TURN client on one 5-tuple. It remembers the REALM and NONCE of the last challenge and signs
 * with the long-term key of its username and password.
 */
export class TestClient {
  readonly ref: ClientRef;
  realm: string | undefined;
  nonce: string | undefined;
  readonly key: Uint8Array;

  constructor(
    readonly h: Harness,
    readonly username: string = 'alice',
    readonly password: string = USERS.alice,
    ref: ClientRef = clientRef(),
    readonly sha256 = false,
  ) {
    this.ref = ref;
    this.key = longTermKey(username, REALM, password);
  }

  /** Feeds raw bytes as this client; returns what the core sent back to it (decoded when STUN). */
  sendRaw(data: Uint8Array, offset?: number, length?: number): ToClient[] {
    const before = this.h.host.toClient.length;
    this.h.core.handleClientMessage(this.ref, data, offset, length);
    return this.h.host.toClient.slice(before);
  }

  /** Sends a message and returns the single STUN response, or undefined if none came. */
  send(data: Uint8Array): StunMessage | undefined {
    const out = this.sendRaw(data);
    assert.ok(out.length <= 1, `at most one response, got ${out.length}`);
    for (const o of out) assert.equal(o.client, this.ref, 'answer goes to the requesting client');
    return out.length ? decodeResponse(out[0].bytes) : undefined;
  }

  /** Sends and insists on a response. */
  request(method: number, opts: { attrs?: Attrs; signed?: boolean; tx?: Uint8Array } = {}): StunMessage {
    const res = this.send(this.build(method, opts));
    assert.ok(res, 'a response');
    assert.equal(res.method, method, 'response method');
    return res;
  }

  build(method: number, opts: { attrs?: Attrs; signed?: boolean; tx?: Uint8Array; cls?: 0 | 1 } = {}): Uint8Array {
    const signed = opts.signed ?? true;
    return buildMessage(method, { attrs: opts.attrs, tx: opts.tx, cls: opts.cls, sign: signed ? this.signature() : undefined });
  }

  signature(): Signature {
    assert.ok(this.nonce && this.realm, 'challenged first');
    return { username: this.username, realm: this.realm, nonce: this.nonce, key: this.key, sha256: this.sha256 };
  }

  /** Sends an unauthenticated request and keeps the REALM and NONCE of the 401. */
  challenge(method: number = Method.Allocate, attrs: Attrs = allocateAttrs()): StunMessage {
    const res = this.request(method, { attrs, signed: false });
    assertError(res, method, 401);
    this.learn(res);
    return res;
  }

  learn(res: StunMessage): void {
    const realm = stringAttr(res, Attr.Realm);
    const nonce = stringAttr(res, Attr.Nonce);
    assert.ok(realm, 'REALM in the challenge');
    assert.ok(nonce, 'NONCE in the challenge');
    this.realm = realm;
    this.nonce = nonce;
  }

  /** A signed request, challenged first if need be, retried once on 438 with the new nonce. */
  signed(method: number, attrs?: Attrs, tx?: Uint8Array): StunMessage {
    if (!this.nonce) this.challenge(method, attrs);
    let res = this.request(method, { attrs, tx });
    if (res.cls === StunClass.ErrorResponse && errorCode(res) === 438) {
      this.learn(res);
      res = this.request(method, { attrs });
    }
    return res;
  }

  /** The whole dance: Allocate without credentials, 401, signed Allocate. */
  allocate(extra?: Attrs, tx?: Uint8Array): StunMessage {
    return this.signed(Method.Allocate, allocateAttrs(extra), tx);
  }

  /** Allocate and insist on success; returns the relayed address and the allocation. */
  allocateOk(extra?: Attrs): { res: StunMessage; relay: TransportAddress; alloc: Allocation } {
    const res = this.allocate(extra);
    assertSuccess(res, Method.Allocate);
    const alloc = this.h.core.allocationFor(this.ref);
    assert.ok(alloc, 'allocation exists');
    return { res, relay: xorAddress(res, Attr.XorRelayedAddress), alloc };
  }

  createPermission(...peers: TransportAddress[]): StunMessage {
    return this.signed(Method.CreatePermission, (w) => {
      for (const p of peers) w.addXorAddress(Attr.XorPeerAddress, p);
    });
  }

  channelBind(channel: number, peer: TransportAddress): StunMessage {
    return this.signed(Method.ChannelBind, (w) => {
      w.addChannelNumber(channel);
      w.addXorAddress(Attr.XorPeerAddress, peer);
    });
  }

  refresh(lifetime?: number): StunMessage {
    return this.signed(Method.Refresh, lifetime === undefined ? undefined : (w) => w.addU32(Attr.Lifetime, lifetime));
  }

  /** A Send indication (no response expected). */
  sendIndication(peer: TransportAddress, data: Uint8Array, extra?: Attrs): ToClient[] {
    const msg = buildMessage(Method.Send, {
      cls: StunClass.Indication,
      attrs: (w) => {
        w.addXorAddress(Attr.XorPeerAddress, peer);
        w.addBytes(Attr.Data, data);
        extra?.(w);
      },
    });
    return this.sendRaw(msg);
  }
}

/** REQUESTED-TRANSPORT UDP, then whatever else. */
export function allocateAttrs(extra?: Attrs, protocol = UDP): Attrs {
  return (w) => {
    w.addRequestedTransport(protocol);
    extra?.(w);
  };
}

/** The peer the tests talk to most: a public address. */
export const PEER: TransportAddress = { family: 4, address: '8.8.8.8', port: 3478 };
export const PEER2: TransportAddress = { family: 4, address: '1.1.1.1', port: 5000 };
