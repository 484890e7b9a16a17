// `switchboard load-test`: publishers send pre-encoded VP8 + Opus into an SFU room, subscribers
// receive and report loss, bitrate, jitter and latency (packages/load-test).

import { parseArgs } from 'node:util';
import { ConfigError } from './config.js';
import { signingKey } from './token-command.js';

export const LOAD_TEST_HELP = `switchboard load-test: load an SFU room with real media

  switchboard load-test --url URL --room R --publishers P --subscribers S --duration T

  --url URL          the server (default http://127.0.0.1:7880); ws://HOST:8188 with --target janus
  --room R           room name (created as an SFU room if it does not exist; default load-test)
  --publishers P     each sends ~1 Mbit/s VP8 + Opus from pre-encoded files (default 1)
  --subscribers S    each receives every publisher's tracks (default 10)
  --duration T       seconds measured after everyone is connected (default 10)
  --target T         switchboard (default) or janus (VideoRoom)
  --workers N        child processes for the subscribers (default: automatic)
  --json             print the report as JSON
  -c, --config FILE  where the API keys are (as for serve); SWITCHBOARD_AUTH_KEYS works too
  --api-key KEY      which key to sign tokens with
`;

export async function loadTestCommand(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        url: { type: 'string', default: 'http://127.0.0.1:7880' },
        room: { type: 'string', default: 'load-test' },
        publishers: { type: 'string', default: '1' },
        subscribers: { type: 'string', default: '10' },
        duration: { type: 'string', default: '10' },
        target: { type: 'string', default: 'switchboard' },
        workers: { type: 'string' },
        json: { type: 'boolean' },
        config: { type: 'string', short: 'c' },
        'api-key': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (see: switchboard load-test --help)`);
  }
  if (values.help) {
    out(LOAD_TEST_HELP);
    return 0;
  }
  const int = (name: string, min: number, max: number): number => {
    const v = Number(values[name]);
    if (!Number.isInteger(v) || v < min || v > max) throw new ConfigError(`--${name} must be an integer ${min}..${max}`);
    return v;
  };
  const target = values.target as string;
  if (target !== 'switchboard' && target !== 'janus') throw new ConfigError('--target must be switchboard or janus');
  const keys = target === 'switchboard' ? signingKey(values.config as string | undefined, env, values['api-key'] as string | undefined) : undefined;
  const { runLoadTest, summarize, shutdownLoadGenerator } = await import('@switchboard/load-test');
  try {
    const report = await runLoadTest({
      url: values.url as string,
      target,
      room: values.room as string,
      publishers: int('publishers', 1, 50),
      subscribers: int('subscribers', 0, 5000),
      durationSec: int('duration', 1, 3600),
      workers: values.workers === undefined ? undefined : int('workers', 0, 16),
      apiKey: keys?.apiKey,
      apiSecret: keys?.secret,
      onProgress: (line) => process.stderr.write(`${line}\n`),
    });
    out(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${summarize(report)}\n`);
    return report.failedSubscribers > 0 ? 1 : 0;
  } finally {
    await shutdownLoadGenerator();
  }
}
