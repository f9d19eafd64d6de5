// The dashboard's page and files under /dashboard/ (hidden from the OpenAPI document: they are not
// API). The data come from the JSON routes of routes.ts, with the token the page holds.

import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { dashboardCsp, loadDashboardAssets, NONCE_PLACEHOLDER } from './assets.js';

export const dashboardPages: FastifyPluginAsync = async (app) => {
  const assets = await loadDashboardAssets();
  app.get('/dashboard', { schema: { hide: true } }, async (_request, reply) =>
    reply.redirect('/dashboard/', 301),
  );
  app.get<{ Params: { file: string } }>(
    '/dashboard/:file',
    { schema: { hide: true } },
    async (request, reply) => {
      const asset = assets.get(request.params.file);
      if (!asset) {
        return reply
          .status(404)
          .send({ error: { code: 'NOT_FOUND', message: `no dashboard file ${request.params.file}` } });
      }
      // The page: a nonce of its own each time it is served (assets.ts, dashboardCsp).
      const nonce = asset.nonced ? randomBytes(16).toString('base64') : undefined;
      return reply
        .type(asset.type)
        .header('content-security-policy', dashboardCsp(nonce))
        .header('referrer-policy', 'no-referrer')
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'no-cache')
        .send(nonce ? asset.body.replace(NONCE_PLACEHOLDER, nonce) : asset.body);
    },
  );
};
