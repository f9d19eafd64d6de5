// Loads the plain per-learner inputs of the KPI functions for many learners at once: three
// set-based queries per batch of learners (facts, attempts, sessions; a fourth for the rare session
// that started before the window), never a query per learner.
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

/** Sessions as parallel arrays (null when none matched). */
interface SessionArrays {
  s: string[] | null;
  st: number[] | null;
  ct: (number | null)[] | null;
}

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
      SELECT m.theta, m.se, date_part('epoch', m.fitted_at) * 1000 AS fitted_ms FROM mirt_ability m
      WHERE m.user_id = u.user_id AND m.fitted_at < ${to}::timestamptz ORDER BY m.fitted_at DESC, m.id DESC LIMIT 1
    ) cur ON true
    LEFT JOIN LATERAL (
      SELECT m.theta, m.se, date_part('epoch', m.fitted_at) * 1000 AS fitted_ms FROM mirt_ability m
      WHERE m.user_id = u.user_id AND m.fitted_at < ${previousEnd}::timestamptz ORDER BY m.fitted_at DESC, m.id DESC LIMIT 1
    ) prev ON true
    LEFT JOIN learner_goal g ON g.user_id = u.user_id`.execute(db);
  // One row per learner with its attempts as parallel JSON arrays: the driver hands them to
  // JSON.parse, several times faster than a row per attempt through the row parser.
  const attempts = await sql<{
    user_id: string;
    s: string[];
    i: string[];
    c: boolean[];
    rt: (number | null)[];
    h: number[];
    t: number[];
  }>`
    SELECT user_id, to_json(array_agg(session_id)) AS s, to_json(array_agg(item_id)) AS i,
      to_json(array_agg(correct)) AS c, to_json(array_agg(response_time_ms)) AS rt, to_json(array_agg(hints)) AS h,
      to_json(array_agg(date_part('epoch', answered_at) * 1000)) AS t
    FROM attempt
    WHERE user_id = ANY(${ids}::text[]) AND answered_at >= ${from}::timestamptz AND answered_at < ${to}::timestamptz
    GROUP BY user_id`.execute(db);
  const byLearner = new Map<string, KpiAttempt[]>();
  const sessionIds = new Set<string>();
  for (const r of attempts.rows) {
    byLearner.set(
      r.user_id,
      r.s.map((sessionId, k) => {
        sessionIds.add(sessionId);
        return {
          sessionId,
          itemId: r.i[k]!,
          correct: r.c[k]!,
          responseTimeMs: r.rt[k]!,
          hints: r.h[k]!,
          at: r.t[k]!,
        };
      }),
    );
  }
  // Sessions by learner and start (an index range per learner), then by id the rare session that
  // started more than a day before the window and still has attempts inside it.
  const sessions = new Map<string, KpiSession>();
  const addSessions = (r: SessionArrays) => {
    for (const [k, id] of (r.s ?? []).entries())
      sessions.set(id, { startedAt: r.st![k]!, completedAt: r.ct![k]! });
  };
  const sessionColumns = sql`to_json(array_agg(session_id)) AS s, to_json(array_agg(date_part('epoch', started_at) * 1000)) AS st,
      to_json(array_agg(CASE WHEN status = 'completed' THEN date_part('epoch', completed_at) * 1000 END)) AS ct`;
  const recent = await sql<SessionArrays>`
    SELECT ${sessionColumns} FROM exam_session
    WHERE user_id = ANY(${ids}::text[]) AND started_at >= ${iso(history.start - 86_400_000)}::timestamptz
      AND started_at < ${to}::timestamptz`.execute(db);
  addSessions(recent.rows[0]!);
  const missing = [...sessionIds].filter((id) => !sessions.has(id));
  if (missing.length > 0) {
    const older = await sql<SessionArrays>`
      SELECT ${sessionColumns} FROM exam_session WHERE session_id = ANY(${missing}::text[])`.execute(db);
    addSessions(older.rows[0]!);
  }

  const inputs = new Map<string, LearnerKpiInput>();
  for (const f of facts.rows) {
    inputs.set(f.user_id, {
      attempts: byLearner.get(f.user_id) ?? [],
      sessions,
      attemptedBefore: f.attempted_before,
      ability: estimate(f.theta, f.se, f.fitted_ms),
      previousAbility: estimate(f.p_theta, f.p_se, f.p_fitted_ms),
      targetTheta: f.target_theta,
    });
  }
  return inputs;
}
