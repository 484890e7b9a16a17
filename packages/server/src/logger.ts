import { pino, type Logger } from 'pino';

/** Structured JSON logs on stdout. */
export function createLogger(level: string, name = 'switchboard'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}

export type { Logger };
