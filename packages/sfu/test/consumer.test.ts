// The forwarding core on recorded packet sequences: a simulcast VP8 publisher (3 layers,
// independent SSRC/seq/ts/picture ids) through a Producer to a Consumer whose output is recorded
// by a FakeSender. Checks what the subscriber sees: one continuous stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Producer } from '../src/producer.js';
import {
  FakeSender,
  LAYER_SSRCS,
  PUB,
  SUB,
  audioExtensions,
  buildRtp,
  extAbsSendTime,
  extAudioLevel,
  extMid,
  extensionsOf,
  headerLength,
  makeAudioProducer,
  makeConsumer,
  makeVideoProducer,
  markerOf,
  opusPayload,
  payloadOf,
  play,
  ptOf,
  recordSimulcast,
  routerOf,
  seqDiff,
  seqOf,
  ssrcOf,
  tsDiff,
  tsOf,
  u16,
  vp8Ids,
} from './helpers.js';
import type { RecordedPacket } from './helpers.js';

interface Forwarded {
  input: RecordedPacket;
  out: Uint8Array;
  /** Arrival time of the input packet (= send time). */
  atMs: number;
}

/** Feeds packets one at a time, pairing each input with what was sent because of it. */
function feed(producer: Producer, sender: FakeSender, packets: readonly RecordedPacket[], before?: (p: RecordedPacket, i: number) => void): Forwarded[] {
  const fw: Forwarded[] = [];
  packets.forEach((p, i) => {
    before?.(p, i);
    const n = sender.sent.length;
    play(producer, [p]);
    const sent = sender.sent.slice(n);
    assert.ok(sent.length <= 1, 'one input packet produces at most one output packet');
    if (sent.length === 1) fw.push({ input: p, out: sent[0].bytes, atMs: p.atMs });
  });
  return fw;
}

/** Everything the subscriber must see on any forwarded stream, checked packet by packet. */
function assertContinuous(fw: Forwarded[], opts: { pt: number; vp8: boolean; resumedAt?: RecordedPacket }): void {
  assert.ok(fw.length > 1);
  const seen = new Set<number>();
  for (let i = 0; i < fw.length; i++) {
    const { out, input } = fw[i];
    assert.equal(ssrcOf(out), SUB.ssrc, `packet ${i}: subscriber SSRC`);
    assert.equal(ptOf(out), opts.pt, `packet ${i}: subscriber payload type`);
    assert.equal(markerOf(out), input.marker, `packet ${i}: marker kept`);
    assert.equal(out.length, input.bytes.length, `packet ${i}: length kept`);
    if (opts.vp8) {
      // everything after the picture id / TL0PICIDX is the publisher's
      const a = payloadOf(out);
      const b = payloadOf(input.bytes);
      assert.deepEqual(a.subarray(6), b.subarray(6), `packet ${i}: VP8 payload kept`);
      assert.deepEqual(a.subarray(0, 2), b.subarray(0, 2), `packet ${i}: VP8 descriptor flags kept`);
    }
    assert.ok(!seen.has(seqOf(out)), `packet ${i}: sequence number ${seqOf(out)} repeated`);
    seen.add(seqOf(out));
    if (i === 0) continue;
    const prev = fw[i - 1];
    assert.equal(seqOf(out), (seqOf(prev.out) + 1) & 0xffff, `packet ${i}: sequence numbers consecutive`);
    const dts = tsDiff(tsOf(out), tsOf(prev.out));
    assert.ok(dts >= 0, `packet ${i}: timestamp went back by ${-dts}`);
    const reanchored = prev.input.layer !== input.layer || opts.resumedAt === input;
    const sameSource = !reanchored && prev.input.frame === input.frame;
    if (sameSource) assert.equal(dts, 0, `packet ${i}: same frame, same timestamp`);
    else {
      assert.ok(dts > 0, `packet ${i}: a new frame has a later timestamp`);
      // the timestamp advances by the wall time between the two packets (90 kHz), within 2 ms
      const wall = (fw[i].atMs - prev.atMs) * 90;
      if (reanchored) assert.ok(Math.abs(dts - wall) <= 2, `packet ${i}: across a switch ts advanced ${dts}, wall clock ${wall}`);
      else assert.equal(dts, tsDiff(input.ts, prev.input.ts), `packet ${i}: within a layer the source spacing is kept`);
    }
    if (opts.vp8) {
      const a = vp8Ids(out);
      const b = vp8Ids(prev.out);
      if (sameSource) {
        assert.equal(a.pictureId, b.pictureId, `packet ${i}: same frame, same picture id`);
        assert.equal(a.tl0PicIdx, b.tl0PicIdx, `packet ${i}: same frame, same TL0PICIDX`);
      } else {
        assert.equal(a.pictureId, (b.pictureId + 1) & 0x7fff, `packet ${i}: picture ids consecutive per frame`);
        assert.equal(a.tl0PicIdx, (b.tl0PicIdx + 1) & 0xff, `packet ${i}: TL0PICIDX consecutive per TL0 frame`);
      }
    }
  }
}

