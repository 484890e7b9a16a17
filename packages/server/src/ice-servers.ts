import type { IceServer } from '@switchboard/protocol';
import { restPassword, restUsername } from '@switchboard/turn';

export interface IceServerConfig {
  /** STUN/TURN port (UDP and TCP). */
  port: number;
  /** The TURN REST secret credentials are minted with; null = STUN only. */
  secret: string | null;
  /** TLS port when TURN over TLS is configured. */
  tlsPort?: number;
  ttlSeconds: number;
}

/**
 * This server's STUN and TURN for one participant, reached on the host the client used for
 * signaling, with TURN REST credentials minted for it (coturn's use-auth-secret scheme).
 */
export function iceServersFor(cfg: IceServerConfig, host: string, identity: string): IceServer[] {
  const h = host.includes(':') ? `[${host}]` : host;
  const servers: IceServer[] = [{ urls: [`stun:${h}:${cfg.port}`] }];
  if (cfg.secret) {
    const username = restUsername(Date.now() / 1000 + cfg.ttlSeconds, identity);
    const urls = [`turn:${h}:${cfg.port}?transport=udp`, `turn:${h}:${cfg.port}?transport=tcp`];
    if (cfg.tlsPort) urls.push(`turns:${h}:${cfg.tlsPort}?transport=tcp`);
    servers.push({ urls, username, credential: restPassword(cfg.secret, username) });
  }
  return servers;
}
