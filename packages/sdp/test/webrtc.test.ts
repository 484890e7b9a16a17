// The typed WebRTC readers on Chromium's offers and answer, and their errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  getBundleGroups,
  getCandidates,
  getCodecs,
  getDirection,
  getExtMaps,
  getFingerprint,
  getIceParameters,
  getMaxMessageSize,
  getMid,
  getMsid,
  getRids,
  getSctpPort,
  getSetup,
  getSimulcast,
  getSsrcGroups,
  getSsrcs,
  parseFmtp,
  parseSdp,
  writeSimulcast,
} from '../src/index.js';
import type { MediaDescription, SessionDescription, Simulcast } from '../src/index.js';
import { fixture, media, throwsSdp } from './helpers.js';

const offer = fixture('chromium-offer-av-data.sdp');
const simulcastOffer = fixture('chromium-offer-simulcast.sdp');
const answer = fixture('chromium-answer-recvonly.sdp');

/** A media section with just these attributes (for error cases). */
function section(attrs: string[], protocol = 'UDP/TLS/RTP/SAVPF', formats = ['96']): MediaDescription {
  return parseSdp(
    `v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 ${protocol} ${formats.join(' ')}\r\n` +
      attrs.map((a) => `a=${a}\r\n`).join(''),
  ).media[0]!;
}
function session(sessionAttrs: string[], mediaAttrs: string[] = []): SessionDescription {
  return parseSdp(
    'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n' +
      sessionAttrs.map((a) => `a=${a}\r\n`).join('') +
      'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n' +
      mediaAttrs.map((a) => `a=${a}\r\n`).join(''),
  );
}

test('audio codecs: opus fmtp + transport-cc, RED, static types, telephone-event', () => {
  const codecs = getCodecs(media(offer, 'audio'));
  assert.deepEqual(
    codecs.map((c) => `${c.payloadType} ${c.name}/${c.clockRate}${c.channels ? `/${c.channels}` : ''}`),
    ['111 opus/48000/2', '63 red/48000/2', '9 G722/8000', '0 PCMU/8000', '8 PCMA/8000', '13 CN/8000', '110 telephone-event/48000', '126 telephone-event/8000'],
  );
  assert.deepEqual(codecs[0], {
    payloadType: 111,
    name: 'opus',
    clockRate: 48000,
    channels: 2,
    fmtp: 'minptime=10;useinbandfec=1',
    rtcpFb: [{ type: 'transport-cc' }],
  });
  assert.deepEqual(parseFmtp(codecs[0]!.fmtp!), { minptime: '10', useinbandfec: '1' });
  assert.equal(codecs[1]!.fmtp, '111/111'); // RED redundancy over opus
  assert.deepEqual(parseFmtp('111/111'), { '111/111': '' });
});

test('video codecs: rtx apt, rtcp-fb with parameters, H264 fmtp, red/ulpfec', () => {
  const codecs = getCodecs(media(offer, 'video'));
  assert.equal(codecs.length, 23);
  assert.deepEqual(codecs[0], {
    payloadType: 96,
    name: 'VP8',
    clockRate: 90000,
    rtcpFb: [
      { type: 'goog-remb' },
      { type: 'transport-cc' },
      { type: 'ccm', parameter: 'fir' },
      { type: 'nack' },
      { type: 'nack', parameter: 'pli' },
    ],
  });
  assert.deepEqual(codecs[1], { payloadType: 97, name: 'rtx', clockRate: 90000, fmtp: 'apt=96', rtcpFb: [] });
  const rtx = codecs.filter((c) => c.name === 'rtx').map((c) => [c.payloadType, Number(parseFmtp(c.fmtp!).apt)]);
  assert.deepEqual(rtx, [[97, 96], [103, 102], [107, 104], [109, 108], [115, 114], [117, 116], [40, 39], [46, 45], [99, 98], [101, 100], [119, 118]]);
  const h264 = codecs.find((c) => c.payloadType === 102)!;
  assert.deepEqual(parseFmtp(h264.fmtp!), { 'level-asymmetry-allowed': '1', 'packetization-mode': '1', 'profile-level-id': '42001f' });
  assert.deepEqual(
    codecs.slice(-3).map((c) => c.name),
    ['red', 'rtx', 'ulpfec'],
  );
  assert.ok(codecs.filter((c) => c.name !== 'rtx' && c.name !== 'red' && c.name !== 'ulpfec').every((c) => c.rtcpFb.some((f) => f.type === 'transport-cc')));
  assert.deepEqual(getCodecs(media(offer, 'application')), []);
});

