// KPI and feature routes: a learner's weekly KPIs, recomputing one learner's week, and the daily
// topic features. Reads are a learner's own unless the token has analysis:run (or admin).
import { type FastifyPluginAsyncTypebox, type Static, Type } from '@fastify/type-provider-typebox';
import type { Selectable } from 'kysely';
import { assertOwnOrScope, principalOfRequest, requireScope } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import type { RouteDeps } from '../api/route-deps.js';
import { DayInput, Id, BEARER as security } from '../api/schemas.js';
import { dateInput, invalidField } from '../api/time-input.js';
import type { WeeklyKpiTable } from '../db/schema.js';
import { topicFeatures } from '../features/reads.js';
import { addDays, isoWeekStart, utcToday } from '../jobs/dates.js';
import { kpiAsOf } from './kpis.js';
import { weeklyKpiRow, weeklyKpisSince } from './repository.js';
import { computeWeeklyKpis } from './service.js';

const MAX_FEATURE_DAYS = 366;

const kpi = (label: string, range: string) =>
  Type.Union([Type.Number(), Type.Null()], {
    description: `${label}, ${range}; null when its data condition fails`,
  });

const KpiObject = Type.Object({
  I_t: kpi('Improvement', '[-1, 1]'),
  E_t: kpi('Efficiency', '[0, 1]'),
  R_t: kpi('Recovery', '[0, 1]'),
  A_t: kpi('Engagement', '[0, 1]'),
  P: kpi('Goal-attainment probability', '[0, 1]'),
  S: kpi('Churn risk (high is bad)', '[0, 1]'),
});

const WeeklyRow = Type.Object({
  user_id: Type.String(),
  week_start: Type.String({ format: 'date', description: 'the ISO week (its Monday)' }),
  as_of: Type.String({ format: 'date', description: 'the day the KPIs were computed for' }),
  kpis: KpiObject,
  updated_at: Type.String({ format: 'date-time' }),
});

const FeatureRow = Type.Object({
  topic_id: Type.String(),
  topic_name: Type.Union([Type.String(), Type.Null()]),
  date: Type.String({ format: 'date' }),
  attempts: Type.Integer(),
  correct: Type.Integer(),
  avg_time_ms: Type.Union([Type.Integer(), Type.Null()]),
  rt_median: Type.Union([Type.Integer(), Type.Null()]),
  hints: Type.Integer(),
  theta_estimate: Type.Union([Type.Number(), Type.Null()]),
  theta_se: Type.Union([Type.Number(), Type.Null()]),
  improvement: Type.Union([Type.Number(), Type.Null()]),
  last_seen_at: Type.String({ format: 'date-time' }),
});

const toWeekly = (r: Selectable<WeeklyKpiTable>): Static<typeof WeeklyRow> => ({
  user_id: r.user_id,
  week_start: r.week_start,
  as_of: r.as_of,
  kpis: r.kpis,
  updated_at: r.updated_at.toISOString(),
});

export const analysisMetricsRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (
  app,
  { config, database },
) => {
  const { db } = database;

  app.get(
    '/analysis/metrics/weekly',
    {
      preHandler: requireScope('reports:view', 'analysis:run'),
      schema: {
        tags: ['metrics'],
        summary: "A learner's weekly KPIs for the last `weeks` ISO weeks up to the current one, newest first",
        security,
        querystring: Type.Object(
          {
            user_id: Type.Optional(Id('the learner; defaults to the token subject')),
            weeks: Type.Integer({ minimum: 1, maximum: 52, default: 4 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ user_id: Type.String(), weeks: Type.Array(WeeklyRow) }) },
      },
    },
    async (request) => {
      const principal = principalOfRequest(request);
      const userId = request.query.user_id ?? principal.sub;
      assertOwnOrScope(principal, userId, 'analysis:run');
      const since = addDays(isoWeekStart(utcToday(new Date())), -7 * (request.query.weeks - 1));
      const rows = await weeklyKpisSince(db, userId, since);
      return { user_id: userId, weeks: rows.map(toWeekly) };
    },
  );

  app.post(
    '/analysis/metrics/recompute',
    {
      preHandler: requireScope('analysis:run'),
      schema: {
        tags: ['metrics'],
        summary: "Recompute one learner's KPIs for a week (default: the current week, as of today)",
        security,
        body: Type.Object(
          {
            user_id: Id('the learner'),
            week_start: Type.Optional(DayInput('an ISO Monday; a past week is computed as of its Sunday')),
          },
          { additionalProperties: false },
        ),
        response: { 200: WeeklyRow },
      },
    },
    async (request) => {
      const { user_id: userId } = request.body;
      const today = utcToday(new Date());
      const given = request.body.week_start;
      const weekStart = given ? dateInput(given, 'week_start', 'body', config) : isoWeekStart(today);
      if (isoWeekStart(weekStart) !== weekStart) {
        throw invalidField(
          'week_start',
          'body',
          `must be a Monday; ${weekStart} is in the week starting ${isoWeekStart(weekStart)}`,
        );
      }
      if (weekStart > today) {
        throw new ApiError(
          'WEEK_NOT_STARTED',
          `the week of ${weekStart} has not started yet (today is ${today})`,
        );
      }
      const asOf = kpiAsOf(weekStart, today);
      const { rows } = await db
        .transaction()
        .execute((trx) => computeWeeklyKpis(trx, { asOf, config, userIds: [userId] }));
      if (rows.length === 0) {
        throw new ApiError(
          'NO_ACTIVITY',
          `learner ${userId} has no attempt in the ${config.kpi.lookbackDays} days ending ${asOf}; ` +
            'KPIs exist only for learners active in that window',
        );
      }
      const row = await weeklyKpiRow(db, userId, weekStart);
      if (!row) throw new Error(`the recomputed row of ${userId} for ${weekStart} is missing`);
      return toWeekly(row);
    },
  );

  app.get(
    '/analysis/features/topics',
    {
      preHandler: requireScope('reports:view', 'analysis:run'),
      schema: {
        tags: ['metrics'],
        summary: "A learner's daily topic features (features_topic_daily), by date then topic",
        security,
        querystring: Type.Object(
          {
            user_id: Type.Optional(Id('the learner; defaults to the token subject')),
            from: Type.Optional(DayInput('first day, inclusive; default 29 days before `to`')),
            to: Type.Optional(DayInput('last day, inclusive; default today (UTC)')),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            user_id: Type.String(),
            from: Type.String({ format: 'date' }),
            to: Type.String({ format: 'date' }),
            rows: Type.Array(FeatureRow),
          }),
        },
      },
    },
    async (request) => {
      const principal = principalOfRequest(request);
      const userId = request.query.user_id ?? principal.sub;
      assertOwnOrScope(principal, userId, 'analysis:run');
      const { query } = request;
      const to = query.to ? dateInput(query.to, 'to', 'querystring', config) : utcToday(new Date());
      const from = query.from ? dateInput(query.from, 'from', 'querystring', config) : addDays(to, -29);
      if (from > to) throw invalidField('from', 'querystring', `${from} is after to ${to}`);
      if (addDays(from, MAX_FEATURE_DAYS - 1) < to) {
        throw invalidField(
          'from',
          'querystring',
          `is more than ${MAX_FEATURE_DAYS - 1} days before to ${to}; ask for less`,
        );
      }
      const rows = await topicFeatures(db, userId, from, to);
      return {
        user_id: userId,
        from,
        to,
        rows: rows.map(({ user_id: _, computed_at: __, ...r }) => ({
          ...r,
          last_seen_at: r.last_seen_at.toISOString(),
        })),
      };
    },
  );
};
