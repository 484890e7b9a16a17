// One peer connection's transport on the server: ICE-lite, then DTLS, then SRTP. The mux it
// belongs to moves the bytes; this object holds the state and tells its listener what
// arrived. Media sends are two-phase (beginSend copies into the mux's send area and returns
// the offset, the caller rewrites headers in place, commitSend queues it) so a forwarded
// packet is copied once and protected in the mux's batch.
import { DtlsSession } from '@switchboard/dtls-srtp';
import { intToIp4 } from '@switchboard/netio';
import type { Certificate } from '@switchboard/dtls-srtp';
import { IceLite } from './ice-lite.js';
import type { TcpPath, TransportIo } from './io.js';

export type TransportState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

/** What a transport reports upward. Buffers passed to onRtp/onRtcp are only valid during the call. */
export interface TransportListener {
  onRtp(buf: Uint8Array, off: number, len: number): void;
  onRtcp(buf: Uint8Array, off: number, len: number): void;
  onState(state: TransportState): void;
  /** DTLS application data (SCTP packets for data channels). */
  onAppData?(data: Uint8Array): void;
}

export interface RemoteDtlsParameters {
  ufrag: string;
  fingerprint: { algorithm: string; value: string };
  /** The remote a=setup; 'passive' makes us the DTLS client, anything else the server. */
  setup?: string;
}

export interface TransportStats {
  state: TransportState;
  selectedAddress: string | null;
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  srtpFailures: number;
  dtlsState: string;
}

/** Consent freshness (RFC 7675): disconnected without a valid check for 10 s, failed after 30 s. */
const CONSENT_DISCONNECTED_MS = 10_000;
const CONSENT_FAILED_MS = 30_000;

export class WebRtcTransport {
  readonly id: number;
  readonly ice: IceLite;
  state: TransportState = 'new';
  /** Selected remote address (IPv4 as int, port); valid when hasAddress. */
  ip4 = 0;
  port = 0;
  hasAddress = false;
  /** Set when the selected pair is ICE-TCP (RFC 6544): sends go to this connection instead. */
  tcp: TcpPath | null = null;
  /** The SRTP context id in the mux's table, -1 until DTLS is done. */
  srtpId = -1;
  dtls: DtlsSession | null = null;
  private remote: RemoteDtlsParameters | null = null;
  /** Remote addresses that passed a check, as mux keys: the mux deletes them on close. */
  readonly addressKeys = new Set<number>();
  packetsIn = 0;
  bytesIn = 0;
  packetsOut = 0;
  bytesOut = 0;
  srtpFailures = 0;
  private dtlsTimer: NodeJS.Timeout | null = null;

  constructor(
    id: number,
    readonly mux: TransportIo<WebRtcTransport>,
    private readonly cert: Certificate,
    public listener: TransportListener,
  ) {
    this.id = id;
    this.ice = new IceLite();
  }

  /** Our DTLS role, from the remote a=setup (passive: we are the client). */
  get dtlsRole(): 'client' | 'server' {
    return this.remote?.setup === 'passive' ? 'client' : 'server';
  }

  get localFingerprint(): string {
    return this.cert.fingerprint;
  }

  /** From the remote description: ICE ufrag, DTLS fingerprint and setup role. */
  setRemoteParameters(p: RemoteDtlsParameters): void {
    // (a new ufrag is an ICE restart: DTLS and SRTP stay, checks with the new ufrag are accepted)
    this.remote = p;
    this.ice.setRemoteUfrag(p.ufrag);
    // DTLS may finish before the answer with the fingerprint arrives over signaling
    if (this.dtls !== null && this.dtls.state === 'connected' && this.srtpId < 0 && this.state !== 'failed' && this.state !== 'closed') this.onDtlsConnected();
  }

  /** Called by the mux after a valid ICE check from ip4:port. */
  onIceCheck(ip4: number, port: number, nominated: boolean, tcp: TcpPath | null = null): void {
    if (this.state === 'closed' || this.state === 'failed') return;
    if (nominated || !this.hasAddress) {
      this.ip4 = ip4;
      this.port = port;
      this.hasAddress = true;
      this.tcp = tcp;
    }
    if (this.state === 'new') this.setState('connecting');
    else if (this.state === 'disconnected' && this.srtpId >= 0) this.setState('connected');
  }

  /** A DTLS datagram from a checked address. */
  onDtls(data: Uint8Array): void {
    if (this.state === 'closed' || this.state === 'failed') return;
    if (this.dtls === null) {
      const role = this.remote?.setup === 'passive' ? 'client' : 'server';
      this.dtls = new DtlsSession(this.cert, role);
      if (role === 'client') this.dtls.start();
    }
    this.dtls.receive(data);
    this.afterDtls();
  }

  /** Starts the handshake when we are the DTLS client (remote setup passive) and ICE is up. */
  maybeStartDtlsClient(): void {
    if (this.dtls !== null || this.remote?.setup !== 'passive' || !this.hasAddress) return;
    this.dtls = new DtlsSession(this.cert, 'client');
    this.dtls.start();
    this.afterDtls();
  }

