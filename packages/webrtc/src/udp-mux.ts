// One UDP port for every peer (like mediasoup's WebRtcServer, LiveKit's udp_port). A datagram
// from a known address goes to its transport; from an unknown one it must be a STUN Binding
// request whose USERNAME names a transport's ufrag and whose integrity checks out, and then
// the address is learned. Per batch of datagrams (recvmmsg): STUN and DTLS are handled one by
// one, SRTP/SRTCP is decrypted in one native call, the listeners forward synchronously into
// the send area, and everything queued is encrypted in one native call and leaves in one
// sendmmsg. No JS object is made per media packet.
import {
  UdpBatch,
  intToIp4,
  localPort,
  openUdp4,
  setSocketBuffers,
} from '@switchboard/netio';
import { Certificate, SrtpTable } from '@switchboard/dtls-srtp';
import { StunWriter } from '@switchboard/stun';
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';
import { CHECK_INVALID, CHECK_NOMINATED, parseStun, requestLocalUfrag } from './ice-lite.js';
import { WebRtcTransport } from './transport.js';
import { TcpMux } from './tcp-mux.js';
import { SyncSendQueue, ThreadSendQueue } from './send-queue.js';
import type { SendQueue } from './send-queue.js';
import type { IceTcpConnection, TcpMuxHost } from './tcp-mux.js';
import type { TransportListener } from './transport.js';
import type { SendTarget, TransportIo } from './io.js';

export interface UdpMuxOptions {
  /** Address to bind (IPv4). */
  ip: string;
  /** Port to bind; 0 picks one. */
  port: number;
  /** Address put in candidates instead of `ip` (a public IP when behind NAT). */
  announcedIp?: string;
  /** Datagrams per receive batch. Default 64. */
  slots?: number;
  /** Send slots per flush. Default 512. */
  sendSlots?: number;
  /** Encrypt and send on a native thread of its own (the second core). Default true. */
  sendThread?: boolean;
  /** SO_RCVBUF / SO_SNDBUF. Default 4 MiB. */
  socketBufferBytes?: number;
  /** Also accept ICE over TCP (RFC 6544 passive candidates) on the same port number. Default true. */
  tcp?: boolean;
}

export interface IceCandidateInfo {
  foundation: string;
  component: 1;
  transport: 'udp' | 'tcp';
  priority: number;
  address: string;
  port: number;
  type: 'host';
  tcpType?: 'passive';
}

export interface UdpMuxStats {
  transports: number;
  received: number;
  sent: number;
  droppedUnknown: number;
  droppedSend: number;
  srtpAuthFailures: number;
  srtpReplays: number;
}

const SLOT_SIZE = 2048;
/** Room left after a packet for the SRTP/SRTCP tag and index. */
const TAG_ROOM = 32;
const RECV_OP_WORDS = 3;

const addrKey = (ip4: number, port: number): number => (ip4 >>> 0) * 65536 + port;

export class UdpMux implements TcpMuxHost<WebRtcTransport>, TransportIo<WebRtcTransport> {
  readonly srtp: SrtpTable;
  readonly cert: Certificate;
  private out!: SendQueue;
  private readonly recvBuf: Buffer;
  private readonly batch: UdpBatch;
  private readonly recvData: Uint8Array;
  private readonly recvMeta: Int32Array;
  private readonly recvOps: Int32Array;
  private readonly recvTransports: (WebRtcTransport | null)[];
  private readonly byUfrag = new Map<string, WebRtcTransport>();
  private readonly byAddress = new Map<number, WebRtcTransport>();
  private readonly transports = new Set<WebRtcTransport>();
  private readonly writer = new StunWriter(512);
  private inBatch = false;
  private flushScheduled = false;
  private nextId = 1;
  private timer: NodeJS.Timeout | null = null;
  private fd = -1;
  private boundPort = 0;
  private droppedUnknown = 0;
  private closed = false;
  private tcpMux: TcpMux<WebRtcTransport> | null = null;
  /** Packets queued so far, and packets by batch processing time (log2 µs buckets): receive callback start to queue handed over. */
  private queuedTotal = 0;
  private readonly processingUs = new Float64Array(32);

