// SrtpTable behaviour: round trips, ROC rollover, replay and auth failures, malformed input,
// batches with mixed contexts, RTCP, context ids and stats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  DtlsSrtpError,
  SrtpTable,
  deriveSrtpSessionKeys,
  srtpOverhead,
  SRTP_ERR_AUTH,
  SRTP_ERR_MALFORMED,
  SRTP_ERR_NO_CONTEXT,
  SRTP_ERR_NO_ROOM,
  SRTP_ERR_REPLAY,
  type SrtpProfile,
} from '../src/index.js';
import { rtcpSr, rtp, toHex, withRoom } from './helpers.js';

const PROFILES: SrtpProfile[] = ['SRTP_AES128_CM_SHA1_80', 'SRTP_AEAD_AES_128_GCM'];
const saltLen = (p: SrtpProfile) => (p === 'SRTP_AES128_CM_SHA1_80' ? 14 : 12);

/** A sender table and a receiver table with mirrored keys. */
function pair(profile: SrtpProfile) {
  const a = { key: crypto.randomBytes(16), salt: crypto.randomBytes(saltLen(profile)) };
  const b = { key: crypto.randomBytes(16), salt: crypto.randomBytes(saltLen(profile)) };
  const tx = new SrtpTable();
  const rx = new SrtpTable();
  const txId = tx.add(profile, a.key, a.salt, b.key, b.salt);
  const rxId = rx.add(profile, b.key, b.salt, a.key, a.salt);
  return { tx, rx, txId, rxId, a, b };
}

function roundTrip(profile: SrtpProfile, pkt: Uint8Array, p = pair(profile)) {
  const buf = withRoom(pkt);
  const n = p.tx.protectRtp(p.txId, buf, 0, pkt.length);
  assert.equal(n, pkt.length + srtpOverhead(profile, false));
  const m = p.rx.unprotectRtp(p.rxId, buf, 0, n);
  assert.equal(m, pkt.length);
  assert.equal(toHex(buf.subarray(0, m)), toHex(pkt));
  return p;
}

