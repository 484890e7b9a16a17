import type { AllocationBroker, Grant, PortRequest } from '@switchboard/turn';

/** How a relay engine reaches the one AllocationBroker: directly, or through the main thread. */
export interface BrokerClient {
  acquire(user: string, ports: PortRequest): Promise<Grant>;
  replace(user: string, badPort: number, evenPort: boolean): Promise<Grant>;
  release(user: string, port: number): void;
}

export function localBroker(broker: AllocationBroker): BrokerClient {
  return {
    acquire: async (user, ports) => broker.acquire(user, ports, Date.now()),
    replace: async (user, bad, even) => broker.replace(user, bad, even),
    release: (user, port) => broker.release(user, port),
  };
}

export type BrokerRequest =
  | { type: 'broker'; id: number; op: 'acquire'; user: string; ports: PortRequest }
  | { type: 'broker'; id: number; op: 'replace'; user: string; even: boolean; port: number }
  | { type: 'broker'; id: number; op: 'release'; user: string; port: number };

export type BrokerReply = { type: 'broker-reply'; id: number; grant: Grant };

/** Answers a worker's broker request on the main thread. */
export function serveBrokerRequest(broker: AllocationBroker, req: BrokerRequest): BrokerReply | null {
  switch (req.op) {
    case 'acquire':
      return { type: 'broker-reply', id: req.id, grant: broker.acquire(req.user, req.ports, Date.now()) };
    case 'replace':
      return { type: 'broker-reply', id: req.id, grant: broker.replace(req.user, req.port, req.even) };
    case 'release':
      broker.release(req.user, req.port);
      return null;
  }
}

/** The worker's side: requests go out as messages and come back as replies. */
export function remoteBroker(post: (req: BrokerRequest) => void): { client: BrokerClient; onReply(reply: BrokerReply): void } {
  let next = 1;
  const waiting = new Map<number, (g: Grant) => void>();
  const ask = (req: BrokerRequest) =>
    new Promise<Grant>((resolve) => {
      waiting.set(req.id, resolve);
      post(req);
    });
  return {
    client: {
      acquire: (user, ports) => ask({ type: 'broker', id: next++, op: 'acquire', user, ports }),
      replace: (user, port, even) => ask({ type: 'broker', id: next++, op: 'replace', user, even, port }),
      release: (user, port) => post({ type: 'broker', id: next++, op: 'release', user, port }),
    },
    onReply(reply) {
      const resolve = waiting.get(reply.id);
      waiting.delete(reply.id);
      resolve?.(reply.grant);
    },
  };
}
