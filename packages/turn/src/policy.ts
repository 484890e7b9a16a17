// Which peers an allocation may reach. Secure by default: the relay never becomes a proxy
// into the operator's own network unless the operator says so.

import { inRange, LOOPBACK_RANGES, parseIp, parseIpRange, RESTRICTED_RANGES, unmapIPv4, type IpRange } from './ip.js';

export interface PeerPolicyOptions {
  /** Let peers on 127.0.0.0/8 and ::1 through (coturn's allow-loopback-peers; for tests). */
  allowLoopbackPeers?: boolean;
  /** Extra ranges refused (coturn's denied-peer-ip). */
  deniedPeerIp?: string[];
  /** Ranges allowed even when restricted or denied (coturn's allowed-peer-ip). */
  allowedPeerIp?: string[];
}

export class PeerPolicy {
  private readonly denied: IpRange[];
  private readonly allowed: IpRange[];
  private readonly allowLoopback: boolean;
  /** Verdicts by address text; peers repeat, so the relay path checks a map, not ranges. */
  private readonly cache = new Map<string, boolean>();

  constructor(opts: PeerPolicyOptions = {}) {
    this.denied = [...RESTRICTED_RANGES, ...(opts.deniedPeerIp ?? []).map(parseIpRange)];
    this.allowed = (opts.allowedPeerIp ?? []).map(parseIpRange);
    this.allowLoopback = opts.allowLoopbackPeers ?? false;
  }

  /** True if relaying to this peer address is permitted. */
  allows(address: string): boolean {
    let verdict = this.cache.get(address);
    if (verdict === undefined) {
      verdict = this.judge(address);
      if (this.cache.size >= 10000) this.cache.clear();
      this.cache.set(address, verdict);
    }
    return verdict;
  }

  private judge(address: string): boolean {
    const raw = parseIp(address);
    if (!raw) return false;
    const ip = unmapIPv4(raw);
    if (this.allowed.some((r) => inRange(ip, r))) return true;
    if (this.allowLoopback && LOOPBACK_RANGES.some((r) => inRange(ip, r))) return true;
    return !this.denied.some((r) => inRange(ip, r));
  }
}
