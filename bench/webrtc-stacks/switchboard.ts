// Switchboard's own send path for bench/webrtc-stacks.ts: SRTP keys from an in-memory DTLS
// handshake (@switchboard/dtls-srtp DtlsSession pair), SrtpTable.protectBatch over the send slots
// of a @switchboard/netio UdpBatch, and UdpBatch.flush (sendmmsg). The receiver is a UdpBatch
// (recvmmsg) that counts datagrams and checks a sample of them with SrtpTable.unprotectRtp.
import { performance } from 'node:perf_hooks';
import { Certificate, DtlsSession, SrtpTable, dtlsSrtpAvailable, srtpOverhead, type SrtpProfile } from '@switchboard/dtls-srtp';
import {
  FLAG_SEND_AREA,
  META_LENGTH,
  META_WORDS,
  OP_FLAGS,
  OP_HEADER,
  OP_IP,
  OP_LENGTH,
  OP_OFFSET,
  OP_PORT,
  OP_SOCK,
  OP_WORDS,
  UdpBatch,
  ip4ToInt,
  localPort,
  openUdp4,
  setSocketBuffers,
  udpBatchAvailable,
} from '@switchboard/netio';
import { CHUNK, PKT, StreamClock, next, rtpTemplate, send, serveReceiverCounts, timedSendLoop, withTimeout, writeSeqTs, writeSsrc, type ChildConfig, type Counters } from './common.js';

interface KeyMsg {
  profile: SrtpProfile;
  key: number[];
  salt: number[];
}
interface SbSignal {
  keys?: KeyMsg;
  port?: number;
}

const SSRC_BASE = 0x5b000000;

function need(): void {
  if (!dtlsSrtpAvailable()) throw new Error('@switchboard/dtls-srtp addon not built (packages/dtls-srtp/build/Release/dtls_srtp.node)');
  if (!udpBatchAvailable()) throw new Error('@switchboard/netio addon not built (packages/netio/build/Release/netio.node)');
}

/** A DTLS client/server pair handshaking in memory; returns the client's SRTP keys. */
function handshake(profile: SrtpProfile) {
  const client = new DtlsSession(Certificate.generate(), 'client', { profiles: [profile] });
  const server = new DtlsSession(Certificate.generate(), 'server', { profiles: [profile] });
  client.start();
  for (let round = 0; round < 50 && (client.state !== 'connected' || server.state !== 'connected'); round++) {
    for (const d of client.takeOutgoing()) server.receive(d);
    for (const d of server.takeOutgoing()) client.receive(d);
  }
  if (client.state !== 'connected' || server.state !== 'connected') throw new Error(`in-memory DTLS handshake failed: client ${client.state} ${client.error ?? ''}, server ${server.state} ${server.error ?? ''}`);
  const keys = client.srtpKeys();
  client.destroy();
  server.destroy();
  return keys;
}

