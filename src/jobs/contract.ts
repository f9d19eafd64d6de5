// The job contract: what a job module is given (JobContext), what it returns (JobResult), and how the
// registry describes it (JobDefinition). Jobs import this file; only the registry imports the jobs.
import type { Config } from '../config.js';
import type { Db } from '../db/connection.js';
import type { Metrics } from '../observability/metrics.js';
import type { Shard } from './shard.js';

/** What one unit of a run (a day, a week, or consecutive days: JobDefinition.unitDays) gets. */
export interface JobContext {
  /**
   * The day the run is for (YYYY-MM-DD); for weekly jobs the Monday of the week; in a unit of
   * several days, the last of them.
   */
  date: string;
  /** The unit's first day: `date` itself unless the job takes several days per unit. */
  firstDate: string;
  /**
   * The last day of the previous unit of the same run, if any: a job whose day reads the days before
   * it need not redo what that unit wrote.
   */
  previousDate?: string;
  config: Config;
  /** The learners this run covers (`--shard i/n`); jobs that do not loop over learners ignore it. */
  shard: Shard;
  /** Only these learners (`--user`), for jobs over learners; undefined means all of the shard. */
  users?: readonly string[];
  /** The process's metrics, for job-specific figures (reports generated, inactive learners). */
  metrics?: Metrics;
  /** Computes everything and writes nothing; transaction-mode jobs are rolled back by the runner. */
  dryRun: boolean;
  /** Progress within this day's work (learners, items…), for the bar or the log lines. */
  progress(done: number, total: number): void;
  /** Aborted on SIGTERM: long loops stop between units of work. */
  signal: AbortSignal;
}

/** What a run for one day did. */
export interface JobResult {
  /** Rows written per table: job_run.stats, the summary line, seedtest_job_rows_written_total. */
  written: Record<string, number>;
  /** Other named counts for the summary (rows read, learners skipped…). */
  counts?: Record<string, number>;
  /** Learners (or items) that failed without stopping the batch: the run ends `partial`. */
  failedIds?: string[];
  /** The run failed; what the job wrote (its failure record) is kept. */
  failure?: string;
  /** Said in the summary, e.g. "nothing to do: no responses in the window". */
  note?: string;
}

export interface JobDefinition {
  name: string;
  schedule: string;
  description: string;
  /** Whether --from/--to steps by day or by ISO week (dates are then Mondays). */
  period: 'day' | 'week';
  /** The day a run started at `now` is for, when no --date is given. */
  defaultDate(now: Date): string;
  /**
   * 'transaction': the runner runs each unit (a day unless unitDays) in one transaction.
   * 'connection': the job gets one connection and writes in its own transactions (per-learner work
   * with side effects outside the database, like stored report files).
   * Either way the runner holds the job's lock for the whole run.
   */
  mode: 'transaction' | 'connection';
  /** Why `--shard` is refused, for a job that does not split over learners; unset when it does. */
  unshardable?: string;
  /** How many consecutive days of a range run one unit (one transaction, one `run`) covers; 1 if unset. */
  unitDays?: number;
  run(db: Db, ctx: JobContext): Promise<JobResult>;
}
