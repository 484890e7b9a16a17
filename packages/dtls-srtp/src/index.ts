// DTLS 1.2 handshakes (DTLS-SRTP, RFC 5764) and SRTP/SRTCP (RFC 3711, RFC 7714) for the SFU's
// own WebRTC transport. All crypto is native (native/*.c, one addon, on the OpenSSL inside Node);
// this file only validates arguments and shapes results. See README.md for the threading and
// memory rules.
import { loadAddon } from '@switchboard/napi-util';

export type SrtpProfile = 'SRTP_AES128_CM_SHA1_80' | 'SRTP_AEAD_AES_128_GCM';
export type DtlsState = 'new' | 'connecting' | 'connected' | 'closed' | 'failed';

export type DtlsSrtpErrorCode = 'SB_ERR_DTLS_SRTP_UNAVAILABLE' | 'SB_ERR_DTLS' | 'SB_ERR_SRTP';

export class DtlsSrtpError extends Error {
  readonly code: string;
  constructor(code: DtlsSrtpErrorCode | string, message: string) {
    super(message);
    this.name = 'DtlsSrtpError';
    this.code = code;
  }
}

/** Opaque native handle (a napi external). */
type Handle = { readonly __nativeHandle: unique symbol };

interface Native {
  certGenerate(): { handle: Handle; fingerprint: string };
  sessionCreate(cert: Handle, isServer: boolean, mtu: number, profiles: string): Handle;
  sessionStart(h: Handle): void;
  sessionReceive(h: Handle, d: Uint8Array): void;
  sessionTakeOutgoing(h: Handle): Uint8Array[];
  sessionTakeAppData(h: Handle): Uint8Array[];
  sessionSend(h: Handle, d: Uint8Array): void;
  sessionState(h: Handle): number;
  sessionError(h: Handle): string | undefined;
  sessionNextTimeout(h: Handle): number;
  sessionHandleTimeout(h: Handle): void;
  sessionRemoteFingerprint(h: Handle): string | undefined;
  sessionSrtpKeys(h: Handle): { profile: number; material: Uint8Array };
  sessionClose(h: Handle): void;
  sessionDestroy(h: Handle): void;
  tableNew(): Handle;
  tableAdd(t: Handle, profile: number, lk: Uint8Array, ls: Uint8Array, rk: Uint8Array, rs: Uint8Array, la?: Uint8Array, ra?: Uint8Array): number;
  tableRemove(t: Handle, id: number): void;
  tableOp(t: Handle, kind: number, id: number, buf: Uint8Array, off: number, len: number): number;
  tableBatch(t: Handle, unprotect: boolean, buf: Uint8Array, ops: Int32Array, count: number, stride: number, idWord: number, offWord: number, lenWord: number): void;
  tableStats(t: Handle): SrtpStats;
  tableClose(t: Handle): void;
  deriveKeys(profile: number, masterKey: Uint8Array, masterSalt: Uint8Array): SrtpSessionKeys;
  senderNew(t: Handle, fd: number, buffers: number, slots: number, slotSize: number): { handle: Handle; data: ArrayBuffer; ops: ArrayBuffer; state: ArrayBuffer };
  senderSubmit(h: Handle, buffer: number, count: number): void;
  senderAcquire(h: Handle, timeoutMs: number): number;
  senderStats(h: Handle): SrtpSenderStats;
  senderClose(h: Handle): void;
}

let native: Native | null | undefined;

function load(): Native | null {
  if (native === undefined) native = loadAddon(import.meta.url, 'dtls_srtp') as Native | null;
  return native;
}

function need(): Native {
  const n = load();
  if (!n) throw new DtlsSrtpError('SB_ERR_DTLS_SRTP_UNAVAILABLE', '@switchboard/dtls-srtp: the native addon is not built');
  return n;
}

/** Native calls throw plain Errors with `code`; re-throw them as DtlsSrtpError. */
function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DtlsSrtpError) throw e;
    const err = e as Error & { code?: string };
    if (err && (err.code === 'SB_ERR_DTLS' || err.code === 'SB_ERR_SRTP')) throw new DtlsSrtpError(err.code, err.message);
    throw e;
  }
}

/** True when the native addon is loaded. */
export function dtlsSrtpAvailable(): boolean {
  return load() !== null;
}

