// The in-process scheduler (ENABLE_SCHEDULER): every tick it finds the cron slots of the registry's
// jobs that have come due and puts one queue job per slot on pg-boss, with an id derived from
// (job, slot) so several replicas ticking the same minute enqueue it once. Whichever process's
// worker takes it runs the job through the runner (advisory lock, job_run row, metrics). A tick also
// fails the runs whose process died (failLostRuns). The clock is injectable: tests move time and
// call tick() instead of waiting for the cron.
import { createHash } from 'node:crypto';
import type { Config } from '../config.js';
import type { Database } from '../db/connection.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { ensureQueue, type Queue } from '../queue/boss.js';
import { type Cron, fireTimes, parseCron } from './cron.js';
import { findJob, JOBS } from './registry.js';
import { failLostRuns, runJob } from './runner.js';

export const SCHEDULED_JOBS_QUEUE = 'seedtest-scheduled-jobs';
const TICK_MS = 30_000;
/** A slot missed by more than this (the process was down) is skipped, like a CronJob's startingDeadlineSeconds. */
const STARTING_DEADLINE_MS = 60 * 60_000;
/** Long enough for a weekly report batch; a run past it is failed by pg-boss (job_run keeps the truth). */
const RUN_EXPIRY_SECONDS = 4 * 3600;

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface ScheduledRun {
  job: string;
  /** The cron slot (ISO time) the run is for. */
  slot: string;
}

export interface Scheduler {
  /** Enqueues the slots that came due since the last tick; returns those this call enqueued. */
  tick(): Promise<ScheduledRun[]>;
  stop(): Promise<void>;
}

/** The registry's schedules with the configuration's overrides applied. */
export function schedules(config: Config): { job: string; cron: Cron }[] {
  return JOBS.map((j) => ({ job: j.name, cron: parseCron(config.scheduleOverrides[j.name] ?? j.schedule) }));
}

/** A UUID derived from (job, slot): the same slot gets the same queue job id in every replica. */
function slotId(run: ScheduledRun): string {
  const h = createHash('sha256').update(`${run.job}@${run.slot}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export async function startScheduler(opts: {
  queue: Queue;
  database: Database;
  config: Config;
  logger: Logger;
  metrics?: Metrics;
  clock?: Clock;
  /** Tick on a timer (production) or only when tick() is called (tests). */
  timer?: boolean;
  /** Also take scheduled runs off the queue and run them in this process. */
  work?: boolean;
}): Promise<Scheduler> {
  const { queue, database, config, logger, metrics } = opts;
  const clock = opts.clock ?? systemClock;
  const crons = schedules(config);
  const { boss } = queue;
  await ensureQueue(boss, { name: SCHEDULED_JOBS_QUEUE, retryLimit: 0 });
  let last = clock.now();

  async function tick(): Promise<ScheduledRun[]> {
    const now = clock.now();
    const from = new Date(Math.max(last.getTime(), now.getTime() - STARTING_DEADLINE_MS));
    last = now;
    const enqueued: ScheduledRun[] = [];
    for (const { job, cron } of crons) {
      // Several slots due at once (a long pause) collapse into the latest, as cron does.
      const due = fireTimes(cron, from, now).at(-1);
      if (!due) continue;
      const run = { job, slot: due.toISOString() };
      const id = await boss.send(SCHEDULED_JOBS_QUEUE, run, {
        id: slotId(run),
        expireInSeconds: RUN_EXPIRY_SECONDS,
      });
      if (id) {
        enqueued.push(run);
        logger.info(run, `scheduled ${job} for ${run.slot}`);
      }
    }
    // Runs whose process died stay `running` until someone looks: here, every tick (PostgreSQL).
    const lost = await failLostRuns(database.db);
    if (lost)
      logger.warn({ lost }, `${lost} job run(s) failed as lost: their process ended without an outcome`);
    return enqueued;
  }

  if (opts.work) {
    await boss.work<ScheduledRun>(SCHEDULED_JOBS_QUEUE, { batchSize: 1 }, async ([item]) => {
      if (!item) return;
      const job = findJob(item.data.job);
      const date = job.defaultDate(new Date(item.data.slot));
      const outcome = await runJob(database.db, job, [date], config, { metrics });
      // A failed run is recorded in job_run and alerted on; it is not retried blindly.
      logger[outcome.status === 'succeeded' ? 'info' : 'error']({ runId: outcome.runId }, outcome.summary);
    });
  }

  let ticking: Promise<unknown> = Promise.resolve();
  const interval =
    opts.timer === false
      ? undefined
      : setInterval(() => {
          ticking = tick().catch((err: unknown) => logger.error({ err }, 'scheduler tick failed'));
        }, TICK_MS);
  interval?.unref();
  logger.info(
    { schedules: crons.map((c) => `${c.job} ${c.cron.expression}`) },
    `scheduler started (${crons.length} jobs, UTC)`,
  );
  return {
    tick,
    async stop() {
      if (interval) clearInterval(interval);
      await ticking;
      if (opts.work) await boss.offWork(SCHEDULED_JOBS_QUEUE);
    },
  };
}
