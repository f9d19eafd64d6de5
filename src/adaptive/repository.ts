// The adaptive sessions' tables (migrations 0006, 0008): the only module that writes cat_served_item,
// cat_exposure, cat_exposure_run and cat_sh_param, and the reads of the next-item path and the exposure records.
// Parameterised SQL only; the hot reads are named (prepared) statements.
import type { Database, Db } from '../db/connection.js';

/** Everything one next-item step needs, read in one round trip. */
export interface CatSnapshot {
  user_id: string | null;
  mode: 'fixed' | 'adaptive' | null;
  settings: Record<string, unknown> | null;
  status: 'open' | 'completed' | 'abandoned' | null;
  /** The latest succeeded calibration (null before the first). */
  run_id: string | null;
  quadpts: number | null;
  theta_lim: [number, number] | null;
  latent_mean: number | null;
  latent_variance: number | null;
  /** Changes whenever the bank or its exclusions may have changed: the cache key of the bank. */
  stamp: string;
  /** Served items in order of position, with the θ and SE they were chosen at. */
  served_items: string[] | null;
  served_topics: string[] | null;
  served_theta: number[] | null;
  served_se: number[] | null;
  /** The latest answer of each item answered in the session. */
  answered: string[] | null;
  answered_correct: boolean[] | null;
  /** Items the learner answered in other sessions within the session's exclude_days. */
  recent: string[] | null;
}

/** $1 session id. */
const SNAPSHOT_SQL = `
  WITH s AS (
    SELECT user_id, mode, settings, status FROM exam_session WHERE session_id = $1
  ), fit AS (
    SELECT run_id, fitted_at, (model_spec->>'quadpts')::int AS quadpts, model_spec->'theta_lim' AS theta_lim,
      (metrics->>'latent_mean')::float8 AS latent_mean,
      (metrics->>'latent_variance')::float8 AS latent_variance
    FROM mirt_fit_meta WHERE status = 'succeeded'
    ORDER BY fitted_at DESC, run_id DESC LIMIT 1
  )
  SELECT s.user_id, s.mode, s.settings, s.status,
    f.run_id, f.quadpts, f.theta_lim, f.latent_mean, f.latent_variance,
    concat_ws(':', (SELECT count(*) FROM mirt_fit_meta WHERE status = 'succeeded'), f.run_id,
      f.fitted_at::text,
      (SELECT md5(coalesce(string_agg(item_id, ',' ORDER BY item_id), '')) FROM item WHERE NOT active),
      (SELECT max(imported_at)::text FROM cat_sh_param)) AS stamp,
    sv.served_items, sv.served_topics, sv.served_theta, sv.served_se,
    an.answered, an.answered_correct,
    (SELECT array_agg(DISTINCT a.item_id) FROM attempt a
      WHERE a.user_id = s.user_id AND a.session_id <> $1
        AND a.answered_at >= now() - make_interval(days => (s.settings->>'exclude_days')::int)) AS recent
  FROM (SELECT 1) one
  LEFT JOIN s ON true
  LEFT JOIN fit f ON true
  CROSS JOIN (
    SELECT array_agg(item_id ORDER BY position) AS served_items,
      array_agg(topic_id ORDER BY position) AS served_topics,
      array_agg(theta ORDER BY position) AS served_theta, array_agg(se ORDER BY position) AS served_se
    FROM cat_served_item WHERE session_id = $1) sv
  CROSS JOIN (
    SELECT array_agg(item_id) AS answered, array_agg(correct) AS answered_correct FROM (
      SELECT DISTINCT ON (item_id) item_id, correct FROM attempt WHERE session_id = $1
      ORDER BY item_id, answered_at DESC, attempt_id DESC) last) an`;

export async function readCatSnapshot(database: Database, sessionId: string): Promise<CatSnapshot> {
  const { rows } = await database.query<CatSnapshot>(SNAPSHOT_SQL, [sessionId], 'cat-next-snapshot');
  return rows[0]!;
}

export interface CatBankRow {
  item_id: string;
  topic_id: string;
  params: { a: number; b: number; c?: number };
  /** Inactive, flagged by drift in the run of its parameters, or excluded by the latest run. */
  unavailable: boolean;
  /** Sympson–Hetter parameter from the latest run that has a set (null: not in it, or no set). */
  sh_k: number | null;
  /** That run (on every row; null when no run has a set). */
  sh_run_id: string | null;
}

