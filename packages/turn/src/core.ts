// The TURN server state machine (RFC 8656, RFC 6156), sans I/O: the adapter hands it the
// bytes a client or a peer sent and the time; it answers through the TurnHost callbacks.
// This file is the control plane: requests (Binding, Allocate, Refresh, CreatePermission,
// ChannelBind), relay sockets, the clock and the allocations' lifecycle; it may allocate
// freely. The data plane (ChannelData and peer data, no allocation per packet) is
// relay-path.ts; the lookups are indexes.ts; reading an Allocate is allocate-request.ts;
// CreatePermission and ChannelBind are permission-requests.ts.

import {
  Attr,
  decodeRequestedAddressFamily,
  getAttribute,
  Method,
  StunClass,
  StunWriter,
  tryDecodeStun,
  verifyFingerprint,
  type StunMessage,
  type TransportAddress,
} from '@switchboard/stun';
import { Allocation, type ClientRef } from './allocation.js';
import { LIFETIME, readAllocate, requestedLifetime } from './allocate-request.js';
import { hexBytes } from './hex.js';
import { C, createCounters } from './counters.js';
import type { Credentials } from './credentials.js';
import { AllocationIndex } from './indexes.js';
import { NonceIssuer } from './nonce.js';
import type { PeerPolicy } from './policy.js';
import type { PortRequest } from './broker.js';
import { RelayPath } from './relay-path.js';
import { PermissionRequests } from './permission-requests.js';
import { Authenticator, type Auth } from './auth.js';
import { unknownAttributes } from './attributes.js';
import { REASONS, Responder, UNSIGNED, type Signing } from './responder.js';

export interface TurnHost {
  /** Sends to a client on the transport it used. The bytes stay valid for ring-size more sends. */
  sendToClient(client: ClientRef, buf: Uint8Array, offset: number, length: number): void;
  /** Sends from the allocation's relay to a peer; `ip4` is the address as a number (-1 if IPv6). */
  sendToPeer(alloc: Allocation, address: string, port: number, buf: Uint8Array, offset: number, length: number, ip4: number): void;
  /**
   * Optional: sends ChannelData to a UDP client as a 4-byte header plus the payload where it
   * lies, so the adapter can gather both into one datagram without copying. Without it the
   * core assembles the frame in its output ring and calls sendToClient.
   */
  sendChannelDataToClient?(client: ClientRef, channel: number, buf: Uint8Array, offset: number, length: number): void;
  /** Asks for a relay socket; answer with core.relayReady() or core.relayFailed(). */
  openRelay(alloc: Allocation, ports: PortRequest): void;
  /** The allocation is gone: close its relay socket and return its port and quota. */
  closeRelay(alloc: Allocation): void;
  log?(level: 'info' | 'warn' | 'debug', msg: string, fields: Record<string, unknown>): void;
}

export interface TurnCoreOptions {
  credentials: Credentials;
  policy: PeerPolicy;
  software?: string;
  /** Bytes per second per direction per allocation (coturn's max-bps); 0 = uncapped. */
  maxBps?: number;
  /** Families this server can relay on. */
  relayFamilies?: ReadonlyArray<4 | 6>;
  nonceSecret?: Uint8Array;
  nonceLifetimeMs?: number;
  /** Shared memory for the counters (relay threads); a private array otherwise. */
  counters?: Float64Array;
  maxPermissionsPerAllocation?: number;
  maxChannelsPerAllocation?: number;
}

export { LIFETIME };

export class TurnCore {
  readonly counters: Float64Array;
  private readonly opts: Required<Omit<TurnCoreOptions, 'counters' | 'nonceSecret' | 'nonceLifetimeMs'>>;
  private readonly host: TurnHost;
  /** Builds, signs, sends and remembers responses (one writer, reused for indications too). */
  private readonly out: Responder;
  private readonly auth: Authenticator;
  private readonly writer: StunWriter;
  private readonly allocations = new AllocationIndex();
  private readonly relay: RelayPath;
  private readonly permissions: PermissionRequests;
  private nextId = 1;
  now: number;

  constructor(opts: TurnCoreOptions, host: TurnHost, now: number) {
    this.opts = {
      credentials: opts.credentials,
      policy: opts.policy,
      software: opts.software ?? 'Switchboard',
      maxBps: opts.maxBps ?? 0,
      relayFamilies: opts.relayFamilies ?? [4],
      maxPermissionsPerAllocation: opts.maxPermissionsPerAllocation ?? 256,
      maxChannelsPerAllocation: opts.maxChannelsPerAllocation ?? 256,
    };
    this.counters = opts.counters ?? createCounters();
    this.host = host;
    this.out = new Responder(host, this.opts.software);
    this.writer = this.out.writer;
    this.auth = new Authenticator(opts.credentials, new NonceIssuer(opts.nonceSecret, opts.nonceLifetimeMs), this.counters, this.out, host);
    this.relay = new RelayPath(this.counters, host, this.writer);
    this.permissions = new PermissionRequests(this.opts, this.counters, this.out, host, () => this.now);
    this.now = now;
  }

