// SDP for the two peer connections of an SFU participant. The publisher connection: the
// client offers its tracks (sendonly, maybe simulcast with rids) and we answer recvonly with
// one codec per m-section. The subscriber connection: we offer one sendonly m-section per
// consumed track, with the subscriber-wide payload types and extension ids of codecs.ts.
// ICE-lite, one BUNDLE group, rtcp-mux, our host candidates.
import {
  SdpError,
  getCodecs,
  getDirection,
  getExtMaps,
  getFingerprint,
  getIceParameters,
  getMaxMessageSize,
  getMid,
  getMsid,
  getRids,
  getSetup,
  getSimulcast,
  getSsrcGroups,
  getSsrcs,
  parseSdp,
  writeCandidate,
  writeSdp,
} from '@switchboard/sdp';
import type { MediaDescription, SdpAttribute, SessionDescription } from '@switchboard/sdp';
import { CODECS, EXT, PARKED_EXT_ID, PUBLISHER_EXTENSIONS, RED_PAYLOAD_TYPE, SUBSCRIBER_EXT_IDS, VIDEO_RTCP_FB, codecSpec } from './codecs.js';
import type { ProducerCodec, ProducerExtensions } from './producer.js';

export interface LocalIceInfo {
  ufrag: string;
  pwd: string;
  fingerprint: string;
  candidates: { foundation: string; component: number; transport: string; priority: number; address: string; port: number; type: 'host'; tcpType?: 'passive' }[];
}

export interface RemoteTransportInfo {
  ufrag: string;
  pwd: string;
  fingerprint: { algorithm: string; value: string };
  setup?: string;
}

/** A sending m-section of a publisher's offer that we accepted. */
export interface OfferedTrack {
  mid: string;
  kind: 'audio' | 'video';
  codec: ProducerCodec;
  extensions: ProducerExtensions;
  /** Simulcast rids, low to high as listed in a=simulcast; empty without simulcast. */
  rids: string[];
  /** From a=ssrc / a=ssrc-group:FID when given (no simulcast). */
  ssrc: number;
  rtxSsrc: number;
  /** a=msid stream id (the SDK's MediaStream id = the published track's cid). */
  streamId: string;
  trackId: string;
}

export interface PublisherNegotiation {
  answer: string;
  remote: RemoteTransportInfo;
  tracks: OfferedTrack[];
  /** The mid of an accepted data channel m-section, if any. */
  dataMid: string | undefined;
  /** Its a=max-message-size (RFC 8841), if given. */
  remoteMaxMessageSize: number | undefined;
}

export class NegotiationError extends Error {
  readonly code = 'SB_ERR_SDP_UNSUPPORTED';
}

const MAX_SIMULCAST_LAYERS = 3;

let sessionCounter = Math.floor(Math.random() * 1e9);

function sessionHeader(bundle: string[], lite = true): SessionDescription {
  const attributes: SdpAttribute[] = [];
  if (lite) attributes.push({ name: 'ice-lite' });
  if (bundle.length > 0) attributes.push({ name: 'group', value: `BUNDLE ${bundle.join(' ')}` });
  attributes.push({ name: 'msid-semantic', value: ' WMS *' });
  return {
    version: 0,
    origin: { username: '-', sessionId: String(sessionCounter++), sessionVersion: '2', netType: 'IN', addrType: 'IP4', address: '127.0.0.1' },
    sessionName: '-',
    bandwidths: [],
    timing: [{ start: '0', stop: '0' }],
    attributes,
    media: [],
  };
}

function transportAttributes(local: LocalIceInfo, setup: string): SdpAttribute[] {
  const attrs: SdpAttribute[] = [
    { name: 'ice-ufrag', value: local.ufrag },
    { name: 'ice-pwd', value: local.pwd },
    { name: 'ice-options', value: 'renomination' },
    { name: 'fingerprint', value: `sha-256 ${local.fingerprint}` },
    { name: 'setup', value: setup },
  ];
  for (const c of local.candidates) {
    attrs.push({ name: 'candidate', value: writeCandidate({ ...c, transport: c.transport, extensions: [] }).replace(/^candidate:/, '') });
  }
  attrs.push({ name: 'end-of-candidates' });
  return attrs;
}

