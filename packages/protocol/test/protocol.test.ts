import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeDataFrame,
  encodeDataFrame,
  CLIENT_MESSAGE_TYPES,
  ERROR_CODE_LIST,
  ErrorCodes,
  MAX_IDENTITY_LENGTH,
  MAX_MESSAGE_BYTES,
  MAX_METADATA_BYTES,
  MAX_NAME_LENGTH,
  MAX_SDP_BYTES,
  MAX_SERVER_MESSAGE_BYTES,
  MAX_TRACKS_PER_PARTICIPANT,
  PROTOCOL_VERSION,
  SERVER_MESSAGE_TYPES,
  encodeMessage,
  parseClientMessage,
  parseServerMessage,
  utf8ByteLength,
  type ClientMessage,
  type ParticipantInfo,
  type ServerMessage,
  type TrackInfo,
} from '../src/index.js';

const track: TrackInfo = {
  sid: 'TR_1',
  cid: 'stream-1',
  kind: 'video',
  source: 'camera',
  muted: false,
  name: 'cam',
  width: 1280,
  height: 720,
  simulcast: true,
  mid: '0',
};
const participant: ParticipantInfo = {
  sid: 'PA_a',
  identity: 'alice',
  name: 'Alice',
  metadata: '{"role":"host"}',
  tracks: [track, { sid: 'TR_2', cid: 'stream-2', kind: 'audio', source: 'microphone', muted: true }],
  joinedAt: 1_700_000_000_000,
  state: 'joined',
};
const SDP = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';
const cand = { candidate: 'candidate:1 1 udp 2122260223 10.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'abcd' };

const clientSamples: ClientMessage[] = [
  { v: 1, type: 'join', id: 1, token: 'eyJ.a.b', sdkVersion: '0.1.0' },
  { v: 1, type: 'join', token: 'eyJ.a.b', reconnect: { participantSid: 'PA_a', sessionToken: 'sess' } },
  { v: 1, type: 'offer', id: 2, to: 'PA_b', sdp: SDP, restart: true },
  { v: 1, type: 'offer', sdp: SDP },
  { v: 1, type: 'answer', to: 'PA_b', sdp: SDP },
  { v: 1, type: 'candidate', to: 'PA_b', candidate: cand },
  { v: 1, type: 'candidate', candidate: { candidate: '', sdpMid: null, sdpMLineIndex: null, usernameFragment: null } },
  { v: 1, type: 'candidate', candidate: null },
  { v: 1, type: 'requestOffer', to: 'PA_b', kinds: ['video', 'audio'], restart: true },
  { v: 1, type: 'requestOffer', to: 'PA_b' },
  { v: 1, type: 'publishTrack', id: 7, track: { cid: 'c1', kind: 'video', source: 'screen', name: 'screen', width: 1920, height: 1080, simulcast: false, muted: false } },
  { v: 1, type: 'publishTrack', track: { cid: 'c2', kind: 'audio', source: 'microphone' } },
  { v: 1, type: 'unpublishTrack', sid: 'TR_1' },
  { v: 1, type: 'muteTrack', sid: 'TR_1', muted: true },
  { v: 1, type: 'updateMetadata', metadata: '{}', name: 'Al' },
  { v: 1, type: 'updateMetadata' },
  { v: 1, type: 'subscription', trackSids: ['TR_1', 'TR_2'], subscribe: false },
  { v: 1, type: 'trackSettings', trackSids: ['TR_1'], disabled: false, width: 640, height: 360, quality: 'medium' },
  { v: 1, type: 'data', payload: 'aGVsbG8=', topic: 'chat', destinationSids: ['PA_b'], reliable: true },
  { v: 1, type: 'ping', id: 0, t: 123.5 },
  { v: 1, type: 'leave' },
];

const serverSamples: ServerMessage[] = [
  {
    v: 1,
    type: 'joined',
    id: 1,
    room: { sid: 'RM_1', name: 'standup', topology: 'mesh', maxParticipants: 8, metadata: '', createdAt: 1, numParticipants: 2 },
    participant: { ...participant, tracks: [] },
    others: [{ ...participant, sid: 'PA_b', identity: 'bob', state: 'reconnecting' }],
    iceServers: [{ urls: ['stun:stun.example.org'] }, { urls: ['turn:t.example.org?transport=udp'], username: 'u', credential: 'p' }],
    sessionToken: 'sess',
    reconnected: false,
    pingIntervalMs: 10000,
    pingTimeoutMs: 20000,
  },
  { v: 1, type: 'participantJoined', participant },
  { v: 1, type: 'participantUpdated', participant: { ...participant, state: 'disconnected' } },
  { v: 1, type: 'participantLeft', sid: 'PA_b', reason: 'duplicate_identity' },
  { v: 1, type: 'trackPublished', id: 7, cid: 'c1', track },
  { v: 1, type: 'trackUnpublished', sid: 'TR_1' },
  { v: 1, type: 'offer', from: 'PA_a', sdp: SDP, restart: false },
  { v: 1, type: 'offer', sdp: SDP },
  { v: 1, type: 'answer', from: 'PA_a', sdp: SDP },
  { v: 1, type: 'candidate', from: 'PA_a', candidate: cand },
  { v: 1, type: 'candidate', candidate: null },
  { v: 1, type: 'requestOffer', from: 'PA_a', kinds: ['audio'] },
  { v: 1, type: 'offer', sdp: SDP, target: 'subscriber' },
  { v: 1, type: 'answer', sdp: SDP, target: 'publisher' },
  { v: 1, type: 'trackLayers', trackSid: 'TR_1', layers: [{ rid: 'q', active: true }, { rid: 'f', active: false }] },
  { v: 1, type: 'activeSpeakers', speakers: [{ sid: 'PA_a', level: 0.7 }] },
  { v: 1, type: 'data', from: 'PA_a', payload: 'hi', topic: 'chat' },
  { v: 1, type: 'pong', id: 0, t: 123.5, serverTime: 1_700_000_000_000 },
  { v: 1, type: 'roomClosed', reason: 'admin' },
  { v: 1, type: 'leave', reason: 'server shutdown', canReconnect: true },
  { v: 1, type: 'error', code: 'SB_ERR_NOT_JOINED', message: 'join first', replyTo: 3, fatal: false },
];

describe('round trip', () => {
  test('every client message type is covered', () => {
    assert.deepEqual(new Set(clientSamples.map((m) => m.type)), new Set(CLIENT_MESSAGE_TYPES));
  });
  test('every server message type is covered', () => {
    assert.deepEqual(new Set(serverSamples.map((m) => m.type)), new Set(SERVER_MESSAGE_TYPES));
  });
  for (const m of clientSamples) {
    test(`client ${m.type} ${JSON.stringify(m).length}`, () => {
      const r = parseClientMessage(encodeMessage(m));
      assert.deepEqual(r, { ok: true, msg: m });
      const b = parseClientMessage(new TextEncoder().encode(encodeMessage(m)));
      assert.deepEqual(b, { ok: true, msg: m });
    });
  }
  for (const m of serverSamples) {
    test(`server ${m.type} ${JSON.stringify(m).length}`, () => {
      assert.deepEqual(parseServerMessage(encodeMessage(m)), { ok: true, msg: m });
    });
  }
  test('encodeMessage adds v', () => {
    const text = encodeMessage({ type: 'ping', t: 1 });
    assert.equal(JSON.parse(text).v, PROTOCOL_VERSION);
    assert.deepEqual(parseClientMessage(text), { ok: true, msg: { v: 1, type: 'ping', t: 1 } });
  });
  test('unknown fields are stripped, not rejected', () => {
    const r = parseClientMessage('{"v":1,"type":"muteTrack","sid":"T","muted":true,"future":1}');
    assert.deepEqual(r, { ok: true, msg: { v: 1, type: 'muteTrack', sid: 'T', muted: true } });
  });
  test('server-only types are unknown to the client parser and vice versa', () => {
    assert.equal(errCode(parseClientMessage('{"v":1,"type":"joined"}')), ErrorCodes.UNKNOWN_TYPE);
    assert.equal(errCode(parseServerMessage('{"v":1,"type":"join","token":"x"}')), ErrorCodes.UNKNOWN_TYPE);
  });
});

function errCode(r: ReturnType<typeof parseClientMessage> | ReturnType<typeof parseServerMessage>): string {
  assert.equal(r.ok, false);
  return r.ok ? '' : r.code;
}
function expectErr(text: string | Uint8Array, code: string, pattern?: RegExp, id?: number) {
  const r = parseClientMessage(text);
  assert.equal(r.ok, false, `expected failure for ${String(text).slice(0, 80)}`);
  if (r.ok) return;
  assert.equal(r.code, code, r.message);
  if (pattern) assert.match(r.message, pattern);
  assert.equal(r.id, id);
}

describe('error paths', () => {
  test('oversize string', () => {
    expectErr(JSON.stringify({ v: 1, type: 'data', payload: 'x'.repeat(MAX_MESSAGE_BYTES) }), ErrorCodes.TOO_LARGE);
  });
  test('oversize by UTF-8 bytes though short in UTF-16 units', () => {
    const s = JSON.stringify({ v: 1, type: 'leave', pad: '€'.repeat(MAX_MESSAGE_BYTES / 3) });
    assert.ok(s.length < MAX_MESSAGE_BYTES);
    expectErr(s, ErrorCodes.TOO_LARGE);
  });
  test('oversize bytes', () => {
    expectErr(new Uint8Array(MAX_MESSAGE_BYTES + 1).fill(0x20), ErrorCodes.TOO_LARGE);
  });
  test('server messages allow a larger frame', () => {
    assert.equal(errCode(parseServerMessage('x'.repeat(MAX_SERVER_MESSAGE_BYTES + 1))), ErrorCodes.TOO_LARGE);
  });
  test('bad JSON', () => expectErr('{"v":1,', ErrorCodes.MALFORMED));
  test('invalid UTF-8 bytes', () => expectErr(new Uint8Array([0x7b, 0xff, 0x7d]), ErrorCodes.MALFORMED));
  test('array', () => expectErr('[{"v":1,"type":"leave"}]', ErrorCodes.MALFORMED));
  test('null / number / string', () => {
    for (const t of ['null', '1', '"leave"', 'true']) expectErr(t, ErrorCodes.MALFORMED);
  });
  test('missing v', () => expectErr('{"type":"leave","id":4}', ErrorCodes.VERSION, /missing/, 4));
  test('v: 2', () => expectErr('{"v":2,"type":"leave"}', ErrorCodes.VERSION));
  test('v: "1"', () => expectErr('{"v":"1","type":"leave"}', ErrorCodes.VERSION));
  test('unknown type', () => expectErr('{"v":1,"type":"dance","id":9}', ErrorCodes.UNKNOWN_TYPE, /dance/, 9));
  test('missing type', () => expectErr('{"v":1}', ErrorCodes.UNKNOWN_TYPE));
  test('prototype keys are not types', () => {
    for (const t of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expectErr(JSON.stringify({ v: 1, type: t }), ErrorCodes.UNKNOWN_TYPE);
    }
  });
  test('wrong field type names the path', () => {
    expectErr('{"v":1,"type":"offer","sdp":5,"id":3}', ErrorCodes.INVALID_MESSAGE, /^offer\.sdp: /, 3);
    expectErr('{"v":1,"type":"muteTrack","sid":"T","muted":"yes"}', ErrorCodes.INVALID_MESSAGE, /^muteTrack\.muted: /);
    expectErr('{"v":1,"type":"publishTrack","track":{"cid":"c","kind":"smell","source":"camera"}}', ErrorCodes.INVALID_MESSAGE, /^publishTrack\.track\.kind: /);
    expectErr('{"v":1,"type":"subscription","trackSids":["a",3],"subscribe":true}', ErrorCodes.INVALID_MESSAGE, /^subscription\.trackSids\[1\]: /);
    expectErr('{"v":1,"type":"ping"}', ErrorCodes.INVALID_MESSAGE, /^ping\.t: /);
    expectErr('{"v":1,"type":"candidate","candidate":{"candidate":"x","sdpMLineIndex":-1}}', ErrorCodes.INVALID_MESSAGE, /^candidate\.candidate\.sdpMLineIndex: /);
    expectErr('{"v":1,"type":"requestOffer"}', ErrorCodes.INVALID_MESSAGE, /^requestOffer\.to: /);
    expectErr('{"v":1,"type":"requestOffer","to":"PA_b","kinds":["data"]}', ErrorCodes.INVALID_MESSAGE, /^requestOffer\.kinds\[0\]: /);
    expectErr(JSON.stringify({ v: 1, type: 'requestOffer', to: 'PA_b', kinds: Array(MAX_TRACKS_PER_PARTICIPANT + 1).fill('audio') }), ErrorCodes.INVALID_MESSAGE, /^requestOffer\.kinds: /);
  });
  test('bad id is ignored for replyTo but rejected by the schema', () => {
    expectErr('{"v":1,"type":"leave","id":-1}', ErrorCodes.INVALID_MESSAGE, /^leave\.id: /);
    expectErr('{"v":1,"type":"leave","id":1.5}', ErrorCodes.INVALID_MESSAGE, /^leave\.id: /);
  });
  test('SDP over MAX_SDP_BYTES', () => {
    const ok = { v: 1, type: 'offer', sdp: 'a'.repeat(MAX_SDP_BYTES) };
    assert.equal(parseClientMessage(JSON.stringify(ok)).ok, true);
    expectErr(JSON.stringify({ ...ok, sdp: 'a'.repeat(MAX_SDP_BYTES + 1) }), ErrorCodes.INVALID_MESSAGE, /^offer\.sdp: .*32768/);
    // multi-byte: under the limit in characters, over it in bytes
    expectErr(JSON.stringify({ ...ok, type: 'answer', sdp: 'é'.repeat(MAX_SDP_BYTES / 2 + 1) }), ErrorCodes.INVALID_MESSAGE, /^answer\.sdp: /);
  });
  test('empty SDP', () => expectErr('{"v":1,"type":"offer","sdp":""}', ErrorCodes.INVALID_MESSAGE, /^offer\.sdp: /));
  test('too-long name / metadata (client)', () => {
    expectErr(JSON.stringify({ v: 1, type: 'updateMetadata', name: 'n'.repeat(MAX_NAME_LENGTH + 1) }), ErrorCodes.INVALID_MESSAGE, /^updateMetadata\.name: /);
    assert.equal(parseClientMessage(JSON.stringify({ v: 1, type: 'updateMetadata', name: 'n'.repeat(MAX_NAME_LENGTH) })).ok, true);
    expectErr(JSON.stringify({ v: 1, type: 'updateMetadata', metadata: 'm'.repeat(MAX_METADATA_BYTES + 1) }), ErrorCodes.INVALID_MESSAGE, /^updateMetadata\.metadata: /);
    assert.equal(parseClientMessage(JSON.stringify({ v: 1, type: 'updateMetadata', metadata: 'm'.repeat(MAX_METADATA_BYTES) })).ok, true);
  });
  test('too-long identity / name / metadata, too many tracks (server)', () => {
    const base = serverSamples[1] as Extract<ServerMessage, { type: 'participantJoined' }>;
    const cases: [Partial<ParticipantInfo>, RegExp][] = [
      [{ identity: 'i'.repeat(MAX_IDENTITY_LENGTH + 1) }, /^participantJoined\.participant\.identity: /],
      [{ identity: '' }, /^participantJoined\.participant\.identity: /],
      [{ name: 'n'.repeat(MAX_NAME_LENGTH + 1) }, /^participantJoined\.participant\.name: /],
      [{ metadata: '😀'.repeat(MAX_METADATA_BYTES / 4 + 1) }, /^participantJoined\.participant\.metadata: /],
      [{ tracks: Array.from({ length: MAX_TRACKS_PER_PARTICIPANT + 1 }, () => track) }, /^participantJoined\.participant\.tracks: /],
    ];
    for (const [patch, re] of cases) {
      const r = parseServerMessage(encodeMessage({ ...base, participant: { ...base.participant, ...patch } }));
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.code, ErrorCodes.INVALID_MESSAGE);
        assert.match(r.message, re);
      }
    }
  });
  test('unknown error code from server is invalid', () => {
    assert.equal(errCode(parseServerMessage('{"v":1,"type":"error","code":"SB_ERR_NOPE","message":"x"}')), ErrorCodes.INVALID_MESSAGE);
  });
  test('non-string input never throws', () => {
    for (const x of [undefined, null, 42, {}, [], new ArrayBuffer(2)]) {
      const r = parseClientMessage(x as unknown as string);
      assert.equal(r.ok, false);
    }
  });
});

