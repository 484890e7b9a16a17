// Fuzz: random bytes and damaged valid packets into every reader and parseRtcp.
// - Readers never throw, return numbers/booleans (strings for readStringExtension), and never read
//   or write outside [off, off+len): checked exactly with a Proxy that records every index access,
//   and again by embedding the same bytes in differently filled buffers (results must not change).
// - parseRtcp returns or throws RtpError only, and its result does not depend on bytes outside the range.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  RtpError,
  av1IsKeyframe,
  findHeaderExtension,
  h264IsKeyframe,
  isRtcp,
  isRtpOrRtcp,
  newVp8Descriptor,
  parseRtcp,
  readAbsSendTime,
  readAudioLevel,
  readRtx,
  readStringExtension,
  readTransportSeq,
  readVp8Descriptor,
  rtpHeaderLength,
  rtpMarker,
  rtpPaddingLength,
  rtpPayloadLength,
  rtpPayloadType,
  rtpSeq,
  rtpSsrc,
  rtpTimestamp,
  setHeaderExtensionId,
  vp8IsKeyframe,
  vp9IsKeyframe,
  writeAbsSendTime,
  writeNack,
  writeReceiverReport,
  writeRemb,
  writeRtx,
  writeSdes,
  writeTransportCc,
  writeTransportSeq,
} from '../src/index.js';
import { buildRtp } from './helpers.js';

const RUNS = 3000;

/** A view whose index reads/writes outside [lo, hi) are recorded in `violations`. */
function guarded(target: Uint8Array, lo: number, hi: number, violations: string[]): Uint8Array {
  return new Proxy(target, {
    get(t, prop) {
      if (typeof prop === 'string' && /^-?\d+$/.test(prop)) {
        const i = Number(prop);
        if (i < lo || i >= hi) violations.push(`read ${i} outside [${lo}, ${hi})`);
        return t[i];
      }
      const v = Reflect.get(t, prop, t);
      return typeof v === 'function' ? v.bind(t) : v;
    },
    set(t, prop, value) {
      if (typeof prop === 'string' && /^-?\d+$/.test(prop)) {
        const i = Number(prop);
        if (i < lo || i >= hi) violations.push(`write ${i} outside [${lo}, ${hi})`);
        t[i] = value;
        return true;
      }
      return Reflect.set(t, prop, value, t);
    },
  });
}

type Reader = (b: Uint8Array, off: number, len: number) => unknown;
const vp8 = newVp8Descriptor();
const ids = [0, 1, 2, 3, 4, 5, 7, 13, 14, 15, 16, 200, 255, 256];

const readers: [string, Reader][] = [
  ['isRtpOrRtcp', isRtpOrRtcp],
  ['isRtcp', isRtcp],
  ['rtpHeaderLength', rtpHeaderLength],
  ['rtpPayloadLength', rtpPayloadLength],
  ['rtpPaddingLength', rtpPaddingLength],
  ['fixed header', (b, o, l) => (l >= 12 ? [rtpMarker(b, o), rtpPayloadType(b, o), rtpSeq(b, o), rtpTimestamp(b, o), rtpSsrc(b, o)] : [])],
  ['findHeaderExtension', (b, o, l) => ids.map((id) => findHeaderExtension(b, o, l, id))],
  ['readAudioLevel', (b, o, l) => ids.map((id) => readAudioLevel(b, o, l, id))],
  ['readTransportSeq', (b, o, l) => ids.map((id) => readTransportSeq(b, o, l, id))],
  ['readAbsSendTime', (b, o, l) => ids.map((id) => readAbsSendTime(b, o, l, id))],
  ['readStringExtension', (b, o, l) => ids.map((id) => readStringExtension(b, o, l, id))],
  ['vp8IsKeyframe', vp8IsKeyframe],
  ['readVp8Descriptor', (b, o, l) => [readVp8Descriptor(b, o, l, vp8), { ...vp8 }]],
  ['vp9IsKeyframe', vp9IsKeyframe],
  ['h264IsKeyframe', h264IsKeyframe],
  ['av1IsKeyframe', av1IsKeyframe],
];

function checkValueTypes(name: string, v: unknown): void {
  const flat = Array.isArray(v) ? v : [v];
  for (const x of flat) {
    if (name === 'readStringExtension') assert.ok(x === undefined || typeof x === 'string');
    else if (name === 'readVp8Descriptor') assert.ok(typeof x === 'boolean' || typeof x === 'object');
    else assert.ok(typeof x === 'number' || typeof x === 'boolean', `${name} returned ${typeof x}`);
    if (typeof x === 'number') assert.ok(Number.isInteger(x), `${name} returned ${x}`);
  }
}

