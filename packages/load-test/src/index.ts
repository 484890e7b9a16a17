// @switchboard/load-test: a load generator for SFU and MCU rooms with real pre-encoded media.
// scenarios/ (sfu, mcu) say what the peers do and measure; targets/ (switchboard, janus,
// direct) how they reach a server; pacer.ts, worker-group.ts and peer-util.ts are shared.
// This file only re-exports. See README.md.

// SFU scenario: publishers and subscribers
export { runLoadTest, summarize, shutdownLoadGenerator, type LoadTestOptions, type LoadReport } from './scenarios/sfu/run.js';
export { StreamStats, LatencyHistogram } from './scenarios/sfu/stats.js';
// MCU scenario: rooms of participants that all publish and receive the server's mix / composed video
export { runMcuLoad, summarizeMcu, type McuLoadOptions, type McuLoadReport, type McuTarget, type McuParticipantResult } from './scenarios/mcu/run.js';
export { AudioCadence, VideoFrames, SeqExtender, processTree, processTreeCpuUs, clockTicksPerSecond, AUDIO_FRAME_MS, ON_TIME_SLACK_MS, type AudioCadenceResult, type VideoFramesResult } from './scenarios/mcu/stats.js';
// targets
export { janusAudioBridgeCreateRoom, janusAudioBridgeJoin, janusAudioBridgeDestroyRoom } from './targets/janus.js';
export { writeJanusAudioBridgeConfig, addVethAddress, JANUS_BINARY, JANUS_VETH_IP } from './targets/janus-server.js';
// media and RTP
export { parseIvf, parseOggOpus, parseOggPackets, loadMedia, opusPacketSamples, MEDIA_DIR } from './media.js';
export { packetizeVp8, packetizeOpus, parseRtp, parseVp8Descriptor, readTrailer, RtpStream, TRAILER_BYTES, MAX_RTP_PACKET } from './rtp.js';
export { createHs256Token } from './token.js';
