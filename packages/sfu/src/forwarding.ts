// The SFU strategy: every participant receives every other participant's tracks (LiveKit's
// autoSubscribe), in the simulcast layer the allocator picks for it.
import { LayerAllocator } from './allocator.js';
import type { PublisherLimits } from './negotiation.js';
import type { SfuParticipant } from './participant.js';
import type { Producer } from './producer.js';
import type { MediaStrategy, StrategyFactory, StrategyRoom } from './strategy.js';

export class ForwardingStrategy implements MediaStrategy {
  readonly publisherLimits: PublisherLimits = { dataChannels: true };
  private readonly allocator: LayerAllocator;

  constructor(private readonly room: StrategyRoom) {
    this.allocator = new LayerAllocator(room);
  }

  joined(p: SfuParticipant, _name: string, nowMs: number): void {
    for (const other of this.room.participants.values()) {
      if (other === p) continue;
      for (const producer of other.producers.values()) p.subscribe(producer, nowMs);
    }
  }

  left(): void {}

  producerReady(owner: SfuParticipant, producer: Producer, nowMs: number): void {
    for (const p of this.room.participants.values()) if (p !== owner) p.subscribe(producer, nowMs);
  }

  producerClosed(): void {}

  resubscribe(p: SfuParticipant, trackSid: string, nowMs: number): void {
    for (const owner of this.room.participants.values()) {
      if (owner === p) continue;
      const producer = owner.producerById(trackSid);
      if (producer !== undefined) p.subscribe(producer, nowMs);
    }
  }

  subscriberChanged(p: SfuParticipant, nowMs: number): void {
    this.allocator.allocate(p, nowMs);
  }

  tick(nowMs: number): void {
    for (const p of this.room.participants.values()) this.allocator.allocate(p, nowMs);
    this.allocator.updateLayerDemand();
    this.allocator.sweep();
  }

  activeSpeakers(): void {}

  close(): void {}
}

export const forwarding: StrategyFactory = (room) => new ForwardingStrategy(room);