  constructor(
    private readonly opts: UdpMuxOptions,
    cert?: Certificate,
  ) {
    this.cert = cert ?? Certificate.generate();
    this.srtp = new SrtpTable();
    const slots = opts.slots ?? 64;
    const threaded = opts.sendThread !== false;
    this.batch = new UdpBatch({ slots, slotSize: SLOT_SIZE, sendSlots: threaded ? 16 : (opts.sendSlots ?? 512) }, (n) => this.onBatch(n));
    this.recvData = this.batch.recvData;
    this.recvMeta = this.batch.recvMeta;
    if (!threaded) this.out = new SyncSendQueue(this.batch, this.srtp, SLOT_SIZE);
    this.recvBuf = Buffer.from(this.recvData.buffer, this.recvData.byteOffset, this.recvData.byteLength);
    this.recvOps = new Int32Array(slots * RECV_OP_WORDS);
    this.recvTransports = new Array<WebRtcTransport | null>(slots).fill(null);
  }

  /** Binds the port; returns it. */
  listen(): number {
    this.fd = openUdp4(this.opts.ip, this.opts.port, false);
    const bytes = this.opts.socketBufferBytes ?? 4 * 1024 * 1024;
    setSocketBuffers(this.fd, bytes, bytes);
    this.boundPort = localPort(this.fd);
    if (this.opts.sendThread !== false) this.out = new ThreadSendQueue(this.srtp, this.fd, { slots: this.opts.sendSlots ?? 512, slotSize: SLOT_SIZE });
    this.batch.watch(this.fd, 0);
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
    return this.boundPort;
  }

  /** Starts the ICE-TCP listener on the UDP port's number (call after listen()). */
  async listenTcp(): Promise<void> {
    if (this.opts.tcp === false || this.tcpMux !== null) return;
    const mux = new TcpMux(this);
    await mux.listen(this.opts.ip, this.boundPort);
    this.tcpMux = mux;
  }

  get port(): number {
    return this.boundPort;
  }

  /** Host candidates for SDP: the announced IP (or the bound one) on our port. */
  candidates(): IceCandidateInfo[] {
    let addresses: string[];
    if (this.opts.announcedIp !== undefined) addresses = [this.opts.announcedIp];
    else if (this.opts.ip !== '0.0.0.0') addresses = [this.opts.ip];
    else {
      // bound to every interface: one candidate per IPv4 address, loopback last
      const all = Object.values(networkInterfaces()).flatMap((l) => l ?? []).filter((a) => a.family === 'IPv4');
      addresses = [...all.filter((a) => !a.internal), ...all.filter((a) => a.internal)].map((a) => a.address);
    }
    // type preference 126 (host), local preference decreasing per address (TCP below UDP), component 1
    const out: IceCandidateInfo[] = addresses.map((address, i) => ({
      foundation: String(i + 1),
      component: 1 as const,
      transport: 'udp' as const,
      priority: (126 << 24) + ((65535 - i) << 8) + 255,
      address,
      port: this.boundPort,
      type: 'host' as const,
    }));
    if (this.tcpMux !== null) {
      addresses.forEach((address, i) =>
        out.push({ foundation: String(100 + i), component: 1, transport: 'tcp', priority: (126 << 24) + ((24575 - i) << 8) + 255, address, port: this.boundPort, type: 'host', tcpType: 'passive' }),
      );
    }
    return out;
  }

  createTransport(listener: TransportListener): WebRtcTransport {
    if (this.closed) throw Object.assign(new Error('mux is closed'), { code: 'SB_ERR_TRANSPORT_CLOSED' });
    const t = new WebRtcTransport(this.nextId++, this, this.cert, listener);
    this.byUfrag.set(t.ice.localUfrag, t);
    this.transports.add(t);
    return t;
  }

  /** Drops every map entry of a transport (its close() calls this). */
  forget(t: WebRtcTransport): void {
    this.byUfrag.delete(t.ice.localUfrag);
    for (const k of t.addressKeys) if (this.byAddress.get(k) === t) this.byAddress.delete(k);
    t.addressKeys.clear();
    this.transports.delete(t);
  }

