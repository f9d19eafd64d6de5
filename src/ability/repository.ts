// The mirt_ability table's one module: the calibration's θ of every learner it fitted (replaced per
// run) and the online θ appended after each session.
import { sql } from 'kysely';
import type { Database, Db } from '../db/connection.js';

/** Removes a calibration run's θ rows (a re-run of the same day replaces them). */
export async function deleteCalibrationAbilities(db: Db, runId: string): Promise<void> {
  await db
    .deleteFrom('mirt_ability')
    .where('version', '=', runId)
    .where('source', '=', 'calibration')
    .execute();
}

/** One row per learner of a calibration run, in one statement. */
export async function insertCalibrationAbilities(
  db: Db,
  run: { runId: string; model: string; fittedAt: Date },
  rows: {
    userIds: readonly string[];
    theta: ArrayLike<number>;
    se: ArrayLike<number>;
    nResponses: ArrayLike<number>;
  },
): Promise<void> {
  await sql`
    INSERT INTO mirt_ability (user_id, theta, se, model, version, source, n_responses, fitted_at)
    SELECT u, t, s, ${run.model}, ${run.runId}, 'calibration', n, ${run.fittedAt}::timestamptz
    FROM unnest(${[...rows.userIds]}::text[], ${Array.from(rows.theta)}::float8[], ${Array.from(rows.se)}::float8[],
      ${Array.from(rows.nResponses)}::int[]) AS x(u, t, s, n)`.execute(db);
}

export interface OnlineTheta {
  userId: string;
  theta: number;
  se: number;
  model: string;
  version: string;
  sessionId: string | null;
  nResponses: number;
}

/** Appends an online θ; returns its fitted_at. A prepared statement: it runs after every session. */
export async function insertOnlineTheta(database: Database, row: OnlineTheta): Promise<Date> {
  const { rows } = await database.query<{ fitted_at: Date }>(
    // Asynchronous commit (one statement, no extra round trip): a derived row, recomputed by the
    // next update; a later synchronous commit (the queue's job completion) flushes it anyway.
    `INSERT INTO mirt_ability (user_id, theta, se, model, version, source, session_id, n_responses)
     SELECT $1, $2, $3, $4, $5, 'online', $6, $7
     FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit
     RETURNING fitted_at`,
    [row.userId, row.theta, row.se, row.model, row.version, row.sessionId, row.nResponses],
    'theta-update-insert',
  );
  return rows[0]!.fitted_at;
}

/** A learner's θ rows, newest first (calibration and online), from `since` on when given. */
export function thetaHistory(db: Db, userId: string, opts: { since?: Date; limit: number }) {
  let q = db
    .selectFrom('mirt_ability')
    .select(['theta', 'se', 'model', 'version', 'source', 'session_id', 'n_responses', 'fitted_at'])
    .where('user_id', '=', userId)
    .orderBy('fitted_at', 'desc')
    .orderBy('id', 'desc')
    .limit(opts.limit);
  if (opts.since !== undefined) q = q.where('fitted_at', '>=', opts.since);
  return q.execute();
}
