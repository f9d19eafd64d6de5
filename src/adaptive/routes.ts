// Adaptive testing's records (issue 18, item 4): the bank's exposure per calibration run (the
// dashboard's table) and the items over-exposed in the last week.
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { requireScope } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import type { RouteDeps } from '../api/route-deps.js';
import { Id, BEARER as security } from '../api/schemas.js';
import { OVEREXPOSURE_WINDOW_DAYS, readOverexposed, readRunExposure } from './repository.js';

const RunExposure = Type.Object({
  run_id: Type.String(),
  sessions: Type.Integer({ description: 'adaptive sessions whose first item came from this run’s bank' }),
  items: Type.Array(Type.Object({ item_id: Type.String(), served: Type.Integer(), rate: Type.Number() }), {
    description: 'items served from this run’s bank, most served first; rate = served / sessions',
  }),
});

const Overexposed = Type.Object({
  window_days: Type.Integer(),
  max_rate: Type.Number(),
  sessions: Type.Integer({ description: 'adaptive sessions served an item in the window' }),
  items: Type.Array(Type.Object({ item_id: Type.String(), sessions: Type.Integer(), rate: Type.Number() })),
});

export const catRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { database, config, metrics }) => {
  app.get(
    '/cat/exposure/:run_id',
    {
      preHandler: requireScope('analysis:run'),
      schema: {
        tags: ['adaptive'],
        summary: 'Exposure rates of the bank of one calibration run',
        security,
        params: Type.Object({ run_id: Id('a calibration run') }, { additionalProperties: false }),
        response: { 200: RunExposure },
      },
    },
    async (request) => {
      const exposure = await readRunExposure(database.db, request.params.run_id);
      if (!exposure) {
        throw new ApiError(
          'NO_EXPOSURE',
          `no adaptive session has been served from calibration run ${request.params.run_id}`,
        );
      }
      return exposure;
    },
  );

  app.get(
    '/cat/overexposed',
    {
      preHandler: requireScope('analysis:run'),
      schema: {
        tags: ['adaptive'],
        summary: `Items served in more than CAT_MAX_EXPOSURE_RATE of the last ${OVEREXPOSURE_WINDOW_DAYS} days' adaptive sessions`,
        security,
        response: { 200: Overexposed },
      },
    },
    async () => {
      const { sessions, items } = await readOverexposed(database, config.cat.maxExposureRate);
      metrics.catOverexposedItems.set(items.length);
      return { window_days: OVEREXPOSURE_WINDOW_DAYS, max_rate: config.cat.maxExposureRate, sessions, items };
    },
  );
};
