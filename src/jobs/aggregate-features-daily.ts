// aggregate-features-daily: features_topic_daily for every (learner, topic, day) with an attempt in
// the days covered, exactly as spec/kpis.md defines them. One set-based statement per range: the
// rows of the covered days are replaced, including rows whose attempts were deleted.
import { sql } from 'kysely';
import type { Db } from '../db/connection.js';
import type { JobResult } from './registry.js';

export interface FeaturesRange {
  from: string;
  to: string;
}

export async function aggregateFeaturesDaily(db: Db, { from, to }: FeaturesRange): Promise<JobResult> {
  const deleted = await db
    .deleteFrom('features_topic_daily')
    .where('date', '>=', from)
    .where('date', '<=', to)
    .executeTakeFirst();
  // Day boundaries are UTC midnights: `date AT TIME ZONE 'UTC'` is the timestamptz of that midnight.
  const inserted = await sql`
    INSERT INTO features_topic_daily (user_id, topic_id, date, attempts, correct, avg_time_ms, rt_median, hints,
      theta_estimate, theta_se, improvement, last_seen_at, computed_at)
    WITH day_attempts AS (
      SELECT a.user_id, a.topic_id, (a.answered_at AT TIME ZONE 'UTC')::date AS date, a.correct,
             a.response_time_ms, a.hints, a.answered_at
      FROM attempt a
      WHERE a.answered_at >= (${from}::date AT TIME ZONE 'UTC') AND a.answered_at < ((${to}::date + 1) AT TIME ZONE 'UTC')
    ), agg AS (
      SELECT user_id, topic_id, date, count(*)::int AS attempts, (count(*) FILTER (WHERE correct))::int AS correct,
             round(avg(response_time_ms))::int AS avg_time_ms,
             round(percentile_cont(0.5) WITHIN GROUP (ORDER BY response_time_ms))::int AS rt_median,
             sum(hints)::int AS hints, max(answered_at) AS last_seen_at
      FROM day_attempts GROUP BY user_id, topic_id, date
    )
    SELECT agg.user_id, agg.topic_id, agg.date, agg.attempts, agg.correct, agg.avg_time_ms, agg.rt_median, agg.hints,
           th.theta, th.se,
           CASE WHEN w.n_r > 0 AND w.n_p > 0
             THEN greatest(-1, least(1, (w.p_r - w.p_p) * least(1, w.n_r / 30.0))) END,
           agg.last_seen_at, now()
    FROM agg
    LEFT JOIN LATERAL (
      SELECT m.theta, m.se FROM mirt_ability m
      WHERE m.user_id = agg.user_id AND m.fitted_at < ((agg.date + 1) AT TIME ZONE 'UTC')
      ORDER BY m.fitted_at DESC, m.id DESC LIMIT 1
    ) th ON true
    CROSS JOIN LATERAL (
      SELECT count(*) FILTER (WHERE a.answered_at >= ((agg.date - 13) AT TIME ZONE 'UTC')) AS n_r,
             avg(a.correct::int) FILTER (WHERE a.answered_at >= ((agg.date - 13) AT TIME ZONE 'UTC'))::float8 AS p_r,
             count(*) FILTER (WHERE a.answered_at < ((agg.date - 13) AT TIME ZONE 'UTC')) AS n_p,
             avg(a.correct::int) FILTER (WHERE a.answered_at < ((agg.date - 13) AT TIME ZONE 'UTC'))::float8 AS p_p
      FROM attempt a
      WHERE a.user_id = agg.user_id AND a.topic_id = agg.topic_id
        AND a.answered_at >= ((agg.date - 27) AT TIME ZONE 'UTC') AND a.answered_at < ((agg.date + 1) AT TIME ZONE 'UTC')
    ) w`.execute(db);
  return {
    written: { features_topic_daily: Number(inserted.numAffectedRows ?? 0) },
    counts: { rowsReplaced: Number(deleted.numDeletedRows) },
  };
}
