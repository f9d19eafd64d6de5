// aggregate-features-daily: features_topic_daily for every (learner, topic, day) with an attempt in
// the days covered, exactly as spec/kpis.md defines them. One set-based statement per range that
// leaves the covered days equal to the computed rows but writes only the differences: new rows are
// inserted, changed rows updated, rows whose attempts are gone deleted, and equal rows left alone
// (their computed_at stays the time their values were computed). A daily run covers
// AGG_LOOKBACK_DAYS days of which usually only the last has changed, so it writes about one day of
// rows instead of seven (less WAL, no dead tuples for unchanged days; docs/pipeline.md).
import { sql } from 'kysely';
import type { Db } from '../db/connection.js';
import type { JobResult } from './registry.js';

export interface FeaturesRange {
  from: string;
  to: string;
}

export async function aggregateFeaturesDaily(db: Db, { from, to }: FeaturesRange): Promise<JobResult> {
  // Day boundaries are UTC midnights: `date AT TIME ZONE 'UTC'` is the timestamptz of that midnight.
  // `computed`: one pass over the attempts of the covered days and the 27 before them: per (learner,
  // topic, day) the counts every day needs for the improvement windows, and the day's own aggregates
  // only for the covered days; the 14-day windows are sums over the daily rows (missing days count 0).
  // The three writes see the table as it was before the statement, so they touch disjoint keys.
  const { rows } = await sql<{ inserted: string; updated: string; deleted: string; computed: string }>`
    WITH daily AS (
      SELECT a.user_id, a.topic_id, (a.answered_at AT TIME ZONE 'UTC')::date AS date,
             count(*)::int AS attempts, (count(*) FILTER (WHERE a.correct))::int AS correct,
             round(avg(a.response_time_ms) FILTER (WHERE a.answered_at >= ${from}::date AT TIME ZONE 'UTC'))::int AS avg_time_ms,
             round(percentile_cont(0.5) WITHIN GROUP (ORDER BY a.response_time_ms)
               FILTER (WHERE a.answered_at >= ${from}::date AT TIME ZONE 'UTC'))::int AS rt_median,
             sum(a.hints)::int AS hints, max(a.answered_at) AS last_seen_at
      FROM attempt a
      WHERE a.answered_at >= ((${from}::date - 27) AT TIME ZONE 'UTC') AND a.answered_at < ((${to}::date + 1) AT TIME ZONE 'UTC')
      GROUP BY 1, 2, 3
    ), windowed AS (
      SELECT d.*,
             sum(d.attempts) OVER recent AS n_r, sum(d.correct) OVER recent AS c_r,
             sum(d.attempts) OVER four_weeks - sum(d.attempts) OVER recent AS n_p,
             sum(d.correct) OVER four_weeks - sum(d.correct) OVER recent AS c_p
      FROM daily d
      WINDOW recent AS (PARTITION BY d.user_id, d.topic_id ORDER BY d.date RANGE BETWEEN '13 days' PRECEDING AND CURRENT ROW),
             four_weeks AS (PARTITION BY d.user_id, d.topic_id ORDER BY d.date RANGE BETWEEN '27 days' PRECEDING AND CURRENT ROW)
    ), computed AS MATERIALIZED (
      SELECT w.user_id, w.topic_id, w.date, w.attempts, w.correct, w.avg_time_ms, w.rt_median, w.hints,
             th.theta AS theta_estimate, th.se AS theta_se,
             CASE WHEN w.n_r > 0 AND w.n_p > 0
               THEN greatest(-1, least(1, (w.c_r::float8 / w.n_r - w.c_p::float8 / w.n_p) * least(1, w.n_r / 30.0))) END
               AS improvement,
             w.last_seen_at
      FROM windowed w
      LEFT JOIN LATERAL (
        SELECT m.theta, m.se FROM mirt_ability m
        WHERE m.user_id = w.user_id AND m.fitted_at < ((w.date + 1) AT TIME ZONE 'UTC')
        ORDER BY m.fitted_at DESC, m.id DESC LIMIT 1
      ) th ON true
      WHERE w.date >= ${from}::date
    ), deleted AS (
      DELETE FROM features_topic_daily f
      WHERE f.date >= ${from}::date AND f.date <= ${to}::date
        AND NOT EXISTS (SELECT 1 FROM computed c WHERE c.user_id = f.user_id AND c.topic_id = f.topic_id AND c.date = f.date)
      RETURNING 1
    ), updated AS (
      UPDATE features_topic_daily f
      SET attempts = c.attempts, correct = c.correct, avg_time_ms = c.avg_time_ms, rt_median = c.rt_median,
          hints = c.hints, theta_estimate = c.theta_estimate, theta_se = c.theta_se, improvement = c.improvement,
          last_seen_at = c.last_seen_at, computed_at = now()
      FROM computed c
      WHERE c.user_id = f.user_id AND c.topic_id = f.topic_id AND c.date = f.date
        AND (f.attempts, f.correct, f.avg_time_ms, f.rt_median, f.hints, f.theta_estimate, f.theta_se, f.improvement, f.last_seen_at)
          IS DISTINCT FROM (c.attempts, c.correct, c.avg_time_ms, c.rt_median, c.hints, c.theta_estimate, c.theta_se, c.improvement, c.last_seen_at)
      RETURNING 1
    ), inserted AS (
      INSERT INTO features_topic_daily (user_id, topic_id, date, attempts, correct, avg_time_ms, rt_median, hints,
        theta_estimate, theta_se, improvement, last_seen_at, computed_at)
      SELECT c.user_id, c.topic_id, c.date, c.attempts, c.correct, c.avg_time_ms, c.rt_median, c.hints,
             c.theta_estimate, c.theta_se, c.improvement, c.last_seen_at, now()
      FROM computed c
      WHERE NOT EXISTS (
        SELECT 1 FROM features_topic_daily f WHERE f.user_id = c.user_id AND f.topic_id = c.topic_id AND f.date = c.date)
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM inserted) AS inserted, (SELECT count(*) FROM updated) AS updated,
           (SELECT count(*) FROM deleted) AS deleted, (SELECT count(*) FROM computed) AS computed`.execute(
    db,
  );
  const { inserted, updated, deleted, computed } = rows[0]!;
  const written = Number(inserted) + Number(updated);
  return {
    written: { features_topic_daily: written },
    counts: {
      rowsInserted: Number(inserted),
      rowsUpdated: Number(updated),
      rowsDeleted: Number(deleted),
      rowsUnchanged: Number(computed) - written,
    },
  };
}
