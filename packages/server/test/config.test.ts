import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, configFromEnv, loadConfig } from '../src/config.js';
import { parseTurnArgs } from '../src/turn-args.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sb-config-'));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};

test('built-in defaults need no file: HTTP 7880, STUN/TURN 3478', () => {
  const c = loadConfig();
  assert.equal(c.http.port, 7880);
  assert.equal(c.turn.listeningPort, 3478);
  assert.deepEqual(c.turn.listeningIps, ['0.0.0.0']);
  assert.equal(c.turn.minPort, 49152);
  assert.equal(c.turn.maxPort, 65535);
  assert.equal(c.turn.allowLoopbackPeers, false);
});

test('YAML overrides defaults, environment overrides YAML, flags override both', () => {
  const f = file('a.yaml', 'http:\n  port: 8000\nturn:\n  realm: yaml.example\n  users: ["a:b"]\n  listeningPort: 4000\n');
  const env = { SWITCHBOARD_TURN_LISTENING_PORT: '4001', SWITCHBOARD_TURN_STATIC_AUTH_SECRETS: 's1, s2', SWITCHBOARD_TURN_ALLOW_LOOPBACK_PEERS: 'true' };
  const c = loadConfig({ file: f, env, overrides: { turn: { realm: 'flag.example' } } });
  assert.equal(c.http.port, 8000);
  assert.equal(c.turn.listeningPort, 4001);
  assert.equal(c.turn.realm, 'flag.example');
  assert.deepEqual(c.turn.users, ['a:b']);
  assert.deepEqual(c.turn.staticAuthSecrets, ['s1', 's2']);
  assert.equal(c.turn.allowLoopbackPeers, true);
});

test('a bad config names the field', () => {
  const cases: [string, RegExp][] = [
    ['turn:\n  listeningPort: 70000\n', /turn\.listeningPort/],
    ['turn:\n  listeningPort: "abc"\n', /turn\.listeningPort/],
    ['turn:\n  minPort: 60000\n  maxPort: 50000\n', /turn\.minPort/],
    ['turn:\n  users: ["nocolon"]\n', /turn\.users\.0: must be NAME:PASSWORD/],
    ['turn:\n  listeningIps: ["example.com"]\n', /turn\.listeningIps\.0/],
    ['http:\n  prot: 1\n', /http.*prot|Unrecognized key/],
    ['log:\n  level: loud\n', /log\.level/],
    ['- just\n- a list\n', /mapping/],
    ['turn: [\n', /not valid YAML/],
  ];
  for (const [text, re] of cases) {
    assert.throws(() => loadConfig({ file: file('bad.yaml', text) }), (e: unknown) => e instanceof ConfigError && re.test(e.message), text);
  }
  assert.throws(() => loadConfig({ file: path.join(dir, 'missing.yaml') }), /cannot read config file/);
});

test('API keys come from YAML or SWITCHBOARD_AUTH_KEYS; bad ones are named', () => {
  assert.deepEqual(loadConfig({ env: { SWITCHBOARD_AUTH_KEYS: 'key1:0123456789abcdef0123, key2:abcdefabcdefabcdefab' } }).auth.keys, {
    key1: '0123456789abcdef0123',
    key2: 'abcdefabcdefabcdefab',
  });
  assert.throws(() => loadConfig({ env: { SWITCHBOARD_AUTH_KEYS: 'nocolon' } }), /SWITCHBOARD_AUTH_KEYS: expected KEY:VALUE/);
  assert.throws(() => loadConfig({ file: file('k.yaml', 'auth:\n  keys:\n    key1: short\n') }), /auth\.keys\.key1: secrets need at least 16/);
});

test('environment variables are typed by the schema and unknown ones are refused', () => {
  assert.deepEqual(configFromEnv({ SWITCHBOARD_HTTP_PORT: '9000', OTHER: 'x' }), { http: { port: 9000 } });
  assert.throws(() => configFromEnv({ SWITCHBOARD_TURN_NO_SUCH_THING: '1' }), /turn\.noSuchThing/);
  assert.throws(() => loadConfig({ env: { SWITCHBOARD_HTTP_PORT: 'eighty' } }), /http\.port/);
});

test("turn takes coturn's option names", () => {
  const cmd = parseTurnArgs([
    '--listening-ip', '127.0.0.1', '--listening-port', '3479', '--realm', 'r', '--user', 'u:p', '--user', 'v:q',
    '--use-auth-secret', '--static-auth-secret', 'S', '--min-port', '50000', '--max-port', '50100',
    '--allow-loopback-peers', '--denied-peer-ip', '1.2.3.0-1.2.3.255', '--allowed-peer-ip', '10.0.0.1',
    '--user-quota', '3', '--total-quota', '9', '--max-bps', '64000', '--cert', 'c.pem', '--pkey', 'k.pem',
    '--no-cli', '--fingerprint', '--lt-cred-mech',
  ]);
  assert.deepEqual(cmd.overrides, {
    turn: {
      listeningIps: ['127.0.0.1'], listeningPort: 3479, realm: 'r', users: ['u:p', 'v:q'], staticAuthSecrets: ['S'],
      minPort: 50000, maxPort: 50100, allowLoopbackPeers: true, deniedPeerIp: ['1.2.3.0-1.2.3.255'], allowedPeerIp: ['10.0.0.1'],
      userQuota: 3, totalQuota: 9, maxBps: 64000, cert: 'c.pem', pkey: 'k.pem',
    },
  });
  assert.throws(() => parseTurnArgs(['--listening-port', 'x']), /--listening-port: expected a whole number/);
  assert.throws(() => parseTurnArgs(['--bogus']), /Unknown option '--bogus'/);
  assert.throws(() => parseTurnArgs(['--use-auth-secret']), /needs --static-auth-secret/);
});
