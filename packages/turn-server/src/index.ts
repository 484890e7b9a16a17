export { chooseRelayIp, TURN_DEFAULTS, TurnServer } from './server.js';
export { RelayEngine, type EngineOptions } from './engine.js';
export { silentLogger, type TurnCounters, type TurnLogger, type TurnServerOptions } from './options.js';
