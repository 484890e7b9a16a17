// SrtpSender: protect and sendmmsg on a native thread. Packets queued in buffers arrive at a
// UDP socket in order, decrypt with the peer's keys, and raw (non-SRTP) ops go out as they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import { openUdp4, ip4ToInt } from '@switchboard/netio';
import { SENDER_OP_WORDS, SrtpSender, SrtpTable } from '../src/index.js';
import { rtp, toHex } from './helpers.js';

test('SrtpSender: 3 buffers of 100 packets arrive in order and decrypt; raw ops are sent as they are', async () => {
  const a = { key: crypto.randomBytes(16), salt: crypto.randomBytes(12) };
  const b = { key: crypto.randomBytes(16), salt: crypto.randomBytes(12) };
  const tx = new SrtpTable();
  const rx = new SrtpTable();
  const txId = tx.add('SRTP_AEAD_AES_128_GCM', a.key, a.salt, b.key, b.salt);
  const rxId = rx.add('SRTP_AEAD_AES_128_GCM', b.key, b.salt, a.key, a.salt);
  const sink = dgram.createSocket('udp4');
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
  sink.setRecvBufferSize(4 << 20); // sendmmsg bursts 100 at a time
  const port = sink.address().port;
  const got: Buffer[] = [];
  sink.on('message', (m) => got.push(m));
  const fd = openUdp4('127.0.0.1', 0);
  const sender = new SrtpSender(tx, fd, { buffers: 2, slots: 128, slotSize: 2048 });
  try {
    const sent: Uint8Array[] = [];
    for (let round = 0; round < 3; round++) {
      const buf = sender.acquire(1000);
      assert.ok(buf >= 0);
      for (let i = 0; i < 100; i++) {
        const seq = round * 100 + i;
        const pkt = i === 99 ? new TextEncoder().encode(`raw ${round}`) : rtp(seq, 0x1234, 900 + (seq % 50));
        const off = i * sender.slotSize;
        sender.data.set(pkt, sender.bufferOffset(buf) + off);
        const o = (buf * sender.slots + i) * SENDER_OP_WORDS;
        sender.ops.set([ip4ToInt('127.0.0.1'), port, i === 99 ? -1 : txId, off, pkt.length], o);
        sent.push(pkt);
      }
      sender.submit(buf, 100);
    }
    const deadline = Date.now() + 5000;
    while (got.length < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(got.length, 300);
    for (let i = 0; i < 300; i++) {
      const m = Buffer.concat([got[i], Buffer.alloc(32)]);
      if (i % 100 === 99) {
        assert.equal(got[i].toString(), `raw ${Math.floor(i / 100)}`);
        continue;
      }
      const n = rx.unprotectRtp(rxId, m, 0, got[i].length);
      assert.equal(n, sent[i].length, `packet ${i}`);
      assert.equal(toHex(m.subarray(0, n)), toHex(sent[i]));
    }
    const st = sender.stats();
    assert.equal(st.sent, 300);
    assert.equal(st.dropped, 0);
  } finally {
    sender.close();
    sink.close();
  }
});
