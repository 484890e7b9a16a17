// Configuration: built-in defaults, then a YAML file (--config), then SWITCHBOARD_* environment
// variables, then command-line flags. Every value is validated; a bad one is named in the error.

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const port = z.number().int().min(1).max(65535);
const ip = z.string().refine((s) => /^[0-9a-fA-F:.]+$/.test(s), 'must be an IP address');

export const ConfigSchema = z
  .object({
    http: z
      .object({
        host: ip.default('0.0.0.0'),
        port: port.default(7880),
      })
      .strict()
      .prefault({}),
    auth: z
      .object({
        /** API key -> secret; access tokens are HS256 JWTs signed with a secret, issued by its key. */
        keys: z.record(z.string().regex(/^[A-Za-z0-9_-]{3,64}$/, 'API keys are 3-64 letters, digits, _ or -'), z.string().min(16, 'secrets need at least 16 characters')).default({}),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
    rooms: z
      .object({
        /** Topology of a room created by a participant joining it (the admin API names its own). */
        defaultTopology: z.enum(['mesh', 'sfu', 'mcu']).default('mesh'),
      })
      .strict()
      .prefault({}),
    sfu: z
      .object({
        enabled: z.boolean().default(true),
        /** IPv4 address the WebRTC media port binds (0.0.0.0: all; candidates then list each interface's IPv4). */
        listeningIp: ip.default('0.0.0.0'),
        /** One UDP port for every peer's media. */
        port: port.default(7882),
        /** Public IPv4 put in ICE candidates when the server is behind NAT. */
        announcedIp: ip.optional(),
        /** Bandwidth estimate (REMB) sent to each publisher, bits/s. */
        maxIncomingBitrate: z.number().int().min(100_000).max(100_000_000).default(5_000_000),
        /** Encrypt and send media on a native thread of its own (the second core). */
        sendThread: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    mcu: z
      .object({
        /** MCU rooms (needs ffmpeg with libvpx and libopus on the PATH). */
        enabled: z.boolean().default(true),
        /** The composed room picture, and its frame rate. */
        width: z.number().int().min(160).max(1920).multipleOf(2).default(1280),
        height: z.number().int().min(90).max(1080).multipleOf(2).default(720),
        fps: z.number().int().min(1).max(30).default(30),
        /** Highest bitrate of the composed video (it adapts down to the weakest receiver), bits/s. */
        videoBitrate: z.number().int().min(100_000).max(20_000_000).default(1_500_000),
        /** Bitrate of each participant's Opus mix, bits/s. */
        audioBitrate: z.number().int().min(8_000).max(256_000).default(32_000),
        /** Where recordings go (default: recordings/ in the state directory). */
        recordingsDir: z.string().min(1).optional(),
      })
      .strict()
      .prefault({}),
    turn: z
      .object({
        enabled: z.boolean().default(true),
        listeningIps: z.array(ip).min(1).default(['0.0.0.0']),
        listeningPort: port.default(3478),
        tlsListeningPort: port.default(5349),
        cert: z.string().optional(),
        pkey: z.string().optional(),
        relayIp: ip.optional(),
        externalIp: ip.optional(),
        minPort: port.default(49152),
        maxPort: port.default(65535),
        realm: z.string().min(1).default('switchboard'),
        /** "name:password" entries (coturn's user=). */
        users: z.array(z.string().regex(/^[^:]+:.+$/, 'must be NAME:PASSWORD')).default([]),
        /** Shared secrets for REST credentials (coturn's static-auth-secret); several for rotation. */
        staticAuthSecrets: z.array(z.string().min(1)).default([]),
        allowLoopbackPeers: z.boolean().default(false),
        deniedPeerIp: z.array(z.string()).default([]),
        allowedPeerIp: z.array(z.string()).default([]),
        userQuota: z.number().int().min(0).default(0),
        totalQuota: z.number().int().min(0).default(0),
        maxBps: z.number().int().min(0).default(0),
        /** Relay threads; "auto" is one per core. */
        threads: z.union([z.number().int().min(0).max(64), z.literal('auto')]).default('auto'),
        software: z.string().default('Switchboard'),
        maxTcpConnections: z.number().int().min(1).default(10_000),
        /** UDP I/O: batched native (IPv4) or Node's dgram; auto = batch when possible. */
        udpIo: z.enum(['auto', 'batch', 'dgram']).default('auto'),
        socketBufferBytes: z.number().int().min(0).default(4 << 20),
      })
      .strict()
      .refine((t) => t.minPort <= t.maxPort, { message: 'minPort must not exceed maxPort', path: ['minPort'] })
      .refine((t) => !t.cert === !t.pkey, { message: 'cert and pkey go together', path: ['cert'] })
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
type Input = Record<string, unknown>;

export class ConfigError extends Error {
  readonly code = 'SB_ERR_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Merges plain objects (arrays and scalars replace). */
export function deepMerge(base: Input, over: Input): Input {
  const out: Input = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlain(b) && isPlain(v) ? deepMerge(b, v) : v;
  }
  return out;
}

function isPlain(v: unknown): v is Input {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function readConfigFile(file: string): Input {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (!isPlain(doc)) throw new ConfigError(`config file ${file} must hold a mapping at the top`);
  return doc;
}

const ENV_PREFIX = 'SWITCHBOARD_';

/**
 * SWITCHBOARD_HTTP_PORT=8080, SWITCHBOARD_TURN_LISTENING_PORT=3479, SWITCHBOARD_TURN_USERS=a:b,c:d.
 * The value's type follows the schema: numbers, booleans, comma-separated lists.
 */
export function configFromEnv(env: NodeJS.ProcessEnv): Input {
  const out: Input = {};
  const sections = ConfigSchema.shape;
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const rest = name.slice(ENV_PREFIX.length).toLowerCase();
    const section = Object.keys(sections).find((s) => rest.startsWith(`${s}_`));
    if (!section) continue;
    const field = rest.slice(section.length + 1).replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const sectionSchema = unwrap(sections[section as keyof typeof sections]);
    const fieldSchema = (sectionSchema as unknown as { shape?: Record<string, z.ZodType> }).shape?.[field];
    if (!fieldSchema) throw new ConfigError(`${name}: no such setting ${section}.${field}`);
    let value: unknown;
    try {
      value = coerce(raw, fieldSchema);
    } catch (err) {
      throw new ConfigError(`${name}: ${(err as Error).message}`);
    }
    ((out[section] ??= {}) as Input)[field] = value;
  }
  return out;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  for (let i = 0; i < 8; i++) {
    const def = (s as unknown as { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } }).def;
    if (def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else break;
  }
  return s;
}

function coerce(raw: string, schema: z.ZodType): unknown {
  const kind = (unwrap(schema) as unknown as { def: { type: string } }).def.type;
  if (kind === 'array') return raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (kind === 'record') {
    // KEY:VALUE pairs, comma-separated (SWITCHBOARD_AUTH_KEYS=key1:secret1,key2:secret2).
    const out: Record<string, string> = {};
    for (const pair of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
      const i = pair.indexOf(':');
      if (i <= 0) throw new ConfigError(`expected KEY:VALUE pairs, got ${JSON.stringify(pair)}`);
      out[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
    }
    return out;
  }
  if (kind === 'boolean') return raw === 'true' || raw === '1' || raw === 'yes';
  if (kind === 'number') return Number(raw);
  if (kind === 'union') return /^\d+$/.test(raw) ? Number(raw) : raw;
  return raw;
}

/** Validates merged input; the error names each bad field by its path. */
export function validateConfig(input: Input): Config {
  const result = ConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(top)'}: ${i.message}`);
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: Input;
}

export function loadConfig(opts: LoadOptions = {}): Config {
  let input: Input = {};
  if (opts.file) input = deepMerge(input, readConfigFile(opts.file));
  input = deepMerge(input, configFromEnv(opts.env ?? {}));
  if (opts.overrides) input = deepMerge(input, opts.overrides);
  return validateConfig(input);
}
