// compute-daily-kpis: the six KPIs of one ISO week, as of a day, for every learner with an attempt
// in the KPI_LOOKBACK_DAYS days ending that day (within the shard). Inputs are loaded in bulk per
// batch of learners, the KPIs are pure functions (src/kpis/kpis.ts), and the rows are written
// by one set-based upsert on (user_id, week_start) that replaces the whole kpis object.
import { sql } from 'kysely';
import type { Config } from '../config.js';
import type { Db } from '../db/connection.js';
import type { Kpis } from '../db/schema.js';
import type { JobContext, JobResult } from '../jobs/contract.js';
import { isoWeekStart } from '../jobs/dates.js';
import { inShard, type Shard, WHOLE } from '../jobs/shard.js';
import { KPI_BATCH, loadKpiInputs } from './inputs.js';
import { computeKpis, window } from './kpis.js';

/** Batch reads in flight while a batch is computed. */
const READS_IN_FLIGHT = 2;

export interface WeeklyKpiRequest {
  /** The day the KPIs are as of; the row is the one of its ISO week (see kpiAsOf for a past week). */
  asOf: string;
  config: Config;
  shard?: Shard;
  /** Only these learners (still only those active in the lookback). */
  userIds?: readonly string[];
  signal?: AbortSignal;
  progress?: (done: number, total: number) => void;
}

export interface WeeklyKpiRow {
  user_id: string;
  week_start: string;
  as_of: string;
  kpis: Kpis;
}

export interface WeeklyKpiOutcome {
  rows: WeeklyKpiRow[];
  /** Rows inserted or changed (a row whose KPIs did not change is left alone). */
  written: number;
}

/** The learners whose KPIs a run as of `asOf` computes, in id order. */
export async function activeLearners(
  db: Db,
  asOf: string,
  lookbackDays: number,
  shard: Shard,
  userIds?: readonly string[],
): Promise<string[]> {
  const w = window(asOf, lookbackDays);
  const only = userIds ? sql`AND l.user_id = ANY(${[...userIds]}::text[])` : sql``;
  const r = await sql<{ user_id: string }>`
    SELECT l.user_id FROM learner l
    WHERE ${inShard(sql`l.user_id`, shard)} ${only}
      AND EXISTS (SELECT 1 FROM attempt a WHERE a.user_id = l.user_id
        AND a.answered_at >= ${new Date(w.start).toISOString()}::timestamptz
        AND a.answered_at < ${new Date(w.end).toISOString()}::timestamptz)
    ORDER BY l.user_id`.execute(db);
  return r.rows.map((x) => x.user_id);
}

/**
 * Computes and upserts the weekly KPIs of the week containing `asOf`, as of `asOf`, for the active
 * learners of the shard (or of `userIds`). Used by the job, the recompute route and the reports job.
 */
export async function computeWeeklyKpis(db: Db, req: WeeklyKpiRequest): Promise<WeeklyKpiOutcome> {
  const { asOf, config } = req;
  const weekStart = isoWeekStart(asOf);
  const settings = {
    asOf,
    useIrtTheta: config.kpi.useIrtTheta,
    defaultTarget: config.kpi.defaultTarget,
    churnHorizonDays: config.kpi.churnHorizonDays,
  };
  const learners = await activeLearners(db, asOf, config.kpi.lookbackDays, req.shard ?? WHOLE, req.userIds);
  const rows: WeeklyKpiRow[] = [];
  // The next batches are read while this one is computed: the database (on a server, on its own
  // cores, one connection per read) and the process overlap.
  const reads: ReturnType<typeof loadKpiInputs>[] = [];
  let nextRead = 0;
  const readAhead = () => {
    while (reads.length < READS_IN_FLIGHT && nextRead < learners.length) {
      const p = loadKpiInputs(db, learners.slice(nextRead, nextRead + KPI_BATCH), asOf);
      p.catch(() => {}); // awaited below; an abort between batches must not leave it unhandled
      reads.push(p);
      nextRead += KPI_BATCH;
    }
  };
  readAhead();
  for (let i = 0; i < learners.length; i += KPI_BATCH) {
    const inputs = await reads.shift()!;
    req.signal?.throwIfAborted();
    readAhead();
    for (const [userId, input] of inputs) {
      rows.push({ user_id: userId, week_start: weekStart, as_of: asOf, kpis: computeKpis(input, settings) });
    }
    req.progress?.(Math.min(learners.length, i + KPI_BATCH), learners.length);
  }
  if (rows.length === 0) return { rows, written: 0 };
  const written = await sql`
    INSERT INTO weekly_kpi (user_id, week_start, kpis, as_of)
    SELECT u, ${weekStart}::date, k, ${asOf}::date
    FROM unnest(${rows.map((r) => r.user_id)}::text[], ${rows.map((r) => JSON.stringify(r.kpis))}::jsonb[]) AS x(u, k)
    ON CONFLICT (user_id, week_start) DO UPDATE SET kpis = excluded.kpis, as_of = excluded.as_of, updated_at = now()
    WHERE weekly_kpi.kpis IS DISTINCT FROM excluded.kpis OR weekly_kpi.as_of IS DISTINCT FROM excluded.as_of`.execute(
    db,
  );
  return { rows, written: Number(written.numAffectedRows ?? 0) };
}

export async function computeDailyKpis(db: Db, ctx: JobContext): Promise<JobResult> {
  const { rows, written } = await computeWeeklyKpis(db, {
    asOf: ctx.date,
    config: ctx.config,
    shard: ctx.shard,
    userIds: ctx.users,
    signal: ctx.signal,
    progress: ctx.progress,
  });
  return {
    written: { weekly_kpi: written },
    counts: { learners: rows.length, unchanged: rows.length - written },
    ...(rows.length === 0
      ? {
          note: `nothing to do: no learner with an attempt in the ${ctx.config.kpi.lookbackDays} days ending ${ctx.date}`,
        }
      : {}),
  };
}
