// An SFU room in MCU mode (mixer.ts): publishers' packets go to the RoomMixer and not to the
// others; each participant is offered exactly one audio track (its own mix) and one video track
// (the room's), whatever the room size; what the mixer sends comes out of those tracks; keyframe
// requests flow both ways; publishers are held to VP8 and Opus, without simulcast or RED.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getCodecs, getMsid, getSimulcast, parseSdp } from '@switchboard/sdp';
import { UdpMux } from '@switchboard/webrtc';
import { SfuRoom } from '../src/room.js';
import type { RoomHost } from '../src/room.js';
import { Sfu } from '../src/sfu.js';
import { MIX_AUDIO_PT, MIX_VIDEO_PT } from '../src/mixer.js';
import { mixing } from '../src/mixing.js';
import type { MixerOutput, RoomMixer } from '../src/mixer.js';
import { buildRtp } from './helpers.js';

const SIMULCAST = readFileSync(fileURLToPath(new URL('../../sdp/test/fixtures/chromium-offer-simulcast.sdp', import.meta.url)), 'utf8');

interface Recorded {
  calls: string[];
  media: { sid: string; kind: string; len: number }[];
  out: MixerOutput | null;
}

function setup(): { room: SfuRoom; rec: Recorded; offers: Map<string, string>; mux: UdpMux } {
  const mux = new UdpMux({ ip: '127.0.0.1', port: 0, sendThread: false });
  const offers = new Map<string, string>();
  const host: RoomHost = {
    mux,
    signal: (sid, m) => {
      if (m.target === 'subscriber') offers.set(sid, m.sdp);
    },
    activeSpeakers: () => undefined,
    layersChanged: () => undefined,
    log: () => undefined,
  };
  const rec: Recorded = { calls: [], media: [], out: null };
  const room = new SfuRoom('RM_test', host, mixing((roomSid, out) => {
    rec.out = out;
    const mixer: RoomMixer = {
      participantJoined: (sid, name) => rec.calls.push(`join ${sid} ${name}`),
      participantLeft: (sid) => rec.calls.push(`leave ${sid}`),
      media: (sid, kind, _b, _o, len) => rec.media.push({ sid, kind, len }),
      videoEnded: (sid) => rec.calls.push(`videoEnded ${sid}`),
      keyframeRequested: () => rec.calls.push('keyframe'),
      receiverBitrate: (bps) => rec.calls.push(`bitrate ${bps}`),
      activeSpeakers: (sids) => rec.calls.push(`speakers ${sids.join(',')}`),
      close: () => rec.calls.push('close'),
    };
    rec.calls.push(`created ${roomSid}`);
    return mixer;
  }));
  return { room, rec, offers, mux };
}

test('MCU room: each participant is offered one audio and one video track, whatever the room size', () => {
  const { room, rec, offers, mux } = setup();
  for (const sid of ['PA_a', 'PA_b', 'PA_c', 'PA_d']) room.join(sid, true, true, `name-${sid}`);
  assert.deepEqual(rec.calls.filter((c) => c.startsWith('join')), ['join PA_a name-PA_a', 'join PA_b name-PA_b', 'join PA_c name-PA_c', 'join PA_d name-PA_d']);
  // joining asked the mixer for a keyframe of the composed video
  assert.ok(rec.calls.includes('keyframe'));
  for (const sid of ['PA_a', 'PA_b', 'PA_c', 'PA_d']) {
    const p = room.participants.get(sid)!;
    assert.deepEqual([...p.consumers.keys()].sort(), [`mcu-audio-${sid}`, 'mcu-video']);
    const sdp = parseSdp(offers.get(sid)!);
    assert.deepEqual(sdp.media.map((m) => m.kind), ['audio', 'video']);
    for (const m of sdp.media) assert.equal(getMsid(m)?.stream, 'mcu');
    assert.equal(getCodecs(sdp.media[0])[0].payloadType, MIX_AUDIO_PT);
    assert.equal(getCodecs(sdp.media[1])[0].payloadType, MIX_VIDEO_PT);
  }
  room.leave('PA_b');
  assert.ok(rec.calls.includes('leave PA_b'));
  room.close();
  assert.equal(rec.calls.at(-1), 'close');
  mux.close();
});