test('continuity over 20 s of simulcast with layer switches up and down', () => {
  const { producer, owner } = makeVideoProducer(3);
  const { consumer, sender } = makeConsumer(producer);
  const rec = recordSimulcast({ frames: 600, keyframeEvery: 45 });
  // frame -> target layer set just before the first packet of that frame
  const plan = new Map<number, number>([
    [50, 0],
    [100, 1],
    [170, 2],
    [230, 0],
    [260, 2], // before layer 0's next keyframe (270): the pending switch is cancelled
    [320, 1],
    [330, 0],
    [400, 2],
    [470, 1],
    [520, 2],
  ]);
  const fw = feed(producer, sender, rec, (p) => {
    if (p.layer === 0 && p.frameStart && plan.has(p.frame)) consumer.setTargetLayer(plan.get(p.frame)!, p.atMs);
  });
  assertContinuous(fw, { pt: SUB.vp8Pt, vp8: true });
  // the layers forwarded, in order, and where each run starts: always at a keyframe
  const runs: { layer: number; from: RecordedPacket }[] = [];
  for (const f of fw) if (runs.length === 0 || runs[runs.length - 1].layer !== f.input.layer) runs.push({ layer: f.input.layer, from: f.input });
  assert.deepEqual(
    runs.map((r) => r.layer),
    [2, 0, 1, 2, 0, 2, 1, 2],
  );
  for (const r of runs) assert.ok(r.from.keyframe, `layer ${r.layer} run starts at frame ${r.from.frame} on a keyframe`);
  assert.equal(consumer.layerSwitches, runs.length - 1);
  assert.equal(consumer.packetsSent, fw.length);
  // every switch asked for a keyframe of the target layer (PLIs for each layer were sent)
  for (const l of [0, 1, 2]) assert.ok(owner.plis.some((x) => x.ssrc === LAYER_SSRCS[l]), `a PLI for layer ${l}`);
});

test('a switch happens only on a keyframe of the target layer; the old layer flows until then', () => {
  const { producer, owner } = makeVideoProducer(3);
  const { consumer, sender } = makeConsumer(producer);
  // keyframes: layer 0 at 0 and 40, layer 1 at 0 and 25, layer 2 at 0
  const rec = recordSimulcast({ frames: 60, keyframeFrames: [[0, 40], [0, 25], [0]] });
  let switchAtMs = 0;
  const fw = feed(producer, sender, rec, (p) => {
    if (p.layer === 0 && p.frameStart && p.frame === 10) {
      owner.clear();
      switchAtMs = p.atMs;
      consumer.setTargetLayer(0, p.atMs);
      // the PLI goes out at once, for the target layer's SSRC
      assert.deepEqual(owner.plis, [{ ssrc: LAYER_SSRCS[0] }]);
      assert.equal(consumer.targetLayer, 0);
      assert.equal(consumer.currentLayer, 2);
    }
  });
  assertContinuous(fw, { pt: SUB.vp8Pt, vp8: true });
  const layerAt = (frame: number) => [...new Set(fw.filter((f) => f.input.frame === frame).map((f) => f.input.layer))];
  assert.deepEqual(layerAt(0), [2]);
  for (let f = 10; f < 40; f++) assert.deepEqual(layerAt(f), [2], `frame ${f}: still layer 2 (no keyframe on layer 0 yet)`);
  assert.deepEqual(layerAt(40), [0], 'frame 40: layer 0 keyframe, switched');
  for (let f = 41; f < 60; f++) assert.deepEqual(layerAt(f), [0]);
  // no layer-0 packet before its keyframe, no layer-2 packet after the switch
  assert.ok(!fw.some((f) => f.input.layer === 0 && f.input.frame < 40));
  assert.ok(!fw.some((f) => f.input.layer === 2 && f.input.frame >= 40));
  assert.ok(!fw.some((f) => f.input.layer === 1), 'layer 1 (neither current nor target) never forwarded');
  // the keyframe of layer 1 at 25 did not trigger anything: it is not the target
  assert.equal(consumer.layerSwitches, 1);
  // while waiting, non-keyframe packets of the target re-ask for a keyframe, at most every 500 ms
  const plis0 = owner.plis.filter((x) => x.ssrc === LAYER_SSRCS[0]);
  const waitedMs = rec.find((p) => p.layer === 0 && p.frame === 40)!.atMs - switchAtMs;
  assert.ok(plis0.length >= 2 && plis0.length <= Math.ceil(waitedMs / 500) + 1, `${plis0.length} PLIs in ${waitedMs} ms`);
});