for (const profile of PROFILES) {
  test(`${profile}: RTP round trip with CSRCs, header extension, empty and large payloads`, () => {
    const p = pair(profile);
    roundTrip(profile, rtp(1, 0x11111111, 0), p);
    roundTrip(profile, rtp(2, 0x11111111, 1200, { csrcs: [7, 8, 9] }), p);
    roundTrip(profile, rtp(3, 0x11111111, 33, { ext: new Uint8Array([0x10, 0xaa, 0, 0]) }), p);
    roundTrip(profile, rtp(4, 0x22222222, 1400, { csrcs: [1], ext: new Uint8Array(12).fill(3) }), p);
    // The header stays in the clear, the payload does not.
    const pkt = rtp(5, 0x33333333, 64);
    const buf = withRoom(pkt);
    p.tx.protectRtp(p.txId, buf, 0, pkt.length);
    assert.equal(toHex(buf.subarray(0, 12)), toHex(pkt.subarray(0, 12)));
    assert.notEqual(toHex(buf.subarray(12, 76)), toHex(pkt.subarray(12)));
  });

  test(`${profile}: ROC rollover across 65535 -> 0, in order and reordered`, () => {
    const p = pair(profile);
    const ssrc = 0xcafe0001;
    const sent: Uint8Array[] = [];
    const plain: Uint8Array[] = [];
    for (let i = 0; i < 20; i++) {
      const seq = (65530 + i) & 0xffff;
      const pkt = rtp(seq, ssrc, 50 + i);
      const buf = withRoom(pkt);
      const n = p.tx.protectRtp(p.txId, buf, 0, pkt.length);
      assert.ok(n > 0);
      sent.push(buf.slice(0, n));
      plain.push(pkt);
    }
    // Deliver with packets swapped around the wrap (65535 after 0 and 1).
    const order = [0, 1, 2, 3, 4, 6, 7, 5, ...Array.from({ length: 12 }, (_, i) => i + 8)];
    for (const i of order) {
      const buf = withRoom(sent[i]);
      const m = p.rx.unprotectRtp(p.rxId, buf, 0, sent[i].length);
      assert.equal(m, plain[i].length, `packet ${i}`);
      assert.equal(toHex(buf.subarray(0, m)), toHex(plain[i]));
    }
    if (profile === 'SRTP_AES128_CM_SHA1_80') {
      // Independent check that packets after the wrap carry ROC 1 in the tag.
      const sk = deriveSrtpSessionKeys(profile, p.a.key, p.a.salt);
      const pkt = sent[10]; // seq 4 after the wrap
      const body = pkt.subarray(0, pkt.length - 10);
      const roc1 = Buffer.from([0, 0, 0, 1]);
      const mac = crypto.createHmac('sha1', sk.rtpAuth!).update(body).update(roc1).digest().subarray(0, 10);
      assert.equal(toHex(pkt.subarray(pkt.length - 10)), mac.toString('hex'));
    }
    // A second wrap: jump to 65535 of ROC 1, then 0 of ROC 2.
    for (const seq of [30000, 60000, 65535, 0, 1]) roundTrip(profile, rtp(seq, ssrc, 10), p);
  });

  test(`${profile}: replays are rejected (duplicate, and older than the 64-packet window)`, () => {
    const p = pair(profile);
    const ssrc = 42;
    const wire: Uint8Array[] = [];
    for (let seq = 100; seq < 200; seq++) {
      const pkt = rtp(seq, ssrc, 20);
      const buf = withRoom(pkt);
      const n = p.tx.protectRtp(p.txId, buf, 0, pkt.length);
      wire.push(buf.slice(0, n));
    }
    // Receive 150..199 first, then 100 (too old) and 140 (inside the window, not seen yet).
    for (let i = 50; i < 100; i++) assert.ok(p.rx.unprotectRtp(p.rxId, wire[i].slice(), 0, wire[i].length) > 0);
    assert.equal(p.rx.unprotectRtp(p.rxId, wire[0].slice(), 0, wire[0].length), SRTP_ERR_REPLAY);
    assert.ok(p.rx.unprotectRtp(p.rxId, wire[40].slice(), 0, wire[40].length) > 0);
    assert.equal(p.rx.unprotectRtp(p.rxId, wire[40].slice(), 0, wire[40].length), SRTP_ERR_REPLAY);
    assert.equal(p.rx.unprotectRtp(p.rxId, wire[99].slice(), 0, wire[99].length), SRTP_ERR_REPLAY);
    assert.equal(p.rx.stats().replays, 3);
    // RTCP has its own window.
    const r = rtcpSr(ssrc);
    const buf = withRoom(r);
    const n = p.tx.protectRtcp(p.txId, buf, 0, r.length);
    assert.ok(p.rx.unprotectRtcp(p.rxId, buf.slice(), 0, n) > 0);
    assert.equal(p.rx.unprotectRtcp(p.rxId, buf.slice(), 0, n), SRTP_ERR_REPLAY);
  });

  test(`${profile}: a flipped bit anywhere is rejected with SRTP_ERR_AUTH`, () => {
    const p = pair(profile);
    const pkt = rtp(7, 99, 40);
    const buf = withRoom(pkt);
    const n = p.tx.protectRtp(p.txId, buf, 0, pkt.length);
    const wire = buf.slice(0, n);
    let failures = 0;
    for (const i of [0 + 1, 5, 12, 30, n - 11, n - 1]) {
      const bad = wire.slice();
      bad[i] ^= 0x04;
      assert.equal(p.rx.unprotectRtp(p.rxId, bad, 0, n), SRTP_ERR_AUTH, `byte ${i}`);
      failures++;
    }
    // The genuine packet is still accepted afterwards.
    const good = wire.slice();
    assert.equal(p.rx.unprotectRtp(p.rxId, good, 0, n), pkt.length);
    // RTCP
    const r = rtcpSr(99, 16);
    const rb = withRoom(r);
    const rn = p.tx.protectRtcp(p.txId, rb, 0, r.length);
    for (const i of [2, 9, rn - 1, rn - 12]) {
      const bad = rb.slice(0, rn);
      bad[i] ^= 0x80;
      assert.equal(p.rx.unprotectRtcp(p.rxId, bad, 0, rn), SRTP_ERR_AUTH, `rtcp byte ${i}`);
      failures++;
    }
    const st = p.rx.stats();
    assert.equal(st.authFailures, failures);
    assert.equal(st.unprotected, 1);
  });

  test(`${profile}: RTCP protect/unprotect with E-bit and increasing SRTCP index`, () => {
    const p = pair(profile);
    const indexes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = rtcpSr(0x51515151, 4 * i);
      const buf = withRoom(r);
      const n = p.tx.protectRtcp(p.txId, buf, 0, r.length);
      assert.equal(n, r.length + srtpOverhead(profile, true));
      const trailerAt = profile === 'SRTP_AES128_CM_SHA1_80' ? n - 14 : n - 4;
      const word = new DataView(buf.buffer).getUint32(trailerAt);
      assert.equal(word >>> 31, 1, 'E bit');
      indexes.push(word & 0x7fffffff);
      assert.notEqual(toHex(buf.subarray(8, r.length)), toHex(r.subarray(8)));
      assert.equal(p.rx.unprotectRtcp(p.rxId, buf, 0, n), r.length);
      assert.equal(toHex(buf.subarray(0, r.length)), toHex(r));
    }
    assert.deepEqual(indexes, [1, 2, 3, 4, 5]);
  });

  test(`${profile}: malformed, short and out-of-range input, unknown ids, no room`, () => {
    const p = pair(profile);
    const buf = new Uint8Array(2000);
    const tag = srtpOverhead(profile, false);
    // Unknown / removed / negative ids
    assert.equal(p.tx.protectRtp(5, buf, 0, 100), SRTP_ERR_NO_CONTEXT);
    assert.equal(p.tx.protectRtp(-1, buf, 0, 100), SRTP_ERR_NO_CONTEXT);
    assert.equal(p.tx.unprotectRtcp(1 << 30, buf, 0, 100), SRTP_ERR_NO_CONTEXT);
    // Short and bad versions
    buf.set(rtp(1, 1, 10));
    for (const len of [0, 1, 11]) assert.equal(p.tx.protectRtp(p.txId, buf, 0, len), SRTP_ERR_MALFORMED);
    for (const len of [0, 11, 12 + tag - 1]) assert.equal(p.rx.unprotectRtp(p.rxId, buf, 0, len), SRTP_ERR_MALFORMED);
    for (const len of [0, 7]) assert.equal(p.tx.protectRtcp(p.txId, buf, 0, len), SRTP_ERR_MALFORMED);
    for (const len of [0, 8, 8 + tag + 3]) assert.equal(p.rx.unprotectRtcp(p.rxId, buf, 0, len), SRTP_ERR_MALFORMED);
    const v1 = rtp(1, 1, 10);
    v1[0] = 0x40;
    assert.equal(p.tx.protectRtp(p.txId, withRoom(v1), 0, v1.length), SRTP_ERR_MALFORMED);
    // CSRC count or extension length beyond the packet
    const cc = rtp(1, 1, 10);
    cc[0] = 0x8f;
    assert.equal(p.tx.protectRtp(p.txId, withRoom(cc), 0, cc.length), SRTP_ERR_MALFORMED);
    const ext = rtp(1, 1, 0, { ext: new Uint8Array(4) });
    ext[14] = 0xff;
    assert.equal(p.tx.protectRtp(p.txId, withRoom(ext), 0, ext.length), SRTP_ERR_MALFORMED);
    assert.equal(p.rx.unprotectRtp(p.rxId, withRoom(ext), 0, ext.length), SRTP_ERR_MALFORMED);
    // Offsets and lengths outside the buffer
    assert.equal(p.tx.protectRtp(p.txId, buf, -1, 50), SRTP_ERR_MALFORMED);
    assert.equal(p.tx.protectRtp(p.txId, buf, 1990, 50), SRTP_ERR_MALFORMED);
    assert.equal(p.tx.protectRtp(p.txId, buf, 0, 5000), SRTP_ERR_MALFORMED);
    assert.equal(p.tx.protectRtp(p.txId, buf, 0, -3), SRTP_ERR_MALFORMED);
    assert.equal(p.tx.protectRtp(p.txId, buf, 0.5, 20), SRTP_ERR_MALFORMED);
    assert.equal(p.tx.protectRtp(p.txId, buf, Number.NaN, 20), SRTP_ERR_MALFORMED);
    // No room for the tag
    const exact = rtp(1, 1, 10);
    assert.equal(p.tx.protectRtp(p.txId, exact, 0, exact.length), SRTP_ERR_NO_ROOM);
    assert.equal(p.tx.protectRtp(p.txId, withRoom(exact, tag - 1), 0, exact.length), SRTP_ERR_NO_ROOM);
    const r = rtcpSr(1);
    assert.equal(p.tx.protectRtcp(p.txId, withRoom(r, tag + 3), 0, r.length), SRTP_ERR_NO_ROOM);
    // Random garbage never crashes.
    for (let i = 0; i < 2000; i++) {
      const g = crypto.randomBytes(1 + (i % 300));
      const gb = withRoom(g);
      p.rx.unprotectRtp(p.rxId, gb, 0, g.length);
      p.rx.unprotectRtcp(p.rxId, gb, 0, g.length);
      p.tx.protectRtp(p.txId, gb, 0, g.length);
      p.tx.protectRtcp(p.txId, gb, 0, g.length);
    }
  });
}

