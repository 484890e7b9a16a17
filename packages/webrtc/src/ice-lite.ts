// ICE-lite (RFC 8445 §2.5, §7.3): the server never sends checks, it answers the browser's.
// A Binding request is valid when USERNAME is "<our ufrag>:<their ufrag>" and its
// MESSAGE-INTEGRITY is keyed with our password. The answer carries XOR-MAPPED-ADDRESS, our
// MESSAGE-INTEGRITY and FINGERPRINT. Sans-IO: bytes and addresses in, a verdict and the
// response bytes out; the mux owns the socket.
import {
  Attr,
  Method,
  StunClass,
  StunWriter,
  decodeString,
  findAttribute,
  shortTermKey,
  tryDecodeStun,
  verifyFingerprint,
  verifyMessageIntegrity,
} from '@switchboard/stun';
import type { StunMessage } from '@switchboard/stun';
import { randomBytes } from 'node:crypto';

/** What a check did: nothing (not ours / invalid), a valid check, or a valid check that nominates the pair. */
export const CHECK_INVALID = 0;
export const CHECK_VALID = 1;
export const CHECK_NOMINATED = 2;

const ICE_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/';

/** A random ice-char string (RFC 8839 §5.4): ufrag >= 4 chars, pwd >= 22. */
export function randomIceString(length: number): string {
  const bytes = randomBytes(length);
  let s = '';
  for (let i = 0; i < length; i++) s += ICE_CHARS[bytes[i] & 63];
  return s;
}

/** The local ufrag of a Binding request's USERNAME ("local:remote"), without checking anything else. */
export function requestLocalUfrag(msg: StunMessage): string | undefined {
  if (msg.method !== Method.Binding || msg.cls !== StunClass.Request) return undefined;
  const attr = findAttribute(msg, Attr.Username);
  if (attr === undefined) return undefined;
  const username = decodeString(attr.value);
  const colon = username.indexOf(':');
  return colon > 0 ? username.slice(0, colon) : undefined;
}

export function parseStun(buf: Uint8Array): StunMessage | null {
  return tryDecodeStun(buf);
}

export class IceLite {
  readonly localUfrag: string;
  readonly localPwd: string;
  private readonly key: Uint8Array;
  private remoteUfrag: string | undefined;
  /** Time of the last valid check (consent freshness, RFC 7675). */
  lastConsentMs = 0;

  constructor(localUfrag = randomIceString(8), localPwd = randomIceString(24)) {
    this.localUfrag = localUfrag;
    this.localPwd = localPwd;
    this.key = shortTermKey(localPwd);
  }

  /** The remote ufrag from the SDP; until known, any remote ufrag is accepted (it arrives with the offer anyway). */
  setRemoteUfrag(ufrag: string | undefined): void {
    this.remoteUfrag = ufrag;
  }

  /**
   * Checks a Binding request addressed to us. On success writes the success response into
   * `writer` (read it with writer.view()) and returns CHECK_VALID or CHECK_NOMINATED.
   */
  check(msg: StunMessage, ip: string, port: number, family: 4 | 6, writer: StunWriter, nowMs: number): number {
    if (msg.method !== Method.Binding || msg.cls !== StunClass.Request) return CHECK_INVALID;
    const user = findAttribute(msg, Attr.Username);
    if (user === undefined) return CHECK_INVALID;
    const username = decodeString(user.value);
    const colon = username.indexOf(':');
    if (colon < 0 || username.slice(0, colon) !== this.localUfrag) return CHECK_INVALID;
    if (this.remoteUfrag !== undefined && username.slice(colon + 1) !== this.remoteUfrag) return CHECK_INVALID;
    if (findAttribute(msg, Attr.Fingerprint) !== undefined && !verifyFingerprint(msg)) return CHECK_INVALID;
    if (!verifyMessageIntegrity(msg, this.key)) return CHECK_INVALID;
    // A lite agent is always controlled; a peer that also claims to be controlled is broken.
    if (findAttribute(msg, Attr.IceControlled) !== undefined) return CHECK_INVALID;
    this.lastConsentMs = nowMs;
    writer
      .start(Method.Binding, StunClass.SuccessResponse, msg.transactionId)
      .addXorAddress(Attr.XorMappedAddress, { family, address: ip, port })
      .addMessageIntegrity(this.key)
      .addFingerprint();
    return findAttribute(msg, Attr.UseCandidate) !== undefined ? CHECK_NOMINATED : CHECK_VALID;
  }
}
