// aggregate-features-daily: features_topic_daily for every (learner, topic, day) with an attempt in
// the days covered, exactly as spec/kpis.md defines them. One set-based statement per range: the
// rows of the covered days are replaced, including rows whose attempts were deleted.
import { sql } from 'kysely';
import type { Db } from '../db/connection.js';
import type { JobResult } from '../jobs/contract.js';

export interface FeaturesRange {
  from: string;
  to: string;
}

export async function aggregateFeaturesDaily(db: Db, { from, to }: FeaturesRange): Promise<JobResult> {
  // The spec's indexes lead with topic_id or user_id, so `WHERE date …` alone would read the whole
  // table, which grows every day. Instead: the table's topics by a loose index scan of
  // (topic_id, date) (one index descent per topic), then one range of that index per topic.
  const deleted = await sql`
    DELETE FROM features_topic_daily
    WHERE topic_id = ANY (ARRAY(
        WITH RECURSIVE topics (topic_id) AS (
          (SELECT topic_id FROM features_topic_daily ORDER BY topic_id LIMIT 1)
          UNION ALL
          SELECT (SELECT f.topic_id FROM features_topic_daily f WHERE f.topic_id > t.topic_id ORDER BY f.topic_id LIMIT 1)
          FROM topics t WHERE t.topic_id IS NOT NULL)
        SELECT topic_id FROM topics WHERE topic_id IS NOT NULL))
      AND date >= ${from}::date AND date <= ${to}::date`.execute(db);
  // Day boundaries are UTC midnights: `date::timestamp AT TIME ZONE 'UTC'` is the timestamptz of that
  // midnight whatever the session's TimeZone, and a constant the planner folds. (Without the cast,
  // `date AT TIME ZONE 'UTC'` goes through the session's time zone and yields a timestamp: wrong
  // boundaries outside UTC, and in the FILTERs below recomputed for every attempt.)
  // One pass over the attempts of the covered days and the 27 before them: per (learner, topic, day)
  // the counts every day needs for the improvement windows, and the day's own aggregates only for
  // the covered days; the 14-day windows are then sums over the daily rows (missing days count 0).
  const inserted = await sql`
    INSERT INTO features_topic_daily (user_id, topic_id, date, attempts, correct, avg_time_ms, rt_median, hints,
      theta_estimate, theta_se, improvement, last_seen_at, computed_at)
    WITH daily AS (
      SELECT a.user_id, a.topic_id, (a.answered_at AT TIME ZONE 'UTC')::date AS date,
             count(*)::int AS attempts, (count(*) FILTER (WHERE a.correct))::int AS correct,
             round(avg(a.response_time_ms) FILTER (WHERE a.answered_at >= ${from}::date::timestamp AT TIME ZONE 'UTC'))::int AS avg_time_ms,
             round(percentile_cont(0.5) WITHIN GROUP (ORDER BY a.response_time_ms)
               FILTER (WHERE a.answered_at >= ${from}::date::timestamp AT TIME ZONE 'UTC'))::int AS rt_median,
             sum(a.hints)::int AS hints, max(a.answered_at) AS last_seen_at
      FROM attempt a
      WHERE a.answered_at >= ((${from}::date - 27)::timestamp AT TIME ZONE 'UTC')
        AND a.answered_at < ((${to}::date + 1)::timestamp AT TIME ZONE 'UTC')
      GROUP BY 1, 2, 3
    ), windowed AS (
      SELECT d.*,
             sum(d.attempts) OVER recent AS n_r, sum(d.correct) OVER recent AS c_r,
             sum(d.attempts) OVER four_weeks - sum(d.attempts) OVER recent AS n_p,
             sum(d.correct) OVER four_weeks - sum(d.correct) OVER recent AS c_p
      FROM daily d
      WINDOW recent AS (PARTITION BY d.user_id, d.topic_id ORDER BY d.date RANGE BETWEEN '13 days' PRECEDING AND CURRENT ROW),
             four_weeks AS (PARTITION BY d.user_id, d.topic_id ORDER BY d.date RANGE BETWEEN '27 days' PRECEDING AND CURRENT ROW)
    )
    SELECT w.user_id, w.topic_id, w.date, w.attempts, w.correct, w.avg_time_ms, w.rt_median, w.hints,
           th.theta, th.se,
           CASE WHEN w.n_r > 0 AND w.n_p > 0
             THEN greatest(-1, least(1, (w.c_r::float8 / w.n_r - w.c_p::float8 / w.n_p) * least(1, w.n_r / 30.0))) END,
           w.last_seen_at, now()
    FROM windowed w
    LEFT JOIN LATERAL (
      SELECT m.theta, m.se FROM mirt_ability m
      WHERE m.user_id = w.user_id AND m.fitted_at < ((w.date + 1)::timestamp AT TIME ZONE 'UTC')
      ORDER BY m.fitted_at DESC, m.id DESC LIMIT 1
    ) th ON true
    WHERE w.date >= ${from}::date`.execute(db);
  return {
    written: { features_topic_daily: Number(inserted.numAffectedRows ?? 0) },
    counts: { rowsReplaced: Number(deleted.numAffectedRows ?? 0) },
  };
}
