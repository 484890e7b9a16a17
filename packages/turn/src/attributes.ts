import { Attr, isComprehensionRequired, type StunMessage } from '@switchboard/stun';

/**
 * Requests' attributes this server understands; any other comprehension-required one gets 420.
 * DONT-FRAGMENT is left out on purpose: Node cannot set DF per datagram, and RFC 8656 §7.2 says
 * a server that cannot must treat it as unknown.
 */
const KNOWN_ATTRS = new Set<number>([
  Attr.Username, Attr.MessageIntegrity, Attr.MessageIntegritySha256, Attr.Realm, Attr.Nonce, Attr.Fingerprint,
  Attr.Software, Attr.Lifetime, Attr.XorPeerAddress, Attr.Data, Attr.RequestedTransport, Attr.RequestedAddressFamily,
  Attr.EvenPort, Attr.ChannelNumber, Attr.Priority, Attr.UseCandidate, Attr.IceControlled, Attr.IceControlling,
  Attr.AdditionalAddressFamily, Attr.PasswordAlgorithm, Attr.XorMappedAddress, Attr.MappedAddress, Attr.ReservationToken,
]);

/** The unknown comprehension-required attribute types of a message (each once), or null. */
export function unknownAttributes(msg: StunMessage): number[] | null {
  let unknown: number[] | null = null;
  for (const a of msg.attributes) {
    if (isComprehensionRequired(a.type) && !KNOWN_ATTRS.has(a.type) && !unknown?.includes(a.type)) (unknown ??= []).push(a.type);
  }
  return unknown;
}