/** The current parameters of every item with its topic and whether it may be served. */
export async function readCatBank(database: Database): Promise<CatBankRow[]> {
  const { rows } = await database.query<CatBankRow>(
    `WITH latest AS (
       SELECT model_spec FROM mirt_fit_meta WHERE status = 'succeeded'
       ORDER BY fitted_at DESC, run_id DESC LIMIT 1
     ), excluded AS (
       SELECT e->>'itemId' AS item_id FROM latest, jsonb_array_elements(
         CASE WHEN jsonb_typeof(model_spec->'excluded_items') = 'array' THEN model_spec->'excluded_items'
           ELSE '[]'::jsonb END) e
     ), sh AS (
       SELECT m.run_id FROM mirt_fit_meta m
       WHERE EXISTS (SELECT 1 FROM cat_sh_param p WHERE p.run_id = m.run_id)
       ORDER BY m.fitted_at DESC, m.run_id DESC LIMIT 1
     )
     SELECT c.item_id, i.topic_id, c.params,
       (NOT i.active OR coalesce(f.drift_flag, false)
         OR EXISTS (SELECT 1 FROM excluded x WHERE x.item_id = c.item_id)) AS unavailable,
       p.sh_k, (SELECT run_id FROM sh) AS sh_run_id
     FROM mirt_item_params_current c
     JOIN item i ON i.item_id = c.item_id
     LEFT JOIN mirt_item_fit f ON f.run_id = c.version AND f.item_id = c.item_id
     LEFT JOIN cat_sh_param p ON p.run_id = (SELECT run_id FROM sh) AND p.item_id = c.item_id
     ORDER BY c.item_id`,
  );
  return rows;
}

/**
 * Replaces the Sympson–Hetter parameters of a calibration run (the simulator's `item_id,sh_k`
 * output), in one transaction; returns the item ids the bank does not know (then nothing is
 * written) or null when the run does not exist.
 */
export async function importShParams(
  database: Database,
  runId: string,
  params: ReadonlyArray<{ item_id: string; sh_k: number }>,
): Promise<{ unknown: string[]; imported: number } | null> {
  return database.db.transaction().execute(async (trx) => {
    const run = await trx
      .selectFrom('mirt_fit_meta')
      .select('run_id')
      .where('run_id', '=', runId)
      .forUpdate()
      .executeTakeFirst();
    if (!run) return null;
    const ids = [...new Set(params.map((p) => p.item_id))];
    const known = new Set(
      ids.length === 0
        ? []
        : (await trx.selectFrom('item').select('item_id').where('item_id', 'in', ids).execute()).map(
            (r) => r.item_id,
          ),
    );
    const unknown = ids.filter((id) => !known.has(id)).sort();
    if (unknown.length > 0) return { unknown, imported: 0 };
    await trx.deleteFrom('cat_sh_param').where('run_id', '=', runId).execute();
    // Rows of 5,000 items × 3 parameters stay far below PostgreSQL's 65,535 bind parameters.
    for (let i = 0; i < params.length; i += 5000)
      await trx
        .insertInto('cat_sh_param')
        .values(params.slice(i, i + 5000).map((p) => ({ run_id: runId, item_id: p.item_id, sh_k: p.sh_k })))
        .execute();
    return { unknown: [], imported: params.length };
  });
}

export interface ServedItem {
  session_id: string;
  position: number;
  item_id: string;
  topic_id: string;
  run_id: string;
  theta: number;
  se: number;
}

/**
 * Records a served item and counts its exposure, in one statement. When another request already
 * served this position (a replica racing, a repeated GET), nothing is written and the stored row
 * is returned: the served record is the state.
 *
 * Committed asynchronously (no WAL flush wait, 3–5× the rate on a shared disk): the answer's
 * synchronous commit flushes the WAL up to it, so the record is durable before anything depends on
 * it. Only a database crash within a fraction of a second after serving loses it; the answer then
 * gets 409 and the next GET chooses the same item again from the same state (the choice is a
 * function of the state) and records it.
 */
