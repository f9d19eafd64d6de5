// Adaptive testing's records (issue 18, item 4): the bank's exposure per calibration run (the
// dashboard's table), the items over-exposed in the last week, and the import of a run's
// Sympson–Hetter parameters (from the simulator) for sessions with exposure "sympson-hetter".
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { requireScope } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import type { RouteDeps } from '../api/route-deps.js';
import { Id, BEARER as security } from '../api/schemas.js';
import { importShParams, OVEREXPOSURE_WINDOW_DAYS, readOverexposed, readRunExposure } from './repository.js';

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

  app.put(
    '/cat/sympson-hetter/:run_id',
    {
      preHandler: requireScope('analysis:run'),
      schema: {
        tags: ['adaptive'],
        summary: 'Replace the Sympson–Hetter exposure parameters of a calibration run',
        description:
          'The `item_id,sh_k` rows written by `seedtest cat simulate --calibrate-sh R --sh-out SH.csv` on ' +
          'this run’s bank. Sessions with exposure "sympson-hetter" use the set of the latest run that ' +
          'has one from their next item on; items the set does not name are never capped.',
        security,
        params: Type.Object({ run_id: Id('a calibration run') }, { additionalProperties: false }),
        body: Type.Object(
          {
            items: Type.Array(
              Type.Object(
                { item_id: Id('an item'), sh_k: Type.Number({ minimum: 0, maximum: 1 }) },
                { additionalProperties: false },
              ),
              { minItems: 1, maxItems: 100_000 },
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ run_id: Type.String(), items: Type.Integer() }) },
      },
    },
    async (request) => {
      const { run_id } = request.params;
      const seen = new Set<string>();
      for (const { item_id } of request.body.items) {
        if (seen.has(item_id)) {
          const message = `names item ${item_id} twice`;
          throw new ApiError('INVALID_INPUT', `items ${message}`, {
            fields: [{ field: 'items', in: 'body', message }],
          });
        }
        seen.add(item_id);
      }
      const result = await importShParams(database, run_id, request.body.items);
      if (!result) throw new ApiError('CALIBRATION_NOT_FOUND', `no calibration run ${run_id}`);
      if (result.unknown.length > 0) {
        throw new ApiError('UNKNOWN_ITEMS', `unknown item ids: ${result.unknown.join(', ')}`, {
          item_ids: result.unknown,
        });
      }
      return { run_id, items: result.imported };
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
