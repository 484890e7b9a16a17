// Micro-benchmark: ns per packet for protectBatch/unprotectBatch of 64 x 1200-byte RTP packets.
//   cd /work/main && node --import tsx packages/dtls-srtp/test/bench-srtp.ts
import crypto from 'node:crypto';
import { SrtpTable, type SrtpProfile } from '../src/index.js';

const COUNT = 64;
const SIZE = 1200;
const SLOT = 1280;
const STRIDE = 4; // [id, off, len, spare]

function bench(profile: SrtpProfile): void {
  const salt = profile === 'SRTP_AES128_CM_SHA1_80' ? 14 : 12;
  const k = crypto.randomBytes(16);
  const s = crypto.randomBytes(salt);
  const table = new SrtpTable();
  // 8 contexts (subscribers) x 4 SSRCs, as an SFU fan-out would use them.
  const ids = Array.from({ length: 8 }, () => table.add(profile, k, s, k, s));
  const buf = new Uint8Array(SLOT * COUNT);
  const ops = new Int32Array(STRIDE * COUNT);
  const template = new Uint8Array(SIZE);
  crypto.randomFillSync(template);
  template[0] = 0x80;
  template[1] = 96;
  let seq = 0;
  const fill = () => {
    for (let i = 0; i < COUNT; i++) {
      const o = i * SLOT;
      buf.set(template, o);
      buf[o + 2] = (seq >> 8) & 0xff;
      buf[o + 3] = seq & 0xff;
      buf[o + 11] = i & 3;
      if ((i & 7) === 7) seq = (seq + 1) & 0xffff;
      ops[i * STRIDE] = ids[i & 7];
      ops[i * STRIDE + 1] = o;
      ops[i * STRIDE + 2] = SIZE;
    }
  };
  const run = (batches: number, unprotectToo: boolean): [number, number] => {
    let tp = 0n;
    let tu = 0n;
    for (let b = 0; b < batches; b++) {
      fill();
      const t0 = process.hrtime.bigint();
      table.protectBatch(buf, ops, COUNT, STRIDE, 0, 1, 2);
      const t1 = process.hrtime.bigint();
      tp += t1 - t0;
      if (unprotectToo) {
        const t2 = process.hrtime.bigint();
        table.unprotectBatch(buf, ops, COUNT, STRIDE, 0, 1, 2);
        tu += process.hrtime.bigint() - t2;
        for (let i = 0; i < COUNT; i++) if (ops[i * STRIDE + 2] !== SIZE) throw new Error(`unprotect failed: ${ops[i * STRIDE + 2]}`);
      }
    }
    return [Number(tp) / (batches * COUNT), Number(tu) / (batches * COUNT)];
  };
  run(200, true); // warm-up
  const [p, u] = run(3000, true);
  const [p2] = run(3000, false);
  const fillNs = (() => {
    const t0 = process.hrtime.bigint();
    for (let b = 0; b < 3000; b++) fill();
    return Number(process.hrtime.bigint() - t0) / (3000 * COUNT);
  })();
  console.log(
    `${profile.padEnd(24)} protectBatch ${Math.min(p, p2).toFixed(0).padStart(5)} ns/packet   unprotectBatch ${u.toFixed(0).padStart(5)} ns/packet   ` +
      `(${COUNT} x ${SIZE} B; ${((SIZE * 8) / Math.min(p, p2)).toFixed(1)} Gbit/s protect; JS refill ${fillNs.toFixed(0)} ns/packet not counted)`,
  );
  table.close();
}

console.log(`node ${process.version}, OpenSSL ${process.versions.openssl}, ${crypto.getCiphers().includes('aes-128-gcm') ? 'aes-gcm ok' : ''}`);
for (const p of ['SRTP_AES128_CM_SHA1_80', 'SRTP_AEAD_AES_128_GCM'] as SrtpProfile[]) bench(p);
