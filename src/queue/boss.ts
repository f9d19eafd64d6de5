// The durable queue: one pg-boss instance on our Database (embedded PGlite or a server pool), used
// by the θ-update worker and the scheduler. pg-boss keeps its tables in the `pgboss` schema and
// creates or migrates them on start. On the embedded database every statement goes through the
// one lease (Database.query / Database.run), so pg-boss never runs inside someone else's
// transaction; its multi-statement scripts (schema creation, maintenance) go through `run`.
import { PgBoss, type Queue as QueueOptions } from 'pg-boss';
import type { Database } from '../db/connection.js';
import type { Logger } from '../observability/logger.js';

export type * as PgBossTypes from 'pg-boss';
export { PgBoss };

/** How long a graceful stop waits for handlers in flight before failing their jobs (retried later). */
const STOP_TIMEOUT_MS = 10_000;

export interface Queue {
  readonly boss: PgBoss;
  /** Stops fetching, waits for handlers in flight (up to 10 s), then stops; idempotent. */
  stop(): Promise<void>;
}

/** pg-boss's database adapter: parameterised statements as such, scripts as sent. */
function adapter(database: Database) {
  return {
    executeSql: (text: string, values?: unknown[]) =>
      values && values.length > 0 ? database.query(text, values) : database.run(text),
  };
}

/**
 * Starts pg-boss on `database` (creating or migrating its schema) with cron scheduling enabled.
 * Stop it before closing the database.
 */
export async function openQueue(database: Database, logger: Logger): Promise<Queue> {
  const boss = new PgBoss({ db: adapter(database) });
  boss.on('error', (err) => logger.error({ err }, 'queue error'));
  await retireV10Schema(database);
  await boss.start();
  await carryOverV10Jobs(boss, database, logger);
  let stopping: Promise<void> | undefined;
  return {
    boss,
    stop() {
      // pg-boss 11+ always waits for the stop to finish (the `wait` option is gone).
      stopping ??= boss.stop({ graceful: true, timeout: STOP_TIMEOUT_MS, close: false });
      return stopping;
    },
  };
}

/** Where a pg-boss 10 schema is moved aside while its waiting jobs are carried over. */
const V10_SCHEMA = 'pgboss_v10';

/**
 * pg-boss 12 migrates a schema from version 25 (pg-boss 11) on, and 11 itself had no migration from
 * pg-boss 10's schema (version 24): its start() fails on one. So a version-24 schema is renamed
 * aside (once, under a lock, for replicas starting together) and pg-boss creates a new one.
 */
async function retireV10Schema(database: Database): Promise<void> {
  await database.run(`
    BEGIN;
    SELECT pg_advisory_xact_lock(hashtext('seedtest: retire the pg-boss 10 schema'));
    DO $$ BEGIN
      -- Nested: the version query is planned only once its table is known to exist.
      IF to_regclass('pgboss.version') IS NOT NULL AND to_regnamespace('${V10_SCHEMA}') IS NULL THEN
        IF (SELECT max(version) FROM pgboss.version) < 25 THEN
          ALTER SCHEMA pgboss RENAME TO ${V10_SCHEMA};
        END IF;
      END IF;
    END $$;
    COMMIT;`);
}

/**
 * Puts the jobs still waiting (or in flight when the old process stopped) in the retired pg-boss 10
 * schema onto the new one, keeping their ids (queues created as they were), then drops it. Safe to
 * repeat and to race: pg-boss skips a job id it already has, and a replica that finds the schema
 * gone mid-way (another one finished) has nothing left to do.
 */
async function carryOverV10Jobs(boss: PgBoss, database: Database, logger: Logger): Promise<void> {
  try {
    await carryOver(boss, database, logger);
  } catch (err) {
    // 3F000: no such schema; 42P01: no such table — dropped by a replica that got there first.
    const code = (err as { code?: string }).code;
    if (code !== '3F000' && code !== '42P01') throw err;
  }
}

async function carryOver(boss: PgBoss, database: Database, logger: Logger): Promise<void> {
  const { rows: found } = await database.query<{ t: string | null }>(
    'SELECT to_regnamespace($1)::text AS t',
    [V10_SCHEMA],
  );
  if (!found[0]?.t) return;
  const { rows: queues } = await database.query<{
    name: string;
    policy: string | null;
    retry_limit: number | null;
    retry_delay: number | null;
    retry_backoff: boolean | null;
    expire_seconds: number | null;
  }>(
    `SELECT name, policy, retry_limit, retry_delay, retry_backoff, expire_seconds FROM ${V10_SCHEMA}.queue`,
    [],
  );
  let moved = 0;
  for (const q of queues) {
    await ensureQueue(boss, {
      name: q.name,
      ...(q.policy ? { policy: q.policy } : {}),
      ...(q.retry_limit !== null ? { retryLimit: q.retry_limit } : {}),
      ...(q.retry_delay !== null ? { retryDelay: q.retry_delay } : {}),
      ...(q.retry_backoff !== null ? { retryBackoff: q.retry_backoff } : {}),
      ...(q.expire_seconds ? { expireInSeconds: q.expire_seconds } : {}),
    });
    const { rows: jobs } = await database.query<{
      id: string;
      data: object | null;
      priority: number;
      retry_limit: number;
      retry_delay: number;
      retry_backoff: boolean;
      start_after: Date;
      singleton_key: string | null;
      expire_seconds: number;
    }>(
      `SELECT id, data, priority, retry_limit, retry_delay, retry_backoff, start_after, singleton_key,
         extract(epoch FROM expire_in)::int AS expire_seconds
       FROM ${V10_SCHEMA}.job WHERE name = $1 AND state IN ('created', 'retry', 'active')
       ORDER BY created_on`,
      [q.name],
    );
    if (jobs.length === 0) continue;
    await boss.insert(
      q.name,
      jobs.map((j) => ({
        id: j.id,
        data: j.data ?? {},
        priority: j.priority,
        retryLimit: j.retry_limit,
        retryDelay: j.retry_delay,
        retryBackoff: j.retry_backoff,
        startAfter: new Date(j.start_after),
        ...(j.singleton_key ? { singletonKey: j.singleton_key } : {}),
        expireInSeconds: j.expire_seconds,
      })),
    );
    moved += jobs.length;
  }
  await database.run(`DROP SCHEMA IF EXISTS ${V10_SCHEMA} CASCADE`);
  logger.info({ moved }, `pg-boss 10 schema replaced; ${moved} waiting job(s) carried over`);
}

/**
 * Creates a queue unless it exists. pg-boss's create_queue deadlocks when two processes create one
 * queue at the same moment (replicas starting together): retry once the other has finished.
 */
export async function ensureQueue(boss: PgBoss, options: QueueOptions): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if (await boss.getQueue(options.name)) return;
    try {
      const { name, ...rest } = options;
      await boss.createQueue(name, rest);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== '40P01' || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}

/**
 * How many jobs of a queue wait to run (created or retry), counted now. pg-boss 11+ dropped
 * getQueueSize(); its getQueue() counts are refreshed only by the monitor (up to a minute stale).
 */
export async function queueDepth(database: Database, name: string): Promise<number> {
  const { rows } = await database.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state IN ('created', 'retry')",
    [name],
  );
  return rows[0]?.n ?? 0;
}
