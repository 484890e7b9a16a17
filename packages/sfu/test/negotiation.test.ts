// SDP for the publisher and subscriber connections, on Chromium's own offers and answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  getAttribute,
  getAttributes,
  getBundleGroups,
  getCandidates,
  getCodecs,
  getDirection,
  getExtMaps,
  getFingerprint,
  getIceParameters,
  getMid,
  getMsid,
  getRids,
  getSetup,
  getSimulcast,
  getSsrcGroups,
  getSsrcs,
  parseSdp,
} from '@switchboard/sdp';
import { NegotiationError, answerPublisherOffer, buildSubscriberOffer, readSubscriberAnswer } from '../src/negotiation.js';
import type { LocalIceInfo, SubscriberSlot } from '../src/negotiation.js';
import { EXT } from '../src/codecs.js';
import { opusCodec, vp8Codec } from './helpers.js';

const fixture = (name: string): string => readFileSync(fileURLToPath(new URL(`../../sdp/test/fixtures/${name}`, import.meta.url)), 'utf8');
const SIMULCAST = fixture('chromium-offer-simulcast.sdp');
const AV_DATA = fixture('chromium-offer-av-data.sdp');
const ANSWER = fixture('chromium-answer-recvonly.sdp');

const FP = Array.from({ length: 32 }, (_, i) => ((i * 37 + 11) & 0xff).toString(16).toUpperCase().padStart(2, '0')).join(':');
const LOCAL: LocalIceInfo = {
  ufrag: 'sbU1',
  pwd: 'sb-ice-password-0123456789',
  fingerprint: FP,
  candidates: [
    { foundation: '1', component: 1, transport: 'udp', priority: 2130706431, address: '192.0.2.10', port: 40000, type: 'host' },
    { foundation: '2', component: 1, transport: 'udp', priority: 2130706175, address: '198.51.100.7', port: 40000, type: 'host' },
  ],
};

function assertOurTransport(sdp: ReturnType<typeof parseSdp>, m: ReturnType<typeof parseSdp>['media'][number], setup: string): void {
  const ice = getIceParameters(sdp, m)!;
  assert.equal(ice.ufrag, LOCAL.ufrag);
  assert.equal(ice.pwd, LOCAL.pwd);
  assert.equal(ice.lite, true);
  assert.deepEqual(getFingerprint(sdp, m), { algorithm: 'sha-256', value: FP });
  assert.equal(getSetup(sdp, m), setup);
  const cands = getCandidates(m);
  assert.deepEqual(
    cands.map((c) => [c.foundation, c.component, c.transport, c.priority, c.address, c.port, c.type]),
    LOCAL.candidates.map((c) => [c.foundation, c.component, c.transport, c.priority, c.address, c.port, c.type]),
  );
  if (m.kind !== 'application') assert.equal(getAttribute(m, 'rtcp-mux'), '');
}

