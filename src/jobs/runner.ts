// Runs a job: a job_run row, an advisory lock named after the job (two runs of one job never
// overlap, whichever process starts them; shards of one job take it shared plus their own), the
// work of each day (or unit of days, JobDefinition.unitDays) in a transaction (a failure or a kill
// leaves the previous results intact), dry runs rolled back, metrics, and a one-line summary. On
// PostgreSQL each run also holds a liveness lock on its run id for its whole life, so a run left
// `running` by a killed process is recognised (nobody holds its lock) and marked failed
// (failLostRuns); the embedded database does that when it is opened (connection.ts).
import { sql } from 'kysely';
import type { Config } from '../config.js';
import { type Db, isEmbedded, LOST_RUN_ERROR } from '../db/connection.js';
import type { Metrics } from '../observability/metrics.js';
import type { JobContext, JobDefinition, JobResult } from './registry.js';
import { type Shard, shardLabel, WHOLE } from './shard.js';

export class JobAlreadyRunningError extends Error {
  override name = 'JobAlreadyRunningError';
}

class DryRunRollback extends Error {
  constructor(readonly result: JobResult) {
    super('dry run');
  }
}

export interface RunOutcome {
  runId: string;
  status: 'succeeded' | 'partial' | 'failed';
  result: JobResult;
  error?: string;
  durationMs: number;
  summary: string;
}

export interface RunOptions {
  dryRun?: boolean;
  shard?: Shard;
  /** Only these learners (`--user`); jobs that do not loop over learners ignore it. */
  users?: readonly string[];
  /** Aborting stops the run between units of work; the run is recorded as failed. */
  signal?: AbortSignal;
  metrics?: Metrics;
  onStart?: (runId: string) => void;
  onDay?: (date: string, result: JobResult) => void;
  onProgress?: (date: string, done: number, total: number) => void;
}

const MAX_LISTED_FAILURES = 50;

/** Takes the job's lock (transaction- or session-scoped), or throws JobAlreadyRunningError. */
async function lock(db: Db, job: JobDefinition, shard: Shard, scope: 'xact' | 'session'): Promise<void> {
  const whole = `seedtest:job:${job.name}`;
  // A shard holds the job's lock shared (so whole runs wait out all shards) and its own exclusively.
  const wanted: [key: string, shared: boolean][] =
    shard.count === 1
      ? [[whole, false]]
      : [
          [whole, true],
          [`${whole}:${shardLabel(shard)}`, false],
        ];
  for (const [key, shared] of wanted) {
    const fn = sql.raw(`pg_try_advisory${scope === 'xact' ? '_xact' : ''}_lock${shared ? '_shared' : ''}`);
    const r = await sql<{ ok: boolean }>`SELECT ${fn}(hashtext(${key})) AS ok`.execute(db);
    if (!r.rows[0]?.ok) {
      if (scope === 'session') await unlock(db);
      throw new JobAlreadyRunningError(
        `job ${job.name}${shard.count > 1 ? ` shard ${shardLabel(shard)}` : ''} is already running elsewhere; try again when it has finished`,
      );
    }
  }
}

/** Liveness locks live in the two-key advisory lock space (job locks use the one-key space). */
const RUN_LOCK_SPACE = sql`hashtext('seedtest:run')`;
const runLockKey = (runId: string) => sql`(${runId}::bigint % 2147483647)::int`;

/**
 * Marks the runs still `running` whose liveness lock nobody holds — their process ended without
 * recording an outcome — as failed; returns how many. On the embedded database every run belongs
 * to this process (openEmbedded fails the left-over ones), so there is nothing to do.
 */
export async function failLostRuns(db: Db): Promise<number> {
  if (isEmbedded(db)) return 0;
  const running = await db.selectFrom('job_run').select('run_id').where('status', '=', 'running').execute();
  if (running.length === 0) return 0;
  return db.connection().execute(async (conn) => {
    let lost = 0;
    for (const { run_id } of running) {
      const r = await sql<{ free: boolean }>`
        SELECT pg_try_advisory_lock(${RUN_LOCK_SPACE}, ${runLockKey(run_id)}) AS free`.execute(conn);
      if (!r.rows[0]?.free) continue;
      try {
        const u = await conn
          .updateTable('job_run')
          .set({ status: 'failed', finished_at: new Date(), error: LOST_RUN_ERROR })
          .where('run_id', '=', run_id)
          .where('status', '=', 'running')
          .executeTakeFirst();
        lost += Number(u.numUpdatedRows);
      } finally {
        await sql`SELECT pg_advisory_unlock(${RUN_LOCK_SPACE}, ${runLockKey(run_id)})`.execute(conn);
      }
    }
    return lost;
  });
}