test('before the first keyframe nothing is forwarded and a PLI is sent for the target layer', () => {
  const { producer, owner } = makeVideoProducer(3);
  const { consumer, sender } = makeConsumer(producer);
  const rec = recordSimulcast({ frames: 20, keyframeFrames: [[], [], [12]] });
  const fw = feed(producer, sender, rec);
  assert.equal(consumer.targetLayer, 2);
  assert.ok(fw.every((f) => f.input.layer === 2 && f.input.frame >= 12));
  assert.equal(fw[0].input.keyframe, true);
  assert.ok(owner.plis.length >= 1);
  assert.ok(owner.plis.every((x) => x.ssrc === LAYER_SSRCS[2]));
});

test('setTargetLayer clamps to the layers there are and does not re-ask for the current layer', () => {
  const { producer, owner } = makeVideoProducer(3);
  const { consumer } = makeConsumer(producer);
  consumer.setTargetLayer(7, 1_000_000);
  assert.equal(consumer.targetLayer, 2);
  assert.equal(owner.plis.length, 0, 'already the target');
  consumer.setTargetLayer(-3, 1_000_000);
  assert.equal(consumer.targetLayer, 0);
  assert.deepEqual(owner.plis, [{ ssrc: LAYER_SSRCS[0] }]);
});

test('16-bit sequence number and 32-bit timestamp wrap, in input and output', () => {
  const { producer } = makeVideoProducer(1);
  const { consumer, sender } = makeConsumer(producer);
  // output starts just below the wraps too
  consumer.rewriter.lastSeq = 65510;
  consumer.rewriter.lastTs = 0xffffffff - 20000;
  const rec = recordSimulcast({ frames: 120, layers: 1, keyframeEvery: 60, packetsPerFrame: [3], seq0: [65500], ts0: [0xffffffff - 150000], pid0: [32700], tl00: [250] });
  assert.ok(rec.some((p) => p.seq === 0) && rec.some((p) => p.ts < 1000000), 'the input wraps');
  const fw = feed(producer, sender, rec);
  assert.equal(fw.length, rec.length);
  assertContinuous(fw, { pt: SUB.vp8Pt, vp8: true });
  assert.equal(seqOf(fw[0].out), 65511);
  assert.ok(fw.some((f) => seqOf(f.out) === 0), 'the output seq wraps');
  assert.ok(fw.some((f) => tsOf(f.out) < tsOf(fw[0].out)), 'the output ts wraps');
  assert.ok(fw.some((f) => vp8Ids(f.out).pictureId === 0), 'the picture id wraps at 2^15');
  // relative spacing is the source's
  for (const f of fw) {
    assert.equal((seqOf(f.out) - f.input.seq) & 0xffff, (seqOf(fw[0].out) - fw[0].input.seq) & 0xffff);
    assert.equal((tsOf(f.out) - f.input.ts) >>> 0, (tsOf(fw[0].out) - fw[0].input.ts) >>> 0);
  }
});

