// The weekly KPIs of a set of learners as of a day: inputs read in bulk per batch (inputs.ts), the
// KPIs computed by the pure maths (kpis.ts), rows upserted by the repository. The compute-daily-kpis
// job, the recompute route and the reports job all come through here.
import type { Config } from '../config.js';
import type { Db } from '../db/connection.js';
import { isoWeekStart } from '../jobs/dates.js';
import { type Shard, WHOLE } from '../jobs/shard.js';
import { KPI_BATCH, loadKpiInputs } from './inputs.js';
import { computeKpis } from './kpis.js';
import { activeLearners, upsertWeeklyKpis, type WeeklyKpiRow } from './repository.js';

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

export interface WeeklyKpiOutcome {
  rows: WeeklyKpiRow[];
  /** Rows inserted or changed (a row whose KPIs did not change is left alone). */
  written: number;
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
  return { rows, written: await upsertWeeklyKpis(db, weekStart, asOf, rows) };
}