test('answerPublisherOffer: Chromium simulcast offer (audio + VP8 q/h/f)', () => {
  const neg = answerPublisherOffer(SIMULCAST, LOCAL, { dataChannels: true });
  const answer = parseSdp(neg.answer);
  assert.equal(getAttribute(answer, 'ice-lite'), '');
  assert.deepEqual(getBundleGroups(answer), [['0', '1']]);
  assert.equal(answer.media.length, 2);
  const [audio, video] = answer.media;
  for (const m of answer.media) {
    assert.equal(getDirection(m), 'recvonly');
    assertOurTransport(answer, m, 'passive');
  }
  assert.equal(getMid(audio), '0');
  assert.equal(getMid(video), '1');
  // audio: opus + red, no telephone-event/G722/...
  assert.deepEqual(
    getCodecs(audio).map((c) => [c.payloadType, c.name.toLowerCase()]),
    [
      [111, 'opus'],
      [63, 'red'],
    ],
  );
  // video: one codec (the publisher's first: VP8) and its RTX
  const vc = getCodecs(video);
  assert.deepEqual(
    vc.map((c) => [c.payloadType, c.name, c.clockRate]),
    [
      [96, 'VP8', 90000],
      [97, 'rtx', 90000],
    ],
  );
  assert.equal(vc[1].fmtp, 'apt=96');
  assert.deepEqual(vc[0].rtcpFb.map((f) => `${f.type}${f.parameter ? ' ' + f.parameter : ''}`).sort(), ['ccm fir', 'goog-remb', 'nack', 'nack pli']);
  // simulcast: receive q;h;f with rid recv lines
  assert.deepEqual(getSimulcast(video), { recv: [[{ rid: 'q', paused: false }], [{ rid: 'h', paused: false }], [{ rid: 'f', paused: false }]] });
  assert.deepEqual(getRids(video).map((r) => [r.id, r.direction]), [
    ['q', 'recv'],
    ['h', 'recv'],
    ['f', 'recv'],
  ]);
  // extensions: only those the SFU uses, with the publisher's ids
  assert.deepEqual(getExtMaps(audio).map((e) => [e.id, e.uri]), [
    [1, EXT.audioLevel],
    [2, EXT.absSendTime],
    [4, EXT.mid],
  ]);
  assert.deepEqual(getExtMaps(video).map((e) => [e.id, e.uri]), [
    [2, EXT.absSendTime],
    [4, EXT.mid],
    [10, EXT.rid],
    [11, EXT.repairedRid],
  ]);
  // what the SFU learnt
  assert.equal(neg.remote.ufrag, 'DCyv');
  assert.equal(neg.remote.pwd, 'Vt9F3cZJWMNtoMjAugQKwo4P');
  assert.equal(neg.remote.fingerprint.algorithm, 'sha-256');
  assert.ok(neg.remote.fingerprint.value.startsWith('5E:90:DC'));
  assert.equal(neg.remote.setup, 'actpass');
  assert.equal(neg.dataMid, undefined);
  assert.equal(neg.tracks.length, 2);
  const [ta, tv] = neg.tracks;
  assert.equal(ta.kind, 'audio');
  assert.equal(ta.codec.name, 'opus');
  assert.equal(ta.codec.payloadType, 111);
  assert.equal(ta.codec.redPayloadType, 63);
  assert.equal(ta.ssrc, 301705791);
  assert.deepEqual(ta.rids, []);
  assert.equal(ta.extensions.audioLevel, 1);
  assert.equal(ta.extensions.absSendTime, 2);
  assert.equal(ta.extensions.mid, 4);
  assert.equal(ta.streamId, 'e63ba7dc-1e4f-4d0f-b6b1-f8000b651e09');
  assert.equal(ta.trackId, '73b2cb8c-dbd2-47e1-9ede-d45ff5794e3a');
  assert.equal(tv.kind, 'video');
  assert.equal(tv.mid, '1');
  assert.equal(tv.codec.name, 'vp8');
  assert.equal(tv.codec.payloadType, 96);
  assert.equal(tv.codec.rtxPayloadType, 97);
  assert.deepEqual(tv.rids, ['q', 'h', 'f']);
  assert.equal(tv.ssrc, 0, 'simulcast: SSRCs are learnt from rids');
  assert.deepEqual(
    { mid: tv.extensions.mid, rid: tv.extensions.rid, repairedRid: tv.extensions.repairedRid, abs: tv.extensions.absSendTime, level: tv.extensions.audioLevel },
    { mid: 4, rid: 10, repairedRid: 11, abs: 2, level: -1 },
  );
  assert.equal(tv.trackId, '993b59ee-43fe-4141-bbaf-666f29c13351');
});

test('answerPublisherOffer: Chromium audio + video + data offer (sendrecv, FID group)', () => {
  const neg = answerPublisherOffer(AV_DATA, LOCAL, { dataChannels: true });
  const answer = parseSdp(neg.answer);
  assert.deepEqual(getBundleGroups(answer), [['0', '1', '2']]);
  assert.equal(answer.media.length, 3);
  assert.equal(getDirection(answer.media[0]), 'recvonly');
  assert.equal(getDirection(answer.media[1]), 'recvonly');
  assert.equal(answer.media[2].kind, 'application');
  assert.equal(getAttribute(answer.media[2], 'sctp-port'), '5000');
  for (const m of answer.media) assertOurTransport(answer, m, 'passive');
  assert.equal(neg.dataMid, '2');
  const tv = neg.tracks.find((t) => t.kind === 'video')!;
  assert.equal(tv.ssrc, 1290438645);
  assert.equal(tv.rtxSsrc, 19572523);
  assert.deepEqual(tv.rids, []);
  assert.equal(getSimulcast(answer.media[1]), undefined);
  assert.equal(getCodecs(answer.media[1]).length, 2);
  // without data channels the application section is rejected (port 0) and left out of BUNDLE
  const noData = parseSdp(answerPublisherOffer(AV_DATA, LOCAL, { dataChannels: false }).answer);
  assert.equal(noData.media[2].port, 0);
  assert.deepEqual(getBundleGroups(noData), [['0', '1']]);
});

test('answerPublisherOffer: a data channel we do not take is rejected in a valid answer; no ICE credentials is a NegotiationError; bad SDP an SdpError', () => {
  const onlyData = AV_DATA.split(/(?=^m=)/m).filter((s, i) => i === 0 || s.startsWith('m=application')).join('');
  const neg = answerPublisherOffer(onlyData, LOCAL, { dataChannels: false });
  assert.equal(parseSdp(neg.answer).media[0].port, 0);
  assert.equal(neg.dataMid, undefined);
  const noIce = onlyData.replace(/^a=ice-(ufrag|pwd):.*\r?\n/gm, '');
  assert.throws(() => answerPublisherOffer(noIce, LOCAL, { dataChannels: false }), (e: unknown) => e instanceof NegotiationError && e.code === 'SB_ERR_SDP_UNSUPPORTED');
  assert.throws(() => answerPublisherOffer('v=0\r\nnonsense', LOCAL, { dataChannels: false }), (e: unknown) => (e as { code?: string }).code === 'SB_ERR_SDP_INVALID');
});

