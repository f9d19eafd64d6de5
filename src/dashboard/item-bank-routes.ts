// The dashboard's item-bank routes (staff: analysis:run or admin; docs/dashboard.md → Item bank): a
// calibration run's bank with each item's flags (paged), its scatter and test information as SVG, the
// calibration history, and one item's runs and curves. Reads through item-bank-reads.ts; flags and
// curves are computed here from the rows of one run, charts drawn by the report's chart module.
import { type FastifyPluginAsyncTypebox, type Static, Type } from '@fastify/type-provider-typebox';
import { requireScope } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import type { RouteDeps } from '../api/route-deps.js';
import { Id, BEARER as security } from '../api/schemas.js';
import { itemInformation, misfitFlags, probability, testInformation } from '../irt/index.js';
import { FLAG_ORDER, type ItemFlag } from '../reports/item-flags.js';
import { loadCharts } from '../reports/load-charts.js';
import { messages } from '../reports/messages.js';
import { LOCALES } from '../reports/view-model.js';
import { type Bank, bankRun, bankSize, calibrationHistory, itemPage, readBank } from './item-bank-reads.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Num = Nullable(Type.Number());
const Int = Nullable(Type.Integer());
const Time = Type.String({ format: 'date-time' });
const Locale = Type.Union(
  LOCALES.map((l) => Type.Literal(l)),
  { default: 'ko' },
);
const Paging = {
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
};
const RunQuery = Type.Optional(Id('a succeeded calibration run; default the latest'));
const Flag = Type.Union(FLAG_ORDER.map((f) => Type.Literal(f)));
const Chart = Type.Object({
  key: Type.String(),
  points: Type.Integer({ description: 'data points drawn' }),
  svg: Type.String({ description: 'a standalone SVG document' }),
});

/** The information curves' θ grid: −4 to 4 by 0.1. */
const THETAS = Float64Array.from({ length: 81 }, (_, k) => -4 + k / 10);
/** Runs an item's page shows. */
const ITEM_RUNS = 20;
/** The listing's filters: any flag, every item, or one flag. */
const FILTERS = ['flagged', 'all', ...FLAG_ORDER] as const;
/** The flags worst first, as the listing names them. */
const FLAGS_WORST_FIRST = [...FLAG_ORDER].reverse();

const BankRow = Type.Object({
  item_id: Type.String(),
  topic_id: Type.String(),
  topic: Type.String({ description: "the topic's name" }),
  a: Type.Number(),
  b: Type.Number(),
  c: Type.Number(),
  infit: Num,
  outfit: Num,
  sx2_p: Num,
  exposure_rate: Nullable(
    Type.Number({ description: 'sessions of this bank that served the item / sessions of this bank' }),
  ),
  flags: Type.Array(Flag, { description: 'worst first' }),
});

type Flagged = Bank['items'][number] & { rate: number | null; flags: ItemFlag[] };

/** Each item's flags in the run: drift, misfit (BH over the run), over-exposed in its bank, inactive. */
function flagItems(bank: Bank, maxRate: number): Flagged[] {
  const misfit = misfitFlags(bank.items.map((i) => i.sx2_p));
  return bank.items.map((it, k) => {
    const rate = bank.sessions > 0 ? it.served / bank.sessions : null;
    const has: Record<ItemFlag, boolean> = {
      drift: it.drift_flag === true,
      misfit: misfit[k]!,
      overexposed: rate !== null && rate > maxRate,
      inactive: !it.active,
    };
    return { ...it, rate, flags: FLAGS_WORST_FIRST.filter((f) => has[f]) };
  });
}

