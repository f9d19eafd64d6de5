// More dashboard routes (docs/dashboard.md): a cohort's KPI distributions and topics, its table as
// CSV, and a learner's topics-by-week heat maps. Same access rules as routes.ts; charts
// drawn by the report's chart module.
import { Readable } from 'node:stream';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { principalOfRequest, requireScope } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import type { RouteDeps } from '../api/route-deps.js';
import { Id, BEARER as security } from '../api/schemas.js';
import { assertCohortAccess, assertLearnerAccess } from '../cohorts/access.js';
import { learnerExists } from '../ingestion/repository.js';
import { KPI_KEYS } from '../kpis/kpis.js';
import { loadCharts } from '../reports/load-charts.js';
import { type Messages, messages } from '../reports/messages.js';
import { CHURN_HIGH, churnBand, LOCALES } from '../reports/view-model.js';
import { cohortTopics, kpiDistributions, topicWeeks } from './cohort-figures-reads.js';
import { cohortName, cohortOverview, FILTERS, type OverviewRow, SORT_KEYS } from './reads.js';

const Day = Type.String({
  format: 'date',
  description: "the ISO week's Monday; default the latest with KPIs",
});
const Locale = Type.Union(
  LOCALES.map((l) => Type.Literal(l)),
  { default: 'ko' },
);
const CohortParams = Type.Object({ cohort_id: Id('the cohort') }, { additionalProperties: false });
const Topic = Id('only learners who practised this topic in the week');
/** Rows read per query while the CSV streams. */
const CSV_PAGE = 1000;
/** Weeks of a learner's heat maps. */
const HEATMAP_WEEKS = 8;

const Chart = Type.Object({
  key: Type.String(),
  points: Type.Integer({ description: 'data points drawn' }),
  svg: Type.String({ description: 'a standalone SVG document' }),
});

