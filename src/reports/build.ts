// The report view-models of one ISO week, read from the database for a page of learners at once: a
// fixed number of set-based queries per page (never a query per learner), so a batch of thousands
// costs a few dozen round trips. Everything a report shows is computed here, once.
import { sql } from 'kysely';
import { isTimeZone } from '../config.js';
import type { Db } from '../db/connection.js';
import { addDays } from '../jobs/dates.js';
import { inShard, type Shard } from '../jobs/shard.js';
import type { Kpis } from '../kpis/kpis.js';
import { localDateTime } from './messages.js';
import {
  type DailyActivity,
  emptyKpis,
  type KpiValues,
  LOCALES,
  type Locale,
  makeViewModel,
  type ReportSettings,
  type ReportViewModel,
  type TargetItem,
  type ThetaPoint,
  type TopicRow,
} from './view-model.js';

/** How far back the ability trend reaches: the report's week and the 7 before it. */
export const TREND_WEEKS = 8;

export interface WeekBounds {
  start: string;
  end: string;
  /** Monday 00:00 UTC and the next Monday 00:00 UTC: the half-open week. */
  from: Date;
  to: Date;
}

export function weekBounds(weekStart: string): WeekBounds {
  return {
    start: weekStart,
    end: addDays(weekStart, 6),
    from: new Date(`${weekStart}T00:00:00Z`),
    to: new Date(`${addDays(weekStart, 7)}T00:00:00Z`),
  };
}

/**
 * The learners who get a report for the week (spec/reports.md: a weekly_kpi row or an attempt that
 * week), in id order, within the shard; with `only`, just those of them.
 */
export async function reportLearners(
  db: Db,
  weekStart: string,
  shard: Shard,
  only?: readonly string[],
): Promise<string[]> {
  const w = weekBounds(weekStart);
  const filter = only ? sql`AND u.user_id = ANY(${[...only]}::text[])` : sql``;
  const r = await sql<{ user_id: string }>`
    SELECT u.user_id FROM (
      SELECT user_id FROM weekly_kpi WHERE week_start = ${weekStart}::date
      UNION
      SELECT user_id FROM attempt WHERE answered_at >= ${w.from} AND answered_at < ${w.to}
    ) u
    WHERE ${inShard(sql`u.user_id`, shard)} ${filter}
    ORDER BY u.user_id`.execute(db);
  return r.rows.map((x) => x.user_id);
}

/** The learners among `userIds` without a weekly_kpi row for the week. */
export async function learnersWithoutKpis(
  db: Db,
  weekStart: string,
  userIds: readonly string[],
): Promise<string[]> {
  const r = await sql<{ user_id: string }>`
    SELECT x.user_id FROM unnest(${[...userIds]}::text[]) AS x(user_id)
    WHERE NOT EXISTS (SELECT 1 FROM weekly_kpi k WHERE k.user_id = x.user_id AND k.week_start = ${weekStart}::date)
    ORDER BY x.user_id`.execute(db);
  return r.rows.map((x) => x.user_id);
}

function kpiValues(k: Kpis | undefined): KpiValues {
  const out = emptyKpis();
  if (!k) return out;
  for (const key of Object.keys(out) as (keyof KpiValues)[]) {
    const v = k[key];
    out[key] = typeof v === 'number' && Number.isFinite(v) ? v : null;
  }
  return out;
}

function group<T extends { user_id: string }>(rows: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const row of rows) {
    const list = out.get(row.user_id);
    if (list) list.push(row);
    else out.set(row.user_id, [row]);
  }
  return out;
}

export interface BuildOptions {
  weekStart: string;
  /** The zone of learners without learner.time_zone (REPORT_TIMEZONE). */
  timeZone: string;
  settings: ReportSettings;
  /** The generation time printed in the header (to the minute, as printed). */
  generatedAt: Date;
  /** The report's language instead of the learner's (`seedtest report --locale`). */
  locale?: Locale;
}

/**
 * The view-models of `userIds` for the week, in the order given. A learner without a learner row
 * is left out (the caller reports it). Eleven queries whatever the number of learners.
 *
 * The attempts shown (topics, days, targeting, the θ trend's days, the sessions of the rules) are
 * those of the learner's local week, Monday 00:00 to Monday 00:00 in their time zone; the KPIs are
 * the weekly_kpi row's (UTC weeks); θ is the latest estimate before the learner's week ended.
 */
