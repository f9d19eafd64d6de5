// The dashboard's JSON routes (docs/dashboard.md): cohorts, a cohort's learners with this week's
// figures (sorted, filtered and paged in SQL), and a learner's page with its charts, drawn by the
// report's chart module. Validate → authorise (cohorts/access.ts) → dashboard/reads.ts → map.
import { type FastifyPluginAsyncTypebox, type Static, Type } from '@fastify/type-provider-typebox';
import { hasScope, type Principal, principalOfRequest, requireScope } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import type { RouteDeps } from '../api/route-deps.js';
import { Id, Instant, BEARER as security } from '../api/schemas.js';
import { assertCohortAccess, assertLearnerAccess, visibleCohorts } from '../cohorts/access.js';
import { loadCharts } from '../reports/load-charts.js';
import { messages } from '../reports/messages.js';
import { CHURN_HIGH, churnBand, LOCALES } from '../reports/view-model.js';
import { cohortName, cohortOverview, FILTERS, learnerDetail, listCohorts, SORT_KEYS } from './reads.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
// A real calendar date (format, not a pattern): 2026-02-30 is a 400, not a failed cast in SQL.
const Day = Type.String({ format: 'date', description: 'YYYY-MM-DD' });
const Kpi = Nullable(Type.Number());
const Kpis = Type.Object(
  { I_t: Kpi, E_t: Kpi, R_t: Kpi, A_t: Kpi, P: Kpi, S: Kpi },
  { description: 'the six weekly KPIs of spec/kpis.md; null when its data condition failed' },
);
const Paging = {
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
  offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
};
/** How many weeks, θ estimates, sessions and reports a learner's page shows. */
const LEARNER_PAGE = { weeks: 12, thetaPoints: 60, sessions: 10, reports: 10 } as const;

const CohortParams = Type.Object({ cohort_id: Id('the cohort') }, { additionalProperties: false });
const LearnerParams = Type.Object({ user_id: Id('the learner') }, { additionalProperties: false });

