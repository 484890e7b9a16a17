// Where the core finds an allocation: by client (5-tuple key), and for UDP clients by port
// and address, or by one number (ip4PortKey) for adapters that keep IPv4 addresses as numbers.
// add() and remove() keep the three in step; remove() is the only way an entry leaves.
import { ip4PortKey, type Allocation } from './allocation.js';

export class AllocationIndex {
  private readonly byClient = new Map<string, Allocation>();
  /** UDP allocations by client port, then address: the relay path's lookup. */
  private readonly udpByPort = new Map<number, Map<string, Allocation>>();
  /** UDP IPv4 allocations by ip4PortKey. */
  private readonly udpByV4 = new Map<number, Allocation>();

  get size(): number {
    return this.byClient.size;
  }

  values(): IterableIterator<Allocation> {
    return this.byClient.values();
  }

  forClient(key: string): Allocation | undefined {
    return this.byClient.get(key);
  }

  udp(address: string, port: number): Allocation | undefined {
    return this.udpByPort.get(port)?.get(address);
  }

  udpV4(ip4: number, port: number): Allocation | undefined {
    return this.udpByV4.get(ip4PortKey(ip4, port));
  }

  add(alloc: Allocation): void {
    const c = alloc.client;
    this.byClient.set(c.key, alloc);
    if (c.transport !== 'udp') return;
    if (c.ip4 !== undefined) this.udpByV4.set(ip4PortKey(c.ip4, c.port), alloc);
    let byAddr = this.udpByPort.get(c.port);
    if (!byAddr) this.udpByPort.set(c.port, (byAddr = new Map()));
    byAddr.set(c.address, alloc);
  }

  remove(alloc: Allocation): void {
    const c = alloc.client;
    if (this.byClient.get(c.key) === alloc) this.byClient.delete(c.key);
    if (c.transport !== 'udp') return;
    if (c.ip4 !== undefined) {
      const key = ip4PortKey(c.ip4, c.port);
      if (this.udpByV4.get(key) === alloc) this.udpByV4.delete(key);
    }
    const byAddr = this.udpByPort.get(c.port);
    if (byAddr?.get(c.address) === alloc) {
      byAddr.delete(c.address);
      if (byAddr.size === 0) this.udpByPort.delete(c.port);
    }
  }
}
