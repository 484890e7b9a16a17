// parseSdp / writeSdp on Chromium's SDP, hand-written edge cases and every structural error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_MEDIA_SECTIONS,
  MAX_SDP_BYTES,
  MAX_SDP_LINES,
  getAttribute,
  getAttributes,
  hasAttribute,
  parseSdp,
  writeSdp,
} from '../src/index.js';
import type { SessionDescription } from '../src/index.js';
import { FIXTURE_NAMES, fixture, fixtureText, throwsSdp } from './helpers.js';

const MINIMAL = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';

test('parses the session level of a Chromium offer', () => {
  const sdp = fixture('chromium-offer-av-data.sdp');
  assert.equal(sdp.version, 0);
  assert.deepEqual(sdp.origin, {
    username: '-',
    sessionId: '8381863663951819825',
    sessionVersion: '2',
    netType: 'IN',
    addrType: 'IP4',
    address: '127.0.0.1',
  });
  assert.equal(sdp.sessionName, '-');
  assert.deepEqual(sdp.timing, [{ start: '0', stop: '0' }]);
  assert.equal(sdp.connection, undefined);
  assert.deepEqual(sdp.bandwidths, []);
  assert.deepEqual(sdp.attributes, [
    { name: 'group', value: 'BUNDLE 0 1 2' },
    { name: 'extmap-allow-mixed' },
    // Chromium writes a space after the colon: kept as written.
    { name: 'msid-semantic', value: ' WMS 6543b1fc-5f2b-422c-970c-5f1e0e83b704' },
  ]);
  assert.deepEqual(
    sdp.media.map((m) => [m.kind, m.protocol, m.formats.length]),
    [
      ['audio', 'UDP/TLS/RTP/SAVPF', 8],
      ['video', 'UDP/TLS/RTP/SAVPF', 23],
      ['application', 'UDP/DTLS/SCTP', 1],
    ],
  );
  const [audio, , app] = sdp.media;
  assert.equal(audio!.port, 56649);
  assert.equal(audio!.connection, 'IN IP4 127.0.0.1');
  assert.deepEqual(audio!.formats, ['111', '63', '9', '0', '8', '13', '110', '126']);
  assert.deepEqual(app!.formats, ['webrtc-datachannel']);
  assert.equal(audio!.attributes[0]!.name, 'rtcp');
  assert.equal(audio!.attributes[0]!.value, '9 IN IP4 0.0.0.0');
});

test('attribute helpers', () => {
  const sdp = fixture('chromium-offer-av-data.sdp');
  const video = sdp.media[1]!;
  assert.equal(getAttribute(video, 'mid'), '1');
  assert.equal(getAttribute(video, 'rtcp-mux'), '');
  assert.equal(getAttribute(video, 'nope'), undefined);
  assert.equal(getAttribute(sdp, 'extmap-allow-mixed'), '');
  assert.equal(hasAttribute(video, 'rtcp-rsize'), true);
  assert.equal(hasAttribute(video, 'ice-lite'), false);
  assert.equal(getAttributes(video, 'candidate').length, 8);
  assert.deepEqual(getAttributes(video, 'nope'), []);
  assert.deepEqual(getAttributes(video, 'ssrc-group'), ['FID 1290438645 19572523']);
});

for (const name of FIXTURE_NAMES) {
  test(`round trip: ${name}`, () => {
    const text = fixtureText(name);
    const sdp = parseSdp(text);
    const written = writeSdp(sdp);
    assert.deepEqual(parseSdp(written), sdp);
    // Chromium's own layout is exactly what writeSdp produces.
    assert.equal(written, text);
    // LF-only input reads the same.
    assert.deepEqual(parseSdp(text.replace(/\r\n/g, '\n')), sdp);
  });
}