/** Releases the session-scoped locks this connection holds (only the job's: it is the connection's sole user). */
async function unlock(db: Db): Promise<void> {
  await sql`SELECT pg_advisory_unlock_all()`.execute(db);
}

function add(total: JobResult, day: JobResult): void {
  for (const [table, n] of Object.entries(day.written))
    total.written[table] = (total.written[table] ?? 0) + n;
  for (const [name, n] of Object.entries(day.counts ?? {})) {
    total.counts ??= {};
    total.counts[name] = (total.counts[name] ?? 0) + n;
  }
  if (day.failedIds?.length) total.failedIds = [...(total.failedIds ?? []), ...day.failedIds];
  if (day.note) total.note = day.note;
  if (day.failure) total.failure = day.failure;
}

/** The summary's account of a run; a dry run's rows were rolled back, so they are what it would write. */
function describe(result: JobResult, dryRun: boolean): string {
  const written = Object.entries(result.written);
  const verb = dryRun ? 'would write' : 'written';
  const parts = [
    written.length ? `${verb} ${written.map(([t, n]) => `${t}=${n}`).join(' ')}` : `${verb} nothing`,
    ...Object.entries(result.counts ?? {}).map(([k, v]) => `${k}=${v}`),
  ];
  if (result.failedIds?.length) {
    const ids = result.failedIds;
    parts.push(
      `failed ${ids.length}: ${ids.slice(0, MAX_LISTED_FAILURES).join(', ')}${ids.length > MAX_LISTED_FAILURES ? ', …' : ''}`,
    );
  }
  if (result.note) parts.push(result.note);
  return parts.join(', ');
}

export async function runJob(
  db: Db,
  job: JobDefinition,
  dates: readonly string[],
  config: Config,
  opts: RunOptions = {},
): Promise<RunOutcome> {
  const t0 = performance.now();
  const shard = opts.shard ?? WHOLE;
  const dryRun = !!opts.dryRun;
  const params = {
    dates: dates.length === 1 ? dates[0] : { from: dates[0], to: dates.at(-1) },
    dry_run: dryRun,
    ...(shard.count > 1 ? { shard: shardLabel(shard) } : {}),
    ...(opts.users ? { users: opts.users } : {}),
  };
  await failLostRuns(db);
  const insertRun = (into: Db) =>
    into
      .insertInto('job_run')
      .values({ job: job.name, params: JSON.stringify(params), status: 'running', stats: '{}' })
      .returning('run_id')
      .executeTakeFirstOrThrow();
  if (isEmbedded(db)) {
    const { run_id } = await insertRun(db);
    return execute(db, job, dates, config, opts, run_id, t0);
  }
  // The row becomes visible with its liveness lock already held: taken in the inserting transaction
  // (a session lock outlives it) on a connection kept for the whole run.
  return db.connection().execute(async (conn) => {
    const runId = await conn.transaction().execute(async (trx) => {
      const { run_id } = await insertRun(trx);
      await sql`SELECT pg_advisory_lock(${RUN_LOCK_SPACE}, ${runLockKey(run_id)})`.execute(trx);
      return run_id;
    });
    try {
      return await execute(db, job, dates, config, opts, runId, t0);
    } finally {
      // A connection lost meanwhile (a terminated backend, a failover) took the lock with it; the
      // failure to unlock must not replace the run's outcome.
      await sql`SELECT pg_advisory_unlock(${RUN_LOCK_SPACE}, ${runLockKey(runId)})`
        .execute(conn)
        .catch(() => {});
    }
  });
}

