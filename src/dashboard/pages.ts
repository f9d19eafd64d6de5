// The dashboard's page and files under /dashboard/ (hidden from the OpenAPI document: they are not
// API). The data come from the JSON routes of routes.ts, with the token the page holds.
import type { FastifyPluginAsync } from 'fastify';
import { DASHBOARD_CSP, loadDashboardAssets } from './assets.js';

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
      return reply
        .type(asset.type)
        .header('content-security-policy', DASHBOARD_CSP)
        .header('referrer-policy', 'no-referrer')
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'no-cache')
        .send(asset.body);
    },
  );
};