const PROFILE_IDS: Record<SrtpProfile, number> = { SRTP_AES128_CM_SHA1_80: 1, SRTP_AEAD_AES_128_GCM: 7 };
function profileName(id: number): SrtpProfile {
  if (id === 1) return 'SRTP_AES128_CM_SHA1_80';
  if (id === 7) return 'SRTP_AEAD_AES_128_GCM';
  throw new DtlsSrtpError('SB_ERR_SRTP', `unknown SRTP profile id ${id}`);
}
function profileId(p: SrtpProfile): number {
  const id = PROFILE_IDS[p];
  if (id === undefined) throw new DtlsSrtpError('SB_ERR_SRTP', `unknown SRTP profile ${String(p)}`);
  return id;
}
/** Master salt length in bytes for a profile. */
export function srtpSaltLength(p: SrtpProfile): number {
  return p === 'SRTP_AES128_CM_SHA1_80' ? 14 : 12;
}

const certHandles = new WeakMap<Certificate, Handle>();

export class Certificate {
  /** SHA-256 of the DER certificate, upper-case hex with colons ("AB:CD:..."). */
  readonly fingerprint: string;

  private constructor(handle: Handle, fingerprint: string) {
    this.fingerprint = fingerprint;
    certHandles.set(this, handle);
  }

  /** ECDSA P-256, self-signed, CN=switchboard, valid from a day ago for 30 days, random serial. */
  static generate(): Certificate {
    const n = need();
    const { handle, fingerprint } = wrap(() => n.certGenerate());
    return new Certificate(handle, fingerprint);
  }
}

const STATES: DtlsState[] = ['new', 'connecting', 'connected', 'closed', 'failed'];
const ALL_PROFILES: SrtpProfile[] = ['SRTP_AEAD_AES_128_GCM', 'SRTP_AES128_CM_SHA1_80'];

export interface DtlsSessionOptions {
  /** Largest datagram written (default 1200). */
  mtu?: number;
  /** SRTP profiles offered/accepted, in preference order (default both, GCM first). */
  profiles?: SrtpProfile[];
}

export interface SrtpKeys {
  profile: SrtpProfile;
  localKey: Uint8Array;
  localSalt: Uint8Array;
  remoteKey: Uint8Array;
  remoteSalt: Uint8Array;
}

/**
 * One DTLS 1.2 association over an unreliable datagram path the caller owns: feed datagrams
 * with receive(), send what takeOutgoing() returns, and drive retransmission with
 * nextTimeoutMs()/handleTimeout().
 */
export class DtlsSession {
  readonly role: 'client' | 'server';
  #n: Native;
  #h: Handle;
  #destroyed = false;

  constructor(cert: Certificate, role: 'client' | 'server', opts: DtlsSessionOptions = {}) {
    this.#n = need();
    const ch = cert instanceof Certificate ? certHandles.get(cert) : undefined;
    if (!ch) throw new TypeError('cert must be a Certificate');
    if (role !== 'client' && role !== 'server') throw new TypeError("role must be 'client' or 'server'");
    const mtu = opts.mtu ?? 1200;
    if (!Number.isInteger(mtu) || mtu < 256 || mtu > 65535) throw new RangeError('mtu must be an integer in 256..65535');
    const profiles = opts.profiles ?? ALL_PROFILES;
    if (!Array.isArray(profiles) || profiles.length === 0) throw new TypeError('profiles must be a non-empty array');
    for (const p of profiles) profileId(p);
    this.role = role;
    this.#h = wrap(() => this.#n.sessionCreate(ch, role === 'server', mtu, [...new Set(profiles)].join(':')));
  }