test('protect/unprotect at an offset inside a larger buffer', () => {
  const p = pair('SRTP_AEAD_AES_128_GCM');
  const big = new Uint8Array(4096).fill(0xee);
  const pkt = rtp(9, 9, 100);
  big.set(pkt, 1000);
  const n = p.tx.protectRtp(p.txId, big, 1000, pkt.length);
  assert.equal(big[999], 0xee);
  assert.equal(big[1000 + n], 0xee);
  const sub = big.subarray(500, 2000); // a view with a byteOffset
  assert.equal(p.rx.unprotectRtp(p.rxId, sub, 500, n), pkt.length);
  assert.equal(toHex(sub.subarray(500, 500 + pkt.length)), toHex(pkt));
});

test('batch: mixed contexts and profiles, RTP and RTCP, skips and errors, custom layout', () => {
  const cm = pair('SRTP_AES128_CM_SHA1_80');
  const tx = new SrtpTable();
  const rx = new SrtpTable();
  const gk = crypto.randomBytes(16), gs = crypto.randomBytes(12), hk = crypto.randomBytes(16), hs = crypto.randomBytes(12);
  const ck = cm.a.key, cs = cm.a.salt, dk = cm.b.key, ds = cm.b.salt;
  const txIds = [tx.add('SRTP_AES128_CM_SHA1_80', ck, cs, dk, ds), tx.add('SRTP_AEAD_AES_128_GCM', gk, gs, hk, hs)];
  const rxIds = [rx.add('SRTP_AES128_CM_SHA1_80', dk, ds, ck, cs), rx.add('SRTP_AEAD_AES_128_GCM', hk, hs, gk, gs)];
  const SLOT = 1500;
  const STRIDE = 5; // [len, junk, off, id, junk]
  const L = 0, O = 2, I = 3;
  const count = 40;
  const buf = new Uint8Array(SLOT * count);
  const ops = new Int32Array(STRIDE * count);
  const plain: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const isRtcp = i % 5 === 4;
    const pkt = isRtcp ? rtcpSr(1000 + (i % 3), 8) : rtp(60000 + i * 200, 1000 + (i % 3), 100 + i);
    plain.push(pkt);
    buf.set(pkt, i * SLOT);
    ops[i * STRIDE + L] = pkt.length;
    ops[i * STRIDE + O] = i * SLOT;
    ops[i * STRIDE + I] = txIds[i % 2];
    ops[i * STRIDE + 1] = 777;
    ops[i * STRIDE + 4] = 888;
  }
  ops[7 * STRIDE + I] = -1; // skip
  ops[9 * STRIDE + I] = 99; // unknown id
  ops[11 * STRIDE + O] = buf.length - 10; // outside
  tx.protectBatch(buf, ops, count, STRIDE, I, O, L);
  for (let i = 0; i < count; i++) {
    const len = ops[i * STRIDE + L];
    const isRtcp = i % 5 === 4;
    if (i === 7) assert.equal(len, plain[i].length);
    else if (i === 9) assert.equal(len, SRTP_ERR_NO_CONTEXT);
    else if (i === 11) assert.equal(len, SRTP_ERR_MALFORMED);
    else assert.equal(len, plain[i].length + srtpOverhead(i % 2 ? 'SRTP_AEAD_AES_128_GCM' : 'SRTP_AES128_CM_SHA1_80', isRtcp), `entry ${i}`);
    assert.equal(ops[i * STRIDE + 1], 777);
    assert.equal(ops[i * STRIDE + 4], 888);
  }
  // Unprotect on the other side (fix up the entries that failed/skipped to be skipped).
  for (const i of [7, 9, 11]) ops[i * STRIDE + I] = -1;
  for (let i = 0; i < count; i++) if (ops[i * STRIDE + I] >= 0) ops[i * STRIDE + I] = rxIds[i % 2];
  ops[13 * STRIDE + I] = rxIds[(13 + 1) % 2]; // wrong context -> auth failure
  rx.unprotectBatch(buf, ops, count, STRIDE, I, O, L);
  for (let i = 0; i < count; i++) {
    if (i === 7 || i === 9 || i === 11) continue;
    const len = ops[i * STRIDE + L];
    if (i === 13) {
      assert.ok(len === SRTP_ERR_AUTH || len === SRTP_ERR_MALFORMED, `entry 13: ${len}`);
      continue;
    }
    assert.equal(len, plain[i].length, `entry ${i}`);
    assert.equal(toHex(buf.subarray(i * SLOT, i * SLOT + len)), toHex(plain[i]));
  }
  const st = rx.stats();
  assert.equal(st.unprotected, count - 4);
  assert.equal(tx.stats().protected, count - 3);
  // Bad layouts throw (argument errors), they are not per-packet results.
  assert.throws(() => tx.protectBatch(buf, ops, count + 1, STRIDE, I, O, L), RangeError);
  assert.throws(() => tx.protectBatch(buf, ops, 1, STRIDE, STRIDE, O, L), RangeError);
  assert.throws(() => tx.protectBatch(buf, ops, 1, 0, 0, 0, 0), RangeError);
  tx.protectBatch(buf, ops, 0, STRIDE, I, O, L);
});

