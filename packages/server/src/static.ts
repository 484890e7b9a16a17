// The browser side: the SDK as one ES module at /sdk/switchboard.js, the web app at /, and in
// dev mode a token endpoint so the app can join without a token server.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { createToken } from '@switchboard/tokens';

/** Both src/ and dist/ sit in packages/server, so the client package is two levels up. */
const SDK_FILE = fileURLToPath(new URL('../../client/dist/switchboard.js', import.meta.url));
const WEB_DIR = fileURLToPath(new URL('../../web-app/public/', import.meta.url));

const PLACEHOLDER = `<!doctype html><html><head><meta charset="utf-8"><title>Switchboard</title></head>
<body><h1>Switchboard</h1><p>The SDK is at <a href="/sdk/switchboard.js">/sdk/switchboard.js</a>.</p></body></html>`;

export interface StaticOptions {
  /** In dev mode: the key pair GET /api/dev/token signs with. */
  devKey: { apiKey: string; secret: string } | null;
}

export function registerStatic(app: FastifyInstance, opts: StaticOptions): void {
  app.get('/sdk/switchboard.js', async (_req, reply) => {
    try {
      const body = await readFile(SDK_FILE);
      return reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(body);
    } catch {
      return reply.code(503).send({ code: 'SB_ERR_SDK_NOT_BUILT', message: 'the SDK bundle is not built (npm run build)' });
    }
  });
  app.get('/', async (_req, reply) => {
    const html = await readFile(`${WEB_DIR}index.html`).catch(() => PLACEHOLDER);
    return reply.type('text/html; charset=utf-8').send(html);
  });
  app.get('/api/config', async () => ({ devMode: opts.devKey !== null }));
  app.get<{ Querystring: { room?: string; identity?: string; name?: string } }>('/api/dev/token', async (req, reply) => {
    if (!opts.devKey) return reply.code(404).send({ code: 'SB_ERR_NOT_DEV_MODE', message: 'tokens are minted here only in dev mode' });
    const { room, identity, name } = req.query;
    if (!room || !identity || room.length > 128 || identity.length > 128 || (name?.length ?? 0) > 128) {
      return reply.code(400).send({ code: 'SB_ERR_INVALID_REQUEST', message: 'room and identity (1-128 characters) are required' });
    }
    const token = await createToken(opts.devKey.apiKey, opts.devKey.secret, { identity, room, name, ttlSeconds: 6 * 3600 });
    return { token };
  });
}
