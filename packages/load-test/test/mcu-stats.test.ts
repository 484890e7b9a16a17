// The MCU measurements, pure: audio frames on time (the cadence definition), video frames,
// plain packetizers, and the CPU of a process tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { AudioCadence, SeqExtender, VideoFrames, processTree, processTreeCpuUs } from '../src/scenarios/mcu/stats.js';
import { McuReceiver, packetizeOpusPlain, packetizeVp8Plain } from '../src/scenarios/mcu/peers.js';
import { RtpStream, parseRtp, parseVp8Descriptor, writeRtpHeader } from '../src/rtp.js';

test('sequence extension across the wrap and with reordering', () => {
  const e = new SeqExtender();
  const a = e.extend(65534);
  assert.equal(e.extend(65535), a + 1);
  assert.equal(e.extend(1), a + 3);
  assert.equal(e.extend(0), a + 2); // late, before the highest
  assert.equal(e.extend(65533), a - 1); // older than the first
});

test('audio cadence: a perfect stream is 100% on time, 50 packets/s, no loss', () => {
  const c = new AudioCadence();
  for (let k = 0; k < 500; k++) c.onPacket((65000 + k) & 0xffff, 1000 + k * 20 + (k % 3)); // wraps, ±2 ms jitter
  const r = c.result(1000 + 500 * 20);
  // frames whose deadline (slot + 60 ms) is inside the window: slots 0 .. (11000 - 60 - 1000) / 20 = 497, 498 frames
  assert.equal(r.frames, 498);
  assert.equal(r.onTime, 498);
  assert.equal(r.onTimePct, 100);
  assert.equal(r.lossPct, 0);
  assert.equal(r.packets, 500);
  assert.ok(r.lateP99Ms <= 2 && r.lateMaxMs <= 2);
  assert.ok(r.maxGapMs <= 23);
});

test('audio cadence: missing sequence numbers and packets later than 60 ms are not on time; early ones are', () => {
  const c = new AudioCadence();
  const t0 = 5000;
  for (let k = 0; k < 100; k++) {
    if (k === 10 || k === 11) continue; // lost
    let at = t0 + k * 20;
    if (k === 20) at += 61; // late
    if (k === 30) at += 59; // just in time
    if (k === 40) at -= 15; // early
    c.onPacket(100 + k, at);
  }
  const r = c.result(t0 + 99 * 20 + 60); // the deadline of slot 99 is the window's end
  assert.equal(r.frames, 100);
  assert.equal(r.missing, 2);
  assert.equal(r.late, 1);
  assert.equal(r.onTime, 97);
  assert.equal(r.onTimePct, 97);
  assert.equal(r.lossPct, 2);
  // lateness is taken against the earliest cadence (frame 40 came 15 ms early): 61 + 15
  assert.ok(Math.abs(r.lateMaxMs - 76) < 1e-9);
  assert.equal(r.anchorLateMs, 15);
});

test('audio cadence: a server that falls behind (a stall, then a burst) turns frames late; one that stops leaves them missing', () => {
  const c = new AudioCadence();
  // 50 frames on time, then a 200 ms stall: frames 50..59 arrive together at the end of it
  for (let k = 0; k < 50; k++) c.onPacket(k, k * 20);
  for (let k = 50; k < 60; k++) c.onPacket(k, 60 * 20);
  for (let k = 60; k < 100; k++) c.onPacket(k, k * 20);
  const r = c.result(99 * 20 + 60);
  // frame k of 50..59 is (1200 - 20k) ms late: > 60 for k < 57
  assert.equal(r.late, 7);
  assert.equal(r.onTime, 93);
  assert.equal(r.lossPct, 0);
  assert.ok(r.maxGapMs >= 219);
  // a stream that stops after 20 packets: the rest of the window is missing frames
  const s = new AudioCadence();
  for (let k = 0; k < 20; k++) s.onPacket(k, k * 20);
  const rs = s.result(5000);
  assert.equal(rs.frames, 248); // slots 0 .. (5000 - 60) / 20
  assert.equal(rs.onTime, 20);
  assert.equal(rs.missing, 228);
  assert.equal(rs.silentAtEndMs, 5000 - 19 * 20);
});