  private onBatch(count: number): void {
    this.inBatch = true;
    const t0 = performance.now();
    const queuedBefore = this.queuedTotal;
    const meta = this.recvMeta;
    const data = this.recvData;
    const ops = this.recvOps;
    let n = 0;
    for (let i = 0; i < count; i++) {
      const m = i * 4;
      const ip4 = meta[m + 1];
      const port = meta[m + 2];
      const len = meta[m + 3];
      const off = i * SLOT_SIZE;
      if (len < 1) continue;
      const b0 = data[off];
      const t = this.byAddress.get(addrKey(ip4, port));
      if (b0 >= 128 && b0 <= 191) {
        if (t === undefined || t.srtpId < 0) {
          this.droppedUnknown++;
          continue;
        }
        t.packetsIn++;
        t.bytesIn += len;
        ops[n * RECV_OP_WORDS] = t.srtpId;
        ops[n * RECV_OP_WORDS + 1] = off;
        ops[n * RECV_OP_WORDS + 2] = len;
        this.recvTransports[n++] = t;
      } else if (b0 < 4) {
        this.onStun(data.subarray(off, off + len), ip4, port, t);
      } else if (b0 >= 20 && b0 <= 63) {
        if (t === undefined) this.droppedUnknown++;
        else t.onDtls(data.subarray(off, off + len));
      } else {
        this.droppedUnknown++;
      }
    }
    if (n > 0) {
      this.srtp.unprotectBatch(data, ops, n, RECV_OP_WORDS, 0, 1, 2);
      for (let j = 0; j < n; j++) {
        const t = this.recvTransports[j]!;
        this.recvTransports[j] = null;
        const len = ops[j * RECV_OP_WORDS + 2];
        if (len <= 0) {
          t.srtpFailures++;
          continue;
        }
        if (t.state === 'closed') continue;
        const off = ops[j * RECV_OP_WORDS + 1];
        const pt = data[off + 1];
        if (pt >= 192 && pt <= 223) t.listener.onRtcp(data, off, len);
        else t.listener.onRtp(data, off, len);
      }
    }
    this.inBatch = false;
    this.flush();
    const forwarded = this.queuedTotal - queuedBefore;
    if (forwarded > 0) {
      const us = (performance.now() - t0) * 1000;
      let b = 0;
      while (b < 31 && us >= 2 << b) b++;
      this.processingUs[b] += forwarded;
    }
  }

  /**
   * Forwarding latency inside the server, as packet counts in log2 µs buckets (index i counts
   * [2^i, 2^(i+1)) µs): `processing` from the receive batch's callback to its packets being
   * queued for sending (decrypt, forwarding logic, copies), `send` from queued to sent (encrypt
   * and sendmmsg on the send thread; null when sending happens inside processing).
   */
  latencyHistograms(): { processingUs: number[]; sendUs: number[] | null } {
    return { processingUs: Array.from(this.processingUs), sendUs: this.out?.sendLatencyUs() ?? null };
  }

  private onStun(buf: Uint8Array, ip4: number, port: number, known: WebRtcTransport | undefined): void {
    const msg = parseStun(buf);
    if (msg === null) return;
    let t = known;
    if (t === undefined) {
      const ufrag = requestLocalUfrag(msg);
      t = ufrag === undefined ? undefined : this.byUfrag.get(ufrag);
      if (t === undefined) {
        this.droppedUnknown++;
        return;
      }
    }
    const verdict = t.ice.check(msg, intToIp4(ip4), port, 4, this.writer, Date.now());
    if (verdict === CHECK_INVALID) return;
    const key = addrKey(ip4, port);
    const owner = this.byAddress.get(key);
    if (owner !== t) {
      if (owner !== undefined) owner.addressKeys.delete(key);
      this.byAddress.set(key, t);
      t.addressKeys.add(key);
    }
    this.queueRaw(this.writer.view(), ip4, port);
    t.onIceCheck(ip4, port, verdict === CHECK_NOMINATED);
    t.maybeStartDtlsClient();
  }

  /** Sends bytes as they are (STUN, DTLS) to the transport's address. */
  sendRaw(t: SendTarget, bytes: Uint8Array): void {
    if (t.tcp !== null) {
      t.tcp.send(bytes, 0, bytes.length);
      return;
    }
    if (!t.hasAddress) return;
    this.queueRaw(bytes, t.ip4, t.port);
  }

  private queueRaw(bytes: Uint8Array, ip4: number, port: number): void {
    if (bytes.length > SLOT_SIZE) return;
    const o = this.out.slotOffset();
    if (o < 0) return;
    this.out.data.set(bytes, o);
    this.op(ip4, port, -1, bytes.length);
  }

  /** The buffer beginSend's offsets point into. */
  get sendData(): Uint8Array {
    return this.out.data;
  }

