// The state of one allocation (RFC 8656 §2.2): its relayed address, permissions and channels.
// The core owns every map entry here and deletes it when it expires or the allocation closes.

import { parseIPv4, type TransportAddress } from '@switchboard/stun';

export type ClientTransport = 'udp' | 'tcp' | 'tls';

/** A client's 5-tuple as the adapter sees it. `key` is unique per 5-tuple (per connection for TCP). */
export interface ClientRef {
  readonly key: string;
  readonly transport: ClientTransport;
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** IPv4 as an unsigned 32-bit number, when the adapter has it (batched UDP I/O). */
  readonly ip4?: number;
}

/** An IPv4 address as an unsigned 32-bit number, or -1 for anything else. */
export function ip4Number(address: string): number {
  const b = parseIPv4(address);
  return b ? ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0 : -1;
}

/** Key of an IPv4 address and port in one number (below 2^48, exact as a double). */
export function ip4PortKey(ip4: number, port: number): number {
  return ip4 * 65536 + port;
}

export interface Permission {
  expiresAt: number;
  /** Channels bound to this peer address keep the entry alive past its expiry (see sweep). */
  channelCount: number;
}

export interface Channel {
  readonly number: number;
  readonly peerAddress: string;
  readonly peerPort: number;
  readonly peerFamily: 4 | 6;
  /** The peer's IPv4 as a number (-1 for IPv6), so adapters can send without parsing text. */
  readonly peerIp4: number;
  readonly permission: Permission;
  expiresAt: number;
}

export interface PendingAllocate {
  transactionId: Uint8Array;
  lifetimeSec: number;
  sha256: boolean;
  fingerprint: boolean;
  additionalFamilyRefused: boolean;
}

export class Allocation {
  readonly id: number;
  readonly client: ClientRef;
  readonly username: string;
  readonly quotaUser: string;
  readonly key: Uint8Array;
  readonly family: 4 | 6;
  state: 'pending' | 'active' | 'closed' = 'pending';
  relay: TransportAddress | null = null;
  expiresAt: number;
  readonly permissions = new Map<string, Permission>();
  readonly channels = new Map<number, Channel>();
  /** Channel by peer port, then peer address: two lookups and no string building per packet. */
  readonly channelsByPeer = new Map<number, Map<string, Channel>>();
  /** The same for IPv4 peers by number (ip4PortKey), for adapters that never build address text. */
  readonly channelsByPeerV4 = new Map<number, Channel>();
  /** Permissions of IPv4 peers by number: the same objects as in `permissions`. */
  readonly permissionsV4 = new Map<number, Permission>();
  pending: PendingAllocate | null;
  /** Bandwidth buckets in bytes, refilled by the clock; NaN-free: Infinity when uncapped. */
  tokensToPeer: number;
  tokensToClient: number;
  /** The adapter's relay socket or whatever it needs; the core never looks inside. */
  handle: unknown = null;

  constructor(
    id: number,
    client: ClientRef,
    username: string,
    quotaUser: string,
    key: Uint8Array,
    family: 4 | 6,
    expiresAt: number,
    pending: PendingAllocate,
    bucket: number,
  ) {
    this.id = id;
    this.client = client;
    this.username = username;
    this.quotaUser = quotaUser;
    this.key = key;
    this.family = family;
    this.expiresAt = expiresAt;
    this.pending = pending;
    this.tokensToPeer = bucket;
    this.tokensToClient = bucket;
  }

  channelForPeer(address: string, port: number): Channel | undefined {
    return this.channelsByPeer.get(port)?.get(address);
  }

  permit(address: string, expiresAt: number): Permission {
    let p = this.permissions.get(address);
    if (!p) {
      p = { expiresAt, channelCount: 0 };
      this.permissions.set(address, p);
      const ip4 = ip4Number(address);
      if (ip4 >= 0) this.permissionsV4.set(ip4, p);
    } else if (p.expiresAt < expiresAt) {
      p.expiresAt = expiresAt;
    }
    return p;
  }

  bindChannel(number: number, peerAddress: string, peerPort: number, peerFamily: 4 | 6, permission: Permission, expiresAt: number): Channel {
    const peerIp4 = peerFamily === 4 ? ip4Number(peerAddress) : -1;
    const ch: Channel = { number, peerAddress, peerPort, peerFamily, peerIp4, permission, expiresAt };
    this.channels.set(number, ch);
    if (peerIp4 >= 0) this.channelsByPeerV4.set(ip4PortKey(peerIp4, peerPort), ch);
    let byAddr = this.channelsByPeer.get(peerPort);
    if (!byAddr) this.channelsByPeer.set(peerPort, (byAddr = new Map()));
    byAddr.set(peerAddress, ch);
    permission.channelCount++;
    return ch;
  }

  unbindChannel(ch: Channel): void {
    this.channels.delete(ch.number);
    const byAddr = this.channelsByPeer.get(ch.peerPort);
    byAddr?.delete(ch.peerAddress);
    if (byAddr && byAddr.size === 0) this.channelsByPeer.delete(ch.peerPort);
    if (ch.peerIp4 >= 0) this.channelsByPeerV4.delete(ip4PortKey(ch.peerIp4, ch.peerPort));
    ch.permission.channelCount--;
  }

  /** Forgets every channel and permission (the allocation is closing). */
  clear(): void {
    this.channels.clear();
    this.channelsByPeer.clear();
    this.channelsByPeerV4.clear();
    this.permissions.clear();
    this.permissionsV4.clear();
  }

  /** Drops expired channels and permissions; returns how many of each went. */
  sweep(now: number): { channels: number; permissions: number } {
    let channels = 0;
    let permissions = 0;
    for (const ch of this.channels.values()) {
      if (ch.expiresAt <= now) {
        this.unbindChannel(ch);
        channels++;
      }
    }
    for (const [addr, p] of this.permissions) {
      if (p.expiresAt <= now && p.channelCount === 0) {
        this.permissions.delete(addr);
        const ip4 = ip4Number(addr);
        if (ip4 >= 0) this.permissionsV4.delete(ip4);
        permissions++;
      }
    }
    return { channels, permissions };
  }
}
