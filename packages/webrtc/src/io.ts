// The seams between a transport and the muxes that carry its bytes, so that transport.ts,
// tcp-mux.ts and udp-mux.ts do not import each other in a circle: a transport talks to its
// mux through TransportIo (UdpMux implements it), and to an ICE-TCP connection through TcpPath
// (IceTcpConnection implements it). Only udp-mux.ts knows both concrete sides.
import type { SrtpTable } from '@switchboard/dtls-srtp';

/** The ICE-TCP connection (RFC 6544) a transport's selected pair runs over. */
export interface TcpPath {
  /** The remote address and port, for stats. */
  readonly remote: string;
  /** Sends one frame (copied). */
  send(buf: Uint8Array, off: number, len: number): void;
  close(): void;
}

/** Where the mux sends a transport's packets: a UDP address or an ICE-TCP connection. */
export interface SendTarget {
  readonly ip4: number;
  readonly port: number;
  readonly hasAddress: boolean;
  readonly tcp: TcpPath | null;
}

/** Something a TCP connection can be selected for (the connection clears `tcp` when it closes). */
export interface TcpBound {
  tcp: TcpPath | null;
}

/** What a transport needs of the mux it lives on. `T` is the transport type the mux indexes. */
export interface TransportIo<T> {
  /** The SRTP contexts of every transport on the mux. */
  readonly srtp: Pick<SrtpTable, 'add' | 'remove'>;
  /** The send area beginSend copies into. */
  readonly sendData: Uint8Array;
  /** Copies a packet into the send area; its offset, or -1 when there is no room. */
  beginSend(src: Uint8Array, off: number, len: number): number;
  /** Queues the packet begun with beginSend, to be protected with srtpId and sent to `to`. */
  commitSend(to: SendTarget, len: number, srtpId: number): void;
  /** Sends bytes as they are (STUN, DTLS). */
  sendRaw(to: SendTarget, bytes: Uint8Array): void;
  /** Drops every index entry of a transport (its close() calls this). */
  forget(t: T): void;
}
