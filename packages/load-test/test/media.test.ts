// The file readers and the packetizers: pure and fast.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadMedia, opusPacketSamples, parseIvf, parseOggOpus, parseOggPackets } from '../src/media.js';
import { MAX_RTP_PACKET, RtpStream, TRAILER_BYTES, packetizeOpus, packetizeVp8, parseRtp, parseVp8Descriptor, readTrailer } from '../src/rtp.js';
import { LatencyHistogram, StreamStats } from '../src/scenarios/sfu/stats.js';
import { clockRatesFromSdp } from '../src/peer-util.js';
import { createHs256Token } from '../src/token.js';
import { createHmac } from 'node:crypto';

test('the committed media: 10 s of VP8 640x360 30 fps with a keyframe every 2 s, and 20 ms Opus frames', () => {
  const { video, audio } = loadMedia();
  assert.equal(video.fourcc, 'VP80');
  assert.equal(video.width, 640);
  assert.equal(video.height, 360);
  assert.equal(video.rateNum / video.rateDen, 30);
  assert.equal(video.frames.length, 300);
  const keys = video.frames.flatMap((f, i) => (f.keyframe ? [i] : []));
  assert.deepEqual(keys, [0, 60, 120, 180, 240]);
  const kbps = (video.frames.reduce((a, f) => a + f.data.length, 0) * 8) / 10 / 1000;
  assert.ok(kbps > 700 && kbps < 1100, `video ${kbps} kbit/s`);
  assert.ok(audio.length >= 499 && audio.length <= 502, `${audio.length} opus packets`);
  for (const p of audio) assert.equal(opusPacketSamples(p), 960);
  const akbps = (audio.reduce((a, p) => a + p.length, 0) * 8) / (audio.length * 0.02) / 1000;
  assert.ok(akbps > 40 && akbps < 56, `audio ${akbps} kbit/s`);
});

test('IVF reader: header fields, frame sizes, timestamps; rejects garbage and truncation', () => {
  const hdr = Buffer.alloc(32);
  hdr.write('DKIF', 0, 'latin1');
  hdr.writeUInt16LE(32, 6);
  hdr.write('VP80', 8, 'latin1');
  hdr.writeUInt16LE(320, 12);
  hdr.writeUInt16LE(240, 14);
  hdr.writeUInt32LE(30, 16);
  hdr.writeUInt32LE(1, 20);
  const frame = (pts: number, data: number[]) => {
    const h = Buffer.alloc(12);
    h.writeUInt32LE(data.length, 0);
    h.writeBigUInt64LE(BigInt(pts), 4);
    return Buffer.concat([h, Buffer.from(data)]);
  };
  const buf = Buffer.concat([hdr, frame(0, [0x10, 1, 2]), frame(1, [0x11, 9])]);
  const ivf = parseIvf(buf);
  assert.equal(ivf.width, 320);
  assert.equal(ivf.frames.length, 2);
  assert.deepEqual([...ivf.frames[0].data], [0x10, 1, 2]);
  assert.equal(ivf.frames[0].keyframe, true);
  assert.equal(ivf.frames[1].keyframe, false);
  assert.equal(ivf.frames[1].pts, 1);
  assert.throws(() => parseIvf(Buffer.from('nope')), /IVF/);
  assert.throws(() => parseIvf(buf.subarray(0, buf.length - 1)), /truncated/);
});

function oggPage(segments: number[], body: Buffer, seq: number): Buffer {
  const h = Buffer.alloc(27);
  h.write('OggS', 0, 'latin1');
  h.writeUInt32LE(seq, 18);
  h[26] = segments.length;
  return Buffer.concat([h, Buffer.from(segments), body]);
}

test('Ogg reader: lacing, a packet continued over two pages, Opus headers dropped', () => {
  const head = Buffer.concat([Buffer.from('OpusHead', 'latin1'), Buffer.alloc(11)]);
  const tags = Buffer.from('OpusTags', 'latin1');
  const big = Buffer.alloc(300, 7); // 255 + 45: continued on the next page
  const small = Buffer.from([0xfc, 1, 2]);
  const p1 = oggPage([head.length], head, 0);
  const p2 = oggPage([tags.length], tags, 1);
  const p3 = oggPage([255], big.subarray(0, 255), 2);
  const p4 = oggPage([45, small.length], Buffer.concat([big.subarray(255), small]), 3);
  const all = Buffer.concat([p1, p2, p3, p4]);
  const packets = parseOggPackets(all);
  assert.equal(packets.length, 4);
  assert.deepEqual(packets[2], big);
  const opus = parseOggOpus(all);
  assert.equal(opus.length, 2);
  assert.deepEqual(opus[1], small);
  assert.throws(() => parseOggOpus(Buffer.concat([p2, p3])), /OpusHead/);
});

