// The dashboard's reads: cohorts, a cohort's learners with this week's figures (aggregated and paged
// in SQL: the browser never loads a whole cohort's raw data), and one learner's history. Read-only;
// the tables are written by their own modules (ingest, jobs, cohorts/repository.ts).
import { type RawBuilder, sql } from 'kysely';
import type { Db } from '../db/connection.js';
import type { Kpis } from '../kpis/kpis.js';

export interface CohortSummary {
  cohort_id: string;
  name: string;
  members: number;
}

/** Cohorts by id, with their member counts; `only` limits them to a teacher's claim. */
export async function listCohorts(
  db: Db,
  opts: { only?: readonly string[]; limit: number; offset: number },
): Promise<{ cohorts: CohortSummary[]; total: number }> {
  if (opts.only?.length === 0) return { cohorts: [], total: 0 };
  let q = db.selectFrom('cohort as c');
  if (opts.only) q = q.where('c.cohort_id', 'in', [...opts.only]);
  const [cohorts, count] = await Promise.all([
    q
      .select(['c.cohort_id', 'c.name'])
      .select((eb) =>
        eb
          .selectFrom('cohort_member as m')
          .select(eb.fn.countAll<number>().as('n'))
          .whereRef('m.cohort_id', '=', 'c.cohort_id')
          .as('members'),
      )
      .orderBy('c.cohort_id')
      .limit(opts.limit)
      .offset(opts.offset)
      .execute(),
    q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return {
    cohorts: cohorts.map((c) => ({ ...c, members: Number(c.members ?? 0) })),
    total: Number(count.n),
  };
}

export async function cohortName(db: Db, cohortId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('cohort')
    .select('name')
    .where('cohort_id', '=', cohortId)
    .executeTakeFirst();
  return row?.name;
}

export const SORT_KEYS = ['risk', 'p', 'theta', 'theta_change', 'last_active', 'name', 'alerts'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export const FILTERS = ['all', 'at_risk', 'inactive'] as const;
export type Filter = (typeof FILTERS)[number];

// Fixed expressions over the overview's columns: the client picks a key, never SQL.
const SORT_SQL: Record<SortKey, RawBuilder<unknown>> = {
  risk: sql`s`,
  p: sql`p`,
  theta: sql`theta`,
  theta_change: sql`theta - theta_before`,
  last_active: sql`last_active_at`,
  name: sql`coalesce(display_name, user_id)`,
  alerts: sql`open_alerts`,
};

export interface OverviewRow {
  user_id: string;
  display_name: string | null;
  kpis: Kpis | null;
  theta: number | null;
  theta_se: number | null;
  theta_before: number | null;
  last_active_at: Date | null;
  open_alerts: number;
  days_inactive: number | null;
}

export interface OverviewQuery {
  cohortId: string;
  /** The ISO week (Monday); default the cohort's latest week with KPIs. */
  week?: string;
  sort: SortKey;
  order: 'asc' | 'desc';
  filter: Filter;
  /** Only learners who practised this topic in the week (features_topic_daily). */
  topic?: string;
  /** S at or above this is "at risk" (the report's high band). */
  atRiskFrom: number;
  limit: number;
  offset: number;
}

/**
 * A cohort's learners, one row each: the week's KPI row, the latest θ and the last one before the
 * week (its change), the last attempt, open inactivity alerts. Each per-learner figure is one index
 * probe (weekly_kpi's key, mirt_ability and attempt by user and time, the open-alert index), so the
 * cost grows with the cohort, not with the platform.
 */
/** The week asked for, else the cohort's latest week with KPIs (a scalar SQL expression). */
export function cohortWeek(cohortId: string, week: string | undefined): RawBuilder<string | null> {
  return week
    ? sql`${week}::date`
    : sql`(SELECT max(k.week_start) FROM weekly_kpi k JOIN cohort_member m ON m.user_id = k.user_id
           WHERE m.cohort_id = ${cohortId})`;
}

/**
 * A condition on `m.user_id` in a query over cohort_member m and the week wk: true for everyone,
 * or for those who practised the topic that week (one probe of features_topic_daily's key each).
 */
export function practisedTopic(topic: string | undefined): RawBuilder<boolean> {
  return topic === undefined
    ? sql`true`
    : sql`EXISTS (SELECT 1 FROM features_topic_daily f WHERE f.user_id = m.user_id
        AND f.topic_id = ${topic} AND f.date >= wk.week_start AND f.date < wk.week_start + 7)`;
}

export async function cohortOverview(
  db: Db,
  q: OverviewQuery,
): Promise<{ week_start: string | null; total: number; rows: OverviewRow[] }> {
  const week = cohortWeek(q.cohortId, q.week);
  const where =
    q.filter === 'at_risk'
      ? sql`WHERE s >= ${q.atRiskFrom}`
      : q.filter === 'inactive'
        ? sql`WHERE open_alerts > 0`
        : sql``;
  const direction = q.order === 'asc' ? sql`ASC` : sql`DESC`;
  const r = await sql<OverviewRow & { week_start: string | null; total: number }>`
    WITH wk AS (SELECT ${week} AS week_start)
    SELECT * , count(*) OVER ()::int AS total FROM (
      SELECT l.user_id, l.display_name, wk.week_start, k.kpis,
        (k.kpis->>'S')::float8 AS s, (k.kpis->>'P')::float8 AS p,
        th.theta, th.se AS theta_se, prev.theta AS theta_before,
        act.answered_at AS last_active_at,
        coalesce(al.open_alerts, 0) AS open_alerts, al.days_inactive
      FROM cohort_member m
      JOIN learner l ON l.user_id = m.user_id
      CROSS JOIN wk
      LEFT JOIN weekly_kpi k ON k.user_id = m.user_id AND k.week_start = wk.week_start
      LEFT JOIN LATERAL (
        SELECT a.theta, a.se FROM mirt_ability a WHERE a.user_id = m.user_id
        ORDER BY a.fitted_at DESC LIMIT 1) th ON true
      LEFT JOIN LATERAL (
        SELECT a.theta FROM mirt_ability a
        WHERE a.user_id = m.user_id AND a.fitted_at < (wk.week_start::timestamp AT TIME ZONE 'UTC')
        ORDER BY a.fitted_at DESC LIMIT 1) prev ON true
      LEFT JOIN LATERAL (
        SELECT t.answered_at FROM attempt t WHERE t.user_id = m.user_id
        ORDER BY t.answered_at DESC LIMIT 1) act ON true
      LEFT JOIN LATERAL (
        SELECT count(*)::int AS open_alerts, max(i.days_inactive)::int AS days_inactive
        FROM inactivity_alert i WHERE i.user_id = m.user_id AND i.resolved_at IS NULL) al ON true
      WHERE m.cohort_id = ${q.cohortId} AND ${practisedTopic(q.topic)}
    ) x ${where}
    ORDER BY ${SORT_SQL[q.sort]} ${direction} NULLS LAST, user_id
    LIMIT ${q.limit} OFFSET ${q.offset}`.execute(db);
  const first = r.rows[0];
  return {
    week_start: first?.week_start ?? null,
    total: first?.total ?? 0,
    rows: r.rows,
  };
}

export interface LearnerDetail {
  learner: { user_id: string; display_name: string | null; locale: 'ko' | 'en' };
  cohorts: { cohort_id: string; name: string }[];
  goal: number | null;
  kpi_weeks: { week_start: string; kpis: Kpis }[];
  theta_history: { at: Date; theta: number; se: number | null; source: 'calibration' | 'online' }[];
  sessions: {
    session_id: string;
    status: string;
    started_at: Date;
    completed_at: Date | null;
    attempts: number;
    correct: number;
  }[];
  reports: {
    id: string;
    week_start: string;
    edition: 'learner' | 'teacher';
    format: 'html' | 'pdf';
    generated_at: Date;
  }[];
  alerts: { detected_on: string; last_active_at: Date; days_inactive: number; churn_risk: number | null }[];
}

/** One learner's page: the last `weeks` KPI rows and θ estimates, recent sessions and reports. */
export async function learnerDetail(
  db: Db,
  userId: string,
  opts: {
    weeks: number;
    thetaPoints: number;
    sessions: number;
    reports: number;
    /** The report editions the viewer may open (the teacher's needs analysis:run). */
    editions: readonly ('learner' | 'teacher')[];
  },
): Promise<LearnerDetail | undefined> {
  const learner = await db
    .selectFrom('learner')
    .select(['user_id', 'display_name', 'locale'])
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!learner) return undefined;
  const [cohorts, goal, kpiWeeks, theta, sessions, reports, alerts] = await Promise.all([
    db
      .selectFrom('cohort_member as m')
      .innerJoin('cohort as c', 'c.cohort_id', 'm.cohort_id')
      .select(['c.cohort_id', 'c.name'])
      .where('m.user_id', '=', userId)
      .orderBy('c.cohort_id')
      .execute(),
    db.selectFrom('learner_goal').select('target_theta').where('user_id', '=', userId).executeTakeFirst(),
    db
      .selectFrom('weekly_kpi')
      .select(['week_start', 'kpis'])
      .where('user_id', '=', userId)
      .orderBy('week_start', 'desc')
      .limit(opts.weeks)
      .execute(),
    db
      .selectFrom('mirt_ability')
      .select(['fitted_at as at', 'theta', 'se', 'source'])
      .where('user_id', '=', userId)
      .orderBy('fitted_at', 'desc')
      .limit(opts.thetaPoints)
      .execute(),
    sql<LearnerDetail['sessions'][number]>`
      SELECT s.session_id, s.status, s.started_at, s.completed_at,
        coalesce(a.attempts, 0) AS attempts, coalesce(a.correct, 0) AS correct
      FROM (SELECT * FROM exam_session WHERE user_id = ${userId} ORDER BY started_at DESC LIMIT ${opts.sessions}) s
      LEFT JOIN LATERAL (
        SELECT count(*)::int AS attempts, count(*) FILTER (WHERE t.correct)::int AS correct
        FROM attempt t WHERE t.session_id = s.session_id) a ON true
      ORDER BY s.started_at DESC`.execute(db),
    db
      .selectFrom('report_artifacts')
      .select(['id', 'week_start', 'edition', 'format', 'generated_at'])
      .where('user_id', '=', userId)
      .where('edition', 'in', [...opts.editions])
      .orderBy('week_start', 'desc')
      .orderBy('edition')
      .orderBy('format')
      .limit(opts.reports)
      .execute(),
    db
      .selectFrom('inactivity_alert')
      .select(['detected_on', 'last_active_at', 'days_inactive', 'churn_risk'])
      .where('user_id', '=', userId)
      .where('resolved_at', 'is', null)
      .orderBy('detected_on', 'desc')
      .execute(),
  ]);
  return {
    learner: { ...learner, locale: learner.locale === 'en' ? 'en' : 'ko' },
    cohorts,
    goal: goal?.target_theta ?? null,
    kpi_weeks: kpiWeeks.reverse(),
    theta_history: theta.reverse(),
    sessions: sessions.rows,
    reports,
    alerts,
  };
}
