export { Switchboard, turnOptionsFrom, type StartOptions } from './app.js';
export { ConfigError, ConfigSchema, configFromEnv, loadConfig, validateConfig, type Config } from './config.js';
export { main } from './cli.js';
export { parseTurnArgs } from './turn-args.js';