function rejected(m: MediaDescription): MediaDescription {
  const mid = getMid(m);
  return { kind: m.kind, port: 0, protocol: m.protocol, formats: m.formats.slice(0, 1), bandwidths: [], connection: 'IN IP4 0.0.0.0', attributes: mid === undefined ? [] : [{ name: 'mid', value: mid }] };
}

function remoteInfo(sdp: SessionDescription, m: MediaDescription): RemoteTransportInfo {
  const ice = getIceParameters(sdp, m);
  const fp = getFingerprint(sdp, m);
  if (ice === undefined || fp === undefined) throw new NegotiationError('the description has no ICE credentials or DTLS fingerprint');
  return { ufrag: ice.ufrag, pwd: ice.pwd, fingerprint: fp, setup: getSetup(sdp, m) };
}

/** Answers a publisher's offer. Throws SdpError (malformed) or NegotiationError (nothing usable). */
/** What a publisher may send: data channels, and (MCU rooms) only the codecs the mixer decodes, without RED or simulcast. */
export interface PublisherLimits {
  dataChannels: boolean;
  /** Codec names accepted (lower case); default: every codec the SFU forwards. */
  codecs?: ReadonlySet<string>;
  /** Accept RED for audio and simulcast for video. Default true. */
  redundancy?: boolean;
}

export function answerPublisherOffer(offerSdp: string, local: LocalIceInfo, opts: PublisherLimits): PublisherNegotiation {
  const offer = parseSdp(offerSdp);
  if (offer.media.length === 0) throw new NegotiationError('the offer has no media sections');
  const answer = sessionHeader([]);
  const bundle: string[] = [];
  const tracks: OfferedTrack[] = [];
  let remote: RemoteTransportInfo | undefined;
  let dataMid: string | undefined;
  let remoteMaxMessageSize: number | undefined;
  for (const m of offer.media) {
    const mid = getMid(m);
    if (mid === undefined || m.port === 0) {
      answer.media.push(rejected(m));
      continue;
    }
    remote ??= remoteInfo(offer, m);
    if (m.kind === 'application') {
      if (!opts.dataChannels || !m.protocol.includes('SCTP')) {
        answer.media.push(rejected(m));
        continue;
      }
      dataMid = mid;
      remoteMaxMessageSize = getMaxMessageSize(m);
      bundle.push(mid);
      answer.media.push({
        kind: 'application',
        port: 9,
        protocol: m.protocol,
        formats: m.formats,
        connection: 'IN IP4 0.0.0.0',
        bandwidths: [],
        attributes: [...transportAttributes(local, 'passive'), { name: 'mid', value: mid }, { name: 'sctp-port', value: '5000' }, { name: 'max-message-size', value: '262144' }],
      });
      continue;
    }
    if (m.kind !== 'audio' && m.kind !== 'video') {
      answer.media.push(rejected(m));
      continue;
    }
    const built = answerMedia(offer, m, mid, local, opts);
    if (built === null) {
      answer.media.push(rejected(m));
      continue;
    }
    bundle.push(mid);
    answer.media.push(built.media);
    if (built.track !== null) tracks.push(built.track);
  }
  // Everything rejected (e.g. only a data channel we do not take): still a valid answer.
  for (const m of offer.media) {
    if (remote !== undefined) break;
    if (getIceParameters(offer, m) !== undefined && getFingerprint(offer, m) !== undefined) remote = remoteInfo(offer, m);
  }
  if (remote === undefined) throw new NegotiationError('the offer has no ICE credentials or DTLS fingerprint');
  if (bundle.length > 0) answer.attributes.splice(1, 0, { name: 'group', value: `BUNDLE ${bundle.join(' ')}` });
  return { answer: writeSdp(answer), remote, tracks, dataMid, remoteMaxMessageSize };
}

