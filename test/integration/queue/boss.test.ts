import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../../src/observability/logger.js';
import { openQueue } from '../../../src/queue/boss.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

const logger = createLogger('silent', false);

describe('the durable queue (pg-boss on our database)', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database.close());

  it('runs a script with its own transaction and returns the last row set; a failing one leaves no transaction open', async () => {
    const { rows } = await database.run<{ n: number }>('BEGIN; SELECT 1 AS m; SELECT 2 AS n; COMMIT;');
    assert.deepEqual(rows, [{ n: 2 }]);
    await assert.rejects(database.run('BEGIN; SELECT 1/0; COMMIT;'), /division by zero/);
    // Had the failed script left its transaction open, this would fail as "current transaction is aborted".
    const after = await database.db.selectFrom('learner').select('user_id').execute();
    assert.deepEqual(after, []);
  });

  it('creates its schema, collapses queued jobs by singleton key, keeps them across a restart', async () => {
    let queue = await openQueue(database, logger);
    await queue.boss.createQueue('probe', { name: 'probe', policy: 'short' });
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await queue.boss.send('probe', { i }, { singletonKey: 'u1' }));
    ids.push(await queue.boss.send('probe', { i: 9 }, { singletonKey: 'u2' }));
    assert.equal(ids.filter(Boolean).length, 2, 'one queued job per key');
    await queue.stop();

    queue = await openQueue(database, logger);
    assert.equal(await queue.boss.getQueueSize('probe'), 2);
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