  get allocationCount(): number {
    return this.allocations.size;
  }

  allocationFor(client: ClientRef): Allocation | undefined {
    return this.allocations.forClient(client.key);
  }

  /** The relay path's lookup for UDP clients. */
  udpAllocation(address: string, port: number): Allocation | undefined {
    return this.allocations.udp(address, port);
  }

  /** The same lookup with the IPv4 address as a number (no text per packet). */
  udpAllocationV4(ip4: number, port: number): Allocation | undefined {
    return this.allocations.udpV4(ip4, port);
  }

  // ---- client -> server -------------------------------------------------------------

  /**
   * A STUN message or ChannelData from a client. `buf[offset, offset+length)` is one whole
   * message (the adapter frames TCP). Malformed input is dropped and counted.
   */
  handleClientMessage(client: ClientRef, buf: Uint8Array, offset = 0, length = buf.length - offset): void {
    const first = buf[offset];
    if (length >= 4 && (first & 0xc0) === 0x40) {
      this.relay.channelData(this.allocations.forClient(client.key), buf, offset, length, this.now);
      return;
    }
    const msg = tryDecodeStun(offset === 0 && length === buf.length ? buf : buf.subarray(offset, offset + length));
    if (!msg || (getAttribute(msg, Attr.Fingerprint) && !verifyFingerprint(msg))) {
      this.counters[C.droppedMalformed]++;
      return;
    }
    if (msg.cls === StunClass.Request) {
      this.counters[C.stunRequests]++;
      this.handleRequest(client, msg);
    } else if (msg.cls === StunClass.Indication && msg.method === Method.Send) {
      this.relay.sendIndication(this.allocations.forClient(client.key), msg, this.now);
    }
    // Binding indications are keepalives; responses from clients are ignored.
  }

  /** ChannelData from the client whose allocation the adapter already found (UDP fast path). */
  handleChannelData(alloc: Allocation | undefined, buf: Uint8Array, offset: number, length: number): void {
    this.relay.channelData(alloc, buf, offset, length, this.now);
  }

  // ---- peer -> client ---------------------------------------------------------------

  /** A datagram a peer sent to an allocation's relayed address. */
  handlePeerData(alloc: Allocation, address: string, port: number, buf: Uint8Array, offset = 0, length = buf.length - offset): void {
    this.relay.peerData(alloc, address, port, buf, offset, length, this.now);
  }

  /** The same, with the peer's IPv4 address as a number (batched I/O: no text per packet). */
  handlePeerDataV4(alloc: Allocation, ip4: number, port: number, buf: Uint8Array, offset: number, length: number): void {
    this.relay.peerDataV4(alloc, ip4, port, buf, offset, length, this.now);
  }

  // ---- relay sockets ----------------------------------------------------------------

  /** The adapter opened the relay socket asked for: the Allocate succeeds. */
  relayReady(alloc: Allocation, relay: TransportAddress, reservationToken?: string): void {
    const p = alloc.pending;
    if (alloc.state !== 'pending' || !p) return;
    alloc.pending = null;
    alloc.relay = relay;
    alloc.state = 'active';
    alloc.expiresAt = this.now + p.lifetimeSec * 1000;
    this.counters[C.allocations]++;
    const w = this.writer.start(Method.Allocate, StunClass.SuccessResponse, p.transactionId);
    w.addXorAddress(Attr.XorRelayedAddress, relay);
    if (p.additionalFamilyRefused) w.addBytes(Attr.AddressErrorCode, addressErrorCode(6, 440));
    w.addU32(Attr.Lifetime, p.lifetimeSec);
    if (reservationToken) w.addBytes(Attr.ReservationToken, hexBytes(reservationToken));
    w.addXorAddress(Attr.XorMappedAddress, clientAddress(alloc.client));
    this.out.finish(alloc.client, p.transactionId, { key: alloc.key, sha256: p.sha256 }, true, this.now);
    this.host.log?.('info', 'allocation created', {
      id: alloc.id, client: alloc.client.key, username: alloc.username, relay: `${relay.address}:${relay.port}`, lifetime: p.lifetimeSec,
    });
  }

