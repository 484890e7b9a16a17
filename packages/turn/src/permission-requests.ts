// CreatePermission and ChannelBind (RFC 8656 §9, §11): the peers a request names, checked
// against the peer policy and the allocation's family, then permissions installed or refreshed
// and channels bound, within the per-allocation limits. Control plane: answers through the
// Responder and may allocate.
import {
  Attr,
  decodeChannelNumber,
  decodeXorAddress,
  getAttribute,
  Method,
  StunClass,
  type StunMessage,
  type TransportAddress,
} from '@switchboard/stun';
import type { Allocation, ClientRef } from './allocation.js';
import { LIFETIME } from './allocate-request.js';
import { C } from './counters.js';
import type { PeerPolicy } from './policy.js';
import { REASONS, type Responder, type Signing } from './responder.js';
import type { TurnHost } from './core.js';

export class PermissionRequests {
  constructor(
    private readonly opts: { policy: PeerPolicy; maxPermissionsPerAllocation: number; maxChannelsPerAllocation: number },
    private readonly counters: Float64Array,
    private readonly out: Responder,
    private readonly host: TurnHost,
    private readonly now: () => number,
  ) {}

  /** Decodes every XOR-PEER-ADDRESS and checks it against the policy and the family. */
  private peersOf(client: ClientRef, msg: StunMessage, signing: Signing, alloc: Allocation): TransportAddress[] | null {
    const peers: TransportAddress[] = [];
    for (const a of msg.attributes) {
      if (a.type !== Attr.XorPeerAddress) continue;
      let peer: TransportAddress;
      try {
        peer = decodeXorAddress(a.value, msg.transactionId);
      } catch {
        this.refuse(client, msg, 400, signing, 'Bad XOR-PEER-ADDRESS');
        return null;
      }
      if (peer.family !== alloc.family) {
        this.refuse(client, msg, 443, signing);
        return null;
      }
      if (!this.opts.policy.allows(peer.address)) {
        this.host.log?.('warn', 'peer refused', { client: client.key, peer: peer.address });
        this.refuse(client, msg, 403, signing, 'Peer address not allowed');
        return null;
      }
      peers.push(peer);
    }
    if (peers.length === 0) {
      this.refuse(client, msg, 400, signing, 'Missing XOR-PEER-ADDRESS');
      return null;
    }
    return peers;
  }

  createPermission(client: ClientRef, msg: StunMessage, signing: Signing, alloc: Allocation | undefined): void {
    if (!alloc || alloc.state !== 'active') {
      this.refuse(client, msg, 437, signing);
      return;
    }
    const peers = this.peersOf(client, msg, signing, alloc);
    if (!peers) return;
    const fresh = peers.filter((p) => !alloc.permissions.has(p.address)).length;
    if (alloc.permissions.size + fresh > this.opts.maxPermissionsPerAllocation) {
      this.refuse(client, msg, 508, signing, 'Too many permissions');
      return;
    }
    const expiresAt = this.now() + LIFETIME.permission * 1000;
    for (const p of peers) {
      if (!alloc.permissions.has(p.address)) this.counters[C.permissions]++;
      alloc.permit(p.address, expiresAt);
    }
    this.out.writer.start(Method.CreatePermission, StunClass.SuccessResponse, msg.transactionId);
    this.out.finish(client, msg.transactionId, signing, true, this.now());
  }

  channelBind(client: ClientRef, msg: StunMessage, signing: Signing, alloc: Allocation | undefined): void {
    if (!alloc || alloc.state !== 'active') {
      this.refuse(client, msg, 437, signing);
      return;
    }
    const numberAttr = getAttribute(msg, Attr.ChannelNumber);
    let number = -1;
    try {
      if (numberAttr) number = decodeChannelNumber(numberAttr);
    } catch {
      number = -1;
    }
    // RFC 8656 narrowed channels to 0x4000-0x4FFF; RFC 5766 clients (coturn's tools) use up to 0x7FFF.
    if (number < 0x4000 || number > 0x7fff) {
      this.refuse(client, msg, 400, signing, 'Bad CHANNEL-NUMBER');
      return;
    }
    const peers = this.peersOf(client, msg, signing, alloc);
    if (!peers) return;
    const peer = peers[0];
    const byNumber = alloc.channels.get(number);
    const byPeer = alloc.channelForPeer(peer.address, peer.port);
    if ((byNumber && byNumber !== byPeer) || (byPeer && byPeer !== byNumber)) {
      this.refuse(client, msg, 400, signing, 'Channel or peer already bound');
      return;
    }
    if (!byNumber && alloc.channels.size >= this.opts.maxChannelsPerAllocation) {
      this.refuse(client, msg, 508, signing, 'Too many channels');
      return;
    }
    const now = this.now();
    if (!alloc.permissions.has(peer.address)) this.counters[C.permissions]++;
    const perm = alloc.permit(peer.address, now + LIFETIME.permission * 1000);
    if (byNumber) {
      byNumber.expiresAt = now + LIFETIME.channel * 1000;
    } else {
      alloc.bindChannel(number, peer.address, peer.port, peer.family, perm, now + LIFETIME.channel * 1000);
      this.counters[C.channels]++;
    }
    this.out.writer.start(Method.ChannelBind, StunClass.SuccessResponse, msg.transactionId);
    this.out.finish(client, msg.transactionId, signing, true, this.now());
  }

  /** An error response to a request, signed and kept for retransmissions. */
  private refuse(client: ClientRef, msg: StunMessage, code: number, signing: Signing, reason = REASONS[code]): void {
    this.out.error(client, msg.method, msg.transactionId, code, reason, signing, true, this.now());
  }
}
