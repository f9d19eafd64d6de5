// Loads the plain per-learner inputs of the KPI functions for many learners at once: three
// set-based queries per batch of learners (facts, attempts, sessions), never a query per learner.
// Batches bound the memory: a batch holds its learners' attempts of the last 56 days only.
import { sql } from 'kysely';
import type { Db } from '../db/connection.js';
import { addDays } from '../jobs/dates.js';
import {
  type AbilityEstimate,
  KPI_HISTORY_DAYS,
  type KpiAttempt,
  type KpiSession,
  type LearnerKpiInput,
  window,
} from './kpis.js';

/** Learners per batch: about 200 attempts each in 56 days keeps a batch near half a million rows. */
export const KPI_BATCH = 2500;

const iso = (ms: number) => new Date(ms).toISOString();

interface FactRow {
  user_id: string;
  attempted_before: boolean;
  theta: number | null;
  se: number | null;
  fitted_ms: number | null;
  p_theta: number | null;
  p_se: number | null;
  p_fitted_ms: number | null;
  target_theta: number | null;
}

const estimate = (
  theta: number | null,
  se: number | null,
  fittedMs: number | null,
): AbilityEstimate | null => (theta === null || fittedMs === null ? null : { theta, se, fittedAt: fittedMs });

/** The KPI inputs as of `asOf` of the given learners (one batch: at most a few thousand ids). */
export async function loadKpiInputs(
  db: Db,
  userIds: readonly string[],
  asOf: string,
): Promise<Map<string, LearnerKpiInput>> {
  const history = window(asOf, KPI_HISTORY_DAYS);
  const from = iso(history.start);
  const to = iso(history.end);
  const previousEnd = iso(window(addDays(asOf, -14), 1).end);
  const ids = [...userIds];
  // "θ as of t" is the latest estimate fitted before t (ties: the later row).
  const facts = await sql<FactRow>`
    SELECT u.user_id,
      EXISTS (SELECT 1 FROM attempt a WHERE a.user_id = u.user_id AND a.answered_at < ${from}::timestamptz) AS attempted_before,
      cur.theta, cur.se, cur.fitted_ms, prev.theta AS p_theta, prev.se AS p_se, prev.fitted_ms AS p_fitted_ms,
      g.target_theta
    FROM unnest(${ids}::text[]) AS u(user_id)
    LEFT JOIN LATERAL (
      SELECT m.theta, m.se, (extract(epoch FROM m.fitted_at) * 1000)::float8 AS fitted_ms FROM mirt_ability m
      WHERE m.user_id = u.user_id AND m.fitted_at < ${to}::timestamptz ORDER BY m.fitted_at DESC, m.id DESC LIMIT 1
    ) cur ON true
    LEFT JOIN LATERAL (
      SELECT m.theta, m.se, (extract(epoch FROM m.fitted_at) * 1000)::float8 AS fitted_ms FROM mirt_ability m
      WHERE m.user_id = u.user_id AND m.fitted_at < ${previousEnd}::timestamptz ORDER BY m.fitted_at DESC, m.id DESC LIMIT 1
    ) prev ON true
    LEFT JOIN learner_goal g ON g.user_id = u.user_id`.execute(db);
  const attempts = await sql<{
    user_id: string;
    session_id: string;
    item_id: string;
    correct: boolean;
    response_time_ms: number | null;
    hints: number;
    at: number;
  }>`
    SELECT user_id, session_id, item_id, correct, response_time_ms, hints,
      (extract(epoch FROM answered_at) * 1000)::float8 AS at
    FROM attempt
    WHERE user_id = ANY(${ids}::text[]) AND answered_at >= ${from}::timestamptz AND answered_at < ${to}::timestamptz`.execute(
    db,
  );
  const sessionIds = [...new Set(attempts.rows.map((a) => a.session_id))];
  const sessionRows = await sql<{ session_id: string; started_ms: number; completed_ms: number | null }>`
    SELECT session_id, (extract(epoch FROM started_at) * 1000)::float8 AS started_ms,
      CASE WHEN status = 'completed' THEN (extract(epoch FROM completed_at) * 1000)::float8 END AS completed_ms
    FROM exam_session WHERE session_id = ANY(${sessionIds}::text[])`.execute(db);
  const sessions = new Map<string, KpiSession>(
    sessionRows.rows.map((s) => [s.session_id, { startedAt: s.started_ms, completedAt: s.completed_ms }]),
  );

  const byLearner = new Map<string, KpiAttempt[]>(ids.map((id) => [id, []]));
  for (const a of attempts.rows) {
    byLearner.get(a.user_id)!.push({
      sessionId: a.session_id,
      itemId: a.item_id,
      correct: a.correct,
      responseTimeMs: a.response_time_ms,
      hints: a.hints,
      at: a.at,
    });
  }
  const inputs = new Map<string, LearnerKpiInput>();
  for (const f of facts.rows) {
    inputs.set(f.user_id, {
      attempts: byLearner.get(f.user_id)!,
      sessions,
      attemptedBefore: f.attempted_before,
      ability: estimate(f.theta, f.se, f.fitted_ms),
      previousAbility: estimate(f.p_theta, f.p_se, f.p_fitted_ms),
      targetTheta: f.target_theta,
    });
  }
  return inputs;
}