test('buildSubscriberOffer: sendonly sections with canonical payload types, msid and FID groups', () => {
  const slots: SubscriberSlot[] = [
    { mid: '0', kind: 'audio', track: { codec: { ...opusCodec(), payloadType: 109, redPayloadType: 120 }, ssrc: 1111, rtxSsrc: 0, streamId: 'cid-a', trackId: 'TR_a', cname: 'sb-PA_1', red: true } },
    { mid: '1', kind: 'video', track: { codec: { ...vp8Codec(), payloadType: 120, rtxPayloadType: 121 }, ssrc: 2222, rtxSsrc: 3333, streamId: 'cid-v', trackId: 'TR_v', cname: 'sb-PA_1', red: false } },
    { mid: '2', kind: 'video' },
  ];
  const text = buildSubscriberOffer(slots, LOCAL, 7);
  const offer = parseSdp(text);
  assert.equal(offer.origin.sessionVersion, '7');
  assert.equal(getAttribute(offer, 'ice-lite'), '');
  assert.deepEqual(getBundleGroups(offer), [['0', '1', '2']]);
  assert.equal(offer.media.length, 3);
  const [a, v, idle] = offer.media;
  for (const m of offer.media) assertOurTransport(offer, m, 'actpass');
  assert.deepEqual(offer.media.map(getMid), ['0', '1', '2']);
  assert.equal(getDirection(a), 'sendonly');
  assert.equal(getDirection(v), 'sendonly');
  assert.equal(getDirection(idle), 'inactive');
  // canonical payload types, whatever the publisher used
  assert.deepEqual(getCodecs(a).map((c) => [c.payloadType, c.name, c.clockRate, c.channels]), [
    [111, 'opus', 48000, 2],
    [63, 'red', 48000, 2],
  ]);
  assert.equal(getCodecs(a)[1].fmtp, '111/111');
  assert.deepEqual(getCodecs(v).map((c) => [c.payloadType, c.name]), [
    [96, 'VP8'],
    [97, 'rtx'],
  ]);
  assert.equal(getCodecs(v)[1].fmtp, 'apt=96');
  assert.deepEqual(getExtMaps(a).map((e) => [e.id, e.uri]), [
    [1, EXT.audioLevel],
    [2, EXT.absSendTime],
  ]);
  assert.deepEqual(getExtMaps(v).map((e) => [e.id, e.uri]), [[2, EXT.absSendTime]]);
  assert.deepEqual(getMsid(a), { stream: 'cid-a', track: 'TR_a' });
  assert.deepEqual(getMsid(v), { stream: 'cid-v', track: 'TR_v' });
  assert.deepEqual(getSsrcGroups(a), []);
  assert.deepEqual(getSsrcGroups(v), [{ semantics: 'FID', ssrcs: [2222, 3333] }]);
  assert.deepEqual(
    getSsrcs(v).map((s) => [s.ssrc, s.attribute, s.value]),
    [
      [2222, 'cname', 'sb-PA_1'],
      [2222, 'msid', 'cid-v TR_v'],
      [3333, 'cname', 'sb-PA_1'],
      [3333, 'msid', 'cid-v TR_v'],
    ],
  );
  assert.deepEqual(getSsrcs(a).map((s) => s.ssrc), [1111, 1111]);
  assert.equal(getMsid(idle), undefined);
  assert.deepEqual(getSsrcs(idle), []);
  assert.equal(getAttributes(v, 'rtcp-fb').length, 4);
});

test('readSubscriberAnswer: Chromium recvonly answer', () => {
  const { remote, accepted } = readSubscriberAnswer(ANSWER);
  const sdp = parseSdp(ANSWER);
  const ice = getIceParameters(sdp, sdp.media[0])!;
  assert.equal(remote.ufrag, ice.ufrag);
  assert.equal(remote.pwd, ice.pwd);
  assert.deepEqual(remote.fingerprint, getFingerprint(sdp, sdp.media[0]));
  assert.equal(remote.setup, getSetup(sdp, sdp.media[0]));
  assert.deepEqual([...accepted].sort(), ['0', '1', '2']);
  // a rejected section is not accepted
  const rejected = ANSWER.replace(/^m=video \d+/m, 'm=video 0');
  assert.deepEqual([...readSubscriberAnswer(rejected).accepted].sort(), ['0', '2']);
});

test('subscriber offer -> Chromium-like answer round trip through our own reader', () => {
  const slots: SubscriberSlot[] = [{ mid: '0', kind: 'audio', track: { codec: opusCodec(), ssrc: 5, rtxSsrc: 0, streamId: 's', trackId: 't', cname: 'c', red: false } }];
  const offer = buildSubscriberOffer(slots, LOCAL, 1);
  // reading our own offer as if it were an answer gives our transport back
  const { remote, accepted } = readSubscriberAnswer(offer);
  assert.equal(remote.ufrag, LOCAL.ufrag);
  assert.equal(remote.fingerprint.value, FP);
  assert.deepEqual([...accepted], ['0']);
});
