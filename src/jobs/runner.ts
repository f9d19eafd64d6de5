// Runs a job: a job_run row, the job's lock held for the whole run (two runs of one job never
// overlap, whichever process starts them and whenever the second comes; shards of one job hold it
// shared plus their own), the work of each day (or unit of days, JobDefinition.unitDays) in a
// transaction (a failure or a kill leaves the previous results intact), dry runs rolled back,
// metrics, and a one-line summary. On PostgreSQL the locks are advisory locks of the run's own
// connection, which also holds a liveness lock on its run id, so a run left `running` by a killed
// process is recognised (nobody holds its lock) and marked failed (failLostRuns); the embedded
// database, one session in one process, locks in the process and fails left-over runs when it is
// opened (connection.ts).
import { sql } from 'kysely';
import type { Config } from '../config.js';
import { type Db, isEmbedded } from '../db/connection.js';
import type { Metrics } from '../observability/metrics.js';
import { UserError } from '../user-error.js';
import type { JobContext, JobDefinition, JobResult } from './contract.js';
import { failLostRun, finishRun, insertRun, runningRunIds } from './runs.js';
import { type Shard, shardLabel, WHOLE } from './shard.js';

export class JobAlreadyRunningError extends UserError {
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

/** The locks a run holds: the job's exclusively, or for a shard the job's shared plus its own. */
function lockKeys(job: JobDefinition, shard: Shard): [key: string, shared: boolean][] {
  const whole = `seedtest:job:${job.name}`;
  // Shards share the job's lock (so a whole run waits out all of them) and hold their own exclusively.
  return shard.count === 1
    ? [[whole, false]]
    : [
        [whole, true],
        [`${whole}:${shardLabel(shard)}`, false],
      ];
}

const refusal = (job: JobDefinition, shard: Shard) =>
  new JobAlreadyRunningError(
    `job ${job.name}${shard.count > 1 ? ` shard ${shardLabel(shard)}` : ''} is already running elsewhere; try again when it has finished`,
  );

/** Takes the locks as session locks of the run's own connection; false when another session holds one. */
async function lockOnSession(conn: Db, wanted: [key: string, shared: boolean][]): Promise<boolean> {
  for (const [key, shared] of wanted) {
    const fn = sql.raw(`pg_try_advisory_lock${shared ? '_shared' : ''}`);
    const r = await sql<{ ok: boolean }>`SELECT ${fn}(hashtext(${key})) AS ok`.execute(conn);
    if (!r.rows[0]?.ok) return false;
  }
  return true;
}

/**
 * The locks held by this process's runs on each embedded database: its one session would grant
 * every run the advisory locks (they are re-entrant there), and no other process can open it.
 * A key maps to -1 when held exclusively, else to its number of shared holders.
 */
const heldInProcess = new WeakMap<Db, Map<string, number>>();

/** Takes the locks in this process; returns their release, or undefined when a run holds one. */
function lockInProcess(db: Db, wanted: [key: string, shared: boolean][]): (() => void) | undefined {
  const table = heldInProcess.get(db) ?? new Map<string, number>();
  heldInProcess.set(db, table);
  const free = wanted.every(([key, shared]) => {
    const n = table.get(key) ?? 0;
    return shared ? n >= 0 : n === 0;
  });
  if (!free) return undefined;
  for (const [key, shared] of wanted) table.set(key, shared ? (table.get(key) ?? 0) + 1 : -1);
  return () => {
    for (const [key, shared] of wanted) {
      const n = shared ? table.get(key)! - 1 : 0;
      if (n > 0) table.set(key, n);
      else table.delete(key);
    }
  };
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
  const running = await runningRunIds(db);
  if (running.length === 0) return 0;
  return db.connection().execute(async (conn) => {
    let lost = 0;
    for (const run_id of running) {
      const r = await sql<{ free: boolean }>`
        SELECT pg_try_advisory_lock(${RUN_LOCK_SPACE}, ${runLockKey(run_id)}) AS free`.execute(conn);
      if (!r.rows[0]?.free) continue;
      try {
        if (await failLostRun(conn, run_id)) lost++;
      } finally {
        await sql`SELECT pg_advisory_unlock(${RUN_LOCK_SPACE}, ${runLockKey(run_id)})`.execute(conn);
      }
    }
    return lost;
  });
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
  // The job's locks are taken before the row and held to the end of the run: a newcomer is refused
  // (a failed row saying so) whenever it comes, between two days of a backfill included.
  const wanted = lockKeys(job, shard);
  if (isEmbedded(db)) {
    const release = lockInProcess(db, wanted);
    try {
      const refused = release ? undefined : refusal(job, shard);
      const runId = await insertRun(db, job.name, params);
      return await execute(db, job, dates, config, opts, runId, t0, refused);
    } finally {
      release?.();
    }
  }
  // On a connection kept for the whole run: the job's locks, and the row made visible with its
  // liveness lock already held (taken in the inserting transaction; a session lock outlives it).
  return db.connection().execute(async (conn) => {
    try {
      const locked = await lockOnSession(conn, wanted);
      const runId = await conn.transaction().execute(async (trx) => {
        const runId = await insertRun(trx, job.name, params);
        await sql`SELECT pg_advisory_lock(${RUN_LOCK_SPACE}, ${runLockKey(runId)})`.execute(trx);
        return runId;
      });
      return await execute(db, job, dates, config, opts, runId, t0, locked ? undefined : refusal(job, shard));
    } finally {
      // This connection's only locks are the run's: its job locks and its liveness lock. A
      // connection lost meanwhile (a terminated backend, a failover) took them with it; the failure
      // to unlock must not replace the run's outcome.
      await sql`SELECT pg_advisory_unlock_all()`.execute(conn).catch(() => {});
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
  refused: JobAlreadyRunningError | undefined,
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
    if (refused) throw refused;
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
          ? await db.connection().execute((conn) => job.run(conn, ctx))
          : await db
              .transaction()
              .execute(async (trx) => {
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
  const finish = (outcome: { status: RunOutcome['status']; error: string | null; stats?: string }) =>
    finishRun(db, runId, outcome);
  try {
    await finish({
      status,
      stats: JSON.stringify(stats),
      error: error ?? (status === 'partial' ? `${total.failedIds?.length} failed` : null),
    });
  } catch (err) {
    // The outcome could not be written (a database fault): the run fails, and its row says why.
    error = `recording the outcome (${status}) failed: ${(err as Error).message}`;
    status = 'failed';
    await finish({ status, error });
  }
  recordMetrics(opts.metrics, job, status, durationMs, dryRun, total);
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
  dryRun: boolean,
  result: JobResult,
): void {
  if (!metrics) return;
  metrics.jobRunsTotal.inc({ job: job.name, status });
  metrics.jobDuration.observe({ job: job.name }, durationMs / 1000);
  // A dry run wrote nothing: it is neither a success of the job nor rows written.
  if (dryRun) return;
  if (status === 'succeeded') metrics.jobLastSuccess.set({ job: job.name }, Date.now() / 1000);
  for (const [table, n] of Object.entries(result.written))
    metrics.jobRowsWritten.inc({ job: job.name, table }, n);
}