test('getCodecs: wildcard rtcp-fb, static defaults, dynamic types without rtpmap, errors', () => {
  const m = section(['rtcp-fb:* nack', 'rtpmap:96 VP8/90000', 'rtcp-fb:96 nack pli', 'rtcp-fb:97 ccm fir', 'fmtp:0 x=1'], 'RTP/AVP', ['96', '0', '97', '96']);
  assert.deepEqual(getCodecs(m), [
    { payloadType: 96, name: 'VP8', clockRate: 90000, rtcpFb: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] },
    { payloadType: 0, name: 'PCMU', clockRate: 8000, fmtp: 'x=1', rtcpFb: [{ type: 'nack' }] },
  ]);
  for (const bad of ['rtpmap:96 VP8', 'rtpmap:96', 'rtpmap:x VP8/90000', 'rtpmap:96 VP8/fast', 'rtpmap:128 VP8/90000', 'rtpmap:96 VP8/90000/2/1', 'fmtp:abc x=1', 'rtcp-fb:96', 'rtcp-fb:x nack']) {
    throwsSdp(() => getCodecs(section([bad])), /a=/);
  }
  throwsSdp(() => getCodecs(section([], 'RTP/AVP', ['webrtc-datachannel'])), /payload type/);
});

test('parseFmtp keeps keys as written, trims, first key wins, never pollutes prototypes', () => {
  assert.deepEqual(parseFmtp('apt=96'), { apt: '96' });
  assert.deepEqual(parseFmtp(' Profile-Level-Id=42e01f ; packetization-mode=1;;x=1;x=2;flag'), {
    'Profile-Level-Id': '42e01f',
    'packetization-mode': '1',
    x: '1',
    flag: '',
  });
  assert.deepEqual(parseFmtp(''), {});
  const p = parseFmtp('__proto__=1;constructor=2');
  assert.equal(Object.getPrototypeOf(p), Object.prototype);
  assert.equal(p['__proto__'], '1');
  assert.equal(Object.prototype.hasOwnProperty.call(p, '__proto__'), true);
});

