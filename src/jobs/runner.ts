// Runs a job: a job_run row, an advisory lock named after the job (two runs of one job never
// overlap, whichever process starts them), the work in one transaction (a failure or a kill
// leaves the previous results intact), dry runs rolled back, and a one-line summary.
import { sql } from 'kysely';
import type { Config } from '../config.js';
import type { Db } from '../db/connection.js';
import type { JobDefinition, JobResult } from './registry.js';

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
  status: 'succeeded' | 'failed';
  result?: JobResult;
  error?: string;
  durationMs: number;
  summary: string;
}

export async function runJob(
  db: Db,
  job: JobDefinition,
  dates: readonly string[],
  config: Config,
  opts: {
    dryRun?: boolean;
    onStart?: (runId: string) => void;
    onDay?: (date: string, result: JobResult) => void;
  } = {},
): Promise<RunOutcome> {
  const t0 = performance.now();
  const params = {
    dates: dates.length === 1 ? dates[0] : { from: dates[0], to: dates.at(-1) },
    dry_run: !!opts.dryRun,
  };
  const { run_id: runId } = await db
    .insertInto('job_run')
    .values({ job: job.name, params: JSON.stringify(params), status: 'running', stats: '{}' })
    .returning('run_id')
    .executeTakeFirstOrThrow();
  opts.onStart?.(runId);
  const total: JobResult = { rowsWritten: 0 };
  try {
    for (const date of dates) {
      const result = await db
        .transaction()
        .execute(async (trx) => {
          const lock = await sql<{
            ok: boolean;
          }>`SELECT pg_try_advisory_xact_lock(hashtext(${`seedtest:job:${job.name}`})) AS ok`.execute(trx);
          if (!lock.rows[0]?.ok)
            throw new JobAlreadyRunningError(
              `job ${job.name} is already running elsewhere; try again when it has finished`,
            );
          const r = await job.run(trx, { date }, config);
          if (opts.dryRun) throw new DryRunRollback(r);
          return r;
        })
        .catch((err: unknown) => {
          if (err instanceof DryRunRollback) return err.result;
          throw err;
        });
      for (const [k, v] of Object.entries(result)) total[k] = (total[k] ?? 0) + (v ?? 0);
      if (result.failed) throw new Error(`${job.name} failed for ${date} (its failure is recorded)`);
      opts.onDay?.(date, result);
    }
    const durationMs = performance.now() - t0;
    await db
      .updateTable('job_run')
      .set({
        status: 'succeeded',
        finished_at: new Date(),
        stats: JSON.stringify({ ...total, days: dates.length }),
      })
      .where('run_id', '=', runId)
      .execute();
    const stats = Object.entries(total)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    return {
      runId,
      status: 'succeeded',
      result: total,
      durationMs,
      summary: `${job.name} run ${runId} succeeded${opts.dryRun ? ' (dry run: nothing written)' : ''}: ${dates.length} day(s) ${dates[0]}..${dates.at(-1)}, ${stats}, ${(durationMs / 1000).toFixed(2)} s`,
    };
  } catch (err) {
    const message = (err as Error).message;
    await db
      .updateTable('job_run')
      .set({ status: 'failed', finished_at: new Date(), error: message, stats: JSON.stringify(total) })
      .where('run_id', '=', runId)
      .execute();
    const durationMs = performance.now() - t0;
    return {
      runId,
      status: 'failed',
      error: message,
      durationMs,
      summary: `${job.name} run ${runId} failed after ${(durationMs / 1000).toFixed(2)} s: ${message}`,
    };
  }
}
