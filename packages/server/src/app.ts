// The Switchboard process: every service the config enables (TURN, HTTP with signaling, the
// admin API, the SFU and MCU rooms, the SDK and web app), started in order and stopped in reverse.

import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { SignalingServer } from '@switchboard/signaling';
import { TurnServer, type TurnServerOptions } from '@switchboard/turn-server';
import { udpBatchAvailable } from '@switchboard/netio';
import { dtlsSrtpAvailable } from '@switchboard/dtls-srtp';
import { SfuBackend } from './sfu-backend.js';
import { McuBackend, McuMixers } from './mcu-backend.js';
import type { McuSettings } from './mcu-backend.js';
import { SfuMedia } from './sfu-media.js';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ConfigError, type Config } from './config.js';
import { devKeysFile, loadDevKeys, stateDir } from './dev-keys.js';
import { TokenVerifier } from '@switchboard/tokens';
import { registerAdminApi } from './admin-api.js';
import { registerStatic } from './static.js';
import { createHttpServer } from './http.js';
import { iceServersFor } from './ice-servers.js';
import type { Logger } from './logger.js';
import { createRegistry, registerSfuMetrics, registerTurnMetrics } from './metrics.js';

export interface StartOptions {
  /** Serve HTTP (/healthz, /metrics). */
  http: boolean;
  /** In dev mode a missing TURN secret is generated and printed instead of refused. */
  devMode: boolean;
}

export function turnOptionsFrom(turn: Config['turn']): TurnServerOptions {
  const users: Record<string, string> = {};
  for (const entry of turn.users) {
    const i = entry.indexOf(':');
    users[entry.slice(0, i)] = entry.slice(i + 1);
  }
  const read = (file: string, field: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`turn.${field}: cannot read ${file}: ${(err as Error).message}`);
    }
  };
  return {
    listeningIps: turn.listeningIps,
    listeningPort: turn.listeningPort,
    tlsListeningPort: turn.tlsListeningPort,
    cert: turn.cert ? read(turn.cert, 'cert') : undefined,
    pkey: turn.pkey ? read(turn.pkey, 'pkey') : undefined,
    relayIp: turn.relayIp,
    externalIp: turn.externalIp,
    minPort: turn.minPort,
    maxPort: turn.maxPort,
    realm: turn.realm,
    users,
    authSecrets: turn.staticAuthSecrets,
    allowLoopbackPeers: turn.allowLoopbackPeers,
    deniedPeerIp: turn.deniedPeerIp,
    allowedPeerIp: turn.allowedPeerIp,
    userQuota: turn.userQuota,
    totalQuota: turn.totalQuota,
    maxBps: turn.maxBps,
    threads: turn.threads === 'auto' ? os.availableParallelism() : turn.threads,
    software: turn.software,
    maxTcpConnections: turn.maxTcpConnections,
    udpIo: turn.udpIo,
    socketBufferBytes: turn.socketBufferBytes,
  };
}

export class Switchboard {
  readonly config: Config;
  readonly registry: Registry;
  /** API key -> secret for access tokens: from config, or the dev pair in dev mode. */
  apiKeys: Record<string, string> = {};
  turn: TurnServer | null = null;
  http: FastifyInstance | null = null;
  signaling: SignalingServer | null = null;
  /** The Sfu that SFU and MCU rooms share, and their signaling backends (null: no media on this server). */
  media: { sfu: SfuMedia; backends: SfuBackend[]; mcu: McuBackend | null } | null = null;
  /** The TURN REST secret participants' credentials are minted with (the first configured). */
  private turnSecret: string | null = null;
  private readonly logger: Logger;

  private constructor(config: Config, logger: Logger) {
    this.config = config;
    this.logger = logger;
    this.registry = createRegistry();
  }

  static async start(config: Config, logger: Logger, opts: StartOptions): Promise<Switchboard> {
    const sb = new Switchboard(config, logger);
    try {
      await sb.startServices(opts);
    } catch (err) {
      await sb.stop();
      throw err;
    }
    return sb;
  }

