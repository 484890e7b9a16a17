import { getAttribute, getAttributes, hasAttribute } from './attributes.js';
import { SdpError } from './errors.js';
import type { MediaDescription, SessionDescription } from './types.js';
import { parseUint, quote, splitHead, tokens } from './util.js';

export interface IceParameters {
  ufrag: string;
  pwd: string;
  lite: boolean;
  options: string[];
}

export interface Fingerprint {
  /** Hash function name, lower-cased (e.g. "sha-256"). */
  algorithm: string;
  /** Upper-case hex bytes separated by colons. */
  value: string;
}

export type Setup = 'active' | 'passive' | 'actpass' | 'holdconn';

/** Media-level value of `name`, else session-level. */
function lookup(sdp: SessionDescription, m: MediaDescription, name: string): string | undefined {
  return getAttribute(m, name) ?? getAttribute(sdp, name);
}

/** a=ice-ufrag / a=ice-pwd / a=ice-lite / a=ice-options (RFC 8839); media level overrides session level. */
export function getIceParameters(sdp: SessionDescription, m: MediaDescription): IceParameters | undefined {
  const ufrag = lookup(sdp, m, 'ice-ufrag');
  const pwd = lookup(sdp, m, 'ice-pwd');
  if (ufrag === undefined && pwd === undefined) return undefined;
  if (ufrag === undefined || ufrag.length === 0 || /\s/.test(ufrag)) throw new SdpError(`a=ice-ufrag is missing or malformed: ${quote(ufrag)}`);
  if (pwd === undefined || pwd.length === 0 || /\s/.test(pwd)) throw new SdpError(`a=ice-pwd is missing or malformed: ${quote(pwd)}`);
  const options = lookup(sdp, m, 'ice-options');
  return {
    ufrag,
    pwd,
    lite: hasAttribute(sdp, 'ice-lite') || hasAttribute(m, 'ice-lite'),
    options: options === undefined ? [] : tokens(options),
  };
}

const HEX_PAIRS = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})*$/;

/** The first a=fingerprint (RFC 8122), media level before session level. */
export function getFingerprint(sdp: SessionDescription, m: MediaDescription): Fingerprint | undefined {
  const v = lookup(sdp, m, 'fingerprint');
  if (v === undefined) return undefined;
  const t = tokens(v);
  if (t.length !== 2 || !HEX_PAIRS.test(t[1]!)) throw new SdpError(`a=fingerprint needs "algorithm XX:XX:...", got ${quote(v)}`);
  return { algorithm: t[0]!.toLowerCase(), value: t[1]!.toUpperCase() };
}

/** a=setup (RFC 4145/8842), media level before session level. */
export function getSetup(sdp: SessionDescription, m: MediaDescription): Setup | undefined {
  const v = lookup(sdp, m, 'setup');
  if (v === undefined) return undefined;
  if (v === 'active' || v === 'passive' || v === 'actpass' || v === 'holdconn') return v;
  throw new SdpError(`a=setup must be active, passive, actpass or holdconn, got ${quote(v)}`);
}

/** The mids of each session-level a=group:BUNDLE (RFC 9143), in order. */
export function getBundleGroups(sdp: SessionDescription): string[][] {
  const out: string[][] = [];
  for (const v of getAttributes(sdp, 'group')) {
    const t = tokens(v);
    if (t.length === 0) throw new SdpError(`a=group needs "semantics mid...", got ${quote(v)}`);
    if (t[0]!.toUpperCase() === 'BUNDLE') out.push(t.slice(1));
  }
  return out;
}

/** a=sctp-port (RFC 8841), falling back to the legacy "a=sctpmap:5000 webrtc-datachannel N". */
export function getSctpPort(m: MediaDescription): number | undefined {
  const v = getAttribute(m, 'sctp-port');
  if (v !== undefined) return parseUint(v.trim(), 'a=sctp-port', 65535);
  const legacy = getAttribute(m, 'sctpmap');
  if (legacy === undefined) return undefined;
  return parseUint(splitHead(legacy, 1).head[0], 'a=sctpmap port', 65535);
}

/** a=max-message-size (RFC 8841). */
export function getMaxMessageSize(m: MediaDescription): number | undefined {
  const v = getAttribute(m, 'max-message-size');
  return v === undefined ? undefined : parseUint(v.trim(), 'a=max-message-size');
}