test('loss in the input leaves a gap in the output; the late packet fills it under the same number', () => {
  const { producer } = makeVideoProducer(1);
  const { consumer, sender } = makeConsumer(producer);
  const rec = recordSimulcast({ frames: 40, layers: 1, packetsPerFrame: [3], keyframeEvery: 100 });
  const lost = new Set([10, 11, 25, 50]);
  const fw = feed(
    producer,
    sender,
    rec.filter((_, i) => !lost.has(i)),
  );
  assert.equal(fw.length, rec.length - lost.size);
  const offset = (seqOf(fw[0].out) - fw[0].input.seq) & 0xffff;
  for (let i = 1; i < fw.length; i++) {
    const gap = seqDiff(seqOf(fw[i].out), seqOf(fw[i - 1].out));
    const inGap = seqDiff(fw[i].input.seq, fw[i - 1].input.seq);
    assert.equal(gap, inGap, 'output gaps are the input gaps');
  }
  // the publisher NACK generator has them pending
  assert.equal(producer.layers[0].nack!.pending, lost.size);
  // the subscriber NACKs the hole: nothing to resend (never received)
  const hole = (rec[25].seq + offset) & 0xffff;
  sender.clear();
  consumer.onNack([hole], rec[rec.length - 1].atMs);
  assert.equal(sender.sent.length, 0);
  // the publisher's retransmission arrives: forwarded under the number of the hole
  const late = feed(producer, sender, [{ ...rec[25], atMs: rec[rec.length - 1].atMs + 5 }]);
  assert.equal(late.length, 1);
  assert.equal(seqOf(late[0].out), hole);
  assert.equal(vp8Ids(late[0].out).pictureId, vp8Ids(fw.find((f) => f.input.frame === rec[25].frame)!.out).pictureId);
  assert.equal(producer.layers[0].nack!.recovered, 1);
});

test('reordered input keeps its relative sequence numbers and timestamps', () => {
  const { producer } = makeVideoProducer(1);
  const { sender } = makeConsumer(producer);
  const rec = recordSimulcast({ frames: 30, layers: 1, packetsPerFrame: [3], keyframeEvery: 100 });
  const order = rec.slice();
  // swap a few pairs and move one packet three places later
  const swap = (a: number, b: number) => ([order[a], order[b]] = [order[b], order[a]]);
  swap(5, 6);
  swap(20, 22);
  order.splice(43, 0, order.splice(40, 1)[0]);
  const fw = feed(producer, sender, order);
  assert.equal(fw.length, rec.length);
  const seqOffset = (seqOf(fw[0].out) - fw[0].input.seq) & 0xffff;
  const tsOffset = (tsOf(fw[0].out) - fw[0].input.ts) >>> 0;
  for (const f of fw) {
    assert.equal(seqOf(f.out), (f.input.seq + seqOffset) & 0xffff);
    assert.equal(tsOf(f.out), (f.input.ts + tsOffset) >>> 0);
  }
  // sorted by sequence number, the output is the continuous stream
  const sorted = fw.slice().sort((a, b) => seqDiff(seqOf(a.out), seqOf(fw[0].out)) - seqDiff(seqOf(b.out), seqOf(fw[0].out)));
  assertContinuous(sorted, { pt: SUB.vp8Pt, vp8: true });
});

