// `switchboard token create` signs with the keys `serve` uses: configured, or the dev pair.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { TokenVerifier } from '@switchboard/tokens';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const run = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', path.join(root, 'bin/switchboard.js'), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 20000,
  });

test('token create with no keys configured signs with the dev pair serve uses', async () => {
  const state = mkdtempSync(path.join(tmpdir(), 'sb-state-'));
  const r = run(['token', 'create', '--room', 'lobby', '--identity', 'alice', '--name', 'Alice', '--ttl', '15m'], { SWITCHBOARD_STATE_DIR: state });
  assert.equal(r.status, 0, r.stderr);
  const dev = JSON.parse(readFileSync(path.join(state, 'dev-keys.json'), 'utf8'));
  const t = await new TokenVerifier({ [dev.apiKey]: dev.apiSecret }).verify(r.stdout.trim());
  assert.equal(t.identity, 'alice');
  assert.equal(t.name, 'Alice');
  assert.equal(t.room, 'lobby');
  assert.equal(t.grants.join, true);
  assert.equal(t.grants.roomAdmin, false);
  assert.ok(Math.abs(t.expiresAt - Date.now() - 15 * 60_000) < 10_000);
});

test('token create uses configured keys and --admin; bad input exits 2 with a clear message', async () => {
  const env = { SWITCHBOARD_AUTH_KEYS: 'prodkey:0123456789abcdefghij', SWITCHBOARD_STATE_DIR: mkdtempSync(path.join(tmpdir(), 'sb-state-')) };
  const r = run(['token', 'create', '--identity', 'ops', '--admin'], env);
  assert.equal(r.status, 0, r.stderr);
  const t = await new TokenVerifier({ prodkey: '0123456789abcdefghij' }).verify(r.stdout.trim());
  assert.equal(t.grants.roomAdmin, true);
  for (const [args, re] of [
    [['token', 'create', '--room', 'x'], /--identity is required/],
    [['token', 'create', '--identity', 'a'], /--room is required/],
    [['token', 'create', '--room', 'x', '--identity', 'a', '--ttl', 'soon'], /--ttl/],
    [['token', 'create', '--room', 'x', '--identity', 'a', '--api-key', 'nope'], /no API key "nope"/],
    [['token', 'frob'], /unknown subcommand/],
  ] as const) {
    const bad = run([...args], env);
    assert.equal(bad.status, 2, `${args.join(' ')}: ${bad.stderr}`);
    assert.match(bad.stderr, re);
  }
});
