// The whole pipeline over the demo's weeks, as the schedule would have run it: features backfilled
// day by day over the whole span, then at the end of each week a calibration (linked to the previous
// week's) and that week's KPIs, then today's calibration, KPIs and inactivity check, and the reports
// of the last complete week. Prints each run's summary and an overview of what the database now holds.
import { sql } from 'kysely';
import type { Config } from '../config.js';
import type { Db } from '../db/connection.js';
import { addDays, runDays } from '../jobs/dates.js';
import { findJob } from '../jobs/registry.js';
import { runJob } from '../jobs/runner.js';
import { UserError } from '../user-error.js';

const TABLES = [
  'learner',
  'item',
  'exam_session',
  'attempt',
  'features_topic_daily',
  'weekly_kpi',
  'mirt_fit_meta',
  'mirt_item_params',
  'mirt_ability',
  'inactivity_alert',
  'report_artifacts',
  'job_run',
] as const;

const AT_RISK_SHOWN = 5;

/** A job of the demo failed: its summary says why (one line, no stack trace). */
export class DemoError extends UserError {
  override name = 'DemoError';
}

export async function runDemoPipeline(
  db: Db,
  config: Config,
  opts: { firstMonday: string; weeks: number; today: string; log: (line: string) => void },
): Promise<{ reportWeek?: string }> {
  const { firstMonday, weeks, today, log } = opts;
  const run = async (name: string, dates: string[]) => {
    const outcome = await runJob(db, findJob(name), dates, config);
    // A small platform may not give a week enough responses per item to calibrate: that week goes
    // without (the KPIs and later calibrations do not need it), the pipeline goes on.
    if (outcome.status === 'failed' && name === 'mirt-calibrate') {
      log(`mirt-calibrate ${dates.join(', ')} skipped: ${outcome.result.failure ?? outcome.error}`);
      return;
    }
    log(outcome.summary);
    if (outcome.status === 'failed') throw new DemoError(`the demo pipeline stopped: ${outcome.summary}`);
  };
  // A backfill of every day, as an operator would run one (14 days per transaction, each day once).
  await run('aggregate-features-daily', runDays({ from: firstMonday, to: today }, today));
  for (let w = 0; w < weeks; w++) {
    const asOf = [addDays(firstMonday, 7 * w + 6), today].sort()[0]!;
    await run('mirt-calibrate', [asOf]);
    await run('compute-daily-kpis', [asOf]);
  }
  await run('detect-inactivity', [today]);
  // The last complete week: the one before the current.
  const reportWeek = weeks > 1 ? addDays(firstMonday, 7 * (weeks - 2)) : undefined;
  if (reportWeek) await run('generate-weekly-report', [reportWeek]);
  await overview(db, log);
  return { reportWeek };
}

async function overview(db: Db, log: (line: string) => void): Promise<void> {
  const counts = await Promise.all(
    TABLES.map(async (t) => {
      const r = await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(t)}`.execute(db);
      return `${t}=${r.rows[0]?.n}`;
    }),
  );
  log(`\nrows: ${counts.join(' ')}`);
  const fit = await db
    .selectFrom('mirt_fit_meta')
    .select(['run_id', 'model', 'metrics', 'model_spec'])
    .where('status', '=', 'succeeded')
    .orderBy('fitted_at', 'desc')
    .executeTakeFirst();
  if (fit) {
    const m = fit.metrics as { logLik?: number; iterations?: number; converged?: boolean };
    const link = (fit.model_spec as { linking?: { method?: string; n_anchors?: number } }).linking;
    log(
      `latest calibration ${fit.run_id}: ${fit.model}, logLik ${m.logLik?.toFixed(1)}, ${m.iterations} EM cycles` +
        `${m.converged ? '' : ' (not converged)'}, linked by ${link?.method ?? 'none'} on ${link?.n_anchors ?? 0} anchors`,
    );
  }
  const atRisk = await sql<{ user_id: string; week_start: string; s: number; p: number | null }>`
    SELECT user_id, week_start, (kpis->>'S')::float8 AS s, (kpis->>'P')::float8 AS p
    FROM weekly_kpi
    WHERE week_start = (SELECT max(week_start) FROM weekly_kpi) AND kpis->>'S' IS NOT NULL
    ORDER BY s DESC, user_id
    LIMIT ${AT_RISK_SHOWN}`.execute(db);
  if (atRisk.rows.length > 0) {
    log(`learners most at risk of churning (week of ${atRisk.rows[0]?.week_start}):`);
    for (const r of atRisk.rows) {
      log(`  ${r.user_id}  S=${r.s.toFixed(2)}  P(goal)=${r.p === null ? 'n/a' : r.p.toFixed(2)}`);
    }
  }
}
