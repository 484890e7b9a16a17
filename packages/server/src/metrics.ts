// Prometheus metrics. The TURN counters are read from the relay threads' shared memory when
// scraped, so the packet path never calls into prom-client.

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { SfuCounters } from '@switchboard/sfu';
import type { TurnCounters } from '@switchboard/turn-server';

export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'switchboard_' });
  return registry;
}

/** Registers the TURN metrics, read from `read()` at each scrape. */
export function registerTurnMetrics(registry: Registry, read: () => TurnCounters): void {
  const { gauge, counter, current } = snapshotMetrics(registry, read);
  gauge('switchboard_turn_allocations', 'TURN allocations now active', (c) => c.allocations);
  gauge('switchboard_turn_permissions', 'TURN permissions now installed', (c) => c.permissions);
  gauge('switchboard_turn_channels', 'TURN channels now bound', (c) => c.channels);

  counter('switchboard_turn_relayed_packets_total', 'Packets relayed, by direction', 'direction', {
    to_peer: (c) => c.toPeerPackets,
    to_client: (c) => c.toClientPackets,
  });
  counter('switchboard_turn_relayed_bytes_total', 'Payload bytes relayed, by direction', 'direction', {
    to_peer: (c) => c.toPeerBytes,
    to_client: (c) => c.toClientBytes,
  });
  counter('switchboard_turn_dropped_packets_total', 'Packets not relayed, by reason', 'reason', {
    no_permission: (c) => c.droppedNoPermission,
    bandwidth: (c) => c.droppedBandwidth,
    malformed: (c) => c.droppedMalformed,
  });
  counter('switchboard_turn_auth_failures_total', 'Authentication failures, by reason', 'reason', {
    bad_integrity: (c) => c.authFailBadIntegrity,
    unknown_user: (c) => c.authFailUnknownUser,
    expired_credentials: (c) => c.authFailExpired,
    stale_nonce: (c) => c.authFailStaleNonce,
    bad_request: (c) => c.authFailBadRequest,
    wrong_credentials: (c) => c.authFailWrongCredentials,
  });
  new Counter({
    name: 'switchboard_turn_requests_total',
    help: 'STUN/TURN requests received',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(current().stunRequests);
    },
  });
  new Counter({
    name: 'switchboard_turn_allocate_errors_total',
    help: 'Allocate requests refused after authentication',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(current().allocateErrors);
    },
  });
}

/**
 * Gauge and labelled-counter factories over one snapshot per scrape (every metric they make
 * reads the same instant of `read()`).
 */
function snapshotMetrics<C>(registry: Registry, read: () => C) {
  let snap = read();
  let at = 0;
  const current = () => {
    const now = Date.now();
    if (now - at > 50) {
      snap = read();
      at = now;
    }
    return snap;
  };
  const gauge = (name: string, help: string, pick: (c: C) => number) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(pick(current())); } });
  const counter = (name: string, help: string, label: string, values: Record<string, (c: C) => number>) =>
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        const c = current();
        this.reset();
        for (const [v, pick] of Object.entries(values)) this.inc({ [label]: v }, pick(c));
      },
    });
  return { gauge, counter, current };
}

/** SFU gauges (now) and counters (since start), read from one snapshot per scrape. */
export function registerSfuMetrics(registry: Registry, read: () => SfuCounters, latency?: () => { processing: { p50: number; p99: number }; send: { p50: number; p99: number } | null }): void {
  if (latency) {
    new Gauge({
      name: 'switchboard_sfu_forward_latency_microseconds',
      help: 'forwarding latency inside the server since start, by stage (processing: receive to queued; send: queued to sent) and quantile (upper edge of a power-of-2 bucket)',
      labelNames: ['stage', 'quantile'],
      registers: [registry],
      collect() {
        const l = latency();
        this.reset();
        this.set({ stage: 'processing', quantile: '0.5' }, l.processing.p50);
        this.set({ stage: 'processing', quantile: '0.99' }, l.processing.p99);
        if (l.send) {
          this.set({ stage: 'send', quantile: '0.5' }, l.send.p50);
          this.set({ stage: 'send', quantile: '0.99' }, l.send.p99);
        }
      },
    });
  }
  const { gauge, counter } = snapshotMetrics(registry, read);
  gauge('switchboard_sfu_rooms', 'SFU rooms with media state', (c) => c.rooms);
  gauge('switchboard_sfu_participants', 'participants in SFU rooms', (c) => c.participants);
  gauge('switchboard_sfu_transports', 'WebRTC transports (publisher + subscriber connections)', (c) => c.transports);
  gauge('switchboard_sfu_producers', 'published tracks being received', (c) => c.producers);
  gauge('switchboard_sfu_consumers', 'tracks being forwarded to subscribers', (c) => c.consumers);
  counter('switchboard_sfu_packets_total', 'RTP/RTCP packets by direction (in: from clients, out: to clients)', 'direction', { in: (c) => c.packetsIn, out: (c) => c.packetsOut });
  counter('switchboard_sfu_bytes_total', 'RTP/RTCP bytes by direction', 'direction', { in: (c) => c.bytesIn, out: (c) => c.bytesOut });
  counter('switchboard_sfu_rtcp_feedback_total', 'feedback from subscribers and what it caused', 'kind', { nack: (c) => c.nacksReceived, pli: (c) => c.plisReceived, retransmit: (c) => c.retransmits, layer_switch: (c) => c.layerSwitches });
  counter('switchboard_sfu_dropped_total', 'datagrams dropped by reason', 'reason', { unknown_source: (c) => c.droppedUnknown, send_failed: (c) => c.droppedSend, srtp_auth: (c) => c.srtpAuthFailures, srtp_replay: (c) => c.srtpReplays });
}
