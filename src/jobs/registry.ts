// The job registry: names, schedules (UTC cron, spec/pipeline.md), what each run is "for" by
// default, and the function that does the work. The scheduler and the Kubernetes manifests read it.
import type { Config } from '../config.js';
import type { Db } from '../db/connection.js';
import { aggregateFeaturesDaily } from './aggregate-features-daily.js';
import { addDays, utcToday } from './dates.js';
import { mirtCalibrate } from './mirt-calibrate.js';

export interface JobParams {
  /** The day the run is for (YYYY-MM-DD). */
  date: string;
}

/** Counts a run reports; `failed` > 0 marks the run failed while keeping what it wrote (a failed fit's record). */
export interface JobResult {
  rowsWritten: number;
  failed?: number;
  [stat: string]: number | undefined;
}

export interface JobDefinition {
  name: string;
  schedule: string;
  description: string;
  /** The day a run started at `now` is for, when no --date is given. */
  defaultDate(now: Date): string;
  /** Does the work inside the run's transaction. */
  run(trx: Db, params: JobParams, config: Config): Promise<JobResult>;
}

export const JOBS: readonly JobDefinition[] = [
  {
    name: 'aggregate-features-daily',
    schedule: '15 1 * * *',
    description: 'per (learner, topic, day) features for the last AGG_LOOKBACK_DAYS days up to the run date',
    defaultDate: (now) => addDays(utcToday(now), -1),
    run: (trx, { date }, { aggLookbackDays }) =>
      aggregateFeaturesDaily(trx, { from: addDays(date, -(aggLookbackDays - 1)), to: date }),
  },
  {
    name: 'mirt-calibrate',
    schedule: '0 3 * * *',
    description:
      'IRT calibration on the responses of the last MIRT_LOOKBACK_DAYS days, linked to the previous scale',
    defaultDate: (now) => utcToday(now),
    run: (trx, { date }, config) => mirtCalibrate(trx, date, config),
  },
];

export function findJob(name: string): JobDefinition {
  const job = JOBS.find((j) => j.name === name);
  if (!job) throw new RangeError(`unknown job "${name}"; known jobs: ${JOBS.map((j) => j.name).join(', ')}`);
  return job;
}