export async function recordServed(
  database: Database,
  item: ServedItem,
): Promise<{ row: ServedItem; inserted: boolean }> {
  const { rows } = await database.query<ServedItem & { inserted: boolean }>(
    `WITH ins AS (
       INSERT INTO cat_served_item (session_id, position, item_id, topic_id, run_id, theta, se)
       SELECT $1, $2, $3, $4, $5, $6, $7
       FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit
       ON CONFLICT DO NOTHING
       RETURNING session_id, position, item_id, topic_id, run_id, theta, se
     ), item_count AS (
       INSERT INTO cat_exposure (run_id, item_id, served) SELECT run_id, item_id, 1 FROM ins
       ON CONFLICT (run_id, item_id) DO UPDATE SET served = cat_exposure.served + 1
     ), session_count AS (
       INSERT INTO cat_exposure_run (run_id, sessions) SELECT run_id, 1 FROM ins WHERE position = 1
       ON CONFLICT (run_id) DO UPDATE SET sessions = cat_exposure_run.sessions + 1
     )
     SELECT *, true AS inserted FROM ins`,
    [item.session_id, item.position, item.item_id, item.topic_id, item.run_id, item.theta, item.se],
    'cat-record-served',
  );
  if (rows[0]) {
    const { inserted: _, ...row } = rows[0];
    return { row, inserted: true };
  }
  const existing = await database.query<ServedItem>(
    `SELECT session_id, position, item_id, topic_id, run_id, theta, se
     FROM cat_served_item WHERE session_id = $1 AND position = $2`,
    [item.session_id, item.position],
  );
  // A conflict on (session, item) without one on the position cannot come from the engine (it never
  // serves an item twice in a session), so the position's row exists.
  return { row: existing.rows[0]!, inserted: false };
}

/** The ids among `itemIds` that were not served in the session (the attempts route refuses them). */
export async function unservedItems(
  db: Db,
  sessionId: string,
  itemIds: readonly string[],
): Promise<string[]> {
  const served = await db
    .selectFrom('cat_served_item')
    .select('item_id')
    .where('session_id', '=', sessionId)
    .where('item_id', 'in', [...new Set(itemIds)])
    .execute();
  const known = new Set(served.map((r) => r.item_id));
  return [...new Set(itemIds)].filter((id) => !known.has(id)).sort();
}

export interface RunExposure {
  run_id: string;
  sessions: number;
  items: Array<{ item_id: string; served: number; rate: number }>;
}

/** The exposure record of one calibration run (null when no session started on its bank). */
export async function readRunExposure(db: Db, runId: string): Promise<RunExposure | null> {
  const run = await db
    .selectFrom('cat_exposure_run')
    .select(['run_id', 'sessions'])
    .where('run_id', '=', runId)
    .executeTakeFirst();
  if (!run) return null;
  const items = await db
    .selectFrom('cat_exposure')
    .select(['item_id', 'served'])
    .where('run_id', '=', runId)
    .orderBy('served', 'desc')
    .orderBy('item_id')
    .execute();
  return {
    run_id: run.run_id,
    sessions: run.sessions,
    items: items.map((r) => ({ item_id: r.item_id, served: r.served, rate: r.served / run.sessions })),
  };
}

export interface RecentExposure {
  sessions: number;
  items: Array<{ item_id: string; sessions: number; rate: number }>;
}

/** The over-exposure check looks at the last week. */
export const OVEREXPOSURE_WINDOW_DAYS = 7;

/**
 * Items served in more than `maxRate` of the adaptive sessions that were served an item in the last
 * week, highest rate first.
 */
export async function readOverexposed(database: Database, maxRate: number): Promise<RecentExposure> {
  const { rows } = await database.query<{ item_id: string | null; n: number | null; total: number }>(
    `WITH recent AS (
       SELECT session_id, item_id FROM cat_served_item WHERE served_at >= now() - make_interval(days => $1::int)
     ), total AS (SELECT count(DISTINCT session_id)::int AS total FROM recent),
     per_item AS (SELECT item_id, count(*)::int AS n FROM recent GROUP BY item_id)
     SELECT p.item_id, p.n, t.total
     FROM total t LEFT JOIN per_item p ON p.n > $2::float8 * t.total
     ORDER BY p.n DESC, p.item_id`,
    [OVEREXPOSURE_WINDOW_DAYS, maxRate],
  );
  const total = rows[0]?.total ?? 0;
  return {
    sessions: total,
    items: rows
      .filter((r) => r.item_id !== null)
      .map((r) => ({ item_id: r.item_id!, sessions: r.n!, rate: r.n! / total })),
  };
}
