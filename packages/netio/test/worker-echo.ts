// Worker body for the thread test: echoes every datagram back to its sender, zero copy.
import { parentPort } from 'node:worker_threads';
import { localPort, META_WORDS, OP_WORDS, openUdp4, UdpBatch } from '../src/index.ts';

const batch: UdpBatch = new UdpBatch({ slots: 16, slotSize: 512, sendSlots: 16 }, (count) => {
  for (let i = 0; i < count; i++) {
    const m = i * META_WORDS, o = i * OP_WORDS, q = batch.sendQueue;
    q[o] = batch.recvMeta[m];
    q[o + 1] = batch.recvMeta[m + 1];
    q[o + 2] = batch.recvMeta[m + 2];
    q[o + 3] = 0;
    q[o + 4] = 0;
    q[o + 5] = i * batch.slotSize;
    q[o + 6] = batch.recvMeta[m + 3];
  }
  batch.flush(count);
});
const fd = openUdp4('127.0.0.1', 0, false);
batch.watch(fd, 0);
parentPort!.postMessage(localPort(fd));