test('VP8 packetizer (RFC 7741): descriptor with 15-bit picture id, S on the first, marker on the last, size limit, trailer', () => {
  const stream = new RtpStream(0x11223344, 96, 0xfffe);
  const frame = Buffer.alloc(5000);
  for (let i = 0; i < frame.length; i++) frame[i] = i & 0xff;
  const pkts = packetizeVp8(stream, frame, 123456, 0x1234, 42.5);
  assert.ok(pkts.length >= 5);
  const rebuilt: Buffer[] = [];
  pkts.forEach((pkt, i) => {
    assert.ok(pkt.length <= MAX_RTP_PACKET, `packet ${i} is ${pkt.length} bytes`);
    const p = parseRtp(pkt)!;
    assert.equal(p.payloadType, 96);
    assert.equal(p.ssrc, 0x11223344);
    assert.equal(p.timestamp, 123456);
    assert.equal(p.seq, (0xfffe + i) & 0xffff); // wraps
    assert.equal(p.marker, i === pkts.length - 1);
    const payload = pkt.subarray(p.payloadOffset, p.payloadEnd);
    const d = parseVp8Descriptor(payload);
    assert.equal(d.start, i === 0);
    assert.equal(d.partitionId, 0);
    assert.equal(d.pictureId, 0x1234);
    assert.equal(d.headerBytes, 4);
    assert.equal(readTrailer(pkt, p), 42.5);
    rebuilt.push(payload.subarray(d.headerBytes, payload.length - TRAILER_BYTES));
  });
  assert.deepEqual(Buffer.concat(rebuilt), frame);
  // a small frame: one packet, marker set
  const one = packetizeVp8(stream, Buffer.from([1, 2, 3]), 1, 5, 1);
  assert.equal(one.length, 1);
  assert.equal(parseRtp(one[0])!.marker, true);
  assert.equal(parseVp8Descriptor(one[0].subarray(12)).pictureId, 5);
});

test('Opus packetizer: one frame per packet, trailer after it', () => {
  const stream = new RtpStream(7, 111, 10);
  const pkt = packetizeOpus(stream, Buffer.from([0xfc, 0xaa, 0xbb]), 960, 1000.25);
  const p = parseRtp(pkt)!;
  assert.equal(p.payloadType, 111);
  assert.equal(p.seq, 10);
  assert.equal(p.marker, false);
  assert.deepEqual([...pkt.subarray(p.payloadOffset, p.payloadEnd - TRAILER_BYTES)], [0xfc, 0xaa, 0xbb]);
  assert.equal(readTrailer(pkt, p), 1000.25);
  assert.equal(stream.seq, 11);
});

test('parseRtp skips CSRCs and extensions and removes padding; readTrailer ignores payloads without one', () => {
  const stream = new RtpStream(7, 111, 10);
  const base = packetizeOpus(stream, Buffer.from([1, 2, 3, 4]), 0, 77);
  // insert a one-word header extension and 4 bytes of padding
  const ext = Buffer.from([0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0]);
  const pkt = Buffer.concat([base.subarray(0, 12), ext, base.subarray(12), Buffer.from([0, 0, 0, 4])]);
  pkt[0] |= 0x10 | 0x20;
  const p = parseRtp(pkt)!;
  assert.equal(p.payloadOffset, 20);
  assert.equal(readTrailer(pkt, p), 77);
  const plain = Buffer.from([0x80, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 9, 9, 9]);
  assert.equal(readTrailer(plain, parseRtp(plain)!), undefined);
  assert.equal(parseRtp(Buffer.from([0x40, 0, 0])), null);
});

test('receive stats: loss with wrap and reordering, duplicates, jitter', () => {
  const s = new StreamStats(1, 96, 90_000);
  const seqs = [65530, 65531, 65533, 65532, 65535, 0, 1, 1, 4]; // 65534, 2, 3 lost; 65532 late; 1 twice
  seqs.forEach((q, i) => s.onPacket(q, i * 3000, 100, i * (1000 / 30)));
  const c = s.snapshot();
  assert.equal(c.expected, 11); // 65530 .. 4
  assert.equal(c.packets, 9);
  assert.equal(c.lost, 2); // 3 missing, minus the duplicate (RFC 3550 counts that way)
  assert.ok(c.jitterMs < 0.01, `jitter ${c.jitterMs}`); // perfectly paced
  const j = new StreamStats(2, 111, 48_000);
  for (let i = 0; i < 200; i++) j.onPacket(i, i * 960, 100, i * 20 + (i % 2 ? 4 : 0)); // ±4 ms alternation
  assert.ok(Math.abs(j.snapshot().jitterMs - 4) < 0.5, `jitter ${j.snapshot().jitterMs}`);
  j.resetWindow();
  j.onPacket(300, 300 * 960, 50, 6000);
  assert.deepEqual([j.snapshot().packets, j.snapshot().expected], [1, 1]);
});

test('latency histogram quantiles and merging', () => {
  const h = new LatencyHistogram();
  for (let i = 1; i <= 100; i++) h.add(i / 10); // 0.1 .. 10 ms
  assert.ok(Math.abs(h.quantile(0.5) - 5) <= 0.1);
  assert.ok(Math.abs(h.quantile(0.99) - 9.9) <= 0.1);
  const g = new LatencyHistogram();
  g.add(5000);
  h.merge(g);
  assert.equal(h.count, 101);
  assert.equal(h.quantile(1), 2000); // clamped to the last bin
  assert.ok(Number.isNaN(new LatencyHistogram().quantile(0.5)));
});

test('SDP clock rates and HS256 tokens', () => {
  const rates = clockRatesFromSdp('v=0\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\n');
  assert.deepEqual([...rates], [[111, 48000], [96, 90000], [97, 90000]]);
  const tok = createHs256Token('key', 'secret-secret-secret', { identity: 'a', room: 'r', grants: { subscribe: true } });
  const [h, b, sig] = tok.split('.');
  assert.equal(createHmac('sha256', 'secret-secret-secret').update(`${h}.${b}`).digest('base64url'), sig);
  const claims = JSON.parse(Buffer.from(b, 'base64url').toString());
  assert.equal(claims.iss, 'key');
  assert.equal(claims.room, 'r');
  assert.deepEqual(claims.grants, { join: true, publish: false, subscribe: true, publishData: false, roomAdmin: false });
});