function embedFill(data: Uint8Array, pre: number, post: number, fill: number): Uint8Array {
  const b = new Uint8Array(pre + data.length + post).fill(fill);
  b.set(data, pre);
  return b;
}

/** Runs every reader on data placed at `pre`: guarded (exact bounds), then on two fills (same results). */
function exerciseReaders(data: Uint8Array, pre: number, post: number): void {
  const lo = pre;
  const hi = pre + data.length;
  for (const [name, f] of readers) {
    const violations: string[] = [];
    const g = guarded(embedFill(data, pre, post, 0x00), lo, hi, violations);
    const r0 = f(g, pre, data.length);
    assert.deepEqual(violations, [], name);
    checkValueTypes(name, r0);
    const r1 = f(embedFill(data, pre, post, 0xff), pre, data.length);
    assert.deepEqual(r1, r0, name);
  }
  // in-place writers: no writes outside, booleans out
  const writers: [string, (b: Uint8Array) => unknown][] = [
    ['writeTransportSeq', (b) => ids.map((id) => writeTransportSeq(b, pre, data.length, id, 0xabcd))],
    ['writeAbsSendTime', (b) => ids.map((id) => writeAbsSendTime(b, pre, data.length, id, 0x123456))],
    ['setHeaderExtensionId', (b) => ids.map((id) => setHeaderExtensionId(b, pre, data.length, id, (id * 7) % 16))],
  ];
  for (const [name, f] of writers) {
    const violations: string[] = [];
    const raw0 = embedFill(data, pre, post, 0x00);
    const r0 = f(guarded(raw0, lo, hi, violations));
    assert.deepEqual(violations, [], name);
    for (const x of r0 as unknown[]) assert.equal(typeof x, 'boolean');
    const raw1 = embedFill(data, pre, post, 0xff);
    assert.deepEqual(f(raw1), r0, name);
    assert.deepEqual(raw1.subarray(lo, hi), raw0.subarray(lo, hi), name);
  }
  // RTX: -1 or a length; reads only the source range, writes only the destination range
  for (const dir of ['write', 'read'] as const) {
    const violations: string[] = [];
    const src = guarded(embedFill(data, pre, post, 0x00), lo, hi, violations);
    const dstRaw = new Uint8Array(data.length + 10);
    const dst = guarded(dstRaw, 1, data.length + 3, violations);
    const n = dir === 'write' ? writeRtx(src, pre, data.length, dst, 1, 97, 5, 6) : readRtx(src, pre, data.length, dst, 1, 96, 5);
    assert.deepEqual(violations, [], `${dir}Rtx`);
    assert.ok(n === -1 || (n >= 12 && n <= data.length + 2), `${dir}Rtx ${n}`);
    const dst2 = new Uint8Array(data.length + 10);
    const src2 = embedFill(data, pre, post, 0xff);
    const n2 = dir === 'write' ? writeRtx(src2, pre, data.length, dst2, 1, 97, 5, 6) : readRtx(src2, pre, data.length, dst2, 1, 96, 5);
    assert.equal(n2, n);
    assert.deepEqual(dst2, dstRaw);
  }
}

function parseOutcome(b: Uint8Array, off: number, len: number): unknown {
  try {
    return parseRtcp(b, off, len);
  } catch (e) {
    if (!(e instanceof RtpError)) throw e;
    assert.equal(e.code, 'SB_ERR_RTP_INVALID');
    return 'RtpError';
  }
}

function exerciseRtcp(data: Uint8Array, pre: number, post: number): void {
  const violations: string[] = [];
  const r0 = parseOutcome(guarded(embedFill(data, pre, post, 0x00), pre, pre + data.length, violations), pre, data.length);
  assert.deepEqual(violations, []);
  const r1 = parseOutcome(embedFill(data, pre, post, 0xff), pre, data.length);
  assert.deepEqual(r1, r0);
}

const bytesArb = fc.uint8Array({ minLength: 0, maxLength: 120, size: 'max' });
const padArb = fc.integer({ min: 0, max: 6 });

/** Mutations: set some bytes, then maybe truncate. */
function mutate(base: Uint8Array, edits: [number, number][], cut: number): Uint8Array {
  const b = base.slice();
  for (const [i, v] of edits) if (b.length) b[i % b.length] = v;
  return b.subarray(0, Math.max(0, b.length - cut));
}
const editsArb = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 });