export async function sender(cfg: ChildConfig): Promise<void> {
  need();
  const t0 = performance.now();
  const profile = cfg.profile ?? 'SRTP_AES128_CM_SHA1_80';
  const batch = cfg.batch ?? 64;
  const nSsrc = cfg.ssrcs ?? 50;
  const nCtx = Math.max(1, cfg.contexts ?? 1);
  const keys = handshake(profile);
  const table = new SrtpTable();
  // One context = one subscriber transport. With --contexts N, N contexts with the same keys (so
  // the receiver can check them) but separate cipher state, SSRC i on context i % N.
  const ctxIds = Array.from({ length: nCtx }, () => table.add(profile, keys.localKey, keys.localSalt, keys.remoteKey, keys.remoteSalt));
  // The receiver unprotects with our local keys.
  send({ type: 'signal', data: { keys: { profile, key: [...keys.localKey], salt: [...keys.localSalt] } } satisfies SbSignal });
  const port = ((await withTimeout(next('signal'), 15_000, 'receiver port')).data as SbSignal).port!;

  const slotSize = 2048;
  const io = new UdpBatch({ slots: 8, slotSize, sendSlots: Math.max(64, batch) }, () => {});
  const fd = openUdp4('127.0.0.1', 0);
  setSocketBuffers(fd, 0, 4 << 20);
  io.watch(fd, 0);
  const setupMs = performance.now() - t0;
  send({ type: 'connected', setupMs });
  await next('run');

  const { sendData, sendQueue } = io;
  // The plaintext packet as the SFU would hold it after unprotecting the publisher's packet
  // (kept outside the send slots); every send copies it into a slot, writes that subscriber's
  // header fields, and protects the slot in place.
  const template = rtpTemplate(SSRC_BASE);
  const clocks = Array.from({ length: nSsrc }, (_, i) => new StreamClock(i + 3));
  const ip = ip4ToInt('127.0.0.1');
  for (let i = 0; i < batch; i++) {
    const q = i * OP_WORDS;
    sendQueue[q + OP_SOCK] = 0;
    sendQueue[q + OP_IP] = ip;
    sendQueue[q + OP_PORT] = port;
    sendQueue[q + OP_FLAGS] = FLAG_SEND_AREA; // no FLAG_HEADER: OP_HEADER only carries the context id
    sendQueue[q + OP_OFFSET] = i * slotSize;
  }
  let rr = 0;
  let sent = 0;
  // Where the time goes (wall time inside the calls, measured per batch when batches are >= 16).
  const timed = batch >= 16;
  let protectMs = 0;
  let flushMs = 0;
  let bytes = 0;
  const c: Counters = { packets: () => sent, bytes: () => bytes, calls: 0, refused: 0 };
  const sendChunk = () => {
    for (let done = 0; done < CHUNK; done += batch) {
      for (let i = 0; i < batch; i++) {
        const off = i * slotSize;
        sendData.set(template, off);
        const clock = clocks[rr]!;
        writeSeqTs(sendData, off, clock.seq, clock.ts, clock.step());
        writeSsrc(sendData, off, SSRC_BASE + rr);
        const q = i * OP_WORDS;
        sendQueue[q + OP_HEADER] = ctxIds[rr % nCtx]!;
        sendQueue[q + OP_LENGTH] = PKT;
        if (++rr === nSsrc) rr = 0;
      }
      const a = timed ? performance.now() : 0;
      if (!cfg.noSrtp) {
        table.protectBatch(sendData, sendQueue, batch, OP_WORDS, OP_HEADER, OP_OFFSET, OP_LENGTH);
        for (let i = 0; i < batch; i++) if (sendQueue[i * OP_WORDS + OP_LENGTH]! < 0) throw new Error(`protectBatch: error ${sendQueue[i * OP_WORDS + OP_LENGTH]}`);
      }
      const b = timed ? performance.now() : 0;
      const n = io.flush(batch);
      if (timed) {
        protectMs += b - a;
        flushMs += performance.now() - b;
      }
      c.calls += batch;
      c.refused += batch - n;
      sent += n;
      bytes += n * (PKT + (cfg.noSrtp ? 0 : srtpOverhead(profile, false)));
    }
  };
  const result = await timedSendLoop(
    cfg,
    c,
    sendChunk,
    'UdpBatch.flush() return (datagrams the kernel took)',
    setupMs,
    `${cfg.noSrtp ? 'no SRTP' : profile}, ${batch}/flush, ${nSsrc} SSRCs, ${nCtx} context${nCtx > 1 ? 's' : ''}`,
  );
  result.profile = cfg.noSrtp ? 'none' : profile.replace(/^SRTP_/, '');
  if (timed && sent > 0)
    result.note += `; whole run: protectBatch ${((protectMs * 1000) / sent).toFixed(2)} µs/pkt, flush (sendmmsg) ${((flushMs * 1000) / sent).toFixed(2)} µs/pkt wall`;
  const st = io.stats();
  if (st.dropped_send) result.note += `, dropped_send ${st.dropped_send}`;
  send({ type: 'result', result });
  io.close();
  table.close();
}

export async function receiver(cfg: ChildConfig): Promise<void> {
  need();
  const plain = !!cfg.noSrtp;
  const { keys } = (await withTimeout(next('signal'), 15_000, 'keys')).data as SbSignal;
  if (!keys) throw new Error('no keys');
  const table = new SrtpTable();
  const key = Uint8Array.from(keys.key);
  const salt = Uint8Array.from(keys.salt);
  const ctx = table.add(keys.profile, key, salt, key, salt);
  const SAMPLE = 256;
  let count = 0;
  let checked = 0;
  let authentic = 0;
  const io = new UdpBatch({ slots: 64, slotSize: 2048, sendSlots: 1 }, (n) => {
    // Unprotect the first SAMPLE datagrams to prove they are valid SRTP of 1200-byte RTP.
    for (let i = 0; i < n && checked < SAMPLE; i++) {
      checked++;
      const len = io.recvMeta[i * META_WORDS + META_LENGTH]!;
      if (plain ? len === PKT : table.unprotectRtp(ctx, io.recvData, i * io.slotSize, len) === PKT) authentic++;
    }
    count += n;
  });
  const fd = openUdp4('127.0.0.1', 0);
  setSocketBuffers(fd, 8 << 20, 0);
  const port = localPort(fd);
  io.watch(fd, 0);
  serveReceiverCounts(() => count, () => (plain ? `${authentic}/${checked} sampled datagrams are ${PKT} B` : `SRTP check: ${authentic}/${checked} sampled datagrams unprotect to ${PKT} B`));
  send({ type: 'signal', data: { port } satisfies SbSignal });
}
