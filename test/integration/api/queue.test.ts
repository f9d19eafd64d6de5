import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  openThetaQueue,
  startThetaWorker,
  THETA_QUEUE,
  type ThetaQueue,
} from '../../../src/ability/queue.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics, type Metrics } from '../../../src/observability/metrics.js';
import { openQueue, queueDepth } from '../../../src/queue/boss.js';
import { engineEap, insertRun } from './irt-fixtures.js';
import { bearer, createFixture, type Fixture, seedItems, token } from './setup.js';

const logger = createLogger('silent', false);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PARAMS = { i1: { a: 1.2, b: -0.5, c: 0 }, i2: { a: 0.8, b: 0.3, c: 0 }, i3: { a: 1, b: 1, c: 0 } };

/** Polls until `check` returns a value (not undefined) or `ms` pass. */
async function waitFor<T>(check: () => Promise<T | undefined>, ms: number): Promise<T | undefined> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined || Date.now() > until) return v;
    await sleep(20);
  }
}

const counter = async (metrics: Metrics, result: string) =>
  (await metrics.thetaUpdatesTotal.get()).values.find((v) => v.labels.result === result)?.value ?? 0;

describe('θ updates on session completion (durable queue)', () => {
  let f: Fixture;
  /** Where completions go: swapped between a worker in this process and a producer only. */
  let target: ThetaQueue | undefined;

  before(async () => {
    f = await createFixture({}, async (userId, sessionId) => void (await target?.enqueue(userId, sessionId)));
    await seedItems(f.database);
  });
  after(() => f.close());

  /** Completions are queued by a producer with no worker in this process; returns its queue. */
  const producerOnly = async () => {
    const queue = await openQueue(f.database, logger);
    target = await openThetaQueue({
      queue,
      database: f.database,
      metrics: createMetrics(),
      logger,
      lookbackDays: 30,
    });
    return queue;
  };
  const post = (url: string, headers: Record<string, string>, payload?: unknown) =>
    f.app.inject({ method: 'POST', url: `/api/seedtest${url}`, headers, payload: payload as object });
  const online = (userId: string) =>
    f.database.db
      .selectFrom('mirt_ability')
      .selectAll()
      .where('user_id', '=', userId)
      .where('source', '=', 'online')
      .orderBy('id')
      .execute();
  /** A session with the given answers (item → correct), completed. */
  const takeSession = async (user: string, session: string, answers: [string, boolean][]) => {
    const h = bearer(await token(user, 'exam:write'));
    assert.equal((await post('/sessions', h, { session_id: session })).statusCode, 201);
    const attempts = answers.map(([item_id, correct]) => ({ item_id, correct }));
    assert.equal((await post(`/sessions/${session}/attempts`, h, { attempts })).statusCode, 201);
    const done = await post(`/sessions/${session}/complete`, h);
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().theta_update, 'queued');
  };

  it('without a calibration an update is counted, not retried', async () => {
    const metrics = createMetrics();
    const worker = await startThetaWorker({ database: f.database, logger, metrics, lookbackDays: 30 });
    target = worker.theta;
    try {
      await takeSession('early', 'e1', [['i1', true]]);
      assert.equal(
        await waitFor(async () => ((await counter(metrics, 'no_calibration')) ? 1 : undefined), 3000),
        1,
      );
      assert.deepEqual(await online('early'), []);
      assert.equal(await waitFor(async () => ((await pending(f)) === 0 ? 0 : undefined), 3000), 0);
    } finally {
      await worker.stop();
    }
  });

  it('a completion is followed within a second by the engine EAP of the learner', async () => {
    await insertRun(f.database, 'cal-1', '2026-01-01T00:00:00Z', PARAMS);
    const metrics = createMetrics();
    const worker = await startThetaWorker({ database: f.database, logger, metrics, lookbackDays: 30 });
    target = worker.theta;
    try {
      const t0 = Date.now();
      await takeSession('alice', 'a1', [
        ['i1', true],
        ['i2', false],
        ['i3', true],
      ]);
      const rows = await waitFor(
        async () => ((await online('alice')).length ? online('alice') : undefined),
        1000,
      );
      assert.ok(rows, 'no θ row within a second of the completion');
      assert.ok(Date.now() - t0 < 1500);
      const expected = engineEap([PARAMS.i1, PARAMS.i2, PARAMS.i3], [1, 0, 1]);
      assert.ok(Math.abs(rows[0]!.theta - expected.theta) < 1e-12);
      assert.ok(Math.abs(rows[0]!.se! - expected.se) < 1e-12);
      assert.equal(rows[0]!.session_id, 'a1');
      assert.equal(rows[0]!.version, 'cal-1');
      assert.equal(rows[0]!.n_responses, 3);
      assert.equal(await counter(metrics, 'written'), 1);
      const latency = await metrics.thetaUpdateLatency.get();
      assert.equal(latency.values.find((v) => v.metricName?.endsWith('_count'))?.value, 1);
      assert.equal(typeof (await metrics.thetaQueueDepth.get()).values[0]?.value, 'number');
    } finally {
      await worker.stop();
    }
  });

  it('ten completions while the worker is down collapse into one update that sees the last state; a restarted worker runs it', async () => {
    const producer = await producerOnly();
    const answers: number[] = [];
    for (let s = 0; s < 10; s++) {
      const correct = s % 3 !== 0;
      answers.push(correct ? 1 : 0);
      // Each session answers one item; the latest answer per item counts.
      await takeSession('bob', `b${s}`, [[`i${(s % 3) + 1}`, correct]]);
    }
    await takeSession('carol', 'c1', [['i2', true]]);
    assert.equal(await queueDepth(f.database, THETA_QUEUE), 2, 'one queued update per learner');
    await producer.stop();
    assert.deepEqual(await online('bob'), []);

    const metrics = createMetrics();
    const worker = await startThetaWorker({ database: f.database, logger, metrics, lookbackDays: 30 });
    target = worker.theta;
    try {
      const rows = await waitFor(async () => {
        const [b, c] = [await online('bob'), await online('carol')];
        return b.length && c.length ? b : undefined;
      }, 3000);
      assert.ok(rows, 'the queued updates did not run after the restart');
      assert.equal(rows.length, 1);
      // Sessions b7, b8, b9 hold the latest answers to i2, i3, i1.
      const expected = engineEap([PARAMS.i1, PARAMS.i2, PARAMS.i3], [answers[9]!, answers[7]!, answers[8]!]);
      assert.ok(Math.abs(rows[0]!.theta - expected.theta) < 1e-12);
      assert.equal(rows[0]!.session_id, 'b9');
      // The row commits before the handler returns and counts it: wait for the counter, do not race it.
      const written = await waitFor(
        async () => ((await counter(metrics, 'written')) >= 2 ? 2 : undefined),
        3000,
      );
      assert.equal(written, 2, 'both queued updates are counted as written');
      assert.equal(await counter(metrics, 'written'), 2, 'and no more');
    } finally {
      await worker.stop();
    }
  });

  it('ten completions at once with the worker running: fewer updates than ten, the last one sees every answer', async () => {
    const metrics = createMetrics();
    const worker = await startThetaWorker({ database: f.database, logger, metrics, lookbackDays: 30 });
    target = undefined;
    try {
      const h = bearer(await token('gina', 'exam:write'));
      const answers: [string, boolean][] = [];
      for (let s = 0; s < 10; s++) {
        const answer: [string, boolean] = [`i${(s % 3) + 1}`, s % 4 !== 0];
        answers.push(answer);
        assert.equal((await post('/sessions', h, { session_id: `g${s}` })).statusCode, 201);
        const attempts = [{ item_id: answer[0], correct: answer[1] }];
        assert.equal((await post(`/sessions/g${s}/attempts`, h, { attempts })).statusCode, 201);
      }
      target = worker.theta;
      const done = await Promise.all(
        Array.from({ length: 10 }, (_, s) => post(`/sessions/g${s}/complete`, h)),
      );
      assert.ok(done.every((d) => d.statusCode === 200));
      await waitFor(async () => ((await pending(f)) === 0 ? true : undefined), 5000);
      const rows = await online('gina');
      assert.ok(rows.length >= 1 && rows.length < 10, `${rows.length} updates for 10 completions`);
      // Sessions g7, g8, g9 hold the latest answers to i2, i3, i1.
      const latest = [answers[9]!, answers[7]!, answers[8]!].map(([, c]) => (c ? 1 : 0));
      const expected = engineEap([PARAMS.i1, PARAMS.i2, PARAMS.i3], latest);
      assert.ok(Math.abs(rows.at(-1)!.theta - expected.theta) < 1e-12);
    } finally {
      await worker.stop();
    }
  });

  it('a failed update is retried with backoff and then written', async () => {
    const metrics = createMetrics();
    const worker = await startThetaWorker({ database: f.database, logger, metrics, lookbackDays: 30 });
    target = worker.theta;
    try {
      // A real failure: the table the update writes to is away for a moment.
      await f.database.db.schema.alterTable('mirt_ability').renameTo('mirt_ability_away').execute();
      await takeSession('dave', 'd1', [['i1', false]]);
      assert.equal(await waitFor(async () => ((await counter(metrics, 'retried')) ? 1 : undefined), 3000), 1);
      await f.database.db.schema.alterTable('mirt_ability_away').renameTo('mirt_ability').execute();
      const rows = await waitFor(
        async () => ((await online('dave')).length ? online('dave') : undefined),
        5000,
      );
      assert.ok(rows, 'the retried update was not written');
      assert.equal(rows.length, 1);
      assert.equal(await counter(metrics, 'written'), 1);
    } finally {
      await worker.stop();
    }
  });

  it('a killed `seedtest worker` process leaves queued updates; a restarted one runs them and is scraped (server database)', async (t) => {
    const url = f.database.url;
    if (!url) {
      t.skip('the embedded database belongs to one process');
      return;
    }
    const metricsPort = await freePort();
    const env = { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'info', HOST: '127.0.0.1' };
    const startWorker = async (): Promise<ChildProcess> => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker'], {
        cwd: ROOT,
        env: { ...env, WORKER_METRICS_PORT: String(metricsPort) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout!.on('data', (d) => {
        out += String(d);
      });
      const ready = await waitFor(async () => (out.includes('worker running') ? true : undefined), 20_000);
      assert.ok(ready, `the worker did not start: ${out}`);
      return child;
    };
    const producer = await producerOnly();
    try {
      const first = await startWorker();
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      await takeSession('erin', 'x1', [['i1', true]]);
      await takeSession('frank', 'y1', [['i2', true]]);
      await sleep(700);
      assert.equal(await queueDepth(f.database, THETA_QUEUE), 2);
      const second = await startWorker();
      try {
        const done = await waitFor(async () => {
          const [e, fr] = [await online('erin'), await online('frank')];
          return e.length === 1 && fr.length === 1 ? true : undefined;
        }, 5000);
        assert.ok(done, 'the restarted worker did not run the queued updates');
        const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
        assert.equal(scraped.status, 200);
        assert.match(await scraped.text(), /seedtest_theta_updates_total\{result="written"\} 2/);
        assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/nothing`)).status, 404);
      } finally {
        second.kill('SIGTERM');
        await new Promise((resolve) => second.once('exit', resolve));
      }
    } finally {
      await producer.stop();
    }
  });
});

/** A TCP port free on 127.0.0.1 right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** θ-update jobs not finished (queued, waiting for a retry, or running). */
async function pending(f: Fixture): Promise<number> {
  const { rows } = await f.database.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state IN ('created', 'retry', 'active')",
    [THETA_QUEUE],
  );
  return rows[0]!.n;
}