  private afterDtls(): void {
    const dtls = this.dtls!;
    for (const d of dtls.takeOutgoing()) this.mux.sendRaw(this, d);
    for (const d of dtls.takeAppData()) this.listener.onAppData?.(d);
    if (dtls.state === 'connected' && this.srtpId < 0) this.onDtlsConnected();
    else if (dtls.state === 'failed' || dtls.state === 'closed') this.fail();
    this.armDtlsTimer();
  }

  private armDtlsTimer(): void {
    if (this.dtlsTimer !== null) clearTimeout(this.dtlsTimer);
    this.dtlsTimer = null;
    const dtls = this.dtls;
    if (dtls === null || dtls.state !== 'connecting') return;
    const ms = dtls.nextTimeoutMs();
    if (ms < 0) return;
    this.dtlsTimer = setTimeout(() => {
      this.dtlsTimer = null;
      if (this.dtls === null || this.state === 'closed') return;
      this.dtls.handleTimeout();
      this.afterDtls();
    }, Math.max(ms, 1));
    this.dtlsTimer.unref();
  }

  private onDtlsConnected(): void {
    const dtls = this.dtls!;
    if (this.remote === null) return; // verified when the remote description arrives
    const remoteFp = dtls.remoteFingerprint();
    const expected = this.remote.fingerprint;
    if (expected === undefined || remoteFp === undefined || expected.algorithm.toLowerCase() !== 'sha-256' || remoteFp.toUpperCase() !== expected.value.toUpperCase()) {
      this.fail();
      return;
    }
    const k = dtls.srtpKeys();
    this.srtpId = this.mux.srtp.add(k.profile, k.localKey, k.localSalt, k.remoteKey, k.remoteSalt);
    this.setState('connected');
  }

  /** Application data (SCTP) over DTLS. */
  sendAppData(data: Uint8Array): void {
    if (this.dtls === null || this.dtls.state !== 'connected') return;
    this.dtls.send(data);
    for (const d of this.dtls.takeOutgoing()) this.mux.sendRaw(this, d);
  }

  /** The mux's send area that beginSend copies into (a transport is the SFU's MediaSender as is). */
  get sendData(): Uint8Array {
    return this.mux.sendData;
  }

  /**
   * Copies a packet into the mux's send area for this transport; returns its offset in
   * `mux.sendData`, or -1 when the transport cannot send media. Rewrite it there, then commitSend.
   */
  beginSend(src: Uint8Array, off: number, len: number): number {
    if (this.srtpId < 0 || !this.hasAddress) return -1;
    return this.mux.beginSend(src, off, len);
  }

  /** Queues the packet begun with beginSend (len may differ from the copied length). */
  commitSend(len: number): void {
    this.packetsOut++;
    this.bytesOut += len;
    this.mux.commitSend(this, len, this.srtpId);
  }

  /** Sends one RTP or RTCP packet (copied; protected in the batch). */
  send(src: Uint8Array, off: number, len: number): boolean {
    const o = this.beginSend(src, off, len);
    if (o < 0) return false;
    this.commitSend(len);
    return true;
  }

  /** Consent freshness, from the mux's timer. */
  tick(nowMs: number): void {
    if (this.state !== 'connected' && this.state !== 'disconnected' && this.state !== 'connecting') return;
    const since = nowMs - this.ice.lastConsentMs;
    if (since > CONSENT_FAILED_MS) this.fail();
    else if (since > CONSENT_DISCONNECTED_MS && this.state === 'connected') this.setState('disconnected');
  }

  stats(): TransportStats {
    return {
      state: this.state,
      selectedAddress: this.tcp !== null ? `tcp:${this.tcp.remote}` : this.hasAddress ? `${intToIp4(this.ip4)}:${this.port}` : null,
      packetsIn: this.packetsIn,
      bytesIn: this.bytesIn,
      packetsOut: this.packetsOut,
      bytesOut: this.bytesOut,
      srtpFailures: this.srtpFailures,
      dtlsState: this.dtls?.state ?? 'new',
    };
  }

  private fail(): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.release();
    this.setState('failed');
  }

  private setState(s: TransportState): void {
    if (this.state === s) return;
    this.state = s;
    this.listener.onState(s);
  }

  private release(): void {
    if (this.dtlsTimer !== null) clearTimeout(this.dtlsTimer);
    this.dtlsTimer = null;
    if (this.srtpId >= 0) this.mux.srtp.remove(this.srtpId);
    this.srtpId = -1;
    this.dtls?.destroy();
    this.dtls = null;
    this.tcp?.close();
    this.tcp = null;
    this.mux.forget(this);
  }

  /** Closes the transport (sends DTLS close_notify if connected). Idempotent. */
  close(): void {
    if (this.state === 'closed') return;
    if (this.dtls !== null && this.dtls.state === 'connected') {
      this.dtls.close();
      for (const d of this.dtls.takeOutgoing()) this.mux.sendRaw(this, d);
    }
    this.release();
    this.setState('closed');
  }
}
