// The durable queue: one pg-boss instance on our Database (embedded PGlite or a server pool), used
// by the θ-update worker and the scheduler. pg-boss keeps its tables in the `pgboss` schema and
// creates or migrates them on start. On the embedded database every statement goes through the
// one lease (Database.query / Database.run), so pg-boss never runs inside someone else's
// transaction; its multi-statement scripts (schema creation, maintenance) go through `run`.
import PgBoss from 'pg-boss';
import type { Database } from '../db/connection.js';
import type { Logger } from '../observability/logger.js';

export type { PgBoss };

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
  await boss.start();
  let stopping: Promise<void> | undefined;
  return {
    boss,
    stop() {
      stopping ??= boss.stop({ graceful: true, wait: true, timeout: STOP_TIMEOUT_MS, close: false });
      return stopping;
    },
  };
}

/**
 * Creates a queue unless it exists. pg-boss's create_queue deadlocks when two processes create one
 * queue at the same moment (replicas starting together): retry once the other has finished.
 */
export async function ensureQueue(boss: PgBoss, options: PgBoss.Queue): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if (await boss.getQueue(options.name)) return;
    try {
      await boss.createQueue(options.name, options);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== '40P01' || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}