test('pause then resume: continues at the last sequence number + 1 with a later timestamp, from a keyframe', () => {
  const { producer, owner } = makeVideoProducer(3);
  const { consumer, sender } = makeConsumer(producer);
  const rec = recordSimulcast({ frames: 200, keyframeEvery: 40 });
  let pausedAt = 0;
  let resumedAt = 0;
  const fw = feed(producer, sender, rec, (p) => {
    if (p.layer === 0 && p.frameStart && p.frame === 60) {
      consumer.setPaused(true, p.atMs);
      pausedAt = p.atMs;
    }
    if (p.layer === 0 && p.frameStart && p.frame === 100) {
      owner.clear();
      consumer.setPaused(false, p.atMs);
      resumedAt = p.atMs;
      assert.deepEqual(owner.plis, [{ ssrc: LAYER_SSRCS[2] }], 'resuming asks for a keyframe');
    }
  });
  const before = fw.filter((f) => f.atMs < pausedAt);
  const after = fw.filter((f) => f.atMs >= pausedAt);
  assert.ok(before.length > 0 && after.length > 0);
  assert.ok(after.every((f) => f.atMs >= resumedAt), 'nothing sent while paused');
  const last = before[before.length - 1];
  const first = after[0];
  assert.equal(first.input.keyframe, true, 'resumes at a keyframe');
  assert.equal(first.input.layer, 2);
  assert.equal(seqOf(first.out), (seqOf(last.out) + 1) & 0xffff);
  const dts = tsDiff(tsOf(first.out), tsOf(last.out));
  const wall = (first.atMs - last.atMs) * 90;
  assert.ok(dts > 0 && Math.abs(dts - wall) <= 2, `ts advanced ${dts} for ${wall} of wall clock`);
  assert.equal(vp8Ids(first.out).pictureId, (vp8Ids(last.out).pictureId + 1) & 0x7fff);
  assertContinuous(fw, { pt: SUB.vp8Pt, vp8: true, resumedAt: first.input });
  assert.equal(consumer.layerSwitches, 0, 'a resume is not a layer switch');
});

test('pause and resume are idempotent; a closed consumer forwards nothing', () => {
  const { producer, owner } = makeVideoProducer(1);
  const { consumer, sender } = makeConsumer(producer);
  consumer.setPaused(false, 1_000_000);
  assert.equal(owner.plis.length, 0, 'resuming a consumer that is not paused does nothing');
  routerOf(producer).removeConsumer(consumer);
  consumer.close();
  assert.equal(routerOf(producer).consumersOf(producer).length, 0);
  consumer.forward(recordSimulcast({ frames: 1, layers: 1 })[0].bytes, 0, 40, 0, true, 1_000_000);
  assert.equal(sender.sent.length, 0);
});

/** Checks that rtx is the RTX (RFC 4588) form of the originally sent packet orig. */
function assertRtxOf(rtx: Uint8Array, orig: Uint8Array): void {
  const h = headerLength(orig);
  assert.equal(headerLength(rtx), h);
  assert.equal(rtx.length, orig.length + 2);
  assert.equal(ptOf(rtx), SUB.rtxPt);
  assert.equal(ssrcOf(rtx), SUB.rtxSsrc);
  assert.equal(markerOf(rtx), markerOf(orig));
  assert.equal(tsOf(rtx), tsOf(orig));
  assert.equal(rtx[0], orig[0]);
  assert.deepEqual(rtx.subarray(12, h), orig.subarray(12, h), 'extensions as sent');
  assert.equal(u16(rtx, h), seqOf(orig), 'OSN = the sequence number it was sent under');
  assert.deepEqual(rtx.subarray(h + 2), orig.subarray(h), 'payload as sent (rewritten picture id included)');
}

test('NACK: resends exactly the requested packets as RTX, across a layer switch too', () => {
  const { producer } = makeVideoProducer(3);
  const { consumer, sender } = makeConsumer(producer);
  const rec = recordSimulcast({ frames: 60, keyframeFrames: [[0, 45], [0], [0]] });
  const fw = feed(producer, sender, rec, (p) => {
    if (p.layer === 0 && p.frame === 35 && p.frameStart) consumer.setTargetLayer(0, p.atMs);
  });
  assert.ok(fw.some((f) => f.input.layer === 2) && fw.some((f) => f.input.layer === 0));
  const nowMs = rec[rec.length - 1].atMs + 10;
  // some from layer 2 (before the switch), some from layer 0, out of order
  const picks = [fw[fw.length - 1], fw.find((f) => f.input.layer === 2 && f.input.frame === 40)!, fw.find((f) => f.input.layer === 0 && f.input.frame === 50)!];
  const seqs = picks.map((f) => seqOf(f.out));
  sender.clear();
  consumer.onNack(seqs, nowMs);
  assert.equal(sender.sent.length, 3);
  assert.equal(consumer.retransmits, 3);
  assert.equal(consumer.nacksReceived, 1);
  for (let i = 0; i < 3; i++) {
    assert.ok(sender.sent[i].viaCommit);
    assertRtxOf(sender.sent[i].bytes, picks[i].out);
  }
  // RTX sequence numbers: their own space, consecutive
  const rtxSeqs = sender.sent.map((s) => seqOf(s.bytes));
  assert.equal(rtxSeqs[1], (rtxSeqs[0] + 1) & 0xffff);
  assert.equal(rtxSeqs[2], (rtxSeqs[1] + 1) & 0xffff);
  // asked again at once: not resent (at most every 50 ms); later: resent with the next RTX seq
  sender.clear();
  consumer.onNack([seqs[0]], nowMs + 10);
  assert.equal(sender.sent.length, 0);
  consumer.onNack([seqs[0]], nowMs + 60);
  assert.equal(sender.sent.length, 1);
  assert.equal(seqOf(sender.sent[0].bytes), (rtxSeqs[2] + 1) & 0xffff);
  assertRtxOf(sender.sent[0].bytes, picks[0].out);
});

