// The θ-update queue: a session completion enqueues an update for its learner (one queued job
// per learner: repeated completions collapse while it waits), a worker takes jobs in batches and
// runs the online update, failures retry with exponential backoff, and nothing queued is lost on
// restart (the jobs live in the database). Metrics: updates by result, completion-to-write
// latency, queue depth.

import type { Database } from '../db/connection.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { openQueue, type PgBossTypes, type Queue, queueDepth } from '../queue/boss.js';
import { ThetaUpdateError, ThetaUpdater } from './updater.js';

export const THETA_QUEUE = 'theta-update';

/** Retries with backoff: 1 s, 2 s, 4 s, … (about 4 minutes in all) before a job is failed for good. */
const RETRY = { retryLimit: 8, retryDelay: 1, retryBackoff: true } as const;
/** A job active longer than this (its worker died) is failed by maintenance and retried. */
const EXPIRE_SECONDS = 60;
const BATCH_SIZE = 100;
const POLL_SECONDS = 0.5;
const DEPTH_INTERVAL_MS = 5000;
/**
 * A job becomes available this long after the completion that queued it, so that a burst of
 * completions of one learner collapses into one update (the singleton key applies while it waits).
 */
const DEBOUNCE_MS = 200;

type PgBossJob = PgBossTypes.JobWithMetadata<ThetaJob>;

export interface ThetaJob {
  user_id: string;
  session_id: string;
  /** Epoch ms of the completion that queued the job (the first, when completions collapsed). */
  completed_at: number;
}

export interface ThetaQueueOptions {
  queue: Queue;
  database: Database;
  metrics: Metrics;
  logger: Logger;
  /** The window of responses an update reads (MIRT_LOOKBACK_DAYS). */
  lookbackDays: number;
}

export interface ThetaQueue {
  /** Queues an update for the learner; false when one is already waiting (this one collapsed into it). */
  enqueue(userId: string, sessionId: string): Promise<boolean>;
  /** Starts a worker in this process (idempotent). */
  startWorker(): Promise<void>;
  /** Stops the worker's depth reporting; the queue's own stop() finishes the jobs in flight. */
  stop(): void;
}

/** Creates the queue (if absent) and returns its producer and worker. */
export async function openThetaQueue(o: ThetaQueueOptions): Promise<ThetaQueue> {
  const { boss } = o.queue;
  await boss.createQueue(THETA_QUEUE, {
    // 'short': at most one job per singleton key in the created state, any number active.
    policy: 'short',
    ...RETRY,
    expireInSeconds: EXPIRE_SECONDS,
  });
  const updater = new ThetaUpdater(o.database);
  let workerId: string | undefined;
  let depthTimer: NodeJS.Timeout | undefined;

  const reportDepth = async () => {
    try {
      o.metrics.thetaQueueDepth.set(await queueDepth(o.database, THETA_QUEUE));
    } catch (err) {
      o.logger.warn({ err }, 'could not read the θ queue depth');
    }
  };

  const run = async (job: PgBossJob): Promise<void> => {
    const { user_id: userId, completed_at: completedAt } = job.data;
    const log = o.logger.child({ learner: userId, job: job.id });
    try {
      const r = await updater.update({ userId, lookbackDays: o.lookbackDays });
      o.metrics.thetaUpdatesTotal.inc({ result: 'written' });
      o.metrics.thetaUpdateLatency.observe(Math.max(0, r.updatedAt.getTime() - completedAt) / 1000);
    } catch (err) {
      if (err instanceof ThetaUpdateError) {
        // Nothing to score (yet): a retry would give the same answer.
        o.metrics.thetaUpdatesTotal.inc({ result: err.code.toLowerCase() });
        log.info({ code: err.code }, err.message);
        return;
      }
      const final = job.retryCount >= job.retryLimit;
      o.metrics.thetaUpdatesTotal.inc({ result: final ? 'failed' : 'retried' });
      log.warn({ err, retry: job.retryCount, final }, 'θ update failed');
      await boss.fail(THETA_QUEUE, job.id, { message: (err as Error).message });
    }
  };

  return {
    async enqueue(userId, sessionId) {
      const data: ThetaJob = { user_id: userId, session_id: sessionId, completed_at: Date.now() };
      const id = await boss.send(THETA_QUEUE, data, {
        singletonKey: userId,
        startAfter: `${DEBOUNCE_MS} milliseconds`,
      });
      // A worker in this process fetches when the job becomes available instead of at its next poll.
      if (id && workerId) {
        const wid = workerId;
        setTimeout(() => boss.notifyWorker(wid), DEBOUNCE_MS + 10).unref();
      }
      return id !== null;
    },
    async startWorker() {
      if (workerId) return;
      // No explicit type arguments: pg-boss 12 infers the handler's job type (with metadata) from
      // the literal options, which an explicit <ThetaJob> would reset to the plain WorkOptions.
      workerId = await boss.work(
        THETA_QUEUE,
        { batchSize: BATCH_SIZE, pollingIntervalSeconds: POLL_SECONDS, includeMetadata: true },
        // A failing job is failed on its own (boss.fail); the batch completes the others.
        async (jobs: PgBossJob[]) => void (await Promise.all(jobs.map(run))),
      );
      depthTimer = setInterval(reportDepth, DEPTH_INTERVAL_MS);
      depthTimer.unref();
      await reportDepth();
    },
    stop() {
      clearInterval(depthTimer);
    },
  };
}

/**
 * A θ-update worker in this process (`seedtest serve`, `seedtest worker`), on an open, current
 * database: on the given queue (shared with the scheduler), or on one of its own. `stop()` lets the
 * jobs in flight finish (and stops the queue it opened); call it before closing the database.
 */
export async function startThetaWorker(
  o: Omit<ThetaQueueOptions, 'queue'> & { queue?: Queue },
): Promise<{ theta: ThetaQueue; stop(): Promise<void> }> {
  const queue = o.queue ?? (await openQueue(o.database, o.logger));
  const ownQueue = !o.queue;
  try {
    const theta = await openThetaQueue({ ...o, queue });
    await theta.startWorker();
    return {
      theta,
      async stop() {
        theta.stop();
        if (ownQueue) await queue.stop();
      },
    };
  } catch (err) {
    if (ownQueue) await queue.stop();
    throw err;
  }
}
