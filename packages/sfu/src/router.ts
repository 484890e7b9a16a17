// Who receives each producer's packets, owned in one place (mediasoup's Router keeps the
// producer -> consumers map the same way). A producer only knows the PacketSink it sends into;
// a consumer only knows the ConsumerSource it reads from. The room's media strategy decides
// what is wired: forwarding connects consumers, mixing connects taps to the media engine.
import type { PacketSink, Producer } from './producer.js';
import type { Consumer } from './consumer.js';

/** A producer's receivers: its consumers, then its taps. Lists are replaced, never mutated, so a packet loop never sees a half-changed one. */
class FanOut implements PacketSink {
  consumers: Consumer[] = [];
  taps: PacketSink[] = [];

  forward(buf: Uint8Array, off: number, len: number, layer: number, keyframe: boolean, nowMs: number): void {
    const ts = this.taps;
    for (let i = 0; i < ts.length; i++) ts[i].forward(buf, off, len, layer, keyframe, nowMs);
    const cs = this.consumers;
    for (let i = 0; i < cs.length; i++) cs[i].forward(buf, off, len, layer, keyframe, nowMs);
  }
}

const NONE: readonly Consumer[] = [];

export class Router {
  private readonly fanOuts = new Map<Producer, FanOut>();
  private readonly producerOfConsumer = new Map<Consumer, Producer>();

  /** Starts routing a producer's packets (to nobody yet). */
  addProducer(producer: Producer): void {
    if (this.fanOuts.has(producer) || producer.closed) return;
    const f = new FanOut();
    this.fanOuts.set(producer, f);
    producer.sink = f;
  }

  /** Stops routing a producer: its consumers are closed and forgotten (their owners drop them too). */
  removeProducer(producer: Producer): void {
    const f = this.fanOuts.get(producer);
    if (f === undefined) return;
    this.fanOuts.delete(producer);
    producer.sink = null;
    for (const c of f.consumers) {
      this.producerOfConsumer.delete(c);
      c.close();
    }
  }

  /** Sends a producer's packets to a consumer as well. */
  addConsumer(producer: Producer, consumer: Consumer): void {
    const f = this.fanOuts.get(producer);
    if (f === undefined || this.producerOfConsumer.has(consumer)) return;
    f.consumers = [...f.consumers, consumer];
    this.producerOfConsumer.set(consumer, producer);
  }

  removeConsumer(consumer: Consumer): void {
    const producer = this.producerOfConsumer.get(consumer);
    if (producer === undefined) return;
    this.producerOfConsumer.delete(consumer);
    const f = this.fanOuts.get(producer);
    if (f !== undefined) f.consumers = f.consumers.filter((c) => c !== consumer);
  }

  /** Sends every packet of a producer to a sink besides its consumers (the MCU's engine). */
  addTap(producer: Producer, sink: PacketSink): void {
    const f = this.fanOuts.get(producer);
    if (f !== undefined) f.taps = [...f.taps, sink];
  }

  consumersOf(producer: Producer): readonly Consumer[] {
    return this.fanOuts.get(producer)?.consumers ?? NONE;
  }

  producerOf(consumer: Consumer): Producer | undefined {
    return this.producerOfConsumer.get(consumer);
  }

  /** Sizes of the indexes (tests: nothing is left behind). */
  get size(): { producers: number; consumers: number } {
    return { producers: this.fanOuts.size, consumers: this.producerOfConsumer.size };
  }

  close(): void {
    for (const p of [...this.fanOuts.keys()]) this.removeProducer(p);
  }
}