/** One CSV field: quoted when needed; text that a spreadsheet would run as a formula is defused. */
function field(v: string | number | null): string {
  if (v === null) return '';
  if (typeof v === 'number') return String(v);
  const text = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function csvHeader(m: Messages): string[] {
  const k = m.kpiLabels;
  return m.locale === 'ko'
    ? [
        '학습자 ID',
        '이름',
        `${k.S} S`,
        '위험 구간',
        `${k.P} P`,
        'θ',
        'θ 변화',
        k.I_t,
        k.E_t,
        k.R_t,
        k.A_t,
        '마지막 활동 (UTC)',
        '미접속 일수',
      ]
    : [
        'user_id',
        'name',
        `${k.S} S`,
        'risk band',
        `${k.P} P`,
        'theta',
        'theta change',
        k.I_t,
        k.E_t,
        k.R_t,
        k.A_t,
        'last active (UTC)',
        'days inactive',
      ];
}

function csvRow(r: OverviewRow, m: Messages): string {
  const s = r.kpis?.S ?? null;
  return [
    r.user_id,
    r.display_name,
    s,
    s === null ? null : m.churnBands[churnBand(s)],
    r.kpis?.P ?? null,
    r.theta,
    r.theta === null || r.theta_before === null ? null : r.theta - r.theta_before,
    r.kpis?.I_t ?? null,
    r.kpis?.E_t ?? null,
    r.kpis?.R_t ?? null,
    r.kpis?.A_t ?? null,
    r.last_active_at?.toISOString() ?? null,
    r.open_alerts > 0 ? r.days_inactive : null,
  ]
    .map(field)
    .join(',');
}

export const cohortExtraRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { database }) => {
  const { db } = database;

  const cohortOrThrow = async (cohortId: string) => {
    const name = await cohortName(db, cohortId);
    if (name === undefined) throw new ApiError('COHORT_NOT_FOUND', `no cohort ${cohortId}`);
    return name;
  };

  app.get(
    '/cohorts/:cohort_id/distributions',
    {
      preHandler: requireScope('cohort:view', 'analysis:run'),
      schema: {
        tags: ['dashboard'],
        summary:
          "A cohort's distribution of each KPI in a week (small SVG histograms) and the topics it practised",
        security,
        params: CohortParams,
        querystring: Type.Object(
          { week: Type.Optional(Day), topic: Type.Optional(Topic), locale: Locale },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            week_start: Type.Union([Type.String(), Type.Null()]),
            learners: Type.Integer({ description: 'learners with a KPI row that week (and the topic)' }),
            topics: Type.Array(Type.Object({ topic_id: Type.String(), name: Type.String() })),
            charts: Type.Array(
              Type.Object({
                ...Chart.properties,
                missing: Type.Integer({ description: 'learners without this KPI (data condition failed)' }),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const { cohort_id: cohortId } = request.params;
      assertCohortAccess(principalOfRequest(request), cohortId);
      await cohortOrThrow(cohortId);
      const { week, topic, locale } = request.query;
      const { DISTRIBUTION_BINS, kpiDistributionChart, kpiDomain } = await loadCharts();
      const [d, topics] = await Promise.all([
        kpiDistributions(db, { cohortId, week, topic, bins: DISTRIBUTION_BINS, domain: kpiDomain }),
        cohortTopics(db, cohortId, week),
      ]);
      const m = messages(locale);
      return {
        week_start: d.week_start,
        learners: d.learners,
        topics,
        charts: KPI_KEYS.map((key) => {
          const { counts, missing } = d.kpis[key];
          return {
            key,
            points: counts.reduce((a, b) => a + b, 0),
            missing,
            svg: kpiDistributionChart(key, counts, m).svg,
          };
        }),
      };
    },
  );

  app.get(
    '/cohorts/:cohort_id/learners.csv',
    {
      preHandler: requireScope('cohort:view', 'analysis:run'),
      schema: {
        tags: ['dashboard'],
        summary:
          'The cohort table as CSV (UTF-8 with a byte-order mark, for spreadsheets), sorted and filtered like GET /cohorts/{cohort_id}/learners, every row',
        security,
        params: CohortParams,
        querystring: Type.Object(
          {
            week: Type.Optional(Day),
            sort: Type.Union(
              SORT_KEYS.map((k) => Type.Literal(k)),
              { default: 'risk' },
            ),
            order: Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' }),
            filter: Type.Union(
              FILTERS.map((k) => Type.Literal(k)),
              { default: 'all' },
            ),
            topic: Type.Optional(Topic),
            locale: { ...Locale, description: 'the language of the header row and risk bands' },
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const { cohort_id: cohortId } = request.params;
      assertCohortAccess(principalOfRequest(request), cohortId);
      await cohortOrThrow(cohortId);
      const { locale, ...q } = request.query;
      const m = messages(locale);
      // The first page is read before the answer starts, so an error is still a proper error response.
      const query = { cohortId, atRiskFrom: CHURN_HIGH, limit: CSV_PAGE, ...q };
      const first = await cohortOverview(db, { ...query, offset: 0 });
      async function* lines() {
        yield `\uFEFF${csvHeader(m).map(field).join(',')}\r\n`;
        let page = first;
        for (let offset = 0; ; ) {
          if (page.rows.length > 0) yield `${page.rows.map((r) => csvRow(r, m)).join('\r\n')}\r\n`;
          offset += CSV_PAGE;
          if (offset >= page.total) return;
          page = await cohortOverview(db, { ...query, week: page.week_start ?? q.week, offset });
        }
      }
      const name = `cohort-${cohortId}${first.week_start ? `-${first.week_start}` : ''}.csv`;
      return reply
        .type('text/csv; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="cohort.csv"; filename*=UTF-8''${encodeURIComponent(name)}`,
        )
        .send(Readable.from(lines()));
    },
  );

  app.get(
    '/learners/:user_id/topics',
    {
      preHandler: requireScope('reports:view', 'cohort:view', 'analysis:run'),
      schema: {
        tags: ['dashboard'],
        summary: `A learner's accuracy and improvement per topic and week (the last ${HEATMAP_WEEKS} active weeks) as SVG heat maps`,
        security,
        params: Type.Object({ user_id: Id('the learner') }, { additionalProperties: false }),
        querystring: Type.Object({ locale: Locale }, { additionalProperties: false }),
        response: { 200: Type.Object({ charts: Type.Array(Chart) }) },
      },
    },
    async (request) => {
      const { user_id: userId } = request.params;
      await assertLearnerAccess(db, principalOfRequest(request), userId);
      const { locale } = request.query;
      if (!(await learnerExists(db, userId))) throw new ApiError('LEARNER_NOT_FOUND', `no learner ${userId}`);
      const cells = await topicWeeks(db, userId, HEATMAP_WEEKS, locale);
      const m = messages(locale);
      const { topicWeekHeatmap } = await loadCharts();
      return {
        charts: (['accuracy', 'improvement'] as const).flatMap((key) => {
          const chart = topicWeekHeatmap(cells, key, m);
          return chart ? [{ key, points: cells.filter((c) => c[key] !== null).length, svg: chart.svg }] : [];
        }),
      };
    },
  );
};