test('readers on random bytes: no throw, plain values, stay inside [off, off+len)', () => {
  fc.assert(fc.property(bytesArb, padArb, padArb, (d, pre, post) => exerciseReaders(d, pre, post)), { numRuns: RUNS });
});

test('readers on random bytes that look like RTP (version 2, X bit, extension profiles)', () => {
  const rtpish = fc.tuple(bytesArb, fc.integer({ min: 0, max: 15 }), fc.boolean(), fc.boolean(), fc.constantFrom(0xbede, 0x1000, 0x1005, 0x1234)).map(([d, cc, x, p, profile]) => {
    const b = new Uint8Array(Math.max(d.length, 16));
    b.set(d);
    b[0] = 0x80 | (p ? 0x20 : 0) | (x ? 0x10 : 0) | (cc & 3);
    const h = 12 + 4 * (cc & 3);
    if (b.length >= h + 4) {
      b[h] = profile >> 8;
      b[h + 1] = profile & 0xff;
      b[h + 2] = 0;
      b[h + 3] &= 0x0f;
    }
    return b;
  });
  fc.assert(fc.property(rtpish, padArb, padArb, (d, pre, post) => exerciseReaders(d, pre, post)), { numRuns: RUNS });
});

const elemArb = fc.record({ id: fc.integer({ min: 1, max: 14 }), data: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 16 }) });
const rtpSpecArb = fc.record({
  csrcs: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 3 }),
  form: fc.constantFrom('one' as const, 'two' as const),
  elems: fc.array(elemArb, { maxLength: 5 }),
  padBetween: fc.integer({ min: 0, max: 2 }),
  payload: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 30 }),
  padding: fc.integer({ min: 0, max: 8 }),
});

test('readers on damaged valid RTP packets', () => {
  fc.assert(
    fc.property(rtpSpecArb, editsArb, fc.integer({ min: 0, max: 3 }), padArb, (s, edits, cut, pre) => {
      const pkt = buildRtp({ csrcs: s.csrcs, ext: { form: s.form, elems: s.elems, padBetween: s.padBetween }, payload: s.payload, padding: s.padding || undefined });
      exerciseReaders(pkt, pre, 3);
      exerciseReaders(mutate(pkt, edits, cut), pre, 3);
    }),
    { numRuns: RUNS },
  );
});

test('parseRtcp on random bytes returns or throws RtpError only', () => {
  fc.assert(fc.property(bytesArb, padArb, padArb, (d, pre, post) => exerciseRtcp(d, pre, post)), { numRuns: RUNS });
  // random bodies behind plausible headers
  const hdr = fc.tuple(fc.integer({ min: 0, max: 0x3f }), fc.integer({ min: 200, max: 206 }), fc.integer({ min: 0, max: 30 }), bytesArb).map(([b0, pt, words, body]) => {
    const b = new Uint8Array(4 + body.length);
    b[0] = 0x80 | b0;
    b[1] = pt;
    b[2] = 0;
    b[3] = words;
    b.set(body, 4);
    return b;
  });
  fc.assert(fc.property(hdr, padArb, padArb, (d, pre, post) => exerciseRtcp(d, pre, post)), { numRuns: RUNS });
});

test('parseRtcp on damaged valid compound packets', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 40, size: 'max' }),
      editsArb,
      fc.integer({ min: 0, max: 5 }),
      (seqs, edits, cut) => {
        const sorted = [...new Set(seqs)].sort((a, b) => a - b);
        const out = new Uint8Array(4000);
        let n = 0;
        n += writeReceiverReport(out, n, { ssrc: 1, reports: [{ ssrc: 2, fractionLost: 3, cumulativeLost: -4, highestSeq: 5, jitter: 6, lsr: 7, dlsr: 8 }] });
        n += writeSdes(out, n, 1, 'cname');
        n += writeNack(out, n, 1, 2, sorted, sorted.length);
        n += writeRemb(out, n, 1, 1e6, [2, 3]);
        n += writeTransportCc(out, n, 1, 2, 3, sorted, sorted.map((s) => s * 300 + (s % 7) * 10_000), sorted.length);
        const whole = out.slice(0, n);
        assert.equal((parseRtcp(whole, 0, n) as unknown[]).length, 5);
        const bad = mutate(whole, edits, cut * 4);
        exerciseRtcp(bad, 2, 2);
      },
    ),
    { numRuns: 1000 },
  );
});
