// Calibration runs and the item bank's health (issue 17): a run's model fit, reliability, linking,
// screened-out anchors and flagged items; an item's parameters, fit and drift over runs.
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { requireScope } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import type { RouteDeps } from '../api/route-deps.js';
import { Id, BEARER as security } from '../api/schemas.js';
import type { MirtItemFitTable } from '../db/schema.js';
import { misfitFlags } from '../irt/index.js';
import { calibrationRun, itemParamHistory, itemTopic } from './repository.js';

const Num = Type.Union([Type.Number(), Type.Null()]);
const Int = Type.Union([Type.Integer(), Type.Null()]);

const ItemFit = Type.Object({
  infit: Type.Number(),
  outfit: Type.Number(),
  infit_z: Type.Number(),
  outfit_z: Type.Number(),
  sx2: Num,
  sx2_df: Int,
  sx2_p: Num,
  sx2_rmsea: Num,
});
const Drift = Type.Object({
  previous_run: Type.String(),
  da: Type.Number(),
  db: Type.Number(),
  dc: Type.Number(),
  lord_chi2: Num,
  df: Type.Integer(),
  p: Num,
  q_flag: Type.Boolean(),
  area: Type.Number(),
  flag: Type.Boolean(),
});

/** A mirt_item_fit row's statistics as a LEFT JOIN returns them: every column may be null. */
type FitRow = { [K in keyof Omit<MirtItemFitTable, 'run_id' | 'item_id'>]: MirtItemFitTable[K] | null };

/** The fit and drift parts of a mirt_item_fit row (null when the run stored none). */
function fitOf(r: FitRow) {
  return {
    fit:
      r.infit === null
        ? null
        : {
            infit: r.infit,
            outfit: r.outfit!,
            infit_z: r.infit_z!,
            outfit_z: r.outfit_z!,
            sx2: r.sx2,
            sx2_df: r.sx2_df,
            sx2_p: r.sx2_p,
            sx2_rmsea: r.sx2_rmsea,
          },
    drift:
      r.previous_run === null
        ? null
        : {
            previous_run: r.previous_run,
            da: r.da!,
            db: r.db!,
            dc: r.dc!,
            lord_chi2: r.lord_chi2,
            df: r.drift_df!,
            p: r.drift_p,
            q_flag: r.q_flag!,
            area: r.area!,
            flag: r.drift_flag!,
          },
  };
}

export const calibrationRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { database }) => {
  app.get(
    '/items/:item_id/history',
    {
      preHandler: requireScope('reports:view', 'analysis:run'),
      schema: {
        tags: ['items'],
        summary:
          'Parameters with SEs, fit and drift of an item over succeeded calibration runs, newest first',
        security,
        params: Type.Object({ item_id: Id('the item') }, { additionalProperties: false }),
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            item_id: Type.String(),
            history: Type.Array(
              Type.Object({
                run_id: Type.String(),
                model: Type.String(),
                fitted_at: Type.String({ format: 'date-time' }),
                params: Type.Object(
                  {
                    a: Type.Number(),
                    b: Type.Number(),
                    c: Type.Number(),
                    se: Type.Optional(Type.Record(Type.String(), Type.Number())),
                  },
                  { additionalProperties: true },
                ),
                fit: Type.Union([ItemFit, Type.Null()]),
                drift: Type.Union([Drift, Type.Null()]),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const { item_id: itemId } = request.params;
      if ((await itemTopic(database.db, itemId)) === undefined) {
        throw new ApiError('ITEM_NOT_FOUND', `no item ${itemId}`);
      }
      const rows = await itemParamHistory(database.db, itemId, request.query.limit);
      return {
        item_id: itemId,
        history: rows.map((r) => ({
          run_id: r.version,
          model: r.model,
          fitted_at: r.fitted_at.toISOString(),
          params: r.params,
          ...fitOf(r),
        })),
      };
    },
  );

  app.get(
    '/calibrations/:run_id',
    {
      preHandler: requireScope('reports:view', 'analysis:run'),
      schema: {
        tags: ['items'],
        summary: 'A calibration run: model fit, reliability, linking, screened-out anchors, flagged items',
        security,
        params: Type.Object({ run_id: Id('the calibration run') }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            run_id: Type.String(),
            model: Type.String(),
            status: Type.String(),
            fitted_at: Type.String({ format: 'date-time' }),
            linking: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
            model_fit: Type.Union([
              Type.Object({
                M2: Num,
                df: Int,
                p: Num,
                RMSEA: Num,
                RMSEA_5: Num,
                RMSEA_95: Num,
                SRMSR: Num,
                TLI: Num,
                CFI: Num,
                marginal_rxx: Type.Number(),
                empirical_rxx: Type.Number(),
                notes: Type.Array(Type.String()),
              }),
              Type.Null(),
            ]),
            dropped_anchors: Type.Array(
              Type.Object({
                item_id: Type.String(),
                db: Type.Number(),
                z: Type.Number(),
                round: Type.Integer(),
              }),
            ),
            flagged: Type.Array(
              Type.Object({
                item_id: Type.String(),
                reasons: Type.Array(Type.Union([Type.Literal('drift'), Type.Literal('misfit')])),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const { run_id: runId } = request.params;
      const run = await calibrationRun(database.db, runId);
      if (!run) throw new ApiError('CALIBRATION_NOT_FOUND', `no calibration run ${runId}`);
      const { meta, modelFit: m, dropped, items } = run;
      const misfit = misfitFlags(items.map((r) => r.sx2_p));
      return {
        run_id: meta.run_id,
        model: meta.model,
        status: meta.status,
        fitted_at: meta.fitted_at.toISOString(),
        linking: (meta.model_spec.linking as Record<string, unknown> | undefined) ?? null,
        model_fit: m
          ? {
              M2: m.m2,
              df: m.m2_df,
              p: m.m2_p,
              RMSEA: m.rmsea,
              RMSEA_5: m.rmsea_5,
              RMSEA_95: m.rmsea_95,
              SRMSR: m.srmsr,
              TLI: m.tli,
              CFI: m.cfi,
              marginal_rxx: m.marginal_rxx,
              empirical_rxx: m.empirical_rxx,
              notes: m.notes,
            }
          : null,
        dropped_anchors: dropped,
        flagged: items.flatMap((r, i) => {
          const reasons = [
            ...(r.drift_flag ? ['drift' as const] : []),
            ...(misfit[i] ? ['misfit' as const] : []),
          ];
          return reasons.length ? [{ item_id: r.item_id, reasons }] : [];
        }),
      };
    },
  );
};
