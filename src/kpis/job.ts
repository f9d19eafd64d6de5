// compute-daily-kpis: the six KPIs of one ISO week, as of a day, for every learner with an attempt
// in the KPI_LOOKBACK_DAYS days ending that day (within the shard). Inputs are loaded in bulk per
// batch of learners, the KPIs are pure functions (src/kpis/kpis.ts), and the rows are written
// by one set-based upsert on (user_id, week_start) that replaces the whole kpis object.
import type { Db } from '../db/connection.js';
import type { JobContext, JobResult } from '../jobs/contract.js';
import { computeWeeklyKpis } from './service.js';

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