/** The run after its job_run row exists: the days, the outcome row, metrics and the summary. */
async function execute(
  db: Db,
  job: JobDefinition,
  dates: readonly string[],
  config: Config,
  opts: RunOptions,
  runId: string,
  t0: number,
): Promise<RunOutcome> {
  const shard = opts.shard ?? WHOLE;
  const dryRun = !!opts.dryRun;
  const signal = opts.signal ?? new AbortController().signal;
  opts.onStart?.(runId);
  const total: JobResult = { written: {} };
  let status: RunOutcome['status'] = 'succeeded';
  let error: string | undefined;
  const unitDays = job.unitDays ?? 1;
  try {
    for (let i = 0; i < dates.length; i += unitDays) {
      // Let signal handlers run: on the embedded database a run can be all microtasks, and a
      // SIGTERM would otherwise be handled only after the last day.
      await new Promise((resolve) => setImmediate(resolve));
      signal.throwIfAborted();
      const unit = dates.slice(i, i + unitDays);
      const date = unit.at(-1)!;
      const ctx: JobContext = {
        date,
        firstDate: unit[0]!,
        ...(i > 0 ? { previousDate: dates[i - 1] } : {}),
        config,
        shard,
        users: opts.users,
        metrics: opts.metrics,
        dryRun,
        signal,
        progress: (done, n) => opts.onProgress?.(date, done, n),
      };
      const result =
        job.mode === 'connection'
          ? await db.connection().execute(async (conn) => {
              await lock(conn, job, shard, 'session');
              try {
                return await job.run(conn, ctx);
              } finally {
                await unlock(conn);
              }
            })
          : await db
              .transaction()
              .execute(async (trx) => {
                await lock(trx, job, shard, 'xact');
                const r = await job.run(trx, ctx);
                if (dryRun) throw new DryRunRollback(r);
                return r;
              })
              .catch((err: unknown) => {
                if (err instanceof DryRunRollback) return err.result;
                throw err;
              });
      add(total, result);
      opts.onDay?.(date, result);
      if (result.failure) throw new Error(`${job.name} failed for ${date}: ${result.failure}`);
    }
    if (total.failedIds?.length) status = 'partial';
  } catch (err) {
    status = 'failed';
    error = signal.aborted ? `interrupted (${String(signal.reason ?? 'aborted')})` : (err as Error).message;
  }
  const durationMs = performance.now() - t0;
  const stats = {
    written: total.written,
    ...total.counts,
    days: dates.length,
    ...(total.failedIds?.length ? { failed_ids: total.failedIds } : {}),
    ...(total.note ? { note: total.note } : {}),
  };
  await db
    .updateTable('job_run')
    .set({
      status,
      finished_at: new Date(),
      stats: JSON.stringify(stats),
      error: error ?? (status === 'partial' ? `${total.failedIds?.length} failed` : null),
    })
    .where('run_id', '=', runId)
    .execute();
  recordMetrics(opts.metrics, job, status, durationMs, dryRun ? { written: {} } : total);
  const span =
    dates.length === 1
      ? dates[0]
      : `${dates.length} ${job.period === 'week' ? 'weeks' : 'days'} ${dates[0]}..${dates.at(-1)}`;
  const head = `${job.name} run ${runId} ${status}${dryRun ? ' (dry run)' : ''}`;
  const scope = shard.count > 1 ? ` shard ${shardLabel(shard)}` : '';
  const seconds = `${(durationMs / 1000).toFixed(2)} s`;
  return {
    runId,
    status,
    result: total,
    error,
    durationMs,
    summary:
      status === 'failed'
        ? `${head} after ${seconds} (${span}${scope}): ${error}`
        : `${head}: ${span}${scope}, ${describe(total, dryRun)}, ${seconds}`,
  };
}

function recordMetrics(
  metrics: Metrics | undefined,
  job: JobDefinition,
  status: RunOutcome['status'],
  durationMs: number,
  result: JobResult,
): void {
  if (!metrics) return;
  metrics.jobRunsTotal.inc({ job: job.name, status });
  metrics.jobDuration.observe({ job: job.name }, durationMs / 1000);
  if (status === 'succeeded') metrics.jobLastSuccess.set({ job: job.name }, Date.now() / 1000);
  for (const [table, n] of Object.entries(result.written))
    metrics.jobRowsWritten.inc({ job: job.name, table }, n);
}