  private async startServices(opts: StartOptions): Promise<void> {
    const cfg = this.config;
    this.apiKeys = { ...cfg.auth.keys };
    const dev = opts.devMode ? loadDevKeys() : null;
    if (dev && Object.keys(this.apiKeys).length === 0) {
      this.apiKeys[dev.keys.apiKey] = dev.keys.apiSecret;
      this.logger.warn(
        { apiKey: dev.keys.apiKey, apiSecret: dev.keys.apiSecret, keysFile: devKeysFile(), created: dev.created },
        'dev mode: no API keys configured, using the dev key pair (switchboard token create uses it too)',
      );
    }
    if (cfg.turn.enabled) {
      const turnOpts = turnOptionsFrom(cfg.turn);
      if (Object.keys(turnOpts.users).length === 0 && turnOpts.authSecrets.length === 0) {
        if (!dev) throw new ConfigError('turn: set turn.users or turn.staticAuthSecrets (nothing is relayed without authentication)');
        turnOpts.authSecrets = [dev.keys.turnSecret];
        this.logger.warn({ keysFile: devKeysFile() }, 'dev mode: TURN REST credentials use the dev secret');
      }
      this.turnSecret = turnOpts.authSecrets[0] ?? null;
      if (!this.turnSecret) this.logger.warn({}, 'turn: no staticAuthSecrets, so participants get STUN only (TURN needs REST credentials)');
      this.turn = new TurnServer(turnOpts, this.logger);
      await this.turn.start();
      registerTurnMetrics(this.registry, () => this.turn!.counters());
      this.logger.info(
        {
          udp: turnOpts.listeningIps.map((ip) => `${ip}:${turnOpts.listeningPort}`),
          tcp: turnOpts.listeningIps.map((ip) => `${ip}:${turnOpts.listeningPort}`),
          tls: turnOpts.cert ? turnOpts.listeningIps.map((ip) => `${ip}:${turnOpts.tlsListeningPort}`) : [],
          relayIp: this.turn.relayIp,
          relayPorts: `${turnOpts.minPort}-${turnOpts.maxPort}`,
          threads: this.turn.threads,
          realm: turnOpts.realm,
        },
        'turn listening',
      );
    }
    if (opts.http) {
      const app = createHttpServer({
        host: cfg.http.host,
        port: cfg.http.port,
        registry: this.registry,
        health: () => ({ turn: !cfg.turn.enabled || this.turn !== null, signaling: Object.keys(this.apiKeys).length === 0 || this.signaling !== null }),
      });
      this.http = app;
      const endpoints = ['/healthz', '/metrics'];
      if (Object.keys(this.apiKeys).length > 0) {
        const ice = { port: cfg.turn.listeningPort, secret: cfg.turn.enabled ? this.turnSecret : null, tlsPort: cfg.turn.cert ? cfg.turn.tlsListeningPort : undefined, ttlSeconds: 86_400 };
        this.media = await this.startMedia();
        const signaling = new SignalingServer({
          apiKeys: this.apiKeys,
          iceServers: (host, identity) => iceServersFor(ice, host, identity),
          logger: this.logger,
          mediaBackends: this.media?.backends ?? [],
          defaultTopology: cfg.rooms.defaultTopology,
        });
        this.signaling = signaling;
        signaling.attach(app.server);
        const mcu = this.media?.mcu ?? null;
        registerAdminApi(app, signaling.rooms, new TokenVerifier(this.apiKeys), {
          topologies: signaling.topologies,
          mediaStats: (room) => signaling.backendFor(room)?.stats?.(room),
          mixerStats: (room) => mcu?.mixerStats(room) ?? Promise.resolve(undefined),
          recording: mcu ? { start: (room) => mcu.startRecording(room), stop: (room) => mcu.stopRecording(room), mix: (room, sid, m) => mcu.setMix(room, sid, m) } : undefined,
        });
        registerStatic(app, { devKey: dev && !Object.keys(cfg.auth.keys).length ? { apiKey: dev.keys.apiKey, secret: dev.keys.apiSecret } : null });
        endpoints.push('/rtc', '/api/rooms');
      } else {
        this.logger.warn({}, 'signaling off: no API keys configured (auth.keys)');
      }
      await app.listen({ host: cfg.http.host, port: cfg.http.port });
      this.logger.info({ url: `http://${cfg.http.host}:${cfg.http.port}`, endpoints }, 'http listening');
    }
  }

  /** The Sfu on its UDP port with the SFU and (ffmpeg permitting) MCU backends, or null when disabled or the native parts are missing. */
  private async startMedia(): Promise<Switchboard['media']> {
    const cfg = this.config.sfu;
    if (!cfg.enabled) return null;
    if (!udpBatchAvailable() || !dtlsSrtpAvailable()) {
      this.logger.warn({}, 'sfu off: the native addons (@switchboard/netio, @switchboard/dtls-srtp) are not built');
      return null;
    }
    const mcuSettings = this.mcuSettings();
    let media: SfuMedia | null = null;
    const mixers = mcuSettings === null ? null : new McuMixers(mcuSettings, this.logger, (roomSid) => media?.roomNames.get(roomSid));
    media = new SfuMedia({ ip: cfg.listeningIp, port: cfg.port, announcedIp: cfg.announcedIp, maxIncomingBitrate: cfg.maxIncomingBitrate, sendThread: cfg.sendThread }, this.logger, mixers?.factory);
    const sfu = media.sfu;
    const port = await media.listen();
    registerSfuMetrics(this.registry, () => sfu.counters(), () => sfu.forwardingLatency());
    this.logger.info({ udp: `${cfg.listeningIp}:${port}`, candidates: sfu.mux.candidates().map((c) => `${c.address}:${c.port}`) }, 'sfu listening');
    const mcu = mixers === null ? null : new McuBackend(media, this.logger, mixers);
    return { sfu: media, backends: mcu === null ? [new SfuBackend(media, this.logger)] : [new SfuBackend(media, this.logger), mcu], mcu };
  }

  /** MCU rooms need ffmpeg (libvpx, libopus); without it they are off and the admin API says so. */
  private mcuSettings(): McuSettings | null {
    const m = this.config.mcu;
    if (!m.enabled) return null;
    const probe = spawnSync('ffmpeg', ['-hide_banner', '-encoders'], { encoding: 'utf8', timeout: 10_000 });
    if (probe.status !== 0 || !/libvpx/.test(probe.stdout) || !/libopus/.test(probe.stdout)) {
      this.logger.warn({}, 'mcu off: ffmpeg with libvpx and libopus is not on the PATH (apt-get install -y ffmpeg)');
      return null;
    }
    const { width, height, fps, videoBitrate, audioBitrate } = m;
    return { engine: { width, height, fps, videoBitrate, audioBitrate }, recordingsDir: m.recordingsDir ?? join(stateDir(process.env), 'recordings') };
  }

  async stop(): Promise<void> {
    await this.signaling?.close();
    this.signaling = null;
    this.media?.sfu.close();
    this.media = null;
    await this.http?.close();
    this.http = null;
    await this.turn?.stop();
    this.turn = null;
  }
}