test('NACK storms: one NACK resends at most 64 packets', () => {
  const { producer } = makeVideoProducer(1);
  const { consumer, sender } = makeConsumer(producer);
  const rec = recordSimulcast({ frames: 60, layers: 1, packetsPerFrame: [3] });
  const fw = feed(producer, sender, rec);
  sender.clear();
  consumer.onNack(
    fw.map((f) => seqOf(f.out)),
    rec[rec.length - 1].atMs,
  );
  assert.ok(fw.length > 100);
  assert.equal(sender.sent.length, 64);
});

test('NACK without RTX negotiated: plain retransmissions identical to what was sent', () => {
  const { producer } = makeVideoProducer(1);
  const { consumer, sender } = makeConsumer(producer, { rtx: false });
  const rec = recordSimulcast({ frames: 30, layers: 1, packetsPerFrame: [2] });
  const fw = feed(producer, sender, rec);
  const picks = [fw[3], fw[17], fw[40]];
  sender.clear();
  consumer.onNack(
    picks.map((f) => seqOf(f.out)),
    rec[rec.length - 1].atMs,
  );
  assert.equal(sender.sent.length, 3);
  for (let i = 0; i < 3; i++) assert.deepEqual(sender.sent[i].bytes, picks[i].out);
});

test('NACK: sequence numbers never sent, or sent too long ago, are ignored', () => {
  const { producer } = makeVideoProducer(1);
  const { consumer, sender } = makeConsumer(producer);
  const rec = recordSimulcast({ frames: 90, layers: 1, packetsPerFrame: [2], keyframeEvery: 1000 });
  const fw = feed(producer, sender, rec);
  const lastMs = rec[rec.length - 1].atMs;
  const lastSeq = seqOf(fw[fw.length - 1].out);
  sender.clear();
  consumer.onNack([(lastSeq + 1) & 0xffff, (lastSeq + 500) & 0xffff, (lastSeq - 3000) & 0xffff], lastMs);
  assert.equal(sender.sent.length, 0, 'not sent: nothing to resend');
  // the first packets were stored ~3 s ago: beyond the cache's 1 s
  consumer.onNack([seqOf(fw[0].out), seqOf(fw[1].out)], lastMs);
  assert.equal(sender.sent.length, 0, 'too old');
  // a recent one still works
  consumer.onNack([lastSeq], lastMs);
  assert.equal(sender.sent.length, 1);
  // the same one, 1.5 s later: too old
  consumer.onNack([lastSeq], lastMs + 1500);
  assert.equal(sender.sent.length, 1);
  assert.equal(consumer.nacksReceived, 4);
});

test('NACK: a packet whose cache slot was overwritten by a newer one is not resent as something else', () => {
  const { producer } = makeVideoProducer(1);
  const { consumer, sender } = makeConsumer(producer);
  // 600 packets within 1 s: the 512-slot cache has lost the first ones
  const rec = recordSimulcast({ frames: 100, layers: 1, packetsPerFrame: [6], fps: 100 });
  const fw = feed(producer, sender, rec);
  sender.clear();
  consumer.onNack([seqOf(fw[10].out)], rec[rec.length - 1].atMs);
  assert.equal(sender.sent.length, 0);
});