const OverviewLearner = Type.Object({
  user_id: Type.String(),
  display_name: Nullable(Type.String()),
  kpis: Nullable(Kpis),
  churn_band: Nullable(Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')])),
  theta: Nullable(Type.Number()),
  theta_se: Nullable(Type.Number()),
  theta_change: Nullable(Type.Number({ description: 'θ now minus the last estimate before the week' })),
  last_active_at: Nullable(Instant),
  open_alerts: Type.Integer(),
  days_inactive: Nullable(Type.Integer()),
});

export const dashboardRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { config, database }) => {
  const { db } = database;

  app.get(
    '/cohorts',
    {
      preHandler: requireScope('cohort:view', 'analysis:run'),
      schema: {
        tags: ['dashboard'],
        summary: "The cohorts this token may see (a teacher's: those of her cohorts claim), by id",
        security,
        querystring: Type.Object(Paging, { additionalProperties: false }),
        response: {
          200: Type.Object({
            total: Type.Integer(),
            cohorts: Type.Array(
              Type.Object({ cohort_id: Type.String(), name: Type.String(), members: Type.Integer() }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const visible = visibleCohorts(principalOfRequest(request));
      return listCohorts(db, { ...request.query, ...(visible === 'all' ? {} : { only: visible }) });
    },
  );

  app.get(
    '/cohorts/:cohort_id/learners',
    {
      preHandler: requireScope('cohort:view', 'analysis:run'),
      schema: {
        tags: ['dashboard'],
        summary:
          "A cohort's learners with the week's KPIs, churn band, θ and its change, last activity and open alerts",
        security,
        params: CohortParams,
        querystring: Type.Object(
          {
            week: Type.Optional({
              ...Day,
              description: "the ISO week's Monday; default the latest with KPIs",
            }),
            sort: Type.Union(
              SORT_KEYS.map((k) => Type.Literal(k)),
              { default: 'risk', description: 'risk is the churn risk S' },
            ),
            order: Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' }),
            filter: Type.Union(
              FILTERS.map((k) => Type.Literal(k)),
              {
                default: 'all',
                description: `at_risk: S ≥ ${CHURN_HIGH} (the high band); inactive: an open inactivity alert`,
              },
            ),
            topic: Type.Optional(Id('only learners who practised this topic in the week')),
            ...Paging,
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            cohort: Type.Object({ cohort_id: Type.String(), name: Type.String() }),
            week_start: Nullable(Type.String({ description: 'the week of the KPIs; null before any' })),
            total: Type.Integer({ description: 'learners matching the filter' }),
            learners: Type.Array(OverviewLearner),
          }),
        },
      },
    },
    async (request) => {
      const { cohort_id: cohortId } = request.params;
      assertCohortAccess(principalOfRequest(request), cohortId);
      const name = await cohortName(db, cohortId);
      if (name === undefined) throw new ApiError('COHORT_NOT_FOUND', `no cohort ${cohortId}`);
      const { week, sort, order, filter, topic, limit, offset } = request.query;
      const page = await cohortOverview(db, {
        cohortId,
        week,
        topic,
        sort,
        order,
        filter,
        atRiskFrom: CHURN_HIGH,
        limit,
        offset,
      });
      return {
        cohort: { cohort_id: cohortId, name },
        week_start: page.week_start,
        total: page.total,
        learners: page.rows.map(
          (r): Static<typeof OverviewLearner> => ({
            user_id: r.user_id,
            display_name: r.display_name,
            kpis: r.kpis,
            churn_band: r.kpis?.S == null ? null : churnBand(r.kpis.S),
            theta: r.theta,
            theta_se: r.theta_se,
            theta_change: r.theta === null || r.theta_before === null ? null : r.theta - r.theta_before,
            last_active_at: r.last_active_at?.toISOString() ?? null,
            open_alerts: r.open_alerts,
            days_inactive: r.days_inactive,
          }),
        ),
      };
    },
  );

  const loadLearner = async (userId: string, principal: Principal) => {
    const editions = hasScope(principal, 'analysis:run')
      ? (['learner', 'teacher'] as const)
      : (['learner'] as const);
    const detail = await learnerDetail(db, userId, { ...LEARNER_PAGE, editions });
    if (!detail) throw new ApiError('LEARNER_NOT_FOUND', `no learner ${userId}`);
    return detail;
  };

  app.get(
    '/learners/:user_id/overview',
    {
      preHandler: requireScope('reports:view', 'cohort:view', 'analysis:run'),
      schema: {
        tags: ['dashboard'],
        summary:
          "A learner's page: KPIs by week, θ history with SE, recent sessions, stored reports, open alerts",
        security,
        params: LearnerParams,
        response: {
          200: Type.Object({
            learner: Type.Object({
              user_id: Type.String(),
              display_name: Nullable(Type.String()),
              locale: Type.Union(LOCALES.map((l) => Type.Literal(l))),
            }),
            cohorts: Type.Array(Type.Object({ cohort_id: Type.String(), name: Type.String() })),
            goal: Type.Number({ description: 'the goal τ (learner_goal, else the configured default)' }),
            kpi_weeks: Type.Array(Type.Object({ week_start: Type.String(), kpis: Kpis })),
            theta_history: Type.Array(
              Type.Object({
                at: Instant,
                theta: Type.Number(),
                se: Nullable(Type.Number()),
                source: Type.String({ description: 'calibration or online' }),
              }),
            ),
            sessions: Type.Array(
              Type.Object({
                session_id: Type.String(),
                status: Type.String(),
                started_at: Instant,
                completed_at: Nullable(Instant),
                attempts: Type.Integer(),
                correct: Type.Integer(),
              }),
            ),
            reports: Type.Array(
              Type.Object({
                id: Type.String(),
                week_start: Type.String(),
                edition: Type.Union([Type.Literal('learner'), Type.Literal('teacher')], {
                  description: "the teacher's edition is listed to analysis:run only",
                }),
                format: Type.String(),
                generated_at: Instant,
              }),
            ),
            alerts: Type.Array(
              Type.Object({
                detected_on: Type.String(),
                last_active_at: Instant,
                days_inactive: Type.Integer(),
                churn_risk: Nullable(Type.Number()),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const { user_id: userId } = request.params;
      const principal = principalOfRequest(request);
      await assertLearnerAccess(db, principal, userId);
      const d = await loadLearner(userId, principal);
      const iso = (t: Date) => t.toISOString();
      return {
        ...d,
        goal: d.goal ?? config.kpi.defaultTarget,
        theta_history: d.theta_history.map((t) => ({ ...t, at: iso(t.at) })),
        sessions: d.sessions.map((s) => ({
          ...s,
          started_at: iso(s.started_at),
          completed_at: s.completed_at && iso(s.completed_at),
        })),
        reports: d.reports.map((r) => ({ ...r, generated_at: iso(r.generated_at) })),
        alerts: d.alerts.map((a) => ({ ...a, last_active_at: iso(a.last_active_at) })),
      };
    },
  );

  app.get(
    '/learners/:user_id/charts',
    {
      preHandler: requireScope('reports:view', 'cohort:view', 'analysis:run'),
      schema: {
        tags: ['dashboard'],
        summary: "A learner's KPI trend and θ history as SVG, drawn by the weekly report's chart module",
        security,
        params: LearnerParams,
        querystring: Type.Object(
          {
            locale: Type.Union(
              LOCALES.map((l) => Type.Literal(l)),
              { default: 'ko' },
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            charts: Type.Array(
              Type.Object({
                key: Type.Union([Type.Literal('kpi_trend'), Type.Literal('theta')]),
                points: Type.Integer({ description: 'data points drawn' }),
                svg: Type.String({ description: 'a standalone SVG document' }),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const { user_id: userId } = request.params;
      const principal = principalOfRequest(request);
      await assertLearnerAccess(db, principal, userId);
      const d = await loadLearner(userId, principal);
      const m = messages(request.query.locale);
      const { kpiTrendChart, thetaHistoryChart } = await loadCharts();
      const charts = [];
      if (d.kpi_weeks.length > 0) {
        charts.push({
          key: 'kpi_trend' as const,
          points: d.kpi_weeks.length,
          svg: kpiTrendChart(d.kpi_weeks, m).svg,
        });
      }
      if (d.theta_history.length > 0) {
        const series = d.theta_history.map((t) => ({ at: t.at.toISOString(), theta: t.theta, se: t.se }));
        const from = d.theta_history[0]!.at;
        const to = d.theta_history[d.theta_history.length - 1]!.at;
        // A single estimate still gets a day of width on either side.
        const pad = to.getTime() - from.getTime() < 86_400_000 ? 86_400_000 : 0;
        charts.push({
          key: 'theta' as const,
          points: series.length,
          svg: thetaHistoryChart(
            series,
            { from: new Date(from.getTime() - pad), to: new Date(to.getTime() + pad) },
            d.goal ?? null,
            m,
          ).svg,
        });
      }
      return { charts };
    },
  );
};
