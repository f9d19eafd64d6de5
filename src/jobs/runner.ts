// Runs a job: a job_run row, an advisory lock named after the job (two runs of one job never
// overlap, whichever process starts them; shards of one job take it shared plus their own), the
// work of each day in a transaction (a failure or a kill leaves the previous results intact), dry
// runs rolled back, metrics, and a one-line summary.
import { sql } from 'kysely';
import type { Config } from '../config.js';
import type { Db } from '../db/connection.js';
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

function describe(result: JobResult): string {
  const written = Object.entries(result.written);
  const parts = [
    written.length ? `written ${written.map(([t, n]) => `${t}=${n}`).join(' ')}` : 'nothing written',
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
  const signal = opts.signal ?? new AbortController().signal;
  const params = {
    dates: dates.length === 1 ? dates[0] : { from: dates[0], to: dates.at(-1) },
    dry_run: dryRun,
    ...(shard.count > 1 ? { shard: shardLabel(shard) } : {}),
    ...(opts.users ? { users: opts.users } : {}),
  };
  const { run_id: runId } = await db
    .insertInto('job_run')
    .values({ job: job.name, params: JSON.stringify(params), status: 'running', stats: '{}' })
    .returning('run_id')
    .executeTakeFirstOrThrow();
  opts.onStart?.(runId);
  const total: JobResult = { written: {} };
  let status: RunOutcome['status'] = 'succeeded';
  let error: string | undefined;
  try {
    for (const date of dates) {
      // Let signal handlers run: on the embedded database a run can be all microtasks, and a
      // SIGTERM would otherwise be handled only after the last day.
      await new Promise((resolve) => setImmediate(resolve));
      signal.throwIfAborted();
      const ctx: JobContext = {
        date,
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
  const head = `${job.name} run ${runId} ${status}${dryRun ? ' (dry run: nothing written)' : ''}`;
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
        : `${head}: ${span}${scope}, ${describe(total)}, ${seconds}`,
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