describe('utf8ByteLength', () => {
  test('matches TextEncoder', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const wellFormed = (s as unknown as { toWellFormed(): string }).toWellFormed();
        assert.equal(utf8ByteLength(s), new TextEncoder().encode(wellFormed).length);
      }),
    );
  });
});

const KNOWN = new Set<string>(ERROR_CODE_LIST);
const PARSE_CODES = new Set<string>([
  ErrorCodes.MALFORMED,
  ErrorCodes.UNKNOWN_TYPE,
  ErrorCodes.INVALID_MESSAGE,
  ErrorCodes.VERSION,
  ErrorCodes.TOO_LARGE,
]);

function checkResult(r: ReturnType<typeof parseClientMessage> | ReturnType<typeof parseServerMessage>) {
  if (r.ok) return;
  assert.ok(KNOWN.has(r.code) && PARSE_CODES.has(r.code), r.code);
  assert.equal(typeof r.message, 'string');
  assert.ok(r.message.length > 0);
  if (r.id !== undefined) assert.ok(Number.isSafeInteger(r.id) && r.id >= 0);
}

describe('fuzz: never throws', () => {
  test('arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        const c = parseClientMessage(s);
        checkResult(c);
        assert.equal(c.ok, false);
        checkResult(parseServerMessage(s));
      }),
      { numRuns: 500 },
    );
  });
  test('arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        checkResult(parseClientMessage(b));
        checkResult(parseServerMessage(b));
      }),
      { numRuns: 300 },
    );
  });
  test('fc.json()', () => {
    fc.assert(
      fc.property(fc.json(), (s) => {
        checkResult(parseClientMessage(s));
        checkResult(parseServerMessage(s));
      }),
      { numRuns: 500 },
    );
  });
  test('fc.jsonValue() wrapped in envelopes', () => {
    const types = [...CLIENT_MESSAGE_TYPES, ...SERVER_MESSAGE_TYPES, 'nope'];
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.constantFrom(...types),
        fc.dictionary(fc.constantFrom('sdp', 'to', 'from', 'token', 'candidate', 'track', 'sid', 'muted', 't', 'participant', 'trackSids', 'payload', 'id'), fc.jsonValue()),
        (value, type, fields) => {
          for (const s of [JSON.stringify(value), JSON.stringify({ v: 1, type, ...fields }), JSON.stringify({ ...fields, v: 1, type })]) {
            const c = parseClientMessage(s);
            checkResult(c);
            if (c.ok) assert.ok(CLIENT_MESSAGE_TYPES.includes(c.msg.type));
            const sv = parseServerMessage(s);
            checkResult(sv);
            if (sv.ok) assert.ok(SERVER_MESSAGE_TYPES.includes(sv.msg.type));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

// ------------------------------------------------------------- generated valid

const sid = fc.string({ minLength: 1, maxLength: 64 });
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const reqId = optional(fc.nat());
const stripUndefined = <T extends object>(o: T): T => JSON.parse(JSON.stringify(o)) as T;

const clientArb: fc.Arbitrary<ClientMessage> = fc.oneof(
  fc.record(
    { v: fc.constant(1 as const), type: fc.constant('offer' as const), id: reqId, to: optional(sid), sdp: fc.string({ minLength: 1, maxLength: 2000 }), restart: optional(fc.boolean()) },
    { requiredKeys: ['v', 'type', 'sdp'] },
  ),
  fc.record(
    {
      v: fc.constant(1 as const),
      type: fc.constant('candidate' as const),
      to: optional(sid),
      candidate: fc.option(
        fc.record(
          { candidate: fc.string({ maxLength: 300 }), sdpMid: fc.option(fc.string({ maxLength: 8 })), sdpMLineIndex: fc.option(fc.integer({ min: 0, max: 100 })), usernameFragment: fc.option(fc.string({ maxLength: 16 })) },
          { requiredKeys: ['candidate'] },
        ),
      ),
    },
    { requiredKeys: ['v', 'type', 'candidate'] },
  ),
  fc.record(
    {
      v: fc.constant(1 as const),
      type: fc.constant('publishTrack' as const),
      id: reqId,
      track: fc.record(
        {
          cid: sid,
          kind: fc.constantFrom('audio' as const, 'video' as const, 'data' as const),
          source: fc.constantFrom('camera' as const, 'microphone' as const, 'screen' as const, 'screen_audio' as const, 'unknown' as const),
          name: optional(fc.string({ maxLength: MAX_NAME_LENGTH })),
          width: optional(fc.integer({ min: 0, max: 4096 })),
          height: optional(fc.integer({ min: 0, max: 4096 })),
          simulcast: optional(fc.boolean()),
          muted: optional(fc.boolean()),
        },
        { requiredKeys: ['cid', 'kind', 'source'] },
      ),
    },
    { requiredKeys: ['v', 'type', 'track'] },
  ),
  fc.record(
    { v: fc.constant(1 as const), type: fc.constant('updateMetadata' as const), metadata: optional(fc.string({ maxLength: 1000 })), name: optional(fc.string({ maxLength: MAX_NAME_LENGTH })) },
    { requiredKeys: ['v', 'type'] },
  ),
  fc.record({ v: fc.constant(1 as const), type: fc.constant('subscription' as const), trackSids: fc.array(sid, { maxLength: 20 }), subscribe: fc.boolean() }),
  fc.record({ v: fc.constant(1 as const), type: fc.constant('ping' as const), id: reqId, t: fc.double({ noNaN: true, noDefaultInfinity: true }) }, { requiredKeys: ['v', 'type', 't'] }),
);

const trackInfoArb: fc.Arbitrary<TrackInfo> = fc.record(
  {
    sid,
    cid: fc.string({ minLength: 1, maxLength: 36 }),
    kind: fc.constantFrom('audio' as const, 'video' as const),
    source: fc.constantFrom('camera' as const, 'microphone' as const, 'unknown' as const),
    muted: fc.boolean(),
    name: optional(fc.string({ maxLength: 20 })),
    mid: optional(fc.string({ maxLength: 4 })),
  },
  { requiredKeys: ['sid', 'cid', 'kind', 'source', 'muted'] },
);
const participantArb: fc.Arbitrary<ParticipantInfo> = fc.record({
  sid,
  identity: fc.string({ minLength: 1, maxLength: MAX_IDENTITY_LENGTH }),
  name: fc.string({ maxLength: MAX_NAME_LENGTH }),
  metadata: fc.string({ maxLength: 500 }),
  tracks: fc.array(trackInfoArb, { maxLength: MAX_TRACKS_PER_PARTICIPANT }),
  joinedAt: fc.nat(),
  state: fc.constantFrom('joining' as const, 'joined' as const, 'reconnecting' as const, 'disconnected' as const),
});
const serverArb: fc.Arbitrary<ServerMessage> = fc.oneof(
  fc.record({ v: fc.constant(1 as const), type: fc.constant('participantJoined' as const), participant: participantArb }),
  fc.record({ v: fc.constant(1 as const), type: fc.constant('trackPublished' as const), id: fc.nat(), cid: sid, track: trackInfoArb }),
  fc.record(
    { v: fc.constant(1 as const), type: fc.constant('error' as const), code: fc.constantFrom(...ERROR_CODE_LIST), message: fc.string({ maxLength: 200 }), replyTo: optional(fc.nat()), fatal: optional(fc.boolean()) },
    { requiredKeys: ['v', 'type', 'code', 'message'] },
  ),
);

describe('fuzz: generated valid messages parse', () => {
  test('client', () => {
    fc.assert(
      fc.property(clientArb, (m) => {
        const expected = stripUndefined(m);
        const r = parseClientMessage(encodeMessage(m));
        assert.deepEqual(r, { ok: true, msg: expected });
      }),
      { numRuns: 300 },
    );
  });
  test('server', () => {
    fc.assert(
      fc.property(serverArb, (m) => {
        const r = parseServerMessage(encodeMessage(m));
        assert.deepEqual(r, { ok: true, msg: stripUndefined(m) });
      }),
      { numRuns: 200 },
    );
  });
});

describe('data frames (SFU data channels)', () => {
  test('round trip: header and payload', () => {
    const payload = new Uint8Array([0, 1, 2, 255]);
    const f = decodeDataFrame(encodeDataFrame({ topic: 'chat', to: ['PA_a', 'PA_b'] }, payload));
    assert.deepEqual(f?.header, { topic: 'chat', to: ['PA_a', 'PA_b'] });
    assert.deepEqual(f?.payload, payload);
    assert.deepEqual(decodeDataFrame(encodeDataFrame({ from: 'PA_x' }, new Uint8Array()))?.header, { from: 'PA_x' });
  });
  test('bad frames decode to null; over-long or wrongly typed fields are dropped or refused', () => {
    const enc = new TextEncoder();
    const frame = (json: string, magic = 0x53, version = 1) => {
      const h = enc.encode(json);
      return new Uint8Array([magic, version, h.length >> 8, h.length & 255, ...h, 9]);
    };
    assert.equal(decodeDataFrame(new Uint8Array([0x53, 1, 0])), null);
    assert.equal(decodeDataFrame(frame('{}', 0x54)), null);
    assert.equal(decodeDataFrame(frame('{}', 0x53, 2)), null);
    assert.equal(decodeDataFrame(frame('not json')), null);
    assert.equal(decodeDataFrame(frame('[1]')), null);
    assert.equal(decodeDataFrame(frame('{"to":"PA_a"}'))?.header.to, undefined);
    assert.equal(decodeDataFrame(frame(JSON.stringify({ to: Array(101).fill('x') }))), null);
    assert.equal(decodeDataFrame(frame(JSON.stringify({ topic: 'x'.repeat(200), from: 7 })))?.header.topic, undefined);
    const truncated = frame('{"topic":"t"}').subarray(0, 8);
    assert.equal(decodeDataFrame(truncated), null);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      const r = decodeDataFrame(b);
      assert.ok(r === null || typeof r.header === 'object');
    }));
  });
});
