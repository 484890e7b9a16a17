// fast-check generators for valid session descriptions (not a test file itself).
import fc from 'fast-check';
import type { MediaDescription, SdpAttribute, SdpBandwidth, SessionDescription } from '../src/index.js';

/** Any code points except CR, LF and NUL (what fits in one SDP line). */
export const lineTextArb = fc.string({ unit: 'binary', maxLength: 24 }).filter((s) => !/[\r\n\0]/.test(s));
/** Non-empty, no space/tab/CR/LF/NUL. */
export const tokenArb = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9+/.:_~-]{1,12}$/),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).filter((s) => !/[ \t\r\n\0]/.test(s)),
);
const nameArb = lineTextArb.filter((s) => s.length > 0 && !s.includes(':'));

/** Drops keys whose value is undefined (deepStrictEqual tells {a: undefined} from {}). */
function defined<T extends object>(o: T): T {
  const out = { ...o };
  for (const k of Object.keys(out) as (keyof T)[]) if (out[k] === undefined) delete out[k];
  return out;
}

export const attributeArb: fc.Arbitrary<SdpAttribute> = fc
  .record({
    name: fc.oneof(fc.constantFrom('mid', 'rtpmap', 'sendonly', 'candidate', 'ssrc', 'msid-semantic'), nameArb),
    value: fc.option(lineTextArb, { nil: undefined }),
  })
  .map(defined);

export const bandwidthArb: fc.Arbitrary<SdpBandwidth> = fc
  .record({ type: fc.oneof(fc.constantFrom('AS', 'TIAS', 'CT'), nameArb), value: fc.oneof(fc.nat(100_000), fc.maxSafeNat()) })
  .map((b) => ({ ...b }));

export const mediaArb: fc.Arbitrary<MediaDescription> = fc
  .record({
    kind: fc.oneof(fc.constantFrom('audio', 'video', 'application'), tokenArb),
    port: fc.integer({ min: 0, max: 65535 }),
    protocol: fc.oneof(fc.constantFrom('UDP/TLS/RTP/SAVPF', 'UDP/DTLS/SCTP', 'RTP/AVP'), tokenArb),
    formats: fc.array(fc.oneof(fc.integer({ min: 0, max: 127 }).map(String), tokenArb), { maxLength: 6 }),
    information: fc.option(lineTextArb, { nil: undefined }),
    connection: fc.option(fc.oneof(fc.constant('IN IP4 0.0.0.0'), lineTextArb), { nil: undefined }),
    bandwidths: fc.array(bandwidthArb, { maxLength: 2 }),
    attributes: fc.array(attributeArb, { maxLength: 8 }),
  })
  .map(defined);

export const sessionArb: fc.Arbitrary<SessionDescription> = fc
  .record({
    version: fc.oneof(fc.constant(0), fc.maxSafeNat()),
    origin: fc
      .record({
        username: tokenArb,
        sessionId: tokenArb,
        sessionVersion: tokenArb,
        netType: tokenArb,
        addrType: tokenArb,
        address: tokenArb,
      })
      .map((o) => ({ ...o })),
    sessionName: lineTextArb,
    connection: fc.option(lineTextArb, { nil: undefined }),
    bandwidths: fc.array(bandwidthArb, { maxLength: 2 }),
    timing: fc.array(fc.record({ start: tokenArb, stop: tokenArb }).map((t) => ({ ...t })), { minLength: 1, maxLength: 3 }),
    attributes: fc.array(attributeArb, { maxLength: 8 }),
    media: fc.array(mediaArb, { maxLength: 5 }),
  })
  .map(defined);
