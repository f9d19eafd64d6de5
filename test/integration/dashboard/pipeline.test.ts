// The pipeline page's data route on a real database: each job's latest run and failure (with its
// message, duration and rows), the recent runs, the next slot from the schedule, who may read it,
// and the θ-update queue's depth and latency read from pg-boss's own table.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { THETA_QUEUE } from '../../../src/ability/queue.js';
import { JOBS } from '../../../src/jobs/registry.js';
import { createLogger } from '../../../src/observability/logger.js';
import { openQueue, type Queue } from '../../../src/queue/boss.js';
import { bearer, createFixture, type Fixture, token } from '../api/setup.js';

interface PipelineBody {
  now: string;
  jobs: {
    name: string;
    schedule: string;
    next_run: string;
    last_run: {
      run_id: string;
      status: string;
      duration_ms: number | null;
      rows: number;
      dry_run: boolean;
    } | null;
    last_failure: { error: string | null; status: string } | null;
    failures_7d: number;
  }[];
  runs: { job: string; status: string; dry_run: boolean; rows: number }[];
  theta_queue: {
    depth: number;
    completed_1h: number;
    latency_p50_ms: number | null;
    oldest_waiting_ms: number | null;
  } | null;
}

describe('GET /pipeline', () => {
  let f: Fixture;
  let operator: string;
  before(async () => {
    f = await createFixture();
    operator = await token('op', 'analysis:run');
    const at = (iso: string) => new Date(iso);
    const now = Date.now();
    const ago = (hours: number) => new Date(now - hours * 3_600_000);
    await f.database.db
      .insertInto('job_run')
      .values([
        {
          job: 'compute-daily-kpis',
          params: JSON.stringify({ dates: '2026-11-20', dry_run: false }),
          status: 'failed',
          started_at: ago(30),
          finished_at: ago(29.9),
          stats: JSON.stringify({ written: {} }),
          error: 'compute-daily-kpis failed for 2026-11-20: boom',
        },
        {
          job: 'compute-daily-kpis',
          params: JSON.stringify({ dates: '2026-11-21', dry_run: true }),
          status: 'succeeded',
          started_at: ago(2),
          finished_at: new Date(ago(2).getTime() + 1500),
          stats: JSON.stringify({ written: { weekly_kpi: 40, other: 2 }, days: 1 }),
          error: null,
        },
        {
          job: 'mirt-calibrate',
          params: JSON.stringify({ dates: '2026-01-01' }),
          status: 'failed',
          started_at: at('2026-01-01T03:00:00Z'),
          finished_at: at('2026-01-01T03:00:05Z'),
          stats: JSON.stringify({}),
          error: 'old failure',
        },
      ])
      .execute();
  });
  after(() => f.close());

  const get = async (t: string) =>
    f.app.inject({ method: 'GET', url: '/api/seedtest/pipeline', headers: bearer(t) });

  it('lists every job with its schedule, next slot, latest run and latest failure', async () => {
    const res = await get(operator);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<PipelineBody>();
    assert.deepEqual(
      body.jobs.map((j) => j.name),
      JOBS.map((j) => j.name),
    );
    const kpis = body.jobs.find((j) => j.name === 'compute-daily-kpis')!;
    assert.equal(kpis.schedule, '10 2 * * *');
    assert.ok(Date.parse(kpis.next_run) > Date.parse(body.now));
    assert.match(kpis.next_run, /T02:10:00\.000Z$/);
    assert.equal(kpis.last_run?.status, 'succeeded');
    assert.equal(kpis.last_run?.dry_run, true);
    assert.equal(kpis.last_run?.rows, 42);
    assert.equal(kpis.last_run?.duration_ms, 1500);
    assert.equal(kpis.last_failure?.error, 'compute-daily-kpis failed for 2026-11-20: boom');
    assert.equal(kpis.failures_7d, 1);
    const mirt = body.jobs.find((j) => j.name === 'mirt-calibrate')!;
    assert.equal(mirt.last_failure?.error, 'old failure');
    assert.equal(mirt.failures_7d, 0, 'a failure older than 7 days is not counted');
    assert.equal(body.jobs.find((j) => j.name === 'detect-inactivity')!.last_run, null);
    assert.deepEqual(
      body.runs.map((r) => [r.job, r.status]),
      [
        ['compute-daily-kpis', 'succeeded'],
        ['compute-daily-kpis', 'failed'],
        ['mirt-calibrate', 'failed'],
      ],
    );
    assert.equal(body.theta_queue, null, 'no process has started the queue on this database');
  });

  it('is for operators: a teacher or a learner gets 403, a bad query 400', async () => {
    assert.equal((await get(await token('t', 'cohort:view'))).statusCode, 403);
    assert.equal((await get(await token('u1', 'reports:view'))).statusCode, 403);
    assert.equal((await get(await token('a', 'admin'))).statusCode, 200);
    const bad = await f.app.inject({
      method: 'GET',
      url: '/api/seedtest/pipeline?runs=0',
      headers: bearer(operator),
    });
    assert.equal(bad.statusCode, 400);
  });

  it("reads the θ queue's depth and completion-to-write latency from pg-boss", async () => {
    let queue: Queue | undefined;
    try {
      queue = await openQueue(f.database, createLogger('silent', false));
      await queue.boss.createQueue(THETA_QUEUE, { policy: 'short' });
      const completedAt = Date.now() - 5000;
      await queue.boss.send(
        THETA_QUEUE,
        { user_id: 'u1', session_id: 's1', completed_at: completedAt },
        { singletonKey: 'u1' },
      );
      await queue.boss.send(
        THETA_QUEUE,
        { user_id: 'u2', session_id: 's2', completed_at: completedAt },
        { singletonKey: 'u2' },
      );
      const [job] = await queue.boss.fetch(THETA_QUEUE, { batchSize: 1 });
      assert.ok(job);
      await queue.boss.complete(THETA_QUEUE, job.id);
      const q = (await get(operator)).json<PipelineBody>().theta_queue;
      assert.ok(q);
      assert.equal(q.depth, 1);
      assert.equal(q.completed_1h, 1);
      assert.ok(
        q.latency_p50_ms !== null && q.latency_p50_ms >= 5000 && q.latency_p50_ms < 60_000,
        String(q.latency_p50_ms),
      );
      assert.ok(q.oldest_waiting_ms !== null && q.oldest_waiting_ms >= 0);
    } finally {
      await queue?.stop();
    }
  });
});
