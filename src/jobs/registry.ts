// The job registry: names, schedules (UTC cron, spec/pipeline.md), what each run is "for" by
// default, and the function that does the work. The scheduler and the Kubernetes manifests read it.

import { mirtCalibrate } from '../calibration/job.js';
import { aggregateFeaturesDaily } from '../features/job.js';
import { detectInactivity } from '../inactivity/job.js';
import { computeDailyKpis } from '../kpis/job.js';
import { InvalidInputError } from '../user-error.js';
import type { JobDefinition } from './contract.js';
import { addDays, isoWeekStart, utcToday } from './dates.js';
import { parseShard, type Shard, WHOLE } from './shard.js';

export const JOBS: readonly JobDefinition[] = [
  {
    name: 'aggregate-features-daily',
    schedule: '15 1 * * *',
    description: 'per (learner, topic, day) features for the last AGG_LOOKBACK_DAYS days up to the run date',
    period: 'day',
    mode: 'transaction',
    defaultDate: (now) => addDays(utcToday(now), -1),
    // A run for day D recomputes the AGG_LOOKBACK_DAYS days ending D, reading 27 days more for the
    // improvement windows. A backfill takes 14 days per statement and does not redo the days the
    // unit before it wrote: it reads each day about 3 times instead of 34 (with the default 7).
    unitDays: 14,
    unshardable: 'it aggregates every learner in one statement',
    run: (trx, { firstDate, date, previousDate, config }) => {
      const lookbackStart = addDays(firstDate, -(config.aggLookbackDays - 1));
      const from = previousDate && previousDate >= lookbackStart ? addDays(previousDate, 1) : lookbackStart;
      return aggregateFeaturesDaily(trx, { from, to: date });
    },
  },
  {
    name: 'mirt-calibrate',
    schedule: '0 3 * * *',
    description:
      'IRT calibration on the responses of the last MIRT_LOOKBACK_DAYS days, linked to the previous scale',
    period: 'day',
    mode: 'transaction',
    defaultDate: (now) => utcToday(now),
    unshardable: 'it is one fit of all the responses',
    run: (trx, { date, config, metrics, dryRun }) =>
      mirtCalibrate(trx, date, config, dryRun ? undefined : metrics),
  },
  {
    name: 'compute-daily-kpis',
    schedule: '10 2 * * *',
    description:
      'the six KPIs of the current ISO week, as of the run date, for every learner active in the last KPI_LOOKBACK_DAYS days',
    period: 'day',
    mode: 'transaction',
    defaultDate: (now) => utcToday(now),
    run: computeDailyKpis,
  },
  {
    name: 'detect-inactivity',
    schedule: '0 5 * * *',
    description:
      'alerts for learners without an attempt for INACTIVITY_THRESHOLD_DAYS days; their P and S merged into weekly_kpi',
    period: 'day',
    mode: 'transaction',
    defaultDate: (now) => utcToday(now),
    run: detectInactivity,
  },
  {
    name: 'generate-weekly-report',
    schedule: '0 4 * * 1',
    description:
      'a report per learner (HTML and PDF, REPORT_FORMATS) for the ISO week that ended yesterday, stored and recorded in report_artifacts',
    period: 'week',
    mode: 'connection',
    defaultDate: (now) => isoWeekStart(addDays(utcToday(now), -7)),
    // Loaded on first use: the renderers (Plot, pdfmake) stay out of every other command's start-up.
    run: async (db, ctx) => (await import('../reports/job.js')).generateWeeklyReports(db, ctx),
  },
];

/** `--shard i/n` for this job: InvalidInputError when the text is not a shard or the job does not shard. */
export function jobShard(job: JobDefinition, text: string | undefined): Shard {
  const shard = text === undefined ? WHOLE : parseShard(text);
  if (shard.count > 1 && job.unshardable) {
    throw new InvalidInputError(`${job.name} cannot be sharded: ${job.unshardable}`);
  }
  return shard;
}

export function findJob(name: string): JobDefinition {
  const job = JOBS.find((j) => j.name === name);
  if (!job)
    throw new InvalidInputError(`unknown job "${name}"; known jobs: ${JOBS.map((j) => j.name).join(', ')}`);
  return job;
}