  private op(ip4: number, port: number, srtpId: number, len: number): void {
    this.out.push(ip4, port, srtpId, len);
    this.queuedTotal++;
    if (!this.inBatch && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** See WebRtcTransport.beginSend. */
  beginSend(src: Uint8Array, off: number, len: number): number {
    if (len > SLOT_SIZE - TAG_ROOM || len < 12) return -1;
    const o = this.out.slotOffset();
    if (o < 0) return -1;
    if (len < 64) {
      const d = this.out.data;
      for (let i = 0; i < len; i++) d[o + i] = src[off + i];
    } else if (src === this.recvData) {
      this.recvBuf.copy(this.out.buf, o, off, off + len);
    } else {
      Buffer.prototype.copy.call(src, this.out.buf, o, off, off + len);
    }
    return o;
  }

  commitSend(t: SendTarget, len: number, srtpId: number): void {
    if (t.tcp !== null) {
      // ICE-TCP: protect now and write; the slot is not consumed
      const o = this.out.slotOffset();
      if (o < 0) return;
      const d = this.out.data;
      const end = o + SLOT_SIZE;
      const slot = d.subarray(o, end);
      const pt = d[o + 1];
      const n = pt >= 192 && pt <= 223 ? this.srtp.protectRtcp(srtpId, slot, 0, len) : this.srtp.protectRtp(srtpId, slot, 0, len);
      if (n > 0) t.tcp.send(slot, 0, n);
      return;
    }
    this.op(t.ip4, t.port, srtpId, len);
  }

  // ---- ICE-TCP (TcpMuxHost) -----------------------------------------------------------

  onTcpStun(buf: Uint8Array, conn: IceTcpConnection<WebRtcTransport>): WebRtcTransport | undefined {
    const msg = parseStun(buf);
    if (msg === null) return undefined;
    let t = conn.transport ?? undefined;
    if (t === undefined) {
      const ufrag = requestLocalUfrag(msg);
      t = ufrag === undefined ? undefined : this.byUfrag.get(ufrag);
      if (t === undefined) return undefined;
    }
    const ip = conn.socket.remoteAddress ?? '0.0.0.0';
    const port = conn.socket.remotePort ?? 0;
    const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
    const verdict = t.ice.check(msg, v4, port, v4.includes(':') ? 6 : 4, this.writer, Date.now());
    if (verdict === CHECK_INVALID) return undefined;
    const view = this.writer.view();
    conn.send(view, 0, view.length);
    t.onIceCheck(0, port, verdict === CHECK_NOMINATED, conn);
    return t;
  }

  onTcpDtls(t: WebRtcTransport, buf: Uint8Array): void {
    t.onDtls(buf);
  }

  onTcpSrtp(t: WebRtcTransport, buf: Uint8Array): void {
    if (t.srtpId < 0 || t.state === 'closed') return;
    const pt = buf[1];
    const rtcp = pt >= 192 && pt <= 223;
    const n = rtcp ? this.srtp.unprotectRtcp(t.srtpId, buf, 0, buf.length) : this.srtp.unprotectRtp(t.srtpId, buf, 0, buf.length);
    t.packetsIn++;
    t.bytesIn += buf.length;
    if (n <= 0) {
      t.srtpFailures++;
      return;
    }
    if (rtcp) t.listener.onRtcp(buf, 0, n);
    else t.listener.onRtp(buf, 0, n);
    if (!this.inBatch) this.flush();
  }

  /** Protects every queued media packet and sends the queue (on the send thread by default). */
  flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.out === undefined) return;
    this.out.flush();
  }

  private tick(): void {
    const now = Date.now();
    for (const t of this.transports) t.tick(now);
  }

  stats(): UdpMuxStats {
    const b = this.batch.stats();
    const s = this.srtp.stats();
    return {
      transports: this.transports.size,
      received: b.received,
      sent: this.out?.sent() ?? 0,
      droppedUnknown: this.droppedUnknown,
      droppedSend: this.out?.dropped() ?? 0,
      srtpAuthFailures: s.authFailures,
      srtpReplays: s.replays,
    };
  }

  close(): void {
    if (this.closed) return;
    for (const t of [...this.transports]) t.close();
    this.flush();
    this.out?.close();
    this.closed = true;
    this.tcpMux?.close();
    if (this.timer !== null) clearInterval(this.timer);
    this.batch.close();
    this.srtp.close();
  }
}

