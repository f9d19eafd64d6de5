// GET /items/{item_id}/history and GET /calibrations/{run_id}: the bank's health as the calibration
// job stores it (rows written here directly; the job's own writing is tested in calibration.test.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { insertRun } from './irt-fixtures.js';
import { bearer, createFixture, type Fixture, seedItems, token } from './setup.js';

describe('item history and calibration runs', () => {
  let f: Fixture;
  let reader: Record<string, string>;
  let learner: Record<string, string>;
  const get = (url: string, headers: Record<string, string>) =>
    f.app.inject({ method: 'GET', url: `/api/seedtest${url}`, headers });
  const fit = {
    infit: 0.95,
    outfit: 0.9,
    infit_z: -0.8,
    outfit_z: -1.1,
    sx2: null,
    sx2_df: null,
    sx2_p: null,
    sx2_rmsea: null,
  };

  before(async () => {
    f = await createFixture();
    await seedItems(f.database);
    reader = bearer(await token('carol', 'reports:view'));
    learner = bearer(await token('alice', 'exam:write'));
    const { db } = f.database;
    await insertRun(f.database, 'cal-1', '2026-01-01T00:00:00Z', {
      i1: { a: 1, b: 0, c: 0 },
      i2: { a: 1, b: 1, c: 0 },
    });
    await insertRun(f.database, 'cal-2', '2026-01-02T00:00:00Z', {
      i1: { a: 1, b: 0.6, c: 0 },
      i2: { a: 1, b: 1, c: 0 },
    });
    await db
      .insertInto('mirt_model_fit')
      .values({
        run_id: 'cal-2',
        marginal_rxx: 0.8,
        empirical_rxx: 0.78,
        notes: JSON.stringify(['S-X² and M2 need complete data']),
      })
      .execute();
    await db
      .insertInto('mirt_item_fit')
      .values([
        { run_id: 'cal-1', item_id: 'i1', ...fit },
        {
          run_id: 'cal-2',
          item_id: 'i1',
          ...fit,
          sx2: 30,
          sx2_df: 3,
          sx2_p: 1e-6,
          sx2_rmsea: 0.1,
          previous_run: 'cal-1',
          da: 0,
          db: 0.6,
          dc: 0,
          lord_chi2: 40,
          drift_df: 2,
          drift_p: 2e-9,
          q_flag: true,
          area: 0.12,
          drift_flag: true,
        },
        {
          run_id: 'cal-2',
          item_id: 'i2',
          ...fit,
          sx2: 2,
          sx2_df: 3,
          sx2_p: 0.57,
          sx2_rmsea: 0,
          previous_run: 'cal-1',
          da: 0,
          db: 0,
          dc: 0,
          lord_chi2: 0.1,
          drift_df: 2,
          drift_p: 0.95,
          q_flag: false,
          area: 0.001,
          drift_flag: false,
        },
      ])
      .execute();
    await db
      .insertInto('mirt_dropped_anchor')
      .values({ run_id: 'cal-2', item_id: 'i1', db: -0.6, z: -4.2, round: 1 })
      .execute();
  });
  after(() => f.close());

  it('GET /items/{item_id}/history: parameters, fit and drift per run, newest first', async () => {
    const res = await get('/items/i1/history', reader);
    assert.equal(res.statusCode, 200, res.body);
    const { history } = res.json();
    assert.deepEqual(
      history.map((h: { run_id: string }) => h.run_id),
      ['cal-2', 'cal-1'],
    );
    assert.equal(history[0].params.b, 0.6);
    assert.equal(history[0].fit.sx2, 30);
    assert.deepEqual(
      { flag: history[0].drift.flag, previous: history[0].drift.previous_run, db: history[0].drift.db },
      { flag: true, previous: 'cal-1', db: 0.6 },
    );
    assert.equal(history[1].drift, null);
    assert.equal(history[1].fit.sx2, null);
    assert.equal((await get('/items/nope/history', reader)).json().error.code, 'ITEM_NOT_FOUND');
    assert.equal((await get('/items/i1/history', learner)).statusCode, 403);
  });

  it('GET /calibrations/{run_id}: model fit, reliability, dropped anchors, flagged items', async () => {
    const res = await get('/calibrations/cal-2', reader);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.model_fit.marginal_rxx, 0.8);
    assert.equal(body.model_fit.M2, null);
    assert.deepEqual(body.model_fit.notes, ['S-X² and M2 need complete data']);
    assert.deepEqual(body.dropped_anchors, [{ item_id: 'i1', db: -0.6, z: -4.2, round: 1 }]);
    assert.deepEqual(body.flagged, [{ item_id: 'i1', reasons: ['drift', 'misfit'] }]);
    assert.equal((await get('/calibrations/cal-1', reader)).json().model_fit, null);
    const unknown = await get('/calibrations/cal-9', reader);
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error.code, 'CALIBRATION_NOT_FOUND');
    const doc = (await f.app.inject({ method: 'GET', url: '/docs/openapi.json' })).json();
    for (const path of ['/api/seedtest/items/{item_id}/history', '/api/seedtest/calibrations/{run_id}'])
      assert.ok(doc.paths[path], path);
  });
});