function answerMedia(offer: SessionDescription, m: MediaDescription, mid: string, local: LocalIceInfo, limits: PublisherLimits): { media: MediaDescription; track: OfferedTrack | null } | null {
  const kind = m.kind as 'audio' | 'video';
  const offered = getCodecs(m);
  const direction = getDirection(m);
  const sending = direction === 'sendonly' || direction === 'sendrecv';
  // the publisher's preference order, restricted to what we forward
  const main = offered.find((c) => {
    const spec = codecSpec(c.name);
    return spec !== undefined && spec.kind === kind && c.clockRate === spec.clockRate && (limits.codecs === undefined || limits.codecs.has(spec.name));
  });
  const redundancy = limits.redundancy ?? true;
  if (main === undefined) return null;
  const rtx = offered.find((c) => c.name.toLowerCase() === 'rtx' && c.fmtp !== undefined && /(^|;)\s*apt=(\d+)/.exec(c.fmtp)?.[2] === String(main.payloadType));
  const red = kind === 'audio' && redundancy ? offered.find((c) => c.name.toLowerCase() === 'red') : undefined;
  const extensions: ProducerExtensions = { mid: -1, rid: -1, repairedRid: -1, audioLevel: -1, absSendTime: -1, transportCc: -1, all: [] };
  const attrs: SdpAttribute[] = [...transportAttributes(local, 'passive'), { name: 'mid', value: mid }];
  for (const e of getExtMaps(m)) {
    if (!PUBLISHER_EXTENSIONS.has(e.uri)) continue;
    if (kind === 'audio' && (e.uri === EXT.rid || e.uri === EXT.repairedRid)) continue;
    if (kind === 'video' && e.uri === EXT.audioLevel) continue;
    attrs.push({ name: 'extmap', value: `${e.id} ${e.uri}` });
    extensions.all.push({ id: e.id, uri: e.uri });
    if (e.uri === EXT.mid) extensions.mid = e.id;
    else if (e.uri === EXT.rid) extensions.rid = e.id;
    else if (e.uri === EXT.repairedRid) extensions.repairedRid = e.id;
    else if (e.uri === EXT.audioLevel) extensions.audioLevel = e.id;
    else if (e.uri === EXT.absSendTime) extensions.absSendTime = e.id;
  }
  attrs.push({ name: sending ? 'recvonly' : 'inactive' });
  attrs.push({ name: 'rtcp-mux' });
  if (kind === 'video') attrs.push({ name: 'rtcp-rsize' });
  const formats: string[] = [];
  const addCodec = (pt: number, name: string, clockRate: number, channels: number | undefined, fmtp: string | undefined, fb: { type: string; parameter?: string }[]) => {
    formats.push(String(pt));
    attrs.push({ name: 'rtpmap', value: `${pt} ${name}/${clockRate}${channels ? `/${channels}` : ''}` });
    for (const f of fb) attrs.push({ name: 'rtcp-fb', value: `${pt} ${f.type}${f.parameter ? ` ${f.parameter}` : ''}` });
    if (fmtp) attrs.push({ name: 'fmtp', value: `${pt} ${fmtp}` });
  };
  const fb = kind === 'video' ? VIDEO_RTCP_FB.filter((f) => main.rtcpFb.some((o) => o.type === f.type && (o.parameter ?? '') === (f.parameter ?? ''))) : [];
  addCodec(main.payloadType, main.name, main.clockRate, main.channels, main.fmtp, fb);
  if (red !== undefined) addCodec(red.payloadType, red.name, red.clockRate, red.channels, red.fmtp, []);
  if (rtx !== undefined && kind === 'video') addCodec(rtx.payloadType, rtx.name, rtx.clockRate, undefined, rtx.fmtp, []);
  // simulcast: receive every rid the publisher sends, in its order
  const sim = getSimulcast(m);
  const rids: string[] = [];
  if (kind === 'video' && redundancy && sim?.send !== undefined && extensions.rid >= 0) {
    // at most 3 layers (what the SDK sends; more would only cost memory: a cache per layer)
    for (const alternatives of sim.send) if (alternatives.length > 0 && rids.length < MAX_SIMULCAST_LAYERS) rids.push(alternatives[0].rid);
    const declared = new Set(getRids(m).filter((r) => r.direction === 'send').map((r) => r.id));
    for (const r of rids) if (declared.has(r)) attrs.push({ name: 'rid', value: `${r} recv` });
    attrs.push({ name: 'simulcast', value: `recv ${rids.join(';')}` });
  }
  const media: MediaDescription = { kind, port: 9, protocol: m.protocol, formats, connection: 'IN IP4 0.0.0.0', bandwidths: [], attributes: attrs };
  if (!sending) return { media, track: null };
  const msid = getMsid(m);
  let ssrc = 0;
  let rtxSsrc = 0;
  const fid = getSsrcGroups(m).find((g) => g.semantics === 'FID');
  if (fid !== undefined) {
    ssrc = fid.ssrcs[0] ?? 0;
    rtxSsrc = fid.ssrcs[1] ?? 0;
  } else {
    ssrc = getSsrcs(m)[0]?.ssrc ?? 0;
  }
  let streamId = msid?.stream ?? '';
  let trackId = msid?.track ?? '';
  if (streamId === '' || streamId === '-') {
    // older stacks put it in a=ssrc:N msid:
    const s = getSsrcs(m).find((a) => a.attribute === 'msid')?.value?.split(' ');
    streamId = s?.[0] ?? '';
    trackId = s?.[1] ?? trackId;
  }
  const codec: ProducerCodec = {
    kind,
    name: main.name.toLowerCase(),
    payloadType: main.payloadType,
    clockRate: main.clockRate,
    channels: main.channels,
    fmtp: main.fmtp,
    rtcpFb: fb,
    rtxPayloadType: rtx?.payloadType ?? -1,
    redPayloadType: red?.payloadType ?? -1,
  };
  return { media, track: { mid, kind, codec, extensions, rids: rids.length > 1 ? rids : [], ssrc: rids.length > 1 ? 0 : ssrc, rtxSsrc: rids.length > 1 ? 0 : rtxSsrc, streamId, trackId } };
}

