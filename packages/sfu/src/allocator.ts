// Simulcast layer allocation for forwarded video. Each subscriber's video consumers get the
// highest layer that is flowing, fits its display size (trackSettings) and, when it is
// congested (REMB below what we forward, or > 10% loss), its bandwidth. Layers nobody wants
// are paused at the publisher.
import type { Consumer } from './consumer.js';
import type { SfuParticipant } from './participant.js';
import type { StrategyRoom } from './strategy.js';

/** After a bandwidth-driven step down, wait this long before trying the higher layer again. */
const UPGRADE_HOLD_MS = 10_000;

export class LayerAllocator {
  private readonly downgradedAt = new Map<Consumer, number>();

  constructor(private readonly room: StrategyRoom) {}

  /** Chooses each video consumer's layer for one subscriber. */
  allocate(p: SfuParticipant, nowMs: number): void {
    const router = this.room.router;
    const video: Consumer[] = [];
    for (const c of p.consumers.values()) if (c.kind === 'video' && !c.paused && router.producerOf(c)?.simulcast) video.push(c);
    if (video.length === 0) return;
    let forwarding = 0;
    for (const c of video) forwarding += c.currentLayer >= 0 ? router.producerOf(c)!.layers[c.currentLayer].lastBps : 0;
    // REMB can only say "less": without probing it never rises far above what we send.
    const congested = p.subscriberLossFraction > 0.1 || (p.subscriberBps > 0 && forwarding > 0 && p.subscriberBps < forwarding * 0.85);
    let budget = congested ? p.subscriberBps : Infinity;
    for (const c of video) {
      const producer = router.producerOf(c)!;
      const layers = producer.layers;
      let want = Math.min(c.maxLayerBySize, layers.length - 1);
      const downAt = this.downgradedAt.get(c);
      if (!congested && downAt !== undefined && nowMs - downAt < UPGRADE_HOLD_MS) want = Math.min(want, Math.max(c.targetLayer, 0));
      // highest layer that is flowing, fits the budget, and is not above what is wanted
      let chosen = -1;
      for (let i = want; i >= 0; i--) {
        const l = layers[i];
        if (!l.active(nowMs) && producer.layerEnabled[i]) continue;
        if (l.lastBps > budget && i > 0) continue;
        chosen = i;
        break;
      }
      if (chosen < 0) chosen = 0;
      if (chosen < c.targetLayer && congested) this.downgradedAt.set(c, nowMs);
      budget -= layers[chosen].lastBps;
      c.setTargetLayer(chosen, nowMs);
    }
  }

  /** Per producer: the highest layer any subscriber wants; higher layers are paused at the publisher. */
  updateLayerDemand(): void {
    for (const owner of this.room.participants.values()) {
      for (const producer of owner.producers.values()) {
        if (!producer.simulcast) continue;
        let top = 0;
        for (const c of this.room.router.consumersOf(producer)) if (!c.paused) top = Math.max(top, c.maxLayerBySize);
        let changed = false;
        for (let i = 0; i < producer.layers.length; i++) {
          const on = i <= top;
          if (producer.layerEnabled[i] !== on) {
            producer.layerEnabled[i] = on;
            changed = true;
          }
        }
        if (changed) {
          this.room.layersChanged(
            owner.sid,
            producer.id,
            producer.layers.map((l, i) => ({ rid: l.rid ?? String(i), active: producer.layerEnabled[i] })),
          );
        }
      }
    }
  }

  /** Forgets consumers that closed. */
  sweep(): void {
    for (const c of this.downgradedAt.keys()) if (c.closed) this.downgradedAt.delete(c);
  }
}