  /** The relay could not be had: the Allocate fails with 486 (quota) or 508 (no ports). */
  relayFailed(alloc: Allocation, code: 486 | 508, reason: string): void {
    const p = alloc.pending;
    if (alloc.state !== 'pending' || !p) return;
    this.forget(alloc);
    this.counters[C.allocateErrors]++;
    this.out.error(alloc.client, Method.Allocate, p.transactionId, code, reason, { key: alloc.key, sha256: p.sha256 }, true, this.now);
    this.host.log?.('warn', 'allocation refused', { client: alloc.client.key, username: alloc.username, code, reason });
  }

  // ---- the clock --------------------------------------------------------------------

  /** Advances the clock, refills bandwidth buckets and expires what has run out. */
  tick(now: number): void {
    if (now < this.now) return; // the clock only moves forward
    const elapsed = now - this.now;
    this.now = now;
    const cap = this.opts.maxBps;
    for (const alloc of this.allocations.values()) {
      if (alloc.state === 'pending' && alloc.expiresAt <= now) {
        this.host.closeRelay(alloc);
        this.relayFailed(alloc, 508, 'relay did not open in time');
        continue;
      }
      if (alloc.state === 'active' && alloc.expiresAt <= now) {
        this.host.log?.('info', 'allocation expired', { id: alloc.id, client: alloc.client.key });
        this.close(alloc);
        continue;
      }
      const gone = alloc.sweep(now);
      this.counters[C.channels] -= gone.channels;
      this.counters[C.permissions] -= gone.permissions;
      if (cap > 0) {
        alloc.tokensToPeer = Math.min(cap, alloc.tokensToPeer + (cap * elapsed) / 1000);
        alloc.tokensToClient = Math.min(cap, alloc.tokensToClient + (cap * elapsed) / 1000);
      }
    }
    this.out.sweep(now);
  }

  /** Closes every allocation (shutdown). */
  closeAll(): void {
    for (const alloc of [...this.allocations.values()]) this.close(alloc);
  }

  /** A TCP/TLS client's connection ended: its allocation goes with it (RFC 8656 §3.1). */
  clientGone(client: ClientRef): void {
    const alloc = this.allocations.forClient(client.key);
    if (alloc) this.close(alloc);
  }

  // ---- requests ---------------------------------------------------------------------

  private handleRequest(client: ClientRef, msg: StunMessage): void {
    if (this.out.resend(client, msg.method, msg.transactionId, this.now)) return;
    if (msg.method === Method.Binding) {
      this.handleBinding(client, msg);
      return;
    }
    if (msg.method !== Method.Allocate && msg.method !== Method.Refresh && msg.method !== Method.CreatePermission && msg.method !== Method.ChannelBind) {
      this.out.error(client, msg.method, msg.transactionId, 400, 'Unknown method', UNSIGNED, false, this.now);
      return;
    }
    const auth = this.auth.authenticate(client, msg, this.now);
    if (!auth) return;
    const signing: Signing = { key: auth.key, sha256: auth.sha256 };
    if (!this.checkUnknownAttributes(client, msg, signing)) return;
    const alloc = this.allocations.forClient(client.key);
    // 441 is for requests on an allocation; an Allocate on a used 5-tuple gets 437 below.
    if (alloc && msg.method !== Method.Allocate && alloc.username !== auth.username) {
      this.counters[C.authFailWrongCredentials]++;
      this.refuse(client, msg, 441, signing);
      return;
    }
    switch (msg.method) {
      case Method.Allocate:
        this.handleAllocate(client, msg, auth, alloc);
        break;
      case Method.Refresh:
        this.handleRefresh(client, msg, signing, alloc);
        break;
      case Method.CreatePermission:
        this.permissions.createPermission(client, msg, signing, alloc);
        break;
      case Method.ChannelBind:
        this.permissions.channelBind(client, msg, signing, alloc);
        break;
    }
  }

  private handleBinding(client: ClientRef, msg: StunMessage): void {
    let signing = UNSIGNED;
    if (getAttribute(msg, Attr.MessageIntegrity) || getAttribute(msg, Attr.MessageIntegritySha256)) {
      const auth = this.auth.authenticate(client, msg, this.now);
      if (!auth) return;
      signing = { key: auth.key, sha256: auth.sha256 };
    }
    if (!this.checkUnknownAttributes(client, msg, signing)) return;
    const w = this.writer.start(Method.Binding, StunClass.SuccessResponse, msg.transactionId);
    const mapped = clientAddress(client);
    w.addXorAddress(Attr.XorMappedAddress, mapped);
    w.addAddress(Attr.MappedAddress, mapped);
    this.out.finish(client, msg.transactionId, signing, false, this.now);
  }

