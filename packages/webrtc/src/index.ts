// @switchboard/webrtc: server-side WebRTC transports. ICE-lite on one UDP port for all peers,
// DTLS-SRTP through @switchboard/dtls-srtp, media in batches over shared buffers.
export { IceLite, randomIceString, CHECK_INVALID, CHECK_VALID, CHECK_NOMINATED } from './ice-lite.js';
export { WebRtcTransport } from './transport.js';
export type { TransportListener, TransportState, TransportStats, RemoteDtlsParameters } from './transport.js';
export { UdpMux } from './udp-mux.js';
export type { UdpMuxOptions, UdpMuxStats, IceCandidateInfo } from './udp-mux.js';
export type { TransportIo, TcpPath, SendTarget, TcpBound } from './io.js';
