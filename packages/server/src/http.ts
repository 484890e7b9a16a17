import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface HttpOptions {
  host: string;
  port: number;
  registry: Registry;
  /** Reports whether each service is up, for /healthz. */
  health: () => Record<string, boolean>;
}

/** The HTTP side: /healthz and /metrics now; signaling and the web app join it later. */
export function createHttpServer(opts: HttpOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1 << 20 });
  app.get('/healthz', async (_req, reply) => {
    const services = opts.health();
    const ok = Object.values(services).every(Boolean);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', services });
  });
  app.get('/metrics', async (_req, reply) => {
    const body = await opts.registry.metrics();
    return reply.type(opts.registry.contentType).send(body);
  });
  return app;
}