test('a sender that cannot send (transport not up) drops packets without breaking continuity', () => {
  const { producer } = makeVideoProducer(1);
  const { consumer, sender } = makeConsumer(producer);
  const rec = recordSimulcast({ frames: 30, layers: 1, packetsPerFrame: [2] });
  const fw = feed(producer, sender, rec, (_, i) => {
    sender.up = i < 10 || i >= 20;
  });
  assert.equal(fw.length, rec.length - 10);
  assert.equal(consumer.packetsSent, fw.length);
  // a gap of exactly the dropped packets
  assert.equal(seqDiff(seqOf(fw[10].out), seqOf(fw[9].out)), 11);
});

test('abs-send-time is stamped with our send time when the subscriber negotiated it', () => {
  const { producer } = makeAudioProducer(audioExtensions({ audioLevel: 1, absSendTime: 3 }));
  const { sender } = makeConsumer(producer, { extensionIds: { 3: 2 }, absSendTimeId: 2 });
  const nowMs = 1_234_567;
  const pkt = buildRtp({ pt: PUB.opusPt, seq: 7, ts: 960, ssrc: 0xa, ext: [extAudioLevel(1, 30), extAbsSendTime(3, 0x123456)], payload: opusPayload() });
  producer.receive(pkt, 0, pkt.length, producer.layers[0], nowMs);
  const ext = extensionsOf(sender.sent[0].bytes);
  const abs = ext.find((e) => e.id === 2)!;
  const v = (abs.data[0] << 16) | (abs.data[1] << 8) | abs.data[2];
  assert.equal(v, Math.floor(nowMs * 262.144) & 0xffffff);
});

function opusRecording(n: number, ext: (i: number) => ReturnType<typeof extAudioLevel>[], seq0 = 40000, ts0 = 123456): RecordedPacket[] {
  const out: RecordedPacket[] = [];
  for (let i = 0; i < n; i++) {
    const seq = (seq0 + i) & 0xffff;
    const ts = (ts0 + i * 960) >>> 0;
    out.push({
      layer: 0,
      bytes: buildRtp({ pt: PUB.opusPt, seq, ts, ssrc: 0x0a0d1001, marker: i === 0, ext: ext(i), payload: opusPayload(30 + (i % 7), i & 0xff) }),
      atMs: 1_000_000 + i * 20,
      seq,
      ts,
      pictureId: -1,
      tl0PicIdx: -1,
      frame: i,
      keyframe: true,
      frameStart: true,
      marker: i === 0,
    });
  }
  return out;
}

test('audio (Opus): every packet forwarded, payload type mapped, extension ids rewritten', () => {
  // the publisher negotiated audio level at 3 and mid at 1 (the subscriber's audio-level id):
  // audio level moves to 1, mid is parked at 14
  const { producer } = makeAudioProducer(audioExtensions({ audioLevel: 3, mid: 1 }));
  const { consumer, sender } = makeConsumer(producer, { extensionIds: { 3: 1, 1: 14 } });
  const rec = opusRecording(200, (i) => [extMid(1, '0'), extAudioLevel(3, i % 128)], 65400);
  const fw = feed(producer, sender, rec);
  assert.equal(fw.length, 200);
  assertContinuous(fw, { pt: SUB.opusPt, vp8: false });
  for (const f of fw) {
    const ext = extensionsOf(f.out);
    assert.deepEqual(ext, [
      { id: 14, data: [...new TextEncoder().encode('0')] },
      { id: 1, data: [0x80 | (f.input.frame % 128)] },
    ]);
    assert.deepEqual(payloadOf(f.out), payloadOf(f.input.bytes));
  }
  assert.equal(consumer.currentLayer, 0);
  // audio levels were read from the publisher's id
  assert.ok(producer.takeLevel() > 0);
  // audio has no packet cache: NACKs resend nothing
  sender.clear();
  consumer.onNack([seqOf(fw[199].out)], rec[199].atMs);
  assert.equal(sender.sent.length, 0);
});

test('audio: a payload type the subscriber did not negotiate keeps its number (mapping -1 = left as is)', () => {
  const { producer } = makeAudioProducer();
  const { sender } = makeConsumer(producer);
  const pkt = buildRtp({ pt: 13, seq: 1, ts: 1, ssrc: 0xa, payload: [1, 2, 3] }); // CN
  producer.receive(pkt, 0, pkt.length, producer.layers[0], 1_000_000);
  assert.equal(sender.sent.length, 1);
  assert.equal(ptOf(sender.sent[0].bytes), 13);
});