  /** Client: queues the ClientHello. Server: no-op (the handshake starts with the first datagram). */
  start(): void {
    if (this.#destroyed) throw new DtlsSrtpError('SB_ERR_DTLS', 'DtlsSession destroyed');
    wrap(() => this.#n.sessionStart(this.#h));
  }

  /** One DTLS datagram (may hold several records). Ignored after close/failure/destroy. */
  receive(datagram: Uint8Array): void {
    if (this.#destroyed) return;
    wrap(() => this.#n.sessionReceive(this.#h, datagram));
  }

  /** Datagrams to send, oldest first (drained). */
  takeOutgoing(): Uint8Array[] {
    return this.#n.sessionTakeOutgoing(this.#h);
  }

  /** Application data received (drained). */
  takeAppData(): Uint8Array[] {
    return this.#n.sessionTakeAppData(this.#h);
  }

  /** Application data (one record, at most 16384 bytes) -> outgoing. Throws unless connected. */
  send(data: Uint8Array): void {
    wrap(() => this.#n.sessionSend(this.#h, data));
  }

  get state(): DtlsState {
    return STATES[this.#n.sessionState(this.#h)] ?? 'failed';
  }

  /** Why the session failed (undefined unless state is 'failed'). */
  get error(): string | undefined {
    return this.#n.sessionError(this.#h);
  }

  /** Milliseconds until handleTimeout() should run, or -1 when no retransmission timer runs. */
  nextTimeoutMs(): number {
    return this.#n.sessionNextTimeout(this.#h);
  }

  /** Retransmits the last flight if its timer expired (the datagrams go to takeOutgoing()). */
  handleTimeout(): void {
    this.#n.sessionHandleTimeout(this.#h);
  }

  /** SHA-256 fingerprint of the peer's certificate, once it was received. */
  remoteFingerprint(): string | undefined {
    return this.#n.sessionRemoteFingerprint(this.#h);
  }

  /** SRTP master keys from the handshake (RFC 5764 §4.2); local = ours to protect with. */
  srtpKeys(): SrtpKeys {
    const { profile: id, material } = wrap(() => this.#n.sessionSrtpKeys(this.#h));
    const profile = profileName(id);
    const k = 16;
    const s = srtpSaltLength(profile);
    const clientKey = material.slice(0, k);
    const serverKey = material.slice(k, 2 * k);
    const clientSalt = material.slice(2 * k, 2 * k + s);
    const serverSalt = material.slice(2 * k + s, 2 * k + 2 * s);
    material.fill(0);
    return this.role === 'client'
      ? { profile, localKey: clientKey, localSalt: clientSalt, remoteKey: serverKey, remoteSalt: serverSalt }
      : { profile, localKey: serverKey, localSalt: serverSalt, remoteKey: clientKey, remoteSalt: clientSalt };
  }

  /** Sends close_notify (to takeOutgoing()) if connected; state becomes 'closed'. */
  close(): void {
    this.#n.sessionClose(this.#h);
  }

  /** Frees the native state now (the finalizer would on GC). Safe to call twice. */
  destroy(): void {
    this.#destroyed = true;
    this.#n.sessionDestroy(this.#h);
  }
}

export interface SrtpStats {
  contexts: number;
  protected: number;
  unprotected: number;
  authFailures: number;
  replays: number;
}

export const SRTP_ERR_AUTH = -1;
export const SRTP_ERR_REPLAY = -2;
export const SRTP_ERR_MALFORMED = -3;
export const SRTP_ERR_NO_CONTEXT = -4;
export const SRTP_ERR_NO_ROOM = -5;

/** Bytes protect may append: RTP tag, or SRTCP index + tag. */
export function srtpOverhead(profile: SrtpProfile, rtcp: boolean): number {
  const tag = profile === 'SRTP_AES128_CM_SHA1_80' ? 10 : 16;
  return rtcp ? tag + 4 : tag;
}

/** SRTP/SRTCP contexts, one per transport, in a native table addressed by small int ids. */
export class SrtpTable {
  #n: Native;
  #h: Handle;

  /** @internal the native handle, for SrtpSender */
  get handle(): Handle {
    return this.#h;
  }

  constructor() {
    this.#n = need();
    this.#h = this.#n.tableNew();
  }

  /**
   * Adds a context; returns its id (>= 0). Keys as from DtlsSession.srtpKeys(): local = the keys
   * we protect with, remote = the keys we unprotect with.
   */
  add(profile: SrtpProfile, localKey: Uint8Array, localSalt: Uint8Array, remoteKey: Uint8Array, remoteSalt: Uint8Array): number {
    const id = profileId(profile);
    return wrap(() => this.#n.tableAdd(this.#h, id, localKey, localSalt, remoteKey, remoteSalt));
  }

  /**
   * For tests: adds a context from session keys (no key derivation), the same keys for RTP and
   * RTCP. `localAuth`/`remoteAuth`: 20-byte HMAC keys (CM; ignored for GCM). Salts 14/12 bytes.
   */
  addSessionKeysForTest(
    profile: SrtpProfile,
    localKey: Uint8Array,
    localSalt: Uint8Array,
    localAuth: Uint8Array,
    remoteKey: Uint8Array,
    remoteSalt: Uint8Array,
    remoteAuth: Uint8Array,
  ): number {
    const id = profileId(profile);
    return wrap(() => this.#n.tableAdd(this.#h, id, localKey, localSalt, remoteKey, remoteSalt, localAuth, remoteAuth));
  }

  /** Removes a context (unknown ids are ignored); the id may be reused later. */
  remove(id: number): void {
    this.#n.tableRemove(this.#h, id | 0);
  }

  /** In place; returns the new length, or a negative SRTP_ERR_* code. */
  protectRtp(id: number, buf: Uint8Array, off: number, len: number): number {
    return this.#n.tableOp(this.#h, 0, id, buf, off, len);
  }
  unprotectRtp(id: number, buf: Uint8Array, off: number, len: number): number {
    return this.#n.tableOp(this.#h, 1, id, buf, off, len);
  }
  protectRtcp(id: number, buf: Uint8Array, off: number, len: number): number {
    return this.#n.tableOp(this.#h, 2, id, buf, off, len);
  }
  unprotectRtcp(id: number, buf: Uint8Array, off: number, len: number): number {
    return this.#n.tableOp(this.#h, 3, id, buf, off, len);
  }

  /**
   * Batch, in place: entry i at ops[i*stride]: [+idWord] context id (negative: skip),
   * [+offWord] byte offset in buf, [+lenWord] length; the result (new length or negative
   * error) is written back to [+lenWord]. RTP vs RTCP per packet by RFC 5761.
   */
  protectBatch(buf: Uint8Array, ops: Int32Array, count: number, stride: number, idWord: number, offWord: number, lenWord: number): void {
    this.#n.tableBatch(this.#h, false, buf, ops, count, stride, idWord, offWord, lenWord);
  }
  unprotectBatch(buf: Uint8Array, ops: Int32Array, count: number, stride: number, idWord: number, offWord: number, lenWord: number): void {
    this.#n.tableBatch(this.#h, true, buf, ops, count, stride, idWord, offWord, lenWord);
  }

  stats(): SrtpStats {
    return this.#n.tableStats(this.#h);
  }

  /** Frees every context now; later calls see no contexts (SRTP_ERR_NO_CONTEXT). */
  close(): void {
    this.#n.tableClose(this.#h);
  }
}

export interface SrtpSessionKeys {
  rtpKey: Uint8Array;
  rtpSalt: Uint8Array;
  rtpAuth?: Uint8Array;
  rtcpKey: Uint8Array;
  rtcpSalt: Uint8Array;
  rtcpAuth?: Uint8Array;
}

/** RFC 3711 §4.3 key derivation (key derivation rate 0): the session keys for a master key/salt. */
export function deriveSrtpSessionKeys(profile: SrtpProfile, masterKey: Uint8Array, masterSalt: Uint8Array): SrtpSessionKeys {
  const id = profileId(profile);
  return wrap(() => need().deriveKeys(id, masterKey, masterSalt));
}

/** Words per packet in `SrtpSender.ops`: [ipv4 as int, port, context id (-1: not SRTP), offset in data, length]. */
export const SENDER_OP_WORDS = 5;
export const SENDER_OP_IP = 0;
export const SENDER_OP_PORT = 1;
export const SENDER_OP_CONTEXT = 2;
export const SENDER_OP_OFFSET = 3;
export const SENDER_OP_LENGTH = 4;

export interface SrtpSenderStats {
  sent: number;
  dropped: number;
  batches: number;
  /** Times the JS thread had to wait for a free buffer. */
  waits: number;
  queued: number;
  /** Packets by time from submit to sent: index i counts [2^i, 2^(i+1)) microseconds (i = 0: < 2 µs). */
  latencyUs: number[];
}

/**
 * Protect-and-send on a native thread of its own: the JS thread fills a buffer (packets in
 * `data` at `bufferOffset(b) + slot * slotSize`, one op per packet in `ops` at
 * `b * slots * SENDER_OP_WORDS`) and `submit`s it; the thread SRTP-protects each packet in place
 * with its context (the table is locked meanwhile) and sends the buffer with sendmmsg on `fd`
 * (an IPv4 UDP socket, e.g. from @switchboard/netio's openUdp4; the socket's owner keeps it
 * open). Buffers go out in submission order. `acquire` returns a free buffer, waiting up to
 * `timeoutMs` for the thread to finish one.
 */
export class SrtpSender {
  #n: Native;
  #h: Handle;
  readonly data: Uint8Array;
  readonly ops: Int32Array;
  /** Per buffer: 0 = free (the JS thread may fill it), 1 = submitted. */
  readonly state: Int32Array;
  readonly buffers: number;
  readonly slots: number;
  readonly slotSize: number;

  constructor(table: SrtpTable, fd: number, opts: { buffers?: number; slots?: number; slotSize?: number } = {}) {
    this.#n = need();
    this.buffers = opts.buffers ?? 4;
    this.slots = opts.slots ?? 512;
    this.slotSize = opts.slotSize ?? 2048;
    const r = wrap(() => this.#n.senderNew(table.handle, fd, this.buffers, this.slots, this.slotSize));
    this.#h = r.handle;
    this.data = new Uint8Array(r.data);
    this.ops = new Int32Array(r.ops);
    this.state = new Int32Array(r.state);
  }

  bufferOffset(b: number): number {
    return b * this.slots * this.slotSize;
  }

  submit(buffer: number, count: number): void {
    this.#n.senderSubmit(this.#h, buffer, count);
  }

  acquire(timeoutMs = 50): number {
    return this.#n.senderAcquire(this.#h, timeoutMs);
  }

  stats(): SrtpSenderStats {
    return this.#n.senderStats(this.#h);
  }

  /** Sends what is queued and stops the thread. */
  close(): void {
    this.#n.senderClose(this.#h);
  }
}