/** One m-section of a subscriber connection: a consumed track, or a slot no longer used. */
export interface SubscriberSlot {
  mid: string;
  kind: 'audio' | 'video';
  /** undefined: inactive (the track was unsubscribed). */
  track?: {
    codec: ProducerCodec;
    ssrc: number;
    rtxSsrc: number;
    /** a=msid: the publisher's stream id (cid) and our track id (the track sid). */
    streamId: string;
    trackId: string;
    cname: string;
    red: boolean;
  };
}

/** How a publisher's packets are rewritten for a subscriber: payload types and extension ids. */
export interface SubscriberMaps {
  /** Publisher payload type -> subscriber payload type (index by PT, -1 = drop). */
  payloadTypes: Int16Array;
  /** Publisher extension id -> subscriber id (0 = leave as is). Index 0..255. */
  extensionIds: Uint8Array;
  /** The subscriber's RTX payload type for the codec, or -1. */
  rtxPayloadType: number;
  /** The subscriber's abs-send-time id (we stamp our send time), or -1. */
  absSendTimeId: number;
  /** Audio forwarded with its RED redundancy (the subscriber is offered RED). */
  red: boolean;
}

/**
 * Maps a publisher's codec and extension ids onto the fixed subscriber-side numbers of
 * codecs.ts (BUNDLE needs them the same on every m-section of a subscriber connection).
 * Extension ids the subscriber uses for something else are moved out of the way.
 */
export function subscriberMaps(codec: ProducerCodec, extensions: ProducerExtensions): SubscriberMaps {
  const spec = codecSpec(codec.name)!;
  const payloadTypes = new Int16Array(128).fill(-1);
  payloadTypes[codec.payloadType] = spec.payloadType;
  const red = codec.redPayloadType >= 0 && codec.payloadType === spec.payloadType;
  if (red) payloadTypes[codec.redPayloadType] = RED_PAYLOAD_TYPE;
  const extensionIds = new Uint8Array(256);
  for (const e of extensions.all) {
    const want = e.uri === EXT.audioLevel ? SUBSCRIBER_EXT_IDS.audioLevel : e.uri === EXT.absSendTime ? SUBSCRIBER_EXT_IDS.absSendTime : -1;
    if (want > 0 && want !== e.id) extensionIds[e.id] = want;
    else if (want < 0 && (e.id === SUBSCRIBER_EXT_IDS.audioLevel || e.id === SUBSCRIBER_EXT_IDS.absSendTime)) extensionIds[e.id] = PARKED_EXT_ID;
  }
  return {
    payloadTypes,
    extensionIds,
    rtxPayloadType: spec.rtxPayloadType,
    absSendTimeId: extensions.absSendTime >= 0 ? SUBSCRIBER_EXT_IDS.absSendTime : -1,
    red,
  };
}