test('MCU room: publishers are held to VP8 and Opus without simulcast or RED; their packets go to the mixer only', () => {
  const { room, rec, mux } = setup();
  room.join('PA_a', true);
  room.join('PA_b', true);
  const a = room.participants.get('PA_a')!;
  // Chromium's simulcast offer (VP8 first, with rid layers): the answer takes one VP8 stream
  const answer = parseSdp(a.handlePublisherOffer(SIMULCAST));
  for (const m of answer.media) {
    if (m.port === 0) continue;
    const names = getCodecs(m).map((c) => c.name.toLowerCase());
    assert.ok(names.every((n) => ['opus', 'vp8', 'rtx'].includes(n)), `codecs ${names}`);
    assert.equal(getSimulcast(m), undefined);
  }
  room.trackPublished('PA_a', { sid: 'TR_v', cid: getMsid(parseSdp(SIMULCAST).media.find((m) => m.kind === 'video')!)!.stream, kind: 'video' });
  const producer = [...a.producers.values()].find((p) => p.kind === 'video');
  assert.ok(producer, 'the video producer exists');
  // nobody consumes it: in an MCU room only the mixer hears publishers
  assert.equal(room.router.consumersOf(producer).length, 0);
  assert.equal(room.participants.get('PA_b')!.consumers.has(producer.id), false);
  const pkt = buildRtp({ pt: producer.codec.payloadType, seq: 1, ts: 1000, ssrc: producer.layers[0].ssrc || 1234, payload: [0x90, 0x80, 0x01, 0x10, 1, 2, 3] });
  producer.receive(pkt, 0, pkt.length, producer.layers[0], Date.now());
  assert.deepEqual(rec.media, [{ sid: 'PA_a', kind: 'video', len: pkt.length }]);
  // resubscribing to another participant's real track is refused in MCU rooms
  room.setSubscribed('PA_b', producer.id, true);
  assert.equal(room.participants.get('PA_b')!.consumers.has(producer.id), false);
  room.trackUnpublished('PA_a', 'TR_v');
  assert.ok(rec.calls.includes('videoEnded PA_a'));
  room.close();
  mux.close();
});

test("MCU room: the mixer's packets come out of each participant's own mix track and the room's video track", () => {
  const { room, rec, mux } = setup();
  room.join('PA_a', true);
  room.join('PA_b', true);
  const out = rec.out!;
  const audio = buildRtp({ pt: MIX_AUDIO_PT, seq: 10, ts: 960, ssrc: 5, payload: [0xf8, 1, 2, 3] });
  out.audio('PA_a', audio);
  const mixA = room.router.producerOf(room.participants.get('PA_a')!.consumers.get('mcu-audio-PA_a')!)!;
  const mixB = room.router.producerOf(room.participants.get('PA_b')!.consumers.get('mcu-audio-PA_b')!)!;
  assert.equal(mixA.layers[0].stats.packets, 1);
  assert.equal(mixB.layers[0].stats.packets, 0);
  const video = buildRtp({ pt: MIX_VIDEO_PT, seq: 1, ts: 90, ssrc: 6, marker: true, payload: [0x90, 0x80, 0x01, 0x10, 0x9d, 0x01, 0x2a] });
  out.video(video);
  const mixed = room.router.producerOf(room.participants.get('PA_a')!.consumers.get('mcu-video')!)!;
  assert.equal(mixed.layers[0].stats.packets, 1);
  // a receiver's keyframe request reaches the mixer (rate-limited by the producer)
  const before = rec.calls.filter((c) => c === 'keyframe').length;
  mixed.requestKeyframe(0, Date.now() + 10_000);
  assert.equal(rec.calls.filter((c) => c === 'keyframe').length, before + 1);
  // packets for someone who left go nowhere, and the Router forgets its mix and consumers
  room.leave('PA_a');
  out.audio('PA_a', audio);
  assert.deepEqual(room.router.size, { producers: 2, consumers: 2 }, "PA_b's mix and the room video, one consumer each");
  room.close();
  assert.deepEqual(room.router.size, { producers: 0, consumers: 0 });
  mux.close();
});

test('an Sfu without a mixer factory refuses MCU rooms with SB_ERR_TOPOLOGY_UNAVAILABLE', () => {
  const sfu = new Sfu({ ip: '127.0.0.1', port: 0, sendThread: false }, { signal: () => undefined, activeSpeakers: () => undefined, layersChanged: () => undefined });
  assert.equal(sfu.mixes, false);
  assert.throws(() => sfu.join('RM_x', 'PA_a', { canSubscribe: true, strategy: 'mixing' }), (e: Error & { code?: string }) => e.code === 'SB_ERR_TOPOLOGY_UNAVAILABLE');
  sfu.join('RM_y', 'PA_b', { canSubscribe: true });
  sfu.close();
});