test('writeSdp: CRLF, trailing CRLF, default t=0 0, canonical line order', () => {
  const desc: SessionDescription = {
    version: 0,
    origin: { username: 'sb', sessionId: '42', sessionVersion: '1', netType: 'IN', addrType: 'IP4', address: '0.0.0.0' },
    sessionName: 'switchboard',
    connection: 'IN IP4 0.0.0.0',
    bandwidths: [{ type: 'AS', value: 512 }],
    timing: [],
    attributes: [{ name: 'ice-lite' }, { name: 'group', value: 'BUNDLE 0' }],
    media: [
      {
        kind: 'audio',
        port: 9,
        protocol: 'UDP/TLS/RTP/SAVPF',
        formats: ['111'],
        information: 'mic',
        connection: 'IN IP4 0.0.0.0',
        bandwidths: [{ type: 'TIAS', value: 64000 }],
        attributes: [{ name: 'mid', value: '0' }, { name: 'rtpmap', value: '111 opus/48000/2' }, { name: 'empty', value: '' }],
      },
    ],
  };
  const text = writeSdp(desc);
  assert.equal(
    text,
    'v=0\r\no=sb 42 1 IN IP4 0.0.0.0\r\ns=switchboard\r\nc=IN IP4 0.0.0.0\r\nb=AS:512\r\nt=0 0\r\n' +
      'a=ice-lite\r\na=group:BUNDLE 0\r\n' +
      'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\ni=mic\r\nc=IN IP4 0.0.0.0\r\nb=TIAS:64000\r\n' +
      'a=mid:0\r\na=rtpmap:111 opus/48000/2\r\na=empty:\r\n',
  );
  assert.deepEqual(parseSdp(text), { ...desc, timing: [{ start: '0', stop: '0' }] });
});

test('writeSdp refuses values that would not read back (line injection, spaces in tokens, bad numbers)', () => {
  const base = parseSdp(MINIMAL + 'm=audio 9 RTP/AVP 0\r\n');
  const variants: ((d: SessionDescription) => void)[] = [
    (d) => (d.sessionName = 'x\r\na=injected'),
    (d) => d.attributes.push({ name: 'x', value: 'y\nm=video 9 RTP/AVP 0' }),
    (d) => d.attributes.push({ name: 'a:b' }),
    (d) => d.attributes.push({ name: '' }),
    (d) => (d.origin.username = 'two words'),
    (d) => (d.origin.address = ''),
    (d) => (d.version = -1),
    (d) => (d.version = 1.5),
    (d) => d.bandwidths.push({ type: 'AS', value: -1 }),
    (d) => d.bandwidths.push({ type: 'A:S', value: 1 }),
    (d) => d.timing.push({ start: '0 0', stop: '0' }),
    (d) => (d.media[0]!.port = 70000),
    (d) => (d.media[0]!.kind = ''),
    (d) => (d.media[0]!.protocol = 'RTP AVP'),
    (d) => d.media[0]!.formats.push(''),
    (d) => (d.media[0]!.information = 'a\rb'),
    (d) => (d.media[0]!.connection = 'IN IP4 1.2.3.4\0'),
  ];
  for (const change of variants) {
    const d = structuredClone(base);
    change(d);
    throwsSdp(() => writeSdp(d));
  }
});

test('lenient reading: LF, blank lines, extra blanks, ignored line types, missing t=', () => {
  const sdp = parseSdp(
    'v=0\n\no=-  1 2 IN  IP4 127.0.0.1\ns=Talk\ni=session info\nu=http://x\ne=a@b\np=+1\n' +
      'c=IN IP4 10.0.0.1\nc=IN IP4 10.0.0.2\nz=0 0\nk=clear:x\nq=unknown\n' +
      'm=audio  9 RTP/AVP 0 8 \ni=first\ni=second\nc=IN IP4 10.0.0.3\nk=prompt\nb=AS:64\na=sendonly\n',
  );
  assert.deepEqual(sdp.timing, [{ start: '0', stop: '0' }]);
  assert.equal(sdp.sessionName, 'Talk');
  assert.equal(sdp.connection, 'IN IP4 10.0.0.1');
  assert.equal(sdp.origin.addrType, 'IP4');
  assert.deepEqual(sdp.media[0], {
    kind: 'audio',
    port: 9,
    protocol: 'RTP/AVP',
    formats: ['0', '8'],
    information: 'first',
    connection: 'IN IP4 10.0.0.3',
    bandwidths: [{ type: 'AS', value: 64 }],
    attributes: [{ name: 'sendonly' }],
  });
});

test('a=name:value splits at the first colon; r= and multiple t= lines', () => {
  const sdp = parseSdp(MINIMAL + 't=3034423619 3042462419\r\nr=604800 3600 0 90000\r\na=x:y:z\r\na=x:\r\nm=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n');
  assert.deepEqual(sdp.timing, [
    { start: '0', stop: '0' },
    { start: '3034423619', stop: '3042462419' },
  ]);
  assert.deepEqual(sdp.attributes, [{ name: 'x', value: 'y:z' }, { name: 'x', value: '' }]);
  assert.equal(sdp.media[0]!.port, 0);
  assert.deepEqual(parseSdp(writeSdp(sdp)), sdp);
});