test('audio: swapped extension ids (abs-send-time at 1, audio level at 2) are both rewritten', () => {
  // what participant.ts builds for a publisher with abs-send-time=1, audio-level=2:
  // extensionIds[1] = 2 (abs-send-time to the subscriber's 2), extensionIds[2] = 1 (audio level to 1)
  const { producer } = makeAudioProducer(audioExtensions({ audioLevel: 2, absSendTime: 1 }));
  const { sender } = makeConsumer(producer, { extensionIds: { 1: 2, 2: 1 } });
  const pkt = buildRtp({ pt: PUB.opusPt, seq: 1, ts: 1, ssrc: 0xa, ext: [extAbsSendTime(1, 0xabcdef), extAudioLevel(2, 42)], payload: opusPayload() });
  producer.receive(pkt, 0, pkt.length, producer.layers[0], 1_000_000);
  const ext = extensionsOf(sender.sent[0].bytes);
  assert.deepEqual(ext, [
    { id: 2, data: [0xab, 0xcd, 0xef] },
    { id: 1, data: [0x80 | 42] },
  ]);
});

test('padding-only packets (probes) are not forwarded', () => {
  const { producer } = makeVideoProducer(1);
  const { sender } = makeConsumer(producer);
  const pad = buildRtp({ pt: PUB.vp8Pt, seq: 5, ts: 9000, ssrc: LAYER_SSRCS[0], payload: [], padding: 200 });
  producer.receive(pad, 0, pad.length, producer.layers[0], 1_000_000);
  assert.equal(sender.sent.length, 0);
  assert.equal(producer.layers[0].stats.packets, 1);
});

test('a late packet of the new layer from before its switch keyframe is not sent under a used sequence number', () => {
  const { producer } = makeVideoProducer(3);
  const { consumer, sender } = makeConsumer(producer);
  const rec = recordSimulcast({ frames: 40, keyframeFrames: [[0], [0, 20], [0]] });
  // the last packet of layer 1's frame 19 arrives late, just after the frame-20 keyframe
  const late = rec.filter((p) => p.layer === 1 && p.frame === 19).pop()!;
  const key = rec.find((p) => p.layer === 1 && p.frame === 20)!;
  const order = rec.filter((p) => p !== late);
  order.splice(order.indexOf(key) + 1, 0, { ...late, atMs: key.atMs + 0.05 });
  const fw = feed(producer, sender, order, (p) => {
    if (p.layer === 0 && p.frameStart && p.frame === 10) consumer.setTargetLayer(1, p.atMs);
  });
  const seqs = fw.map((f) => seqOf(f.out));
  assert.equal(new Set(seqs).size, seqs.length, 'no sequence number sent twice');
});

test('a reordered packet just before a switch does not make the new keyframe reuse a picture id', () => {
  const { producer } = makeVideoProducer(3);
  const { consumer, sender } = makeConsumer(producer);
  const rec = recordSimulcast({ frames: 40, keyframeFrames: [[0, 21], [0], [0]], packetsPerFrame: [2, 2, 2] });
  // target layer 0 from frame 10; layer 2's frame 19 second packet arrives after all of frame 20
  const late = rec.find((p) => p.layer === 2 && p.frame === 19 && !p.frameStart)!;
  const f20 = rec.find((p) => p.layer === 2 && p.frame === 20 && !p.frameStart)!;
  const order = rec.filter((p) => p !== late);
  order.splice(order.indexOf(f20) + 1, 0, { ...late, atMs: f20.atMs + 0.05 });
  const fw = feed(producer, sender, order, (p) => {
    if (p.layer === 0 && p.frameStart && p.frame === 10) consumer.setTargetLayer(0, p.atMs);
  });
  const lastOld = fw.filter((f) => f.input.layer === 2).map((f) => vp8Ids(f.out).pictureId);
  const firstNew = vp8Ids(fw.find((f) => f.input.layer === 0)!.out).pictureId;
  assert.equal(firstNew, (Math.max(...lastOld.slice(-4)) + 1) & 0x7fff, 'the keyframe follows the newest picture id sent');
});