export async function buildViewModels(
  db: Db,
  userIds: readonly string[],
  opts: BuildOptions,
): Promise<Map<string, ReportViewModel>> {
  const ids = [...userIds];
  const w = weekBounds(opts.weekStart);
  const lastWeek = addDays(opts.weekStart, -7);
  const trendFrom = new Date(`${addDays(opts.weekStart, -7 * (TREND_WEEKS - 1))}T00:00:00Z`);

  const learners = await db
    .selectFrom('learner')
    .select(['user_id', 'display_name', 'locale', 'time_zone'])
    .where(sql<boolean>`user_id = ANY(${ids}::text[])`)
    .execute();
  // A zone PostgreSQL or the runtime does not know falls back to the default rather than failing the page.
  const zoneOf = new Map(
    learners.map((l) => [l.user_id, l.time_zone && isTimeZone(l.time_zone) ? l.time_zone : opts.timeZone]),
  );
  const localeOf = (l: { locale: string }): Locale =>
    opts.locale ?? ((LOCALES as readonly string[]).includes(l.locale) ? (l.locale as Locale) : 'ko');
  // Each learner's zone and local week, joined by the queries below.
  const zones = sql`(
    SELECT z.user_id, z.tz,
           (${opts.weekStart}::date)::timestamp AT TIME ZONE z.tz AS w_from,
           (${opts.weekStart}::date + 7)::timestamp AT TIME ZONE z.tz AS w_to,
           (${opts.weekStart}::date - 21)::timestamp AT TIME ZONE z.tz AS w28_from
    FROM unnest(${[...zoneOf.keys()]}::text[], ${[...zoneOf.values()]}::text[]) AS z(user_id, tz))`;
  const kpis = await db
    .selectFrom('weekly_kpi')
    .select(['user_id', 'week_start', 'kpis'])
    .where(sql<boolean>`user_id = ANY(${ids}::text[])`)
    .where('week_start', 'in', [opts.weekStart, lastWeek])
    .execute();
  const goals = await db
    .selectFrom('learner_goal')
    .select(['user_id', 'target_theta'])
    .where(sql<boolean>`user_id = ANY(${ids}::text[])`)
    .execute();
  // θ as of the end of the learner's week: the latest estimate before their next Monday 00:00 (it may
  // be older than the trend), the same bound as the trend's, so the number and the chart agree.
  const current = await sql<{ user_id: string; theta: number; se: number | null; version: string | null }>`
    SELECT DISTINCT ON (m.user_id) m.user_id, m.theta, m.se, m.version
    FROM mirt_ability m JOIN ${zones} z ON z.user_id = m.user_id
    WHERE m.fitted_at < z.w_to
    ORDER BY m.user_id, m.fitted_at DESC, m.id DESC`.execute(db);
  // The trend: the last estimate of each local day (online updates can add dozens a day).
  const trend = await sql<{ user_id: string; at: Date; theta: number; se: number | null }>`
    SELECT DISTINCT ON (m.user_id, (m.fitted_at AT TIME ZONE z.tz)::date) m.user_id, m.fitted_at AS at, m.theta, m.se
    FROM mirt_ability m JOIN ${zones} z ON z.user_id = m.user_id
    WHERE m.fitted_at >= ${trendFrom} AND m.fitted_at < z.w_to
    ORDER BY m.user_id, (m.fitted_at AT TIME ZONE z.tz)::date, m.fitted_at DESC, m.id DESC`.execute(db);
  const topics = await sql<{
    user_id: string;
    topic_id: string;
    name: string;
    name_ko: string | null;
    name_en: string | null;
    attempts: number;
    correct: number;
    rt_median: number | null;
  }>`
    SELECT a.user_id, a.topic_id, t.name, t.name_ko, t.name_en, count(*)::int AS attempts,
           (count(*) FILTER (WHERE a.correct))::int AS correct,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY a.response_time_ms) AS rt_median
    FROM attempt a JOIN ${zones} z ON z.user_id = a.user_id JOIN topic t ON t.topic_id = a.topic_id
    WHERE a.answered_at >= z.w_from AND a.answered_at < z.w_to
    GROUP BY a.user_id, a.topic_id, t.name, t.name_ko, t.name_en`.execute(db);
  // A topic's improvement is a 14-day measure as of a day: the week's last day with activity on it.
  const improvement = await sql<{ user_id: string; topic_id: string; improvement: number | null }>`
    SELECT DISTINCT ON (user_id, topic_id) user_id, topic_id, improvement FROM features_topic_daily
    WHERE user_id = ANY(${ids}::text[]) AND date >= ${w.start}::date AND date <= ${w.end}::date
    ORDER BY user_id, topic_id, date DESC`.execute(db);
  const daily = await sql<{ user_id: string; date: string; attempts: number; correct: number }>`
    SELECT a.user_id, (a.answered_at AT TIME ZONE z.tz)::date AS date, count(*)::int AS attempts,
           (count(*) FILTER (WHERE a.correct))::int AS correct
    FROM attempt a JOIN ${zones} z ON z.user_id = a.user_id
    WHERE a.answered_at >= z.w_from AND a.answered_at < z.w_to
    GROUP BY 1, 2`.execute(db);
  // The engagement rules' evidence: sessions in the 4 local weeks ending with the week, the last attempt.
  const activity = await sql<{ user_id: string; sessions: number; last_active: Date | null }>`
    SELECT z.user_id,
           (SELECT count(DISTINCT a.session_id)::int FROM attempt a
             WHERE a.user_id = z.user_id AND a.answered_at >= z.w28_from AND a.answered_at < z.w_to) AS sessions,
           (SELECT max(a.answered_at) FROM attempt a
             WHERE a.user_id = z.user_id AND a.answered_at < z.w_to) AS last_active
    FROM ${zones} z`.execute(db);
  // Learners without θ are placed on the scale of the latest calibration before the week ended.
  const latestRun = await db
    .selectFrom('mirt_fit_meta')
    .select('run_id')
    .where('status', '=', 'succeeded')
    .where('fitted_at', '<', w.to)
    .orderBy('fitted_at', 'desc')
    .orderBy('run_id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const currentOf = new Map(current.rows.map((r) => [r.user_id, r]));
  const scale = (userId: string) => currentOf.get(userId)?.version ?? latestRun?.run_id ?? null;
  const versions = [...new Set(ids.map(scale).filter((v): v is string => v !== null))];
  // The items answered this week with their difficulty on the learner's scale (θ and b comparable).
  const targeting = await sql<{ user_id: string; item_id: string; version: string; b: number }>`
    SELECT DISTINCT a.user_id, a.item_id, p.version, (p.params->>'b')::float8 AS b
    FROM attempt a JOIN ${zones} z ON z.user_id = a.user_id
      JOIN mirt_item_params p ON p.item_id = a.item_id AND p.version = ANY(${versions}::text[])
    WHERE a.answered_at >= z.w_from AND a.answered_at < z.w_to
    ORDER BY a.user_id, a.item_id`.execute(db);

  const kpiOf = new Map(kpis.map((k) => [`${k.user_id}|${k.week_start}`, k.kpis]));
  const goalOf = new Map(goals.map((g) => [g.user_id, g.target_theta]));
  const trendOf = group(trend.rows);
  const topicsOf = group(topics.rows);
  const improvementOf = new Map(improvement.rows.map((r) => [`${r.user_id}|${r.topic_id}`, r.improvement]));
  const dailyOf = group(daily.rows);
  const targetingOf = group(targeting.rows);
  const learnerOf = new Map(learners.map((l) => [l.user_id, l]));
  const activityOf = new Map(activity.rows.map((r) => [r.user_id, r]));
  // Whole minutes, as the header prints it: two renders within a minute are the same bytes.
  const generatedAt = new Date(Math.floor(opts.generatedAt.getTime() / 60_000) * 60_000).toISOString();

  const out = new Map<string, ReportViewModel>();
  for (const userId of ids) {
    const learner = learnerOf.get(userId);
    if (!learner) continue;
    const theta = currentOf.get(userId);
    const days = new Map((dailyOf.get(userId) ?? []).map((d) => [d.date, d]));
    const version = scale(userId);
    const locale = localeOf(learner);
    const time_zone = zoneOf.get(userId)!;
    const act = activityOf.get(userId);
    out.set(
      userId,
      makeViewModel({
        learner: {
          user_id: userId,
          display_name: learner.display_name,
          locale,
          time_zone,
        },
        week: { start: w.start, end: w.end },
        generated_at: generatedAt,
        settings: opts.settings,
        scale_version: version,
        kpis: kpiValues(kpiOf.get(`${userId}|${opts.weekStart}`)),
        kpis_last_week: kpiValues(kpiOf.get(`${userId}|${lastWeek}`)),
        theta: theta ? { value: theta.theta, se: theta.se } : null,
        theta_series: (trendOf.get(userId) ?? []).map(
          (p): ThetaPoint => ({ at: new Date(p.at).toISOString(), theta: p.theta, se: p.se }),
        ),
        goal: goalOf.has(userId) ? { tau: goalOf.get(userId)! } : null,
        activity: {
          sessions_28d: act?.sessions ?? 0,
          last_active: act?.last_active
            ? localDateTime(new Date(act.last_active).toISOString(), time_zone).slice(0, 10)
            : null,
        },
        topics: (topicsOf.get(userId) ?? []).map(
          (t): TopicRow => ({
            topic_id: t.topic_id,
            name: (locale === 'en' ? t.name_en : t.name_ko) ?? t.name,
            name_fallback: (locale === 'en' ? t.name_en : t.name_ko) === null,
            attempts: t.attempts,
            correct: t.correct,
            accuracy: t.attempts > 0 ? t.correct / t.attempts : null,
            rt_median: t.rt_median === null ? null : Math.round(t.rt_median),
            improvement: improvementOf.get(`${userId}|${t.topic_id}`) ?? null,
          }),
        ),
        daily: Array.from({ length: 7 }, (_, i): DailyActivity => {
          const date = addDays(w.start, i);
          const d = days.get(date);
          return { date, attempts: d?.attempts ?? 0, correct: d?.correct ?? 0 };
        }),
        targeting: (targetingOf.get(userId) ?? [])
          .filter((t) => t.version === version && Number.isFinite(t.b))
          .map((t): TargetItem => ({ item_id: t.item_id, b: t.b })),
      }),
    );
  }
  return out;
}
