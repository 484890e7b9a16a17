// The TURN data plane: ChannelData and Send indications from clients to peers, and peer
// datagrams back to clients as ChannelData or Data indications. It checks channels,
// permissions and the per-allocation bandwidth buckets, counts, and hands bytes to the host.
// Nothing here allocates per packet: payloads stay in the buffers it is given, and frames it
// must build go into a preallocated OutputRing.
import { Attr, decodeXorAddress, getAttribute, Method, StunClass, type StunMessage, type StunWriter, type TransportAddress } from '@switchboard/stun';
import { ip4Number, ip4PortKey, type Allocation, type Channel, type Permission } from './allocation.js';
import { unknownAttributes } from './attributes.js';
import { C } from './counters.js';
import { OutputRing } from './ring.js';
import type { TurnHost } from './core.js';

export class RelayPath {
  private readonly ring = new OutputRing(512, 2048);
  private indicationSeq = 0;
  private readonly indicationTx = new Uint8Array(12);

  constructor(
    private readonly counters: Float64Array,
    private readonly host: TurnHost,
    /** Shared with the control plane: Data indications are built with it. */
    private readonly writer: StunWriter,
  ) {
    crypto.getRandomValues(this.indicationTx);
  }

  /** ChannelData from a client (whose allocation the adapter or the core found). */
  channelData(alloc: Allocation | undefined, buf: Uint8Array, offset: number, length: number, now: number): void {
    const channel = (buf[offset] << 8) | buf[offset + 1];
    const dataLength = (buf[offset + 2] << 8) | buf[offset + 3];
    const ch = alloc?.channels.get(channel);
    if (!alloc || !ch || dataLength > length - 4) {
      this.counters[C.droppedMalformed]++;
      return;
    }
    if (ch.expiresAt <= now || ch.permission.expiresAt <= now) {
      this.counters[C.droppedNoPermission]++;
      return;
    }
    if (alloc.tokensToPeer < dataLength) {
      this.counters[C.droppedBandwidth]++;
      return;
    }
    alloc.tokensToPeer -= dataLength;
    this.counters[C.toPeerPackets]++;
    this.counters[C.toPeerBytes] += dataLength;
    this.host.sendToPeer(alloc, ch.peerAddress, ch.peerPort, buf, offset + 4, dataLength, ch.peerIp4);
  }

  /** A Send indication: the peer and the data are attributes (the control plane's framing, so it allocates). */
  sendIndication(alloc: Allocation | undefined, msg: StunMessage, now: number): void {
    const peerAttr = getAttribute(msg, Attr.XorPeerAddress);
    const data = getAttribute(msg, Attr.Data);
    // RFC 8489 §6.3.2: an indication with an unknown comprehension-required attribute is dropped.
    if (!alloc || alloc.state !== 'active' || !peerAttr || !data || unknownAttributes(msg)) {
      this.counters[C.droppedMalformed]++;
      return;
    }
    let peer: TransportAddress;
    try {
      peer = decodeXorAddress(peerAttr, msg.transactionId);
    } catch {
      this.counters[C.droppedMalformed]++;
      return;
    }
    const perm = alloc.permissions.get(peer.address);
    if (!perm || perm.expiresAt <= now || peer.family !== alloc.family) {
      this.counters[C.droppedNoPermission]++;
      return;
    }
    if (alloc.tokensToPeer < data.length) {
      this.counters[C.droppedBandwidth]++;
      return;
    }
    alloc.tokensToPeer -= data.length;
    this.counters[C.toPeerPackets]++;
    this.counters[C.toPeerBytes] += data.length;
    this.host.sendToPeer(alloc, peer.address, peer.port, data, 0, data.length, peer.family === 4 ? ip4Number(peer.address) : -1);
  }

  /** A datagram a peer sent to an allocation's relayed address. */
  peerData(alloc: Allocation, address: string, port: number, buf: Uint8Array, offset: number, length: number, now: number): void {
    this.deliver(alloc, alloc.permissions.get(address), alloc.channelForPeer(address, port), address, -1, port, buf, offset, length, now);
  }

  /** The same, with the peer's IPv4 address as a number (batched I/O: no text per packet). */
  peerDataV4(alloc: Allocation, ip4: number, port: number, buf: Uint8Array, offset: number, length: number, now: number): void {
    const ch = alloc.channelsByPeerV4.get(ip4PortKey(ip4, port));
    this.deliver(alloc, alloc.permissionsV4.get(ip4), ch, null, ip4, port, buf, offset, length, now);
  }

  private deliver(
    alloc: Allocation,
    perm: Permission | undefined,
    ch: Channel | undefined,
    address: string | null,
    ip4: number,
    port: number,
    buf: Uint8Array,
    offset: number,
    length: number,
    now: number,
  ): void {
    if (alloc.state !== 'active' || !perm || perm.expiresAt <= now) {
      this.counters[C.droppedNoPermission]++;
      return;
    }
    if (alloc.tokensToClient < length) {
      this.counters[C.droppedBandwidth]++;
      return;
    }
    alloc.tokensToClient -= length;
    this.counters[C.toClientPackets]++;
    this.counters[C.toClientBytes] += length;
    const stream = alloc.client.transport !== 'udp';
    if (ch && ch.expiresAt > now) {
      if (!stream && this.host.sendChannelDataToClient) {
        this.host.sendChannelDataToClient(alloc.client, ch.number, buf, offset, length);
        return;
      }
      const total = 4 + length;
      const padded = stream ? (total + 3) & ~3 : total;
      const out = this.ring.next(padded);
      out[0] = ch.number >> 8;
      out[1] = ch.number & 0xff;
      out[2] = length >> 8;
      out[3] = length & 0xff;
      out.set(offset === 0 && length === buf.length ? buf : buf.subarray(offset, offset + length), 4);
      for (let i = total; i < padded; i++) out[i] = 0;
      this.host.sendToClient(alloc.client, out, 0, padded);
      return;
    }
    // No channel: a Data indication. Its transaction id only has to differ between messages.
    const tx = this.indicationTx;
    const seq = ++this.indicationSeq;
    tx[8] = seq >>> 24;
    tx[9] = (seq >>> 16) & 0xff;
    tx[10] = (seq >>> 8) & 0xff;
    tx[11] = seq & 0xff;
    const peerAddress = address ?? `${ip4 >>> 24}.${(ip4 >>> 16) & 0xff}.${(ip4 >>> 8) & 0xff}.${ip4 & 0xff}`;
    const w = this.writer.start(Method.Data, StunClass.Indication, tx);
    w.addXorAddress(Attr.XorPeerAddress, { family: alloc.family, address: peerAddress, port });
    w.addBytes(Attr.Data, offset === 0 && length === buf.length ? buf : buf.subarray(offset, offset + length));
    const msg = w.view();
    const out = this.ring.next(msg.length);
    out.set(msg);
    this.host.sendToClient(alloc.client, out, 0, msg.length);
  }
}