test('audio cadence: slower than 50 packets/s drifts late; the anchor is the first packet, its lateness reported', () => {
  const c = new AudioCadence();
  for (let k = 0; k < 200; k++) c.onPacket(k, k * 21); // 47.6 packets/s
  const r = c.result(200 * 21);
  // frame k is k ms late: late from k = 61 on
  assert.equal(r.onTime, 61);
  assert.ok(r.onTimePct < 40);
  // a late first packet: the cadence is anchored on it (lenient), anchorLateMs says by how much
  const d = new AudioCadence();
  d.onPacket(0, 50);
  for (let k = 1; k < 100; k++) d.onPacket(k, k * 20);
  const rd = d.result(50 + 99 * 20 + 60);
  assert.equal(rd.frames, 100);
  assert.equal(rd.onTime, 100);
  assert.equal(rd.anchorLateMs, 50);
  // duplicates count once; reset starts a new window anchored at the next packet
  d.reset();
  d.onPacket(500, 10_000);
  d.onPacket(500, 10_001);
  d.onPacket(501, 10_020);
  const rr = d.result(10_000 + 20 + 60);
  assert.equal(rr.packets, 3);
  assert.equal(rr.frames, 2);
  assert.equal(rr.onTime, 2);
});

test('video frames: marker bits and distinct timestamps, loss from sequence numbers', () => {
  const v = new VideoFrames();
  let seq = 65530;
  for (let f = 0; f < 10; f++) {
    for (let p = 0; p < 3; p++) {
      const s = seq++ & 0xffff;
      if (f === 5 && p === 1) continue; // one packet lost
      v.onPacket(s, f * 6000, p === 2);
    }
  }
  const r = v.result();
  assert.equal(r.markerFrames, 10);
  assert.equal(r.timestamps, 10);
  assert.equal(r.packets, 29);
  assert.ok(Math.abs(r.lossPct - 100 / 30) < 1e-9);
});

test('plain packetizers: Opus frame as is, VP8 per RFC 7741 with nothing appended', () => {
  const opus = packetizeOpusPlain(new RtpStream(9, 111, 7), Buffer.from([0xfc, 1, 2, 3]), 960);
  const p = parseRtp(opus)!;
  assert.deepEqual([...opus.subarray(p.payloadOffset, p.payloadEnd)], [0xfc, 1, 2, 3]);
  assert.equal(p.seq, 7);
  const frame = Buffer.alloc(3000, 0xab);
  const pkts = packetizeVp8Plain(new RtpStream(10, 96, 0), frame, 3000, 0x1234);
  assert.ok(pkts.length >= 3);
  const data: Buffer[] = [];
  pkts.forEach((pkt, i) => {
    assert.ok(pkt.length <= 1200);
    const q = parseRtp(pkt)!;
    assert.equal(q.marker, i === pkts.length - 1);
    const payload = pkt.subarray(q.payloadOffset, q.payloadEnd);
    const d = parseVp8Descriptor(payload);
    assert.equal(d.start, i === 0);
    assert.equal(d.pictureId, 0x1234);
    data.push(payload.subarray(d.headerBytes));
  });
  assert.deepEqual(Buffer.concat(data), frame);
});

test('receiver: audio and video told apart by track kind, else by the clock rate; RTCP counted apart', () => {
  const r = new McuReceiver();
  const pkt = (pt: number, seq: number, ssrc: number, marker = false) => {
    const b = Buffer.alloc(20);
    writeRtpHeader(b, { payloadType: pt, seq, timestamp: seq * 960, ssrc, marker });
    return b;
  };
  r.clockRates.set(100, 90_000);
  r.clockRates.set(109, 48_000);
  for (let i = 0; i < 5; i++) {
    r.onPacket(pkt(109, i, 1));
    r.onPacket(pkt(100, i, 2, true));
    r.onPacket(pkt(96, i, 3), 'audio'); // the track says audio
  }
  r.onPacket(Buffer.from([0x80, 200, 0, 1, 0, 0, 0, 1]));
  const res = r.result();
  assert.equal(res.audioSsrcs, 2);
  assert.equal(res.videoSsrcs, 1);
  assert.equal(res.video!.markerFrames, 5);
  assert.equal(res.rtcpPackets, 1);
  assert.ok(Number.isFinite(r.firstAudioAt) && Number.isFinite(r.firstVideoAt));
});

test('process tree CPU includes children (and what reaped children used)', async () => {
  // a child that burns ~300 ms of CPU, and a grandchild that does the same and exits
  const script = `
    const { spawnSync } = require('node:child_process');
    spawnSync(process.execPath, ['-e', 'const t = Date.now(); while (Date.now() - t < 300) {}']);
    const t = Date.now(); while (Date.now() - t < 300) {}
    setTimeout(() => {}, 5000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  try {
    const before = processTreeCpuUs(process.pid);
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(processTree(process.pid).includes(child.pid!), 'the child is in the tree');
    const used = processTreeCpuUs(process.pid) - before;
    assert.ok(used >= 450_000, `tree CPU ${used} µs`);
    assert.ok(processTreeCpuUs(child.pid!) >= 450_000, 'the child counts its reaped grandchild');
    assert.ok(Number.isNaN(processTreeCpuUs(2 ** 22 + 12345)));
  } finally {
    child.kill('SIGKILL');
  }
});
