import type { CounterName } from '@switchboard/turn';

/** Everything the TURN server needs; the server package fills it from config and CLI. */
export interface TurnServerOptions {
  /** Addresses to listen on for UDP and TCP (and TLS when tlsPort and cert are set). */
  listeningIps: string[];
  listeningPort: number;
  /** TLS listener port (coturn's tls-listening-port); used only with cert and pkey. */
  tlsListeningPort: number;
  cert?: string;
  pkey?: string;
  /** Address relay sockets bind to; defaults to the first listening IP (or a local interface). */
  relayIp?: string;
  /** Address announced as XOR-RELAYED-ADDRESS when behind NAT (coturn's external-ip). */
  externalIp?: string;
  minPort: number;
  maxPort: number;
  realm: string;
  users: Record<string, string>;
  authSecrets: string[];
  allowLoopbackPeers: boolean;
  deniedPeerIp: string[];
  allowedPeerIp: string[];
  userQuota: number;
  totalQuota: number;
  maxBps: number;
  /** Relay threads: 0 runs in the calling thread; more need SO_REUSEPORT (Linux). */
  threads: number;
  software: string;
  /** Most concurrent TCP/TLS client connections per thread. */
  maxTcpConnections: number;
  /** UDP I/O: batched native recvmmsg/sendmmsg (IPv4) or Node's dgram; auto picks batch when it can. */
  udpIo: 'auto' | 'batch' | 'dgram';
  /** Kernel socket buffer size for listeners and relays (bytes). */
  socketBufferBytes: number;
}

export type TurnCounters = Record<CounterName, number>;

export interface TurnLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  debug(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export const silentLogger: TurnLogger = { info() {}, warn() {}, debug() {}, error() {} };
