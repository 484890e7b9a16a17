// How a room's media flows is a strategy the room holds, not branches through it: forwarding
// (SFU: every participant receives every other participant's tracks, forwarding.ts) or mixing
// (MCU: publishers' packets go to a media engine, which sends each participant its own audio
// mix and the room's composed video, mixing.ts). The room keeps what both share: participants,
// published tracks, the Router, data relay, active speakers.
import type { Producer } from './producer.js';
import type { PublisherLimits } from './negotiation.js';
import type { Router } from './router.js';
import type { SfuParticipant } from './participant.js';

/** What a strategy may use of its room. */
export interface StrategyRoom {
  readonly sid: string;
  readonly participants: ReadonlyMap<string, SfuParticipant>;
  readonly router: Router;
  /** Full-size dimensions of a producer's track, as published. */
  trackSize(producer: Producer): { width: number; height: number } | undefined;
  /** The simulcast layers a publisher is asked to send changed. */
  layersChanged(participantSid: string, trackSid: string, layers: { rid: string; active: boolean }[]): void;
}

export interface MediaStrategy {
  /** What publishers may send in the room. */
  readonly publisherLimits: PublisherLimits;
  /** A participant joined (already in room.participants). */
  joined(p: SfuParticipant, name: string, nowMs: number): void;
  /** A participant left (already closed and out of room.participants). */
  left(sid: string): void;
  /** A published track's packets started to flow through the Router (to nobody yet). */
  producerReady(owner: SfuParticipant, producer: Producer, nowMs: number): void;
  /** A published track ended; the room then unsubscribes everyone and stops routing it. */
  producerClosed(owner: SfuParticipant, producer: Producer): void;
  /** A subscriber asks for a track again (after unsubscribing it). */
  resubscribe(p: SfuParticipant, trackSid: string, nowMs: number): void;
  /** A subscriber's wishes (display size, quality, pause) changed: pick its layers again. */
  subscriberChanged(p: SfuParticipant, nowMs: number): void;
  /** Every 500 ms. */
  tick(nowMs: number): void;
  /** The loudest participants changed (loudest first). */
  activeSpeakers(sids: string[]): void;
  close(): void;
}

export type StrategyFactory = (room: StrategyRoom) => MediaStrategy;
