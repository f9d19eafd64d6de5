// The gauges the API exports are the database's truth, whichever process computed them: jobs run
// through a second Database and their own Metrics (as a CronJob pod or the CLI would), then the
// server's /metrics shows the inactive learners, the last calibration's figures and bank health and
// the jobs' last successes from the database; a refresh is shared by the scrapes of a few seconds.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openServer } from '../../../src/db/connection.js';
import { loadPlatform } from '../../../src/demo/load.js';
import { findJob } from '../../../src/jobs/registry.js';
import { runJob } from '../../../src/jobs/runner.js';
import { DATABASE_GAUGES_TTL_MS } from '../../../src/observability/database-gauges.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { streamPlatform } from '../../../src/synthetic/platform.js';
import { createFixture, type Fixture, testConfig } from './setup.js';

/** The value of one series of a scrape, or undefined when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('database-derived gauges', () => {
  let f: Fixture;
  let scrapedAt = 0;
  const scrape = async () => {
    const res = await f.app.inject({ url: '/metrics' });
    assert.equal(res.statusCode, 200);
    scrapedAt = Date.now();
    return res.body;
  };
  /** Past the cache of the last scrape. */
  const afterCache = () => sleep(Math.max(0, scrapedAt + DATABASE_GAUGES_TTL_MS + 50 - Date.now()));

  before(async () => {
    f = await createFixture();
    await loadPlatform(
      f.database.db,
      streamPlatform({
        seed: 3,
        learners: 200,
        weeks: 2,
        items: 30,
        topics: 3,
        start: new Date('2026-11-02T00:00:00Z'),
      }),
    );
  });
  after(() => f.close());

  it('before any job: no calibration series, no inactive learner, no last success', async () => {
    const text = await scrape();
    assert.equal(sample(text, 'seedtest_inactive_learners'), 0);
    assert.equal(sample(text, 'seedtest_irt_calibration_loglik'), undefined);
    assert.equal(sample(text, 'seedtest_irt_linking_constant', { constant: 'A' }), undefined);
    assert.equal(sample(text, 'seedtest_job_last_success_timestamp_seconds'), undefined);
    assert.equal(sample(text, 'seedtest_irt_marginal_reliability'), undefined);
    assert.equal(sample(text, 'seedtest_irt_items_flagged', { reason: 'dropped_anchor' }), undefined);
  });

  it('after jobs ran in another process, a scrape shows what they wrote', async () => {
    // The other process: its own pool on the server database (PGlite has one connection per
    // instance, so there the same database), and its own metrics the server never sees.
    const other = f.database.url ? openServer(f.database.url, 2) : f.database;
    const otherMetrics = createMetrics();
    const config = testConfig({ MIRT_LOOKBACK_DAYS: '30', INACTIVITY_THRESHOLD_DAYS: '7' });
    try {
      for (const [job, date] of [
        ['mirt-calibrate', '2026-11-08'],
        ['mirt-calibrate', '2026-11-15'],
        ['detect-inactivity', '2026-12-20'],
      ] as const) {
        const outcome = await runJob(other.db, findJob(job), [date], config, { metrics: otherMetrics });
        assert.equal(outcome.status, 'succeeded', outcome.error);
      }
    } finally {
      if (other !== f.database) await other.close();
    }
    await afterCache();
    const text = await scrape();

    const open = await f.database.db
      .selectFrom('inactivity_alert')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('resolved_at', 'is', null)
      .executeTakeFirstOrThrow();
    assert.ok(Number(open.n) > 50, `learners flagged: ${open.n}`);
    assert.equal(sample(text, 'seedtest_inactive_learners'), Number(open.n));

    const meta = await f.database.db
      .selectFrom('mirt_fit_meta')
      .selectAll()
      .where('run_id', '=', 'cal-2026-11-15')
      .executeTakeFirstOrThrow();
    const model = { model: meta.model };
    assert.equal(sample(text, 'seedtest_irt_calibration_loglik', model), meta.metrics.logLik);
    assert.ok(Number(meta.metrics.logLik) < 0);
    assert.equal(sample(text, 'seedtest_irt_calibration_iterations', model), meta.metrics.iterations);
    assert.ok(Number(meta.metrics.iterations) > 0);
    assert.equal(
      sample(text, 'seedtest_irt_calibration_items_excluded', model),
      (meta.model_spec.excluded_items as unknown[]).length,
    );
    const linking = meta.model_spec.linking as { method: string; A: number; B: number };
    assert.notEqual(linking.method, 'none', 'the second run is linked to the first');
    assert.equal(sample(text, 'seedtest_irt_linking_constant', { constant: 'A' }), linking.A);
    assert.equal(sample(text, 'seedtest_irt_linking_constant', { constant: 'B' }), linking.B);

    // The bank's health as the job computed it in its own process, and as the database gives it here.
    const own = async (gauge: { get(): Promise<{ values: { labels: object; value: number }[] }> }) =>
      (await gauge.get()).values;
    const [rxx] = await own(otherMetrics.irtMarginalReliability);
    assert.ok(rxx && rxx.value > 0.5 && rxx.value < 1, `marginal reliability ${rxx?.value}`);
    assert.equal(sample(text, 'seedtest_irt_marginal_reliability', model), rxx.value);
    const flagged = await own(otherMetrics.irtItemsFlagged);
    assert.equal(flagged.length, 3);
    for (const { labels, value } of flagged) {
      assert.equal(sample(text, 'seedtest_irt_items_flagged', labels as Record<string, string>), value);
    }

    for (const job of ['mirt-calibrate', 'detect-inactivity']) {
      const last = sample(text, 'seedtest_job_last_success_timestamp_seconds', { job });
      assert.ok(last !== undefined && Math.abs(last - Date.now() / 1000) < 600, `${job}: ${last}`);
    }
  });

  it('a scrape within the cache reuses the last refresh; the next one reads the database again', async () => {
    const before = sample(await scrape(), 'seedtest_inactive_learners')!;
    const resolved = await f.database.db
      .updateTable('inactivity_alert')
      .set({ resolved_at: new Date() })
      .where('resolved_at', 'is', null)
      .where('user_id', '<', 'u-00050')
      .executeTakeFirstOrThrow();
    const n = Number(resolved.numUpdatedRows);
    assert.ok(n > 0);
    assert.equal(sample(await scrape(), 'seedtest_inactive_learners'), before, 'cached');
    await afterCache();
    assert.equal(sample(await scrape(), 'seedtest_inactive_learners'), before - n);
  });
});