test('extmaps: audio and video ids, sdes:mid and rtp-stream-id', () => {
  assert.deepEqual(getExtMaps(media(offer, 'audio')), [
    { id: 1, uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level' },
    { id: 2, uri: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time' },
    { id: 3, uri: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01' },
    { id: 4, uri: 'urn:ietf:params:rtp-hdrext:sdes:mid' },
  ]);
  const video = new Map(getExtMaps(media(simulcastOffer, 'video')).map((e) => [e.uri, e.id]));
  assert.equal(video.get('urn:ietf:params:rtp-hdrext:sdes:mid'), 4);
  assert.equal(video.get('urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id'), 10);
  assert.equal(video.get('urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id'), 11);
  assert.equal(video.get('https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension'), 12);
  assert.equal(video.size, 13);
  assert.deepEqual(getExtMaps(section(['extmap:7/recvonly urn:x:y  attr1 attr2 ', 'extmap:256 urn:z'])), [
    { id: 7, uri: 'urn:x:y', direction: 'recvonly', attributes: 'attr1 attr2' },
    { id: 256, uri: 'urn:z' },
  ]);
  for (const bad of ['extmap:1', 'extmap:0 urn:x', 'extmap:x urn:x', 'extmap:1/up urn:x', 'extmap:1/sendonly/x urn:x', 'extmap:5000 urn:x']) {
    throwsSdp(() => getExtMaps(section([bad])), /a=extmap/);
  }
});

test('simulcast offer: a=rid q/h/f send, a=simulcast:send q;h;f, no a=ssrc for video', () => {
  const video = media(simulcastOffer, 'video');
  assert.deepEqual(getRids(video), [
    { id: 'q', direction: 'send' },
    { id: 'h', direction: 'send' },
    { id: 'f', direction: 'send' },
  ]);
  const sc = getSimulcast(video);
  assert.deepEqual(sc, { send: [[{ rid: 'q', paused: false }], [{ rid: 'h', paused: false }], [{ rid: 'f', paused: false }]] });
  assert.equal(writeSimulcast(sc!), 'send q;h;f');
  assert.equal(getDirection(video), 'sendonly');
  assert.deepEqual(getSsrcs(video), []);
  assert.deepEqual(getSsrcGroups(video), []);
  assert.equal(getSimulcast(media(simulcastOffer, 'audio')), undefined);
  assert.deepEqual(getRids(media(simulcastOffer, 'audio')), []);
});

test('getSimulcast / writeSimulcast: alternatives, paused, both directions, errors', () => {
  const m = section(['simulcast:send 1;~2;3,4 recv a,~b']);
  const sc: Simulcast = {
    send: [[{ rid: '1', paused: false }], [{ rid: '2', paused: true }], [{ rid: '3', paused: false }, { rid: '4', paused: false }]],
    recv: [[{ rid: 'a', paused: false }, { rid: 'b', paused: true }]],
  };
  assert.deepEqual(getSimulcast(m), sc);
  assert.equal(writeSimulcast(sc), 'send 1;~2;3,4 recv a,~b');
  assert.deepEqual(getSimulcast(section(['simulcast: recv x;y send z'])), {
    recv: [[{ rid: 'x', paused: false }], [{ rid: 'y', paused: false }]],
    send: [[{ rid: 'z', paused: false }]],
  });
  assert.deepEqual(getSimulcast(section(['simulcast: send rid=h;m'])), { send: [[{ rid: 'h', paused: false }], [{ rid: 'm', paused: false }]] });
  for (const bad of ['simulcast', 'simulcast:send', 'simulcast:up a', 'simulcast:send a send b', 'simulcast:send a;;b', 'simulcast:send a,', 'simulcast:send ~', 'simulcast:send a recv']) {
    throwsSdp(() => getSimulcast(section([bad])), /a=simulcast/);
  }
  throwsSdp(() => writeSimulcast({}));
  throwsSdp(() => writeSimulcast({ send: [] }));
  throwsSdp(() => writeSimulcast({ send: [[]] }));
  throwsSdp(() => writeSimulcast({ send: [[{ rid: 'a b', paused: false }]] }));
});

test('getRids: params and errors', () => {
  assert.deepEqual(getRids(section(['rid:hi recv pt=96;max-width=1280', 'rid:lo-1_x send'])), [
    { id: 'hi', direction: 'recv', params: 'pt=96;max-width=1280' },
    { id: 'lo-1_x', direction: 'send' },
  ]);
  for (const bad of ['rid:q', 'rid:q both', 'rid:q! send', 'rid']) throwsSdp(() => getRids(section([bad])), /a=rid/);
});

test('ssrc, ssrc-group FID and msid in the offer', () => {
  const video = media(offer, 'video');
  assert.deepEqual(getSsrcGroups(video), [{ semantics: 'FID', ssrcs: [1290438645, 19572523] }]);
  const msid = '6543b1fc-5f2b-422c-970c-5f1e0e83b704 17e7b583-8c7d-4b17-8c88-94adc943f5be';
  assert.deepEqual(getSsrcs(video), [
    { ssrc: 1290438645, attribute: 'cname', value: 'd5gMg2439XT2TNqe' },
    { ssrc: 1290438645, attribute: 'msid', value: msid },
    { ssrc: 19572523, attribute: 'cname', value: 'd5gMg2439XT2TNqe' },
    { ssrc: 19572523, attribute: 'msid', value: msid },
  ]);
  assert.deepEqual(getMsid(video), { stream: '6543b1fc-5f2b-422c-970c-5f1e0e83b704', track: '17e7b583-8c7d-4b17-8c88-94adc943f5be' });
  assert.equal(getMsid(media(answer, 'video')), undefined); // recvonly: no msid
  assert.deepEqual(getMsid(section(['msid:-'])), { stream: '-' });
  assert.deepEqual(getSsrcs(section(['ssrc:4294967295 x'])), [{ ssrc: 4294967295, attribute: 'x' }]);
  for (const bad of ['msid', 'msid:a b c']) throwsSdp(() => getMsid(section([bad])), /a=msid/);
  for (const bad of ['ssrc:4294967296 cname:x', 'ssrc:-1 cname:x', 'ssrc:1', 'ssrc:1 :x', 'ssrc:abc cname:x']) throwsSdp(() => getSsrcs(section([bad])), /a=ssrc/);
  for (const bad of ['ssrc-group', 'ssrc-group:FID 1 x', 'ssrc-group:FID 99999999999']) throwsSdp(() => getSsrcGroups(section([bad])), /a=ssrc-group/);
});

test('directions and mids', () => {
  assert.deepEqual(offer.media.map(getDirection), ['sendrecv', 'sendrecv', 'sendrecv']); // application: none written
  assert.deepEqual(answer.media.map(getDirection), ['recvonly', 'recvonly', 'sendrecv']);
  assert.deepEqual(offer.media.map(getMid), ['0', '1', '2']);
  assert.equal(getDirection(section(['inactive', 'sendonly'])), 'inactive');
  assert.equal(getMid(section([])), undefined);
  throwsSdp(() => getDirection(section(['sendonly:x'])), /a=sendonly/);
  throwsSdp(() => getMid(section(['mid'])), /a=mid/);
  throwsSdp(() => getMid(section(['mid:a b'])), /a=mid/);
});

test('ICE, DTLS fingerprint, setup and BUNDLE from the offer and the answer', () => {
  for (const m of offer.media) {
    assert.deepEqual(getIceParameters(offer, m), { ufrag: 'Xgot', pwd: 'riykuUewyTZ/E12VvU1l1t4L', lite: false, options: ['trickle'] });
    assert.deepEqual(getFingerprint(offer, m), {
      algorithm: 'sha-256',
      value: '87:7C:47:36:3B:9D:30:3F:E0:2C:51:75:D1:60:EB:68:5B:29:41:C4:CB:0B:6D:BB:C8:25:65:E3:51:48:F2:0E',
    });
    assert.equal(getSetup(offer, m), 'actpass');
  }
  assert.equal(getSetup(answer, answer.media[0]!), 'active');
  assert.deepEqual(getBundleGroups(offer), [['0', '1', '2']]);
  assert.deepEqual(getBundleGroups(simulcastOffer), [['0', '1']]);
  assert.deepEqual(getBundleGroups(answer), [['0', '1', '2']]);
});

test('ICE/DTLS readers: session level, media overrides, normalisation, errors', () => {
  const s = session(
    ['ice-lite', 'ice-ufrag:sess', 'ice-pwd:sesspwdsesspwdsesspwd12', 'ice-options:trickle renomination', 'fingerprint:SHA-256 ab:cd', 'setup:passive', 'group:LS 0 1', 'group:bundle 0'],
    ['ice-ufrag:med'],
  );
  const m = s.media[0]!;
  assert.deepEqual(getIceParameters(s, m), { ufrag: 'med', pwd: 'sesspwdsesspwdsesspwd12', lite: true, options: ['trickle', 'renomination'] });
  assert.deepEqual(getFingerprint(s, m), { algorithm: 'sha-256', value: 'AB:CD' });
  assert.equal(getSetup(s, m), 'passive');
  assert.deepEqual(getBundleGroups(s), [['0']]);
  const none = session([]);
  assert.equal(getIceParameters(none, none.media[0]!), undefined);
  assert.equal(getFingerprint(none, none.media[0]!), undefined);
  assert.equal(getSetup(none, none.media[0]!), undefined);
  assert.deepEqual(getBundleGroups(none), []);
  for (const [attrs, re] of [
    [['ice-ufrag:x'], /ice-pwd/],
    [['ice-pwd:x'], /ice-ufrag/],
    [['ice-ufrag', 'ice-pwd:x'], /ice-ufrag/],
    [['ice-ufrag:a b', 'ice-pwd:x'], /ice-ufrag/],
  ] as const) {
    const d = session([...attrs]);
    throwsSdp(() => getIceParameters(d, d.media[0]!), re);
  }
  for (const bad of ['fingerprint:sha-256', 'fingerprint:sha-256 XY:00', 'fingerprint:sha-256 A:BC', 'fingerprint:sha-256 AB: CD']) {
    const d = session([bad]);
    throwsSdp(() => getFingerprint(d, d.media[0]!), /a=fingerprint/);
  }
  const d = session(['setup:both']);
  throwsSdp(() => getSetup(d, d.media[0]!), /a=setup/);
  throwsSdp(() => getBundleGroups(session(['group'])), /a=group/);
});

test('SCTP: sctp-port, max-message-size, legacy sctpmap', () => {
  const app = media(offer, 'application');
  assert.equal(getSctpPort(app), 5000);
  assert.equal(getMaxMessageSize(app), 262144);
  assert.equal(getSctpPort(media(answer, 'application')), 5000);
  assert.equal(getSctpPort(media(offer, 'audio')), undefined);
  assert.equal(getMaxMessageSize(media(offer, 'audio')), undefined);
  assert.equal(getSctpPort(section(['sctpmap:5001 webrtc-datachannel 1024'], 'DTLS/SCTP', ['5001'])), 5001);
  for (const bad of ['sctp-port:x', 'sctp-port:70000', 'sctp-port', 'sctpmap:x webrtc-datachannel']) throwsSdp(() => getSctpPort(section([bad])), /a=sctp/);
  throwsSdp(() => getMaxMessageSize(section(['max-message-size:-5'])), /a=max-message-size/);
});

test('candidates in the fixtures parse: udp and tcp host candidates, IPv4 and IPv6', () => {
  const cands = getCandidates(media(offer, 'audio'));
  assert.equal(cands.length, 8);
  assert.deepEqual(cands[0], {
    foundation: '1469376494',
    component: 1,
    transport: 'udp',
    priority: 2122194687,
    address: '127.0.0.1',
    port: 56649,
    type: 'host',
    extensions: [
      { name: 'generation', value: '0' },
      { name: 'network-id', value: '3' },
      { name: 'network-cost', value: '50' },
    ],
  });
  assert.equal(cands[2]!.address, '::1');
  assert.deepEqual(
    cands.filter((c) => c.transport === 'tcp').map((c) => [c.port, c.tcpType]),
    [[9, 'active'], [9, 'active'], [9, 'active'], [9, 'active']],
  );
  // BUNDLE answer: candidates only in the first section.
  assert.deepEqual(answer.media.map((m) => getCandidates(m).length), [8, 0, 0]);
});