test('contexts: ids reused after remove, many SSRCs per context, close, key length checks', () => {
  const t = new SrtpTable();
  const k = crypto.randomBytes(16), s = crypto.randomBytes(14);
  const ids = [0, 1, 2].map(() => t.add('SRTP_AES128_CM_SHA1_80', k, s, k, s));
  assert.deepEqual(ids, [0, 1, 2]);
  t.remove(1);
  t.remove(1);
  t.remove(123);
  assert.equal(t.stats().contexts, 2);
  assert.equal(t.protectRtp(1, withRoom(rtp(1, 1, 10)), 0, 22), SRTP_ERR_NO_CONTEXT);
  assert.equal(t.add('SRTP_AES128_CM_SHA1_80', k, s, k, s), 1);
  // A context with the same keys both ways can unprotect its own output; 100 SSRCs.
  for (let ssrc = 1; ssrc <= 100; ssrc++) {
    for (let seq = 0; seq < 3; seq++) {
      const pkt = rtp(seq, ssrc * 7919, 30);
      const buf = withRoom(pkt);
      const n = t.protectRtp(0, buf, 0, pkt.length);
      assert.equal(t.unprotectRtp(0, buf, 0, n), pkt.length);
    }
  }
  assert.throws(() => t.add('SRTP_AES128_CM_SHA1_80', k, s.subarray(0, 12), k, s), (e: unknown) => e instanceof DtlsSrtpError && e.code === 'SB_ERR_SRTP');
  assert.throws(() => t.add('SRTP_AEAD_AES_128_GCM', k, s, k, s), (e: unknown) => e instanceof DtlsSrtpError && e.code === 'SB_ERR_SRTP');
  assert.throws(() => t.add('BOGUS' as SrtpProfile, k, s, k, s), DtlsSrtpError);
  t.close();
  assert.equal(t.stats().contexts, 0);
  assert.equal(t.protectRtp(0, withRoom(rtp(1, 1, 10)), 0, 22), SRTP_ERR_NO_CONTEXT);
  t.close();
  // Usable again after close.
  assert.equal(t.add('SRTP_AES128_CM_SHA1_80', k, s, k, s), 0);
});

test('the addon loads in worker threads (context-aware) and each thread has its own tables', async () => {
  const { Worker } = await import('node:worker_threads');
  const { fileURLToPath } = await import('node:url');
  const addon = fileURLToPath(new URL('../build/Release/dtls_srtp.node', import.meta.url));
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const n = require(workerData.addon);
    const t = n.tableNew();
    const k = new Uint8Array(16).fill(workerData.i), s = new Uint8Array(12).fill(3);
    const id = n.tableAdd(t, 7, k, s, k, s);
    const buf = new Uint8Array(100); buf[0] = 0x80; buf[1] = 96; buf[3] = 1;
    const len = n.tableOp(t, 0, id, buf, 0, 60);
    const back = n.tableOp(t, 1, id, buf, 0, len);
    const c = n.certGenerate();
    parentPort.postMessage({ len, back, fp: c.fingerprint.length });
  `;
  const results = await Promise.all(
    [1, 2, 3].map(
      (i) =>
        new Promise<{ len: number; back: number; fp: number }>((resolve, reject) => {
          const w = new Worker(code, { eval: true, workerData: { addon, i } });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  );
  for (const r of results) assert.deepEqual(r, { len: 76, back: 60, fp: 95 });
});
