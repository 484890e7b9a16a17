// What an Allocate or Refresh request asks for, read and checked against RFC 8656 §7.1-7.2 and
// §7.3 without touching any state: the requested transport and families, the lifetime, and
// the port request (EVEN-PORT, RESERVATION-TOKEN). An invalid request gives the error code
// (and reason) the core answers with.
import {
  Attr,
  decodeRequestedAddressFamily,
  decodeRequestedTransport,
  decodeU32,
  getAttribute,
  type StunMessage,
} from '@switchboard/stun';
import type { PortRequest } from './broker.js';
import { bytesHex } from './hex.js';

export const LIFETIME = { allocationDefault: 600, allocationMax: 3600, permission: 300, channel: 600 } as const;

const UDP_PROTOCOL = 17;

export interface AllocateRequest {
  family: 4 | 6;
  /** ADDITIONAL-ADDRESS-FAMILY asked for IPv6 and this server has no IPv6 relay (the IPv4 allocation succeeds with an ADDRESS-ERROR-CODE). */
  additionalFamilyRefused: boolean;
  lifetimeSec: number;
  ports: PortRequest;
}

export type Refusal = { code: number; reason?: string };

/** The LIFETIME asked for, clamped to [default, max]; 0 (delete) only where allowed (Refresh). */
export function requestedLifetime(msg: StunMessage, allowZero: boolean): number {
  const attr = getAttribute(msg, Attr.Lifetime);
  if (!attr || attr.length !== 4) return LIFETIME.allocationDefault;
  const asked = decodeU32(attr);
  if (asked === 0 && allowZero) return 0;
  return Math.min(LIFETIME.allocationMax, Math.max(LIFETIME.allocationDefault, asked));
}

export function readAllocate(msg: StunMessage, relayFamilies: ReadonlyArray<4 | 6>): AllocateRequest | Refusal {
  const transport = getAttribute(msg, Attr.RequestedTransport);
  if (!transport) return { code: 400, reason: 'Missing REQUESTED-TRANSPORT' };
  let protocol: number;
  // RFC 8656 §7.2: IPv4 unless REQUESTED-ADDRESS-FAMILY says otherwise. A RESERVATION-TOKEN
  // carries the family of the reservation; this core relays one family, so that is its own.
  const tokenFamily: 4 | 6 = relayFamilies.includes(4) ? 4 : 6;
  let family: 4 | 6 = 4;
  let additionalFamilyRefused = false;
  try {
    protocol = decodeRequestedTransport(transport);
    const fam = getAttribute(msg, Attr.RequestedAddressFamily);
    const additional = getAttribute(msg, Attr.AdditionalAddressFamily);
    if (fam && additional) return { code: 400, reason: 'REQUESTED-ADDRESS-FAMILY with ADDITIONAL-ADDRESS-FAMILY' };
    if (fam && getAttribute(msg, Attr.ReservationToken)) return { code: 400, reason: 'REQUESTED-ADDRESS-FAMILY with RESERVATION-TOKEN' };
    if (fam) family = decodeRequestedAddressFamily(fam);
    else if (getAttribute(msg, Attr.ReservationToken)) family = tokenFamily;
    if (additional) {
      // RFC 8656 §7.2: it may only ask for IPv6 (the IPv4 relay is implied).
      if (decodeRequestedAddressFamily(additional) !== 6) return { code: 400, reason: 'ADDITIONAL-ADDRESS-FAMILY must be IPv6' };
      additionalFamilyRefused = !relayFamilies.includes(6);
    }
  } catch {
    return { code: 400 };
  }
  if (protocol !== UDP_PROTOCOL) return { code: 442 };
  if (!relayFamilies.includes(family)) return { code: 440 };
  // An IPv6 relay that cannot be had: RFC 8656 §7.2 lets the IPv4 allocation succeed with an
  // ADDRESS-ERROR-CODE for IPv6 (added in relayReady). Dual allocations are not built yet.
  const evenAttr = getAttribute(msg, Attr.EvenPort);
  const tokenAttr = getAttribute(msg, Attr.ReservationToken);
  if (evenAttr && tokenAttr) return { code: 400, reason: 'EVEN-PORT with RESERVATION-TOKEN' };
  if (tokenAttr && tokenAttr.length !== 8) return { code: 400, reason: 'Bad RESERVATION-TOKEN' };
  if (tokenAttr && additionalFamilyRefused) return { code: 400, reason: 'RESERVATION-TOKEN with ADDITIONAL-ADDRESS-FAMILY' };
  return {
    family,
    additionalFamilyRefused,
    lifetimeSec: requestedLifetime(msg, false),
    ports: {
      evenPort: evenAttr !== undefined,
      reserveNext: evenAttr !== undefined && evenAttr.length > 0 && (evenAttr[0] & 0x80) !== 0,
      token: tokenAttr ? bytesHex(tokenAttr) : undefined,
    },
  };
}
