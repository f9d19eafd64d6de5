import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { mirtCalibrate } from '../../src/calibration/job.js';
import { loadConfig } from '../../src/config.js';
import { loadPlatform } from '../../src/demo/load.js';
import { PARALLEL_MIN_OBS } from '../../src/irt/index.js';
import { findJob } from '../../src/jobs/registry.js';
import { runJob } from '../../src/jobs/runner.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { streamPlatform } from '../../src/synthetic/platform.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
const job = findJob('mirt-calibrate');
const config = loadConfig({ MIRT_LOOKBACK_DAYS: '30' });
const platform = streamPlatform({
  seed: 3,
  learners: 300,
  weeks: 2,
  items: 40,
  topics: 4,
  start: new Date('2026-11-02T00:00:00Z'),
});

before(async () => {
  database = await createTestDatabase();
  await loadPlatform(database.db, platform);
});
after(async () => {
  await database.close();
});

function correlation(x: number[], y: number[]): number {
  const mx = x.reduce((s, v) => s + v, 0) / x.length;
  const my = y.reduce((s, v) => s + v, 0) / y.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

test('the first calibration writes fit meta, item parameters and one ability per learner, unlinked', async () => {
  const outcome = await runJob(database.db, job, ['2026-11-14'], config);
  assert.equal(outcome.status, 'succeeded', outcome.error);
  const meta = await database.db.selectFrom('mirt_fit_meta').selectAll().executeTakeFirstOrThrow();
  assert.equal(meta.run_id, 'cal-2026-11-14');
  assert.equal(meta.status, 'succeeded');
  assert.equal((meta.model_spec.linking as { method: string }).method, 'none');
  assert.equal(meta.metrics.converged, true);
  // Fewer than PARALLEL_MIN_OBS responses: the E-step ran on the calling thread alone.
  assert.ok(Number(meta.model_spec.n_obs) < PARALLEL_MIN_OBS);
  assert.equal(meta.metrics.estep_threads, 1);
  const params = await database.db.selectFrom('mirt_item_params').selectAll().execute();
  assert.equal(params.length, meta.model_spec.n_items);
  // Recovery: 300 learners × ~10 days of sessions give each item a few hundred responses, enough for
  // the difficulties to order like the truth (a weak bound; the engine's own recovery tests are tighter).
  const truthB = params.map((p) => platform.itemTruth.get(p.item_id)!.b);
  assert.ok(
    correlation(
      truthB,
      params.map((p) => p.params.b),
    ) > 0.8,
  );
  for (const p of params) assert.ok(Math.abs(p.params.d + p.params.a * p.params.b) < 1e-9, 'd = −a·b');
  const abilities = await database.db.selectFrom('mirt_ability').selectAll().execute();
  assert.equal(abilities.length, meta.model_spec.n_persons);
  assert.ok(
    abilities.every((a) => a.source === 'calibration' && a.version === 'cal-2026-11-14' && (a.se ?? 0) > 0),
  );
});

test('the next calibration is linked to the previous one; a re-run replaces its own rows', async () => {
  await runJob(database.db, job, ['2026-11-15'], config);
  await runJob(database.db, job, ['2026-11-15'], config);
  const metas = await database.db.selectFrom('mirt_fit_meta').selectAll().orderBy('run_id').execute();
  assert.deepEqual(
    metas.map((m) => m.run_id),
    ['cal-2026-11-14', 'cal-2026-11-15'],
  );
  const linking = metas[1]!.model_spec.linking as { method: string; n_anchors: number };
  assert.equal(linking.method, 'fixed');
  assert.ok(linking.n_anchors >= 5);
  const abilities = await database.db
    .selectFrom('mirt_ability')
    .select('version')
    .where('version', '=', 'cal-2026-11-15')
    .execute();
  assert.equal(abilities.length, metas[1]!.model_spec.n_persons);
});

test('each run stores item fit, model fit and reliability; the linked run also drift, screened anchors and gauges', async () => {
  const { db } = database;
  const model = await db.selectFrom('mirt_model_fit').selectAll().orderBy('run_id').execute();
  assert.deepEqual(
    model.map((m) => m.run_id),
    ['cal-2026-11-14', 'cal-2026-11-15'],
  );
  for (const m of model) {
    assert.ok(m.marginal_rxx > 0 && m.marginal_rxx < 1 && m.empirical_rxx > 0 && m.empirical_rxx < 1);
    // Adaptive sessions: S-X² and M2 are undefined, and said so.
    assert.equal(m.m2, null);
    assert.match(m.notes.join(' '), /complete data/);
  }
  const first = await db
    .selectFrom('mirt_item_fit')
    .selectAll()
    .where('run_id', '=', 'cal-2026-11-14')
    .execute();
  assert.ok(first.length > 0 && first.every((r) => Number.isFinite(r.infit) && r.previous_run === null));
  const second = await db
    .selectFrom('mirt_item_fit')
    .selectAll()
    .where('run_id', '=', 'cal-2026-11-15')
    .execute();
  const tested = second.filter((r) => r.previous_run === 'cal-2026-11-14');
  assert.ok(tested.length >= 5, `${tested.length} items tested for drift`);
  for (const r of tested) assert.ok(r.drift_p !== null && r.drift_p >= 0 && r.drift_p <= 1 && r.area! >= 0);
  // The same bank a day later: no drift to speak of.
  assert.ok(tested.filter((r) => r.drift_flag).length <= Math.max(1, 0.05 * tested.length));
  // Gauges of a job process.
  const metrics = createMetrics();
  const outcome = await runJob(db, job, ['2026-11-15'], config, { metrics });
  assert.equal(outcome.status, 'succeeded', outcome.error);
  const text = await metrics.registry.metrics();
  assert.match(text, /seedtest_irt_marginal_reliability\{model="[^"]+"\} 0\.\d+/);
  assert.match(text, /seedtest_irt_items_flagged\{reason="drift"\} \d+/);
  assert.match(text, /seedtest_irt_items_flagged\{reason="dropped_anchor"\} \d+/);
  const dropped = await db
    .selectFrom('mirt_dropped_anchor')
    .selectAll()
    .where('run_id', '=', 'cal-2026-11-15')
    .execute();
  const meta = await db
    .selectFrom('mirt_fit_meta')
    .select('model_spec')
    .where('run_id', '=', 'cal-2026-11-15')
    .executeTakeFirstOrThrow();
  assert.deepEqual(
    dropped.map((d) => d.item_id).sort(),
    [...(meta.model_spec.linking as { dropped: string[] }).dropped].sort(),
  );
});

test('a fit that cannot run records a failed fit_meta row and nothing else, and the run fails', async () => {
  const strict = loadConfig({ MIRT_MIN_ITEM_RESPONSES: '100000' });
  const before = await database.db.selectFrom('mirt_item_params').select('item_id').execute();
  const outcome = await runJob(database.db, job, ['2026-11-16'], strict);
  assert.equal(outcome.status, 'failed');
  const meta = await database.db
    .selectFrom('mirt_fit_meta')
    .selectAll()
    .where('run_id', '=', 'cal-2026-11-16')
    .executeTakeFirstOrThrow();
  assert.equal(meta.status, 'failed');
  assert.equal(
    (await database.db.selectFrom('mirt_item_params').select('item_id').execute()).length,
    before.length,
  );
  assert.equal(
    (
      await database.db
        .selectFrom('mirt_ability')
        .select('id')
        .where('version', '=', 'cal-2026-11-16')
        .execute()
    ).length,
    0,
  );
});

test('the window is UTC days whatever the session time zone', async () => {
  const { db } = database;
  const responsesIn = async (zone: string) =>
    db
      .transaction()
      .execute(async (trx) => {
        await sql`SELECT set_config('TimeZone', ${zone}, true)`.execute(trx);
        const result = await mirtCalibrate(trx, '2026-11-14', config);
        // Roll back: only the count of responses read is wanted.
        throw Object.assign(new Error('rollback'), { responses: result.counts?.responses });
      })
      .catch((e: { responses?: number }) => e.responses);
  const utc = await responsesIn('UTC');
  assert.ok((utc ?? 0) > 0);
  // Seoul is 9 hours ahead and Los Angeles 8 behind: a window read in session time would gain or
  // lose the attempts of those hours at each end.
  assert.equal(await responsesIn('Asia/Seoul'), utc);
  assert.equal(await responsesIn('America/Los_Angeles'), utc);
});

test('MIRT_MAX_OBS caps the responses a calibration reads at the most recent ones', async () => {
  const { db } = database;
  const readWith = async (cap: string) =>
    db
      .transaction()
      .execute(async (trx) => {
        const result = await mirtCalibrate(
          trx,
          '2026-11-14',
          loadConfig({ MIRT_LOOKBACK_DAYS: '30', MIRT_MAX_OBS: cap }),
        );
        throw Object.assign(new Error('rollback'), { responses: result.counts?.responses });
      })
      .catch((e: { responses?: number }) => e.responses);
  const all = (await readWith('0')) ?? 0;
  assert.ok(all > 2000);
  assert.equal(await readWith('2000'), 2000);
});
