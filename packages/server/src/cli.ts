// The `switchboard` command.

import { parseArgs } from 'node:util';
import { Switchboard } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { roomCommand } from './room-command.js';
import { tokenCommand } from './token-command.js';
import { loadTestCommand } from './load-test-command.js';
import { parseTurnArgs, TURN_HELP } from './turn-args.js';

const HELP = `switchboard: WebRTC signaling, SFU, MCU, STUN and TURN in one server

Usage:
  switchboard serve [--config FILE]     run everything with built-in defaults
  switchboard turn [coturn options]     run only STUN/TURN (switchboard turn --help)
  switchboard token create --room R --identity I [--name N] [--ttl 1h] [--admin]
  switchboard room create|list|get|close|remove ...  (switchboard room --help)
  switchboard load-test --url URL --room R --publishers P --subscribers S --duration T
  switchboard help | --version

Environment: SWITCHBOARD_<SECTION>_<FIELD> overrides the config, e.g.
  SWITCHBOARD_HTTP_PORT=8080 SWITCHBOARD_TURN_STATIC_AUTH_SECRETS=s1,s2
`;

async function serve(argv: string[]): Promise<void> {
  let values: { config?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (see: switchboard help)`);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const config = loadConfig({ file: values.config, env: process.env });
  const logger = createLogger(config.log.level);
  const sb = await Switchboard.start(config, logger, { http: true, devMode: !values.config });
  onSignals(logger, () => sb.stop());
}

async function turn(argv: string[]): Promise<void> {
  const cmd = parseTurnArgs(argv);
  if (cmd.help) {
    process.stdout.write(TURN_HELP);
    return;
  }
  const overrides: Record<string, unknown> = { ...cmd.overrides };
  if (cmd.prometheusPort !== null) overrides.http = { port: cmd.prometheusPort };
  if (cmd.verbose) overrides.log = { level: 'debug' };
  const config = loadConfig({ file: cmd.configFile, env: process.env, overrides });
  const logger = createLogger(config.log.level);
  const sb = await Switchboard.start(config, logger, { http: cmd.prometheusPort !== null, devMode: false });
  onSignals(logger, () => sb.stop());
}

function onSignals(logger: { info(o: object, m: string): void }, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    void stop().then(() => process.exit(0));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        await serve(rest);
        return 0;
      case 'turn':
        await turn(rest);
        return 0;
      case 'token':
        await tokenCommand(rest, process.env, (s) => process.stdout.write(s));
        return 0;
      case 'room':
        return await roomCommand(rest, process.env, (s) => process.stdout.write(s));
      case 'load-test':
        return await loadTestCommand(rest, process.env, (s) => process.stdout.write(s));
      case '--version':
      case 'version':
        process.stdout.write('switchboard 0.1.0\n');
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(HELP);
        return 0;
      default:
        process.stderr.write(`switchboard: unknown command ${JSON.stringify(command)}\n\n${HELP}`);
        return 2;
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e instanceof ConfigError || e.code === 'TURN_ERR_CONFIG' || e.code === 'TURN_ERR_BAD_IP_RANGE') {
      process.stderr.write(`switchboard: ${e.message}\n`);
      return 2;
    }
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL') {
      process.stderr.write(`switchboard: cannot listen: ${e.message}\n`);
      return 1;
    }
    throw err;
  }
}