/** Our offer for a subscriber connection. */
export function buildSubscriberOffer(slots: SubscriberSlot[], local: LocalIceInfo, version: number): string {
  const offer = sessionHeader(slots.map((s) => s.mid));
  offer.origin.sessionVersion = String(version);
  for (const slot of slots) {
    const attrs: SdpAttribute[] = [...transportAttributes(local, 'actpass'), { name: 'mid', value: slot.mid }];
    if (slot.kind === 'audio') attrs.push({ name: 'extmap', value: `${SUBSCRIBER_EXT_IDS.audioLevel} ${EXT.audioLevel}` });
    attrs.push({ name: 'extmap', value: `${SUBSCRIBER_EXT_IDS.absSendTime} ${EXT.absSendTime}` });
    const t = slot.track;
    attrs.push({ name: t === undefined ? 'inactive' : 'sendonly' });
    if (t !== undefined) attrs.push({ name: 'msid', value: `${t.streamId} ${t.trackId}` });
    attrs.push({ name: 'rtcp-mux' });
    if (slot.kind === 'video') attrs.push({ name: 'rtcp-rsize' });
    const formats: string[] = [];
    const spec = t !== undefined ? codecSpec(t.codec.name)! : CODECS.find((c) => c.kind === slot.kind)!;
    formats.push(String(spec.payloadType));
    attrs.push({ name: 'rtpmap', value: `${spec.payloadType} ${rtpName(spec.name)}/${spec.clockRate}${spec.channels ? `/${spec.channels}` : ''}` });
    if (slot.kind === 'video') for (const f of VIDEO_RTCP_FB) attrs.push({ name: 'rtcp-fb', value: `${spec.payloadType} ${f.type}${f.parameter ? ` ${f.parameter}` : ''}` });
    const fmtp = t?.codec.name === 'h264' && t.codec.fmtp ? t.codec.fmtp : spec.fmtp;
    if (fmtp) attrs.push({ name: 'fmtp', value: `${spec.payloadType} ${fmtp}` });
    if (t?.red) {
      formats.push(String(RED_PAYLOAD_TYPE));
      attrs.push({ name: 'rtpmap', value: `${RED_PAYLOAD_TYPE} red/48000/2` });
      attrs.push({ name: 'fmtp', value: `${RED_PAYLOAD_TYPE} ${spec.payloadType}/${spec.payloadType}` });
    }
    if (spec.rtxPayloadType >= 0) {
      formats.push(String(spec.rtxPayloadType));
      attrs.push({ name: 'rtpmap', value: `${spec.rtxPayloadType} rtx/${spec.clockRate}` });
      attrs.push({ name: 'fmtp', value: `${spec.rtxPayloadType} apt=${spec.payloadType}` });
    }
    if (t !== undefined) {
      if (t.rtxSsrc !== 0) attrs.push({ name: 'ssrc-group', value: `FID ${t.ssrc} ${t.rtxSsrc}` });
      for (const s of t.rtxSsrc !== 0 ? [t.ssrc, t.rtxSsrc] : [t.ssrc]) {
        attrs.push({ name: 'ssrc', value: `${s} cname:${t.cname}` });
        attrs.push({ name: 'ssrc', value: `${s} msid:${t.streamId} ${t.trackId}` });
      }
    }
    offer.media.push({ kind: slot.kind, port: 9, protocol: 'UDP/TLS/RTP/SAVPF', formats, connection: 'IN IP4 0.0.0.0', bandwidths: [], attributes: attrs });
  }
  return writeSdp(offer);
}

function rtpName(name: string): string {
  return name === 'opus' ? 'opus' : name.toUpperCase();
}

/** The subscriber's answer: its transport parameters, and which mids it accepted. */
export function readSubscriberAnswer(answerSdp: string): { remote: RemoteTransportInfo; accepted: Set<string> } {
  const answer = parseSdp(answerSdp);
  const accepted = new Set<string>();
  let remote: RemoteTransportInfo | undefined;
  for (const m of answer.media) {
    const mid = getMid(m);
    if (mid === undefined || m.port === 0) continue;
    remote ??= remoteInfo(answer, m);
    accepted.add(mid);
  }
  if (remote === undefined) throw new NegotiationError('the answer accepts nothing');
  return { remote, accepted };
}

export { SdpError };
