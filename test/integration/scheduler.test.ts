import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config.js';
import { fireTimes } from '../../src/jobs/cron.js';
import { LOST_RUN_ERROR } from '../../src/jobs/runs.js';
import {
  SCHEDULED_JOBS_QUEUE,
  type ScheduledRun,
  schedules,
  startScheduler,
} from '../../src/jobs/scheduler.js';
import { createLogger } from '../../src/observability/logger.js';
import { openQueue, type Queue } from '../../src/queue/boss.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const logger = createLogger('silent', false);
const MINUTE = 60_000;

function fakeClock(iso: string) {
  let t = new Date(iso).getTime();
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
  };
}

describe('the scheduler, on a fake clock', () => {
  let database: TestDatabase;
  let queue: Queue;
  before(async () => {
    database = await createTestDatabase();
    queue = await openQueue(database, logger);
  });
  after(async () => {
    await queue.stop();
    await database.close();
  });

  it('fires each job at its cron times exactly once, even with two replicas ticking', async () => {
    const config = loadConfig({ JWT_SECRET: 'x'.repeat(32), SCHEDULE_DETECT_INACTIVITY: '30 5 * * *' });
    const start = '2026-11-29T00:00:00Z'; // a Sunday: the window covers the Monday weekly slot
    const end = new Date('2026-12-01T00:00:00Z');
    const clocks = [fakeClock(start), fakeClock(start)];
    const replicas = await Promise.all(
      clocks.map((clock) => startScheduler({ queue, database, config, logger, clock, timer: false })),
    );
    const enqueued: ScheduledRun[] = [];
    while (clocks[0]!.now() < end) {
      for (const [i, clock] of clocks.entries()) {
        clock.advance(MINUTE);
        enqueued.push(...(await replicas[i]!.tick()));
      }
    }
    const queued = await sql<{ job: string; slot: string }>`
      SELECT data->>'job' AS job, data->>'slot' AS slot FROM pgboss.job WHERE name = ${SCHEDULED_JOBS_QUEUE}
      ORDER BY 2, 1`.execute(database.db);
    const expected = schedules(config)
      .flatMap(({ job, cron }) =>
        fireTimes(cron, new Date(start), end).map((t) => ({ job, slot: t.toISOString() })),
      )
      .sort((a, b) => a.slot.localeCompare(b.slot) || a.job.localeCompare(b.job));
    assert.deepEqual(queued.rows, expected);
    assert.deepEqual(
      [...enqueued].sort((a, b) => a.slot.localeCompare(b.slot) || a.job.localeCompare(b.job)),
      expected,
      'each slot enqueued by exactly one replica',
    );
    // The override moved detect-inactivity (when registered) to 05:30; the registry's others stay.
    for (const { job, slot } of expected) {
      if (job === 'detect-inactivity') assert.match(slot, /T05:30:00/);
      if (job === 'aggregate-features-daily') assert.match(slot, /T01:15:00/);
    }
    assert.ok(expected.length >= 4, 'two days of at least the two daily jobs');
    await Promise.all(replicas.map((r) => r.stop()));
  });

  it('a worker takes a due slot and runs the job through the runner (a job_run row)', async () => {
    const config = loadConfig({ JWT_SECRET: 'x'.repeat(32) });
    await sql`DELETE FROM pgboss.job WHERE name = ${SCHEDULED_JOBS_QUEUE}`.execute(database.db);
    const clock = fakeClock('2026-12-02T01:14:30Z');
    const scheduler = await startScheduler({
      queue,
      database,
      config,
      logger,
      clock,
      timer: false,
      work: true,
    });
    clock.advance(MINUTE);
    assert.deepEqual(
      (await scheduler.tick()).map((r) => r.job),
      ['aggregate-features-daily'],
    );
    let run: { status: string; params: unknown } | undefined;
    for (let i = 0; i < 100 && run?.status !== 'succeeded'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      run = await database.db
        .selectFrom('job_run')
        .select(['status', 'params'])
        .where('job', '=', 'aggregate-features-daily')
        .executeTakeFirst();
    }
    assert.equal(run?.status, 'succeeded');
    // The 01:15 slot of 2 December is for the day before, as the job's default says.
    assert.deepEqual(run?.params, { dates: '2026-12-01', dry_run: false });
    await scheduler.stop();
  });

  it('a tick fails the runs nobody is running any more as lost', {
    skip: process.env.SEEDTEST_TEST_DB !== 'server' && 'the embedded database does it when opened',
  }, async () => {
    const config = loadConfig({ JWT_SECRET: 'x'.repeat(32) });
    // A row as a killed process leaves it: running, its liveness lock held by nobody.
    const { run_id } = await database.db
      .insertInto('job_run')
      .values({ job: 'mirt-calibrate', params: '{}', status: 'running', stats: '{}' })
      .returning('run_id')
      .executeTakeFirstOrThrow();
    const scheduler = await startScheduler({ queue, database, config, logger, timer: false });
    await scheduler.tick();
    await scheduler.stop();
    const row = await database.db
      .selectFrom('job_run')
      .select(['status', 'error'])
      .where('run_id', '=', run_id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { status: 'failed', error: LOST_RUN_ERROR });
  });
});
