// The job_run table's one module: a run's row from start to outcome, the sweep of rows whose process
// is gone, and the reads of runs (the API, `job list`). db/connection.ts sweeps the embedded
// database's left-over rows at open through it, so it spells the Db type itself (Kysely over the
// schema) instead of importing it from there: no circle.
import { type Kysely, sql } from 'kysely';
import type { Schema } from '../db/schema.js';

type Db = Kysely<Schema>;

/** What a run whose process is gone is marked with (at open on the embedded database, by the runner on PostgreSQL). */
export const LOST_RUN_ERROR =
  'lost: the process running it ended without recording an outcome (killed or crashed)';

/** job_run rows of runs that could write: a dry run proves nothing about the job's output. */
export const notDryRun = sql<boolean>`(params->>'dry_run') IS DISTINCT FROM 'true'`;

/**
 * The embedded database's sweep at open, on the bare PGlite instance (before migrations, so the
 * table may not exist yet): the opening process owns the directory alone, so a run still marked
 * running was left by a process that ended without recording its outcome.
 */
export async function failLeftOverRuns(instance: {
  query<T>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
}): Promise<void> {
  const hasRuns = await instance.query<{ t: string | null }>(`SELECT to_regclass('job_run')::text AS t`);
  if (!hasRuns.rows[0]?.t) return;
  await instance.query(
    `UPDATE job_run SET status = 'failed', finished_at = now(), error = $1 WHERE status = 'running'`,
    [LOST_RUN_ERROR],
  );
}

export async function runningRunIds(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('job_run').select('run_id').where('status', '=', 'running').execute();
  return rows.map((r) => r.run_id);
}

/** Marks one run lost if it is still running; returns whether it was. */
export async function failLostRun(db: Db, runId: string): Promise<boolean> {
  const u = await db
    .updateTable('job_run')
    .set({ status: 'failed', finished_at: new Date(), error: LOST_RUN_ERROR })
    .where('run_id', '=', runId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(u.numUpdatedRows) > 0;
}

export async function insertRun(db: Db, job: string, params: object): Promise<string> {
  const { run_id } = await db
    .insertInto('job_run')
    .values({ job, params: JSON.stringify(params), status: 'running', stats: '{}' })
    .returning('run_id')
    .executeTakeFirstOrThrow();
  return run_id;
}

export async function finishRun(
  db: Db,
  runId: string,
  outcome: { status: 'succeeded' | 'partial' | 'failed'; error: string | null; stats?: string },
): Promise<void> {
  await db
    .updateTable('job_run')
    .set({ ...outcome, finished_at: new Date() })
    .where('run_id', '=', runId)
    .execute();
}

/** Runs, newest first, of one job or all. */
export function listRuns(db: Db, opts: { job?: string; limit: number }) {
  let q = db.selectFrom('job_run').selectAll().orderBy('started_at', 'desc').orderBy('run_id', 'desc');
  if (opts.job) q = q.where('job', '=', opts.job);
  return q.limit(opts.limit).execute();
}

export function findRun(db: Db, runId: string) {
  return db.selectFrom('job_run').selectAll().where('run_id', '=', runId).executeTakeFirst();
}

/** Each job's latest run that could write. */
export function lastRuns(db: Db) {
  return db
    .selectFrom('job_run')
    .distinctOn('job')
    .select(['job', 'status', 'started_at', 'finished_at'])
    .where(notDryRun)
    .orderBy('job')
    .orderBy('started_at', 'desc')
    .execute();
}