test('structural errors throw SdpError SB_ERR_SDP_INVALID', () => {
  const cases: [string, RegExp][] = [
    ['', /no v= line/],
    ['\r\n\r\n', /no v= line/],
    ['o=- 1 2 IN IP4 0.0.0.0\r\nv=0\r\n', /must start with v=/],
    ['v=zero\r\n', /v=/],
    ['v=0\r\ns=-\r\n', /no o= line/],
    ['v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\n', /no s= line/],
    ['v=0\r\no=- 1 2 IN IP4\r\ns=-\r\n', /o= line needs 6 fields/],
    [MINIMAL + 'garbage\r\n', /not "x=value"/],
    [MINIMAL + 'a\r\n', /not "x=value"/],
    [MINIMAL + 'ab=c\r\n', /not "x=value"/],
    [MINIMAL + 'v=0\r\n', /second v=/],
    [MINIMAL + 'o=- 1 2 IN IP4 0.0.0.0\r\n', /second o=/],
    [MINIMAL + 's=again\r\n', /second s=/],
    [MINIMAL + 't=0\r\n', /t= line/],
    [MINIMAL + 'b=AS\r\n', /b= line/],
    [MINIMAL + 'b=AS:fast\r\n', /b= value/],
    [MINIMAL + 'a=:value\r\n', /attribute name/],
    [MINIMAL + 'm=audio\r\n', /m= line needs/],
    [MINIMAL + 'm=audio 9\r\n', /m= line needs/],
    [MINIMAL + 'm=audio nine RTP/AVP 0\r\n', /m= port/],
    [MINIMAL + 'm=audio -1 RTP/AVP 0\r\n', /m= port/],
    [MINIMAL + 'm=audio 65536 RTP/AVP 0\r\n', /m= port/],
    [MINIMAL + 'm=audio 9/2 RTP/AVP 0\r\n', /port count/],
    [MINIMAL + 'm=audio 9 RTP/AVP 0\r\nb=AS:x\r\n', /b= value/],
    [MINIMAL + 'm=audio 9 RTP/AVP 0\r\nt=0 0\r\n', /inside a media section/],
    [MINIMAL + 'm=audio 9 RTP/AVP 0\r\ns=x\r\n', /inside a media section/],
    ['v=0\r\nm=audio 9 RTP/AVP 0\r\n', /before the o= and s=/],
    [MINIMAL + 'a=x:1\0\r\n', /NUL/],
    [MINIMAL + 'a=x:1\rb=AS:1\r\n', /CR/],
    [MINIMAL + 'a=x:1\r\r\n', /CR/],
  ];
  for (const [text, re] of cases) throwsSdp(() => parseSdp(text), re);
  throwsSdp(() => parseSdp(42 as unknown as string));
});

test('limits: 256 KiB, 64 media sections, 10 000 lines', () => {
  const pad = (n: number) => MINIMAL + 'a=x:' + 'y'.repeat(n) + '\r\n';
  const under = pad(MAX_SDP_BYTES - MINIMAL.length - 6);
  assert.equal(under.length, MAX_SDP_BYTES);
  parseSdp(under);
  throwsSdp(() => parseSdp(pad(MAX_SDP_BYTES)), /larger than/);
  // Counted in UTF-8 bytes, not UTF-16 units.
  throwsSdp(() => parseSdp(MINIMAL + 'a=x:' + '\u00e9'.repeat(MAX_SDP_BYTES / 2) + '\r\n'), /larger than/);

  const sections = (n: number) => MINIMAL + 'm=audio 9 RTP/AVP 0\r\n'.repeat(n);
  assert.equal(parseSdp(sections(MAX_MEDIA_SECTIONS)).media.length, MAX_MEDIA_SECTIONS);
  throwsSdp(() => parseSdp(sections(MAX_MEDIA_SECTIONS + 1)), /media sections/);

  const lines = (n: number) => MINIMAL + 'a=x\r\n'.repeat(n - 4);
  assert.equal(parseSdp(lines(MAX_SDP_LINES)).attributes.length, MAX_SDP_LINES - 4);
  throwsSdp(() => parseSdp(lines(MAX_SDP_LINES + 1)), /lines/);
});
