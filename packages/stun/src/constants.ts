/** The fixed value in bytes 4..8 of every RFC 5389/8489 STUN header. */
export const MAGIC_COOKIE = 0x2112a442;
/** Bytes in a STUN header: type (2), length (2), magic cookie (4), transaction id (12). */
export const HEADER_LENGTH = 20;
/** Bytes in a transaction id. */
export const TRANSACTION_ID_LENGTH = 12;
/** XORed into the CRC-32 of a message to make FINGERPRINT (RFC 8489 §14.7): "STUN" in ASCII. */
export const FINGERPRINT_XOR = 0x5354554e;

export const StunClass = { Request: 0, Indication: 1, SuccessResponse: 2, ErrorResponse: 3 } as const;
export type StunClass = 0 | 1 | 2 | 3;

/** STUN methods (RFC 8489 §18.2, RFC 8656 §17). */
export const Method = {
  Binding: 0x001,
  Allocate: 0x003,
  Refresh: 0x004,
  Send: 0x006,
  Data: 0x007,
  CreatePermission: 0x008,
  ChannelBind: 0x009,
} as const;

/** Attribute types (RFC 8489 §18.3, RFC 8656 §18, RFC 8445 §16.1). */
export const Attr = {
  MappedAddress: 0x0001,
  Username: 0x0006,
  MessageIntegrity: 0x0008,
  ErrorCode: 0x0009,
  UnknownAttributes: 0x000a,
  ChannelNumber: 0x000c,
  Lifetime: 0x000d,
  XorPeerAddress: 0x0012,
  Data: 0x0013,
  Realm: 0x0014,
  Nonce: 0x0015,
  XorRelayedAddress: 0x0016,
  RequestedAddressFamily: 0x0017,
  EvenPort: 0x0018,
  RequestedTransport: 0x0019,
  DontFragment: 0x001a,
  MessageIntegritySha256: 0x001c,
  PasswordAlgorithm: 0x001d,
  Userhash: 0x001e,
  XorMappedAddress: 0x0020,
  ReservationToken: 0x0022,
  Priority: 0x0024,
  UseCandidate: 0x0025,
  AdditionalAddressFamily: 0x8000,
  AddressErrorCode: 0x8001,
  PasswordAlgorithms: 0x8002,
  AlternateDomain: 0x8003,
  Icmp: 0x8004,
  Software: 0x8022,
  AlternateServer: 0x8023,
  Fingerprint: 0x8028,
  IceControlled: 0x8029,
  IceControlling: 0x802a,
} as const;

/** PASSWORD-ALGORITHM values (RFC 8489 §18.5). */
export const PasswordAlgorithm = { Md5: 0x0001, Sha256: 0x0002 } as const;

/** true for types 0x0000-0x7fff (comprehension-required) */
export function isComprehensionRequired(type: number): boolean {
  return type >= 0 && type <= 0x7fff;
}

/** Packs a 12-bit method and a 2-bit class into the 14-bit message type (RFC 8489 §5). */
export function messageType(method: number, cls: StunClass): number {
  return (
    (method & 0x000f) |
    ((method & 0x0070) << 1) |
    ((method & 0x0f80) << 2) |
    ((cls & 1) << 4) |
    ((cls & 2) << 7)
  );
}

/** The method bits of a message type. */
export function methodOf(type: number): number {
  return (type & 0x000f) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0f80);
}

/** The class bits of a message type. */
export function classOf(type: number): StunClass {
  return (((type >> 4) & 1) | ((type >> 7) & 2)) as StunClass;
}
