// The pipeline page's reads (docs/dashboard.md): per job its latest run and latest failure, the
// recent runs of every job, and the θ-update queue's depth and latency from pg-boss's own table.
// Read-only: job_run is written by the job runner, pgboss.job by pg-boss.
import { sql } from 'kysely';
import type { Db } from '../db/connection.js';
import type { JobStatus } from '../db/schema.js';

export interface RunRow {
  run_id: string;
  job: string;
  status: JobStatus;
  started_at: Date;
  finished_at: Date | null;
  dry_run: boolean;
  /** Rows written, summed over the run's tables (stats.written). */
  rows: number;
  error: string | null;
}

// Rows written is the sum of stats.written's values; a dry run's are what it would have written.
const RUN_COLUMNS = sql`r.run_id::text AS run_id, r.job, r.status, r.started_at, r.finished_at,
  coalesce((r.params->>'dry_run')::boolean, false) AS dry_run,
  coalesce((SELECT sum(v::numeric) FROM jsonb_each_text(
    CASE WHEN jsonb_typeof(r.stats->'written') = 'object' THEN r.stats->'written' ELSE '{}' END) w(k, v)), 0)::float8 AS rows,
  r.error`;

export interface JobRuns {
  job: string;
  last: RunRow | null;
  /** The latest failed or partial run, with its message. */
  last_failure: RunRow | null;
  /** Failed or partial runs started in the last 7 days. */
  failures_7d: number;
}

/**
 * Each job's latest run and latest failure: index probes on job_run (job, started_at DESC) per job,
 * so the cost does not grow with the table's history.
 */
export async function jobRuns(db: Db, jobs: readonly string[], now: Date): Promise<JobRuns[]> {
  const r = await sql<{
    job: string;
    last: RunRow | null;
    last_failure: RunRow | null;
    failures_7d: number;
  }>`
    SELECT j.job,
      (SELECT to_jsonb(x) FROM (SELECT ${RUN_COLUMNS} FROM job_run r WHERE r.job = j.job
        ORDER BY r.started_at DESC, r.run_id DESC LIMIT 1) x) AS last,
      (SELECT to_jsonb(x) FROM (SELECT ${RUN_COLUMNS} FROM job_run r
        WHERE r.job = j.job AND r.status IN ('failed', 'partial')
        ORDER BY r.started_at DESC, r.run_id DESC LIMIT 1) x) AS last_failure,
      (SELECT count(*)::int FROM job_run r WHERE r.job = j.job AND r.status IN ('failed', 'partial')
        AND r.started_at >= ${now}::timestamptz - interval '7 days') AS failures_7d
    FROM unnest(${[...jobs]}::text[]) WITH ORDINALITY j(job, k)
    ORDER BY j.k`.execute(db);
  // The runs come back as JSON: their times are text there.
  const revive = (x: RunRow | null): RunRow | null =>
    x && {
      ...x,
      started_at: new Date(x.started_at),
      finished_at: x.finished_at === null ? null : new Date(x.finished_at),
    };
  return r.rows.map((row) => ({ ...row, last: revive(row.last), last_failure: revive(row.last_failure) }));
}

/** The latest runs of every job, newest first. */
export async function recentRuns(db: Db, limit: number): Promise<RunRow[]> {
  const r = await sql<RunRow>`
    SELECT ${RUN_COLUMNS} FROM job_run r ORDER BY r.started_at DESC, r.run_id DESC LIMIT ${limit}`.execute(
    db,
  );
  return r.rows;
}

export interface QueueStats {
  /** Jobs waiting (created or retry): the queue's depth. */
  depth: number;
  active: number;
  /** Jobs failed for good in the last 24 hours. */
  failed_24h: number;
  /** Updates written in the last hour, and their completion-to-write latency. */
  completed_1h: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  /** How long the oldest waiting job has waited. */
  oldest_waiting_ms: number | null;
}

/**
 * A pg-boss queue's figures, or null when pg-boss has not created its schema on this database yet
 * (no process has started the queue). Latency is measured as the metric is: from the completion
 * that queued the update (data.completed_at, epoch ms) to the job's completion.
 */
export async function queueStats(db: Db, queue: string, now: Date): Promise<QueueStats | null> {
  const exists = await sql<{ t: string | null }>`SELECT to_regclass('pgboss.job')::text AS t`.execute(db);
  if (!exists.rows[0]?.t) return null;
  const r = await sql<QueueStats>`
    SELECT
      count(*) FILTER (WHERE state IN ('created', 'retry'))::int AS depth,
      count(*) FILTER (WHERE state = 'active')::int AS active,
      count(*) FILTER (WHERE state = 'failed' AND completed_on >= ${now}::timestamptz - interval '1 day')::int AS failed_24h,
      count(*) FILTER (WHERE state = 'completed' AND completed_on >= ${now}::timestamptz - interval '1 hour')::int AS completed_1h,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY lat) FILTER (WHERE lat IS NOT NULL) AS latency_p50_ms,
      percentile_cont(0.95) WITHIN GROUP (ORDER BY lat) FILTER (WHERE lat IS NOT NULL) AS latency_p95_ms,
      (extract(epoch FROM ${now}::timestamptz - min(created_on) FILTER (WHERE state IN ('created', 'retry'))) * 1000)::float8
        AS oldest_waiting_ms
    FROM (
      SELECT state, completed_on, created_on,
        CASE WHEN state = 'completed' AND completed_on >= ${now}::timestamptz - interval '1 hour'
          THEN extract(epoch FROM completed_on) * 1000 - coalesce((data->>'completed_at')::float8,
            extract(epoch FROM created_on) * 1000) END AS lat
      FROM pgboss.job WHERE name = ${queue}
    ) j`.execute(db);
  const row = r.rows[0]!;
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    ...row,
    latency_p50_ms: num(row.latency_p50_ms),
    latency_p95_ms: num(row.latency_p95_ms),
    oldest_waiting_ms: num(row.oldest_waiting_ms),
  };
}
