// More of the dashboard's reads: a cohort's KPI distributions and the topics it practised in a week,
// and a learner's topics by week (the heat map). Aggregated in SQL: a page receives bins and cells,
// never a cohort's raw rows. Read-only.
import { sql } from 'kysely';
import type { Db } from '../db/connection.js';
import { KPI_KEYS, type KpiKey } from '../kpis/kpis.js';
import { cohortWeek, practisedTopic } from './reads.js';

export interface Distribution {
  /** Learners per bin, `bins` bins of equal width over [lo, hi] (values outside go to the end bins). */
  counts: number[];
  /** Learners of the week without this KPI (its data condition failed). */
  missing: number;
}

/**
 * The week's KPI distributions over the cohort's members (those who practised `topic` that week,
 * when given): one pass over the members' weekly_kpi rows, binned by width_bucket.
 */
export async function kpiDistributions(
  db: Db,
  q: {
    cohortId: string;
    week?: string;
    topic?: string;
    bins: number;
    domain: (key: KpiKey) => [number, number];
  },
): Promise<{ week_start: string | null; learners: number; kpis: Record<KpiKey, Distribution> }> {
  const keys = [...KPI_KEYS];
  const lo = keys.map((k) => q.domain(k)[0]);
  const hi = keys.map((k) => q.domain(k)[1]);
  const r = await sql<{ week_start: string | null; key: KpiKey | null; bin: number | null; n: number }>`
    WITH wk AS (SELECT ${cohortWeek(q.cohortId, q.week)} AS week_start),
    rows AS (
      SELECT w.kpis FROM cohort_member m CROSS JOIN wk
      JOIN weekly_kpi w ON w.user_id = m.user_id AND w.week_start = wk.week_start
      WHERE m.cohort_id = ${q.cohortId} AND ${practisedTopic(q.topic)}
    )
    SELECT wk.week_start, k.key,
      CASE WHEN (r.kpis->>k.key) IS NULL THEN NULL
        ELSE least(${q.bins}::int, greatest(1, width_bucket((r.kpis->>k.key)::float8, k.lo, k.hi, ${q.bins}::int)))
      END AS bin,
      count(r.kpis)::int AS n
    FROM wk
    CROSS JOIN unnest(${keys}::text[], ${lo}::float8[], ${hi}::float8[]) k(key, lo, hi)
    LEFT JOIN rows r ON true
    GROUP BY wk.week_start, k.key, bin`.execute(db);
  const kpis = Object.fromEntries(
    keys.map((k) => [k, { counts: new Array<number>(q.bins).fill(0), missing: 0 }]),
  ) as Record<KpiKey, Distribution>;
  for (const row of r.rows) {
    if (row.key === null || row.n === 0) continue;
    const d = kpis[row.key];
    if (row.bin === null) d.missing += row.n;
    else d.counts[row.bin - 1]! += row.n;
  }
  // Every learner of the week has a row for each key: any key's total counts them.
  const s = kpis.S;
  const learners = s.missing + s.counts.reduce((a, b) => a + b, 0);
  return { week_start: r.rows[0]?.week_start ?? null, learners, kpis };
}

/** The topics the cohort's members practised in the week (for the topic filter), by name. */
export async function cohortTopics(
  db: Db,
  cohortId: string,
  week: string | undefined,
): Promise<{ topic_id: string; name: string }[]> {
  const r = await sql<{ topic_id: string; name: string }>`
    WITH wk AS (SELECT ${cohortWeek(cohortId, week)} AS week_start)
    SELECT t.topic_id, t.name FROM topic t
    WHERE t.topic_id IN (
      SELECT f.topic_id FROM cohort_member m CROSS JOIN wk
      JOIN features_topic_daily f ON f.user_id = m.user_id
        AND f.date >= wk.week_start AND f.date < wk.week_start + 7
      WHERE m.cohort_id = ${cohortId})
    ORDER BY t.name, t.topic_id`.execute(db);
  return r.rows;
}

/**
 * A learner's accuracy and mean daily improvement per topic and ISO week over the last `weeks`
 * weeks with activity, from the daily features (the learner's rows of the (user_id, date) index).
 */
export async function topicWeeks(
  db: Db,
  userId: string,
  weeks: number,
  locale: 'ko' | 'en',
): Promise<
  {
    topic_id: string;
    topic: string;
    week_start: string;
    accuracy: number | null;
    improvement: number | null;
  }[]
> {
  const name = locale === 'en' ? sql`coalesce(t.name_en, t.name)` : sql`coalesce(t.name_ko, t.name)`;
  const r = await sql<{
    topic_id: string;
    topic: string;
    week_start: string;
    accuracy: number | null;
    improvement: number | null;
  }>`
    WITH f AS (
      SELECT f.topic_id, date_trunc('week', f.date)::date AS week_start, f.attempts, f.correct, f.improvement
      FROM features_topic_daily f WHERE f.user_id = ${userId}
    ), recent AS (
      SELECT DISTINCT week_start FROM f ORDER BY week_start DESC LIMIT ${weeks}
    )
    SELECT f.topic_id, ${name} AS topic, to_char(f.week_start, 'YYYY-MM-DD') AS week_start,
      CASE WHEN sum(f.attempts) > 0 THEN sum(f.correct)::float8 / sum(f.attempts) END AS accuracy,
      avg(f.improvement)::float8 AS improvement
    FROM f JOIN recent USING (week_start) JOIN topic t ON t.topic_id = f.topic_id
    GROUP BY f.topic_id, topic, f.week_start
    ORDER BY topic, f.topic_id, f.week_start`.execute(db);
  return r.rows;
}
