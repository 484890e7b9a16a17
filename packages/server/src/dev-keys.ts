// Dev mode: with no API keys configured, `serve` uses a key pair generated once and kept in a
// file only this user can read, so `switchboard token create` on the same machine signs tokens
// the running server accepts, and no well-known secret ever guards a listening server.

import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface DevKeys {
  apiKey: string;
  apiSecret: string;
  turnSecret: string;
}

/** Where the server keeps its state (dev keys, and recordings unless configured elsewhere). */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.SWITCHBOARD_STATE_DIR ?? path.join(env.XDG_STATE_HOME ?? path.join(os.homedir(), '.local', 'state'), 'switchboard');
}

export function devKeysFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stateDir(env), 'dev-keys.json');
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function randomKey(): string {
  const bytes = randomBytes(12);
  let s = 'SB';
  for (const b of bytes) s += BASE62[b % 62];
  return s;
}

/** Reads the dev key pair, creating it (mode 0600) on first use. */
export function loadDevKeys(file = devKeysFile()): { keys: DevKeys; created: boolean } {
  try {
    const k = JSON.parse(readFileSync(file, 'utf8')) as DevKeys;
    if (typeof k.apiKey === 'string' && typeof k.apiSecret === 'string' && typeof k.turnSecret === 'string') return { keys: k, created: false };
  } catch {
    // Missing or unreadable: make a new pair below.
  }
  const keys: DevKeys = { apiKey: randomKey(), apiSecret: randomBytes(32).toString('base64url'), turnSecret: randomBytes(24).toString('base64url') };
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  return { keys, created: true };
}