export const itemBankRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { config, database }) => {
  const { db } = database;
  const maxRate = config.cat.maxExposureRate;

  /** The run asked for (404 when it is not a succeeded run), else the latest; undefined before any. */
  const runOf = async (runId: string | undefined) => {
    const run = await bankRun(db, runId);
    if (!run && runId !== undefined)
      throw new ApiError('CALIBRATION_NOT_FOUND', `no succeeded calibration run ${runId}`);
    return run;
  };

  app.get(
    '/item-bank',
    {
      preHandler: requireScope('analysis:run'),
      schema: {
        tags: ['dashboard'],
        summary:
          "A calibration run's item bank: counts of flagged items and the items, filtered and paged by id",
        security,
        querystring: Type.Object(
          {
            run: RunQuery,
            filter: Type.Union(
              FILTERS.map((f) => Type.Literal(f)),
              { default: 'flagged', description: 'flagged: any flag; all: every item of the run' },
            ),
            topic_id: Type.Optional(Id('only the items of this topic')),
            ...Paging,
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            run: Nullable(Type.Object({ run_id: Type.String(), model: Type.String(), fitted_at: Time })),
            bank_size: Type.Integer({ description: 'items in the bank, calibrated in this run or not' }),
            calibrated: Type.Integer({ description: 'items this run calibrated' }),
            sessions: Type.Integer({ description: 'adaptive sessions that started on this run’s bank' }),
            max_exposure_rate: Type.Number({ description: 'CAT_MAX_EXPOSURE_RATE' }),
            flag_counts: Type.Object({
              drift: Type.Integer(),
              misfit: Type.Integer(),
              overexposed: Type.Integer(),
              inactive: Type.Integer(),
            }),
            information: Nullable(
              Type.Object({
                max: Type.Number({ description: 'the test information’s maximum over θ in [−4, 4]' }),
                theta: Type.Number({ description: 'where it is reached' }),
              }),
            ),
            total: Type.Integer({ description: 'items matching the filter' }),
            items: Type.Array(BankRow),
          }),
        },
      },
    },
    async (request) => {
      const { run: runId, filter, topic_id: topicId, limit, offset } = request.query;
      const run = await runOf(runId);
      const empty = { drift: 0, misfit: 0, overexposed: 0, inactive: 0 };
      if (!run) {
        const size = await bankSize(db);
        return {
          run: null,
          bank_size: size,
          calibrated: 0,
          sessions: 0,
          max_exposure_rate: maxRate,
          flag_counts: empty,
          information: null,
          total: 0,
          items: [],
        };
      }
      const bank = await readBank(db, run.run_id);
      const items = flagItems(bank, maxRate);
      const counts = { ...empty };
      for (const it of items) for (const f of it.flags) counts[f]++;
      const info = testInformation(
        items.filter((i) => i.active),
        THETAS,
      );
      const top = info.reduce((best, v, k) => (v > info[best]! ? k : best), 0);
      const matching = items.filter(
        (i) =>
          (topicId === undefined || i.topic_id === topicId) &&
          (filter === 'all' ? true : filter === 'flagged' ? i.flags.length > 0 : i.flags.includes(filter)),
      );
      return {
        run: { ...run, fitted_at: run.fitted_at.toISOString() },
        bank_size: bank.bank_size,
        calibrated: items.length,
        sessions: bank.sessions,
        max_exposure_rate: maxRate,
        flag_counts: counts,
        information: items.length ? { max: info[top]!, theta: THETAS[top]! } : null,
        total: matching.length,
        items: matching.slice(offset, offset + limit).map(
          (i): Static<typeof BankRow> => ({
            item_id: i.item_id,
            topic_id: i.topic_id,
            topic: i.topic,
            a: i.a,
            b: i.b,
            c: i.c,
            infit: i.infit,
            outfit: i.outfit,
            sx2_p: i.sx2_p,
            exposure_rate: i.rate,
            flags: i.flags,
          }),
        ),
      };
    },
  );

  app.get(
    '/item-bank/charts',
    {
      preHandler: requireScope('analysis:run'),
      schema: {
        tags: ['dashboard'],
        summary:
          "A run's items as a difficulty × discrimination scatter (by flag or topic) and the bank's test information, as SVG",
        security,
        querystring: Type.Object(
          {
            run: RunQuery,
            color: Type.Union([Type.Literal('flag'), Type.Literal('topic')], { default: 'flag' }),
            locale: Locale,
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            charts: Type.Array(Chart, {
              description: 'scatter, information; none before a calibration',
            }),
          }),
        },
      },
    },
    async (request) => {
      const { run: runId, color, locale } = request.query;
      const run = await runOf(runId);
      if (!run) return { charts: [] };
      const bank = await readBank(db, run.run_id);
      const items = flagItems(bank, maxRate);
      const m = messages(locale);
      const { itemScatterByFlag, itemScatterByTopic, testInformationChart } = await loadCharts();
      const names = new Map(
        bank.topics.map((t) => [t.topic_id, (locale === 'en' ? t.name_en : t.name_ko) ?? t.name]),
      );
      const scatter =
        color === 'topic'
          ? itemScatterByTopic(items, (id) => names.get(id) ?? id, m)
          : itemScatterByFlag(items, m);
      const info = testInformation(
        items.filter((i) => i.active),
        THETAS,
      );
      return {
        charts: [
          { key: 'scatter', points: items.length, svg: scatter.svg },
          {
            key: 'information',
            points: THETAS.length,
            svg: testInformationChart(
              Array.from(THETAS, (theta, k) => ({ theta, info: info[k]! })),
              m,
            ).svg,
          },
        ],
      };
    },
  );

  app.get(
    '/item-bank/calibrations',
    {
      preHandler: requireScope('analysis:run'),
      schema: {
        tags: ['dashboard'],
        summary:
          'Calibration runs, newest first: log-likelihood, reliability, linking constants, anchors used and dropped',
        security,
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: 200, default: 20 }), offset: Paging.offset },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            total: Type.Integer(),
            runs: Type.Array(
              Type.Object({
                run_id: Type.String(),
                model: Type.String(),
                status: Type.String(),
                fitted_at: Time,
                log_lik: Num,
                n_items: Int,
                n_persons: Int,
                marginal_rxx: Num,
                empirical_rxx: Num,
                linking: Nullable(
                  Type.Object(
                    {
                      method: Type.String(),
                      A: Num,
                      B: Num,
                      anchors_used: Int,
                    },
                    { description: "θ' = A·θ + B onto the previous run's scale" },
                  ),
                ),
                dropped_anchors: Type.Array(Type.String(), { description: 'screened out before linking' }),
                drift_flagged: Type.Integer(),
                error: Nullable(Type.String({ description: 'why a failed run failed' })),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const { total, runs } = await calibrationHistory(db, request.query);
      return {
        total,
        runs: runs.map((r) => ({
          run_id: r.run_id,
          model: r.model,
          status: r.status,
          fitted_at: r.fitted_at.toISOString(),
          log_lik: r.log_lik,
          n_items: r.n_items,
          n_persons: r.n_persons,
          marginal_rxx: r.marginal_rxx,
          empirical_rxx: r.empirical_rxx,
          linking:
            r.linking_method === null
              ? null
              : { method: r.linking_method, A: r.linking_a, B: r.linking_b, anchors_used: r.anchors_used },
          dropped_anchors: r.dropped_anchors,
          drift_flagged: r.drift_flagged,
          error: r.error,
        })),
      };
    },
  );

  const ItemParams = Type.Object({ item_id: Id('the item') }, { additionalProperties: false });
  const loadItem = async (itemId: string) => {
    const page = await itemPage(db, itemId, ITEM_RUNS);
    if (!page) throw new ApiError('ITEM_NOT_FOUND', `no item ${itemId}`);
    return page;
  };

  app.get(
    '/item-bank/items/:item_id',
    {
      preHandler: requireScope('analysis:run'),
      schema: {
        tags: ['dashboard'],
        summary: `An item and its last ${ITEM_RUNS} succeeded runs: parameters with SEs, fit, drift and exposure`,
        security,
        params: ItemParams,
        response: {
          200: Type.Object({
            item: Type.Object({
              item_id: Type.String(),
              topic_id: Type.String(),
              topic: Type.String(),
              active: Type.Boolean(),
              tags: Type.Array(Type.String()),
            }),
            runs: Type.Array(
              Type.Object({
                run_id: Type.String(),
                model: Type.String(),
                fitted_at: Time,
                params: Type.Object({ a: Type.Number(), b: Type.Number(), c: Type.Number() }),
                se: Type.Object({ a: Num, b: Num, c: Num }),
                responses: Int,
                p_correct: Num,
                fit: Nullable(
                  Type.Object({
                    infit: Type.Number(),
                    outfit: Type.Number(),
                    infit_z: Num,
                    outfit_z: Num,
                    sx2: Num,
                    sx2_df: Int,
                    sx2_p: Num,
                  }),
                ),
                drift: Nullable(
                  Type.Object({
                    previous_run: Type.String(),
                    da: Num,
                    db: Num,
                    dc: Num,
                    lord_chi2: Num,
                    df: Int,
                    p: Num,
                    flag: Type.Boolean(),
                  }),
                ),
                exposure: Nullable(
                  Type.Object(
                    { served: Type.Integer(), sessions: Type.Integer(), rate: Type.Number() },
                    { description: 'null when no adaptive session started on this run’s bank' },
                  ),
                ),
              }),
              { description: 'newest first' },
            ),
            max_exposure_rate: Type.Number(),
          }),
        },
      },
    },
    async (request) => {
      const { item, runs } = await loadItem(request.params.item_id);
      return {
        item,
        max_exposure_rate: maxRate,
        runs: runs.map((r) => ({
          run_id: r.run_id,
          model: r.model,
          fitted_at: r.fitted_at.toISOString(),
          params: { a: r.a, b: r.b, c: r.c },
          se: { a: r.se_a, b: r.se_b, c: r.se_c },
          responses: r.n,
          p_correct: r.p,
          fit:
            r.infit === null || r.outfit === null
              ? null
              : {
                  infit: r.infit,
                  outfit: r.outfit,
                  infit_z: r.infit_z,
                  outfit_z: r.outfit_z,
                  sx2: r.sx2,
                  sx2_df: r.sx2_df,
                  sx2_p: r.sx2_p,
                },
          drift:
            r.previous_run === null
              ? null
              : {
                  previous_run: r.previous_run,
                  da: r.da,
                  db: r.db,
                  dc: r.dc,
                  lord_chi2: r.lord_chi2,
                  df: r.drift_df,
                  p: r.drift_p,
                  flag: r.drift_flag === true,
                },
          exposure:
            r.sessions === null || r.sessions === 0
              ? null
              : { served: r.served ?? 0, sessions: r.sessions, rate: (r.served ?? 0) / r.sessions },
        })),
      };
    },
  );

  app.get(
    '/item-bank/items/:item_id/charts',
    {
      preHandler: requireScope('analysis:run'),
      schema: {
        tags: ['dashboard'],
        summary:
          "An item's characteristic and information curves (current parameters) and its parameters over runs, as SVG",
        security,
        params: ItemParams,
        querystring: Type.Object({ locale: Locale }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            charts: Type.Array(Chart, { description: 'curve, history; none before a calibration' }),
          }),
        },
      },
    },
    async (request) => {
      const { runs } = await loadItem(request.params.item_id);
      const latest = runs[0];
      if (!latest) return { charts: [] };
      const m = messages(request.query.locale);
      const { itemCurveChart, itemHistoryChart } = await loadCharts();
      const params = { a: latest.a, b: latest.b, c: latest.c };
      const curve = Array.from(THETAS, (theta) => ({
        theta,
        p: probability(params, theta),
        info: itemInformation(params, theta),
      }));
      const history = runs
        .map((r) => ({ at: r.fitted_at, a: r.a, b: r.b, se_a: r.se_a, se_b: r.se_b }))
        .reverse();
      return {
        charts: [
          { key: 'curve', points: curve.length, svg: itemCurveChart(curve, params, m).svg },
          { key: 'history', points: history.length, svg: itemHistoryChart(history, m).svg },
        ],
      };
    },
  );
};
