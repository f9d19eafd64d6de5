import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../../src/observability/logger.js';
import { openQueue, queueDepth } from '../../../src/queue/boss.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

const logger = createLogger('silent', false);

describe('the durable queue (pg-boss on our database)', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database.close());

  it('runs a script with its own transaction and returns the rows of every statement; a failing one leaves no transaction open', async () => {
    const { rows } = await database.run<{ n: number }>('BEGIN; SELECT 1 AS m; SELECT 2 AS n; COMMIT;');
    assert.deepEqual(rows, [{ m: 1 }, { n: 2 }]);
    await assert.rejects(database.run('BEGIN; SELECT 1/0; COMMIT;'), /division by zero/);
    // Had the failed script left its transaction open, this would fail as "current transaction is aborted".
    const after = await database.db.selectFrom('learner').select('user_id').execute();
    assert.deepEqual(after, []);
  });

  it('creates its schema, collapses queued jobs by singleton key, keeps them across a restart', async () => {
    let queue = await openQueue(database, logger);
    await queue.boss.createQueue('probe', { policy: 'short' });
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await queue.boss.send('probe', { i }, { singletonKey: 'u1' }));
    ids.push(await queue.boss.send('probe', { i: 9 }, { singletonKey: 'u2' }));
    assert.equal(ids.filter(Boolean).length, 2, 'one queued job per key');
    await queue.stop();

    queue = await openQueue(database, logger);
    assert.equal(await queueDepth(database, 'probe'), 2);
    const seen: unknown[] = [];
    await new Promise<void>((resolve) => {
      void queue.boss.work<{ i: number }>(
        'probe',
        { batchSize: 10, pollingIntervalSeconds: 0.5 },
        async (jobs) => {
          seen.push(...jobs.map((j) => j.data.i));
          if (seen.length === 2) resolve();
        },
      );
    });
    assert.deepEqual(seen.sort(), [0, 9]);
    await queue.stop();
    await queue.stop();
  });
});

describe('a database last served with pg-boss 10', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database.close());

  it('starts: the waiting jobs are carried over with their ids, the old schema is dropped, once', async () => {
    // The parts of pg-boss 10.4.2's schema (version 24) the carry-over reads.
    await database.run(`
      CREATE SCHEMA pgboss;
      CREATE TABLE pgboss.version (version int PRIMARY KEY);
      INSERT INTO pgboss.version VALUES (24);
      CREATE TABLE pgboss.queue (name text PRIMARY KEY, policy text, retry_limit int, retry_delay int,
        retry_backoff bool, expire_seconds int);
      INSERT INTO pgboss.queue VALUES ('theta-update', 'short', 3, 5, true, 900);
      CREATE TABLE pgboss.job (id uuid PRIMARY KEY, name text, data jsonb, state text, priority int,
        retry_limit int, retry_delay int, retry_backoff bool, start_after timestamptz,
        singleton_key text, expire_in interval, created_on timestamptz);
      INSERT INTO pgboss.job VALUES
        ('00000000-0000-4000-8000-000000000001', 'theta-update', '{"user_id":"u1"}', 'created', 0, 3, 5, true, now(), 'u1', '15 minutes', now() - interval '2 minutes'),
        ('00000000-0000-4000-8000-000000000002', 'theta-update', '{"user_id":"u2"}', 'retry', 0, 3, 5, true, now(), 'u2', '15 minutes', now() - interval '1 minute'),
        ('00000000-0000-4000-8000-000000000003', 'theta-update', '{"user_id":"u3"}', 'completed', 0, 3, 5, true, now(), null, '15 minutes', now() - interval '3 minutes');`);
    const queue = await openQueue(database, logger);
    try {
      const ids = [1, 2].map((i) => `00000000-0000-4000-8000-00000000000${i}`);
      const jobs = await Promise.all(ids.map((id) => queue.boss.getJobById('theta-update', id)));
      assert.deepEqual(
        jobs.map((j) => [j?.id, (j?.data as { user_id?: string } | undefined)?.user_id, j?.state]),
        [
          [ids[0], 'u1', 'created'],
          [ids[1], 'u2', 'created'],
        ],
      );
      assert.equal((await queue.boss.getQueue('theta-update'))?.policy, 'short');
      assert.equal(await queueDepth(database, 'theta-update'), 2, 'the completed job stays behind');
      const { rows } = await database.query<{ t: string | null }>(
        "SELECT to_regnamespace('pgboss_v10')::text AS t",
        [],
      );
      assert.equal(rows[0]?.t, null);
    } finally {
      await queue.stop();
    }
    // The next start finds the current schema and carries nothing over again.
    const again = await openQueue(database, logger);
    assert.equal(await queueDepth(database, 'theta-update'), 2);
    await again.stop();
  });
});