  private checkUnknownAttributes(client: ClientRef, msg: StunMessage, signing: Signing): boolean {
    const unknown = unknownAttributes(msg);
    if (!unknown) return true;
    this.host.log?.('debug', 'unknown attributes', { client: client.key, method: msg.method, types: unknown.map((t) => `0x${t.toString(16)}`) });
    const w = this.writer.start(msg.method, StunClass.ErrorResponse, msg.transactionId);
    w.addErrorCode(420, REASONS[420]);
    w.addUnknownAttributes(unknown);
    this.out.finish(client, msg.transactionId, signing, false, this.now);
    return false;
  }

  private handleAllocate(client: ClientRef, msg: StunMessage, auth: Auth, existing: Allocation | undefined): void {
    const signing: Signing = { key: auth.key, sha256: auth.sha256 };
    const err = (code: number, reason = REASONS[code]) => {
      this.counters[C.allocateErrors]++;
      this.out.error(client, msg.method, msg.transactionId, code, reason, signing, true, this.now);
    };
    if (existing) {
      // A retransmission of the Allocate that is still pending is absorbed; anything else mismatches.
      if (existing.state === 'pending' && existing.pending && sameBytes(existing.pending.transactionId, msg.transactionId)) return;
      err(437);
      return;
    }
    const req = readAllocate(msg, this.opts.relayFamilies);
    if ('code' in req) return err(req.code, req.reason);
    const { family, additionalFamilyRefused, lifetimeSec, ports } = req;
    const bucket = this.opts.maxBps > 0 ? this.opts.maxBps : Infinity;
    const alloc = new Allocation(this.nextId++, client, auth.username, auth.quotaUser, auth.key, family, this.now + 30_000, {
      transactionId: new Uint8Array(msg.transactionId),
      lifetimeSec,
      sha256: auth.sha256,
      fingerprint: true,
      additionalFamilyRefused,
    }, bucket);
    this.remember(alloc);
    this.host.openRelay(alloc, ports);
  }

  private handleRefresh(client: ClientRef, msg: StunMessage, signing: Signing, alloc: Allocation | undefined): void {
    if (!alloc || alloc.state !== 'active') {
      this.refuse(client, msg, 437, signing);
      return;
    }
    const fam = getAttribute(msg, Attr.RequestedAddressFamily);
    try {
      if (fam && decodeRequestedAddressFamily(fam) !== alloc.family) {
        this.refuse(client, msg, 443, signing);
        return;
      }
    } catch {
      this.refuse(client, msg, 400, signing);
      return;
    }
    const lifetimeSec = requestedLifetime(msg, true);
    const w = this.writer.start(Method.Refresh, StunClass.SuccessResponse, msg.transactionId);
    w.addU32(Attr.Lifetime, lifetimeSec);
    this.out.finish(client, msg.transactionId, signing, true, this.now);
    if (lifetimeSec === 0) {
      this.host.log?.('info', 'allocation deleted', { id: alloc.id, client: client.key });
      this.close(alloc);
    } else {
      alloc.expiresAt = this.now + lifetimeSec * 1000;
    }
  }

  /** An error response to a request, signed and kept for retransmissions. */
  private refuse(client: ClientRef, msg: StunMessage, code: number, signing: Signing, reason = REASONS[code]): void {
    this.out.error(client, msg.method, msg.transactionId, code, reason, signing, true, this.now);
  }

  // ---- bookkeeping ------------------------------------------------------------------

  private remember(alloc: Allocation): void {
    this.allocations.add(alloc);
  }

  private forget(alloc: Allocation): void {
    this.allocations.remove(alloc);
    alloc.state = 'closed';
  }

  private close(alloc: Allocation): void {
    if (alloc.state === 'closed') return;
    const wasActive = alloc.state === 'active';
    this.forget(alloc);
    if (wasActive) {
      this.counters[C.allocations]--;
      this.counters[C.channels] -= alloc.channels.size;
      this.counters[C.permissions] -= alloc.permissions.size;
    }
    alloc.clear();
    this.host.closeRelay(alloc);
  }

}

function clientAddress(client: ClientRef): TransportAddress {
  return { family: client.family, address: client.address, port: client.port };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** ADDRESS-ERROR-CODE (RFC 8656 §18.12): family, reserved, class, number, reason. */
function addressErrorCode(family: 4 | 6, code: number): Uint8Array {
  const reason = new TextEncoder().encode(REASONS[code] ?? '');
  const out = new Uint8Array(4 + reason.length);
  out[0] = family === 4 ? 0x01 : 0x02;
  out[2] = Math.floor(code / 100);
  out[3] = code % 100;
  out.set(reason, 4);
  return out;
}

