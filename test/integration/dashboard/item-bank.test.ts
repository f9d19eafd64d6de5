// The item-bank routes of the dashboard over real HTTP (inject) on a real database: staff only, a
// run's flags (drift, misfit after Benjamini–Hochberg, over-exposure in the run's bank, inactive),
// filtering and paging, the calibration history's figures, an item's runs, and the charts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mintToken } from '../../../src/api/tokens.js';
import {
  AUDIENCE,
  bearer,
  createFixture,
  type Fixture,
  ISSUER,
  SECRET,
  seedItems,
  token,
} from '../api/setup.js';

const params = (a: number, b: number, se = true) =>
  JSON.stringify({ a, b, c: 0, d: 1, n: 200, p: 0.6, ...(se ? { se: { a: 0.1, b: 0.2 } } : {}) });

const fit = (runId: string, itemId: string, extra: Record<string, unknown>) => ({
  run_id: runId,
  item_id: itemId,
  infit: 1,
  outfit: 1.1,
  infit_z: 0.2,
  outfit_z: 0.5,
  sx2: 3,
  sx2_df: 4,
  sx2_p: 0.5,
  sx2_rmsea: 0,
  ...extra,
});

/**
 * i1, i2 (algebra), i3, i4 (geometry; i4 inactive). cal-1: the first run, no fit stored. cal-2:
 * linked to cal-1, i1 drifted, i2 misfits, i3 served in 4 of the bank's 10 sessions, anchor i4
 * screened out. cal-3: failed after screening.
 */
async function seed(f: Fixture): Promise<void> {
  const { db } = f.database;
  await seedItems(f.database);
  await db.insertInto('item').values({ item_id: 'i4', topic_id: 'geometry', active: false }).execute();
  await db
    .insertInto('mirt_fit_meta')
    .values([
      {
        run_id: 'cal-1',
        model: '2PL',
        status: 'succeeded',
        fitted_at: new Date('2026-11-01T23:00:00Z'),
        model_spec: JSON.stringify({ n_items: 4, n_persons: 150 }),
        metrics: JSON.stringify({ logLik: -812.25 }),
      },
      {
        run_id: 'cal-2',
        model: '2PL',
        status: 'succeeded',
        fitted_at: new Date('2026-11-08T23:00:00Z'),
        model_spec: JSON.stringify({
          n_items: 4,
          n_persons: 180,
          linking: {
            method: 'stocking-lord',
            A: 1.1,
            B: -0.2,
            n_anchors: 3,
            anchors: ['i1', 'i2', 'i3'],
            dropped: ['i4'],
          },
        }),
        metrics: JSON.stringify({ logLik: -901.5 }),
      },
      {
        run_id: 'cal-3',
        model: '2PL',
        status: 'failed',
        fitted_at: new Date('2026-11-15T23:00:00Z'),
        model_spec: JSON.stringify({ n_items: 4, n_persons: 190 }),
        metrics: JSON.stringify({ error: 'linking refused: fewer than the minimum of 5 anchors' }),
      },
    ])
    .execute();
  await db
    .insertInto('mirt_item_params')
    .values([
      ...['i1', 'i2', 'i3', 'i4'].map((item_id, k) => ({
        item_id,
        version: 'cal-1',
        model: '2PL',
        params: params(1 + k / 10, k - 1.5, false),
        fitted_at: new Date('2026-11-01T23:00:00Z'),
      })),
      ...['i1', 'i2', 'i3', 'i4'].map((item_id, k) => ({
        item_id,
        version: 'cal-2',
        model: '2PL',
        params: params(1.2 + k / 10, k - 1, true),
        fitted_at: new Date('2026-11-08T23:00:00Z'),
      })),
    ])
    .execute();
  await db
    .insertInto('mirt_item_fit')
    .values([
      fit('cal-2', 'i1', {
        previous_run: 'cal-1',
        da: 0.2,
        db: 0.5,
        dc: 0,
        lord_chi2: 14.2,
        drift_df: 2,
        drift_p: 0.0008,
        q_flag: true,
        area: 0.4,
        drift_flag: true,
      }),
      fit('cal-2', 'i2', { sx2: 40, sx2_p: 0.0001 }),
      fit('cal-2', 'i3', { sx2_p: 0.8 }),
      fit('cal-2', 'i4', { sx2: null, sx2_df: null, sx2_p: null, sx2_rmsea: null }),
    ])
    .execute();
  await db
    .insertInto('mirt_model_fit')
    .values({ run_id: 'cal-2', marginal_rxx: 0.81, empirical_rxx: 0.79, notes: JSON.stringify([]) })
    .execute();
  await db
    .insertInto('mirt_dropped_anchor')
    .values([
      { run_id: 'cal-2', item_id: 'i4', db: 0.9, z: 2.5, round: 1 },
      { run_id: 'cal-3', item_id: 'i2', db: 1.1, z: 3.1, round: 1 },
    ])
    .execute();
  await db.insertInto('cat_exposure_run').values({ run_id: 'cal-2', sessions: 10 }).execute();
  await db
    .insertInto('cat_exposure')
    .values([
      { run_id: 'cal-2', item_id: 'i1', served: 2 },
      { run_id: 'cal-2', item_id: 'i3', served: 4 },
    ])
    .execute();
}

describe('item-bank routes', () => {
  let f: Fixture;
  let analyst: string;
  let admin: string;
  let teacher: string;
  before(async () => {
    f = await createFixture();
    analyst = await token('analyst', 'analysis:run');
    admin = await token('root', 'admin');
    teacher = await mintToken({
      secret: SECRET,
      sub: 't',
      scope: 'cohort:view',
      ttl: '1h',
      issuer: ISSUER,
      audience: AUDIENCE,
      cohorts: ['a'],
    });
  });
  after(() => f.close());

  const get = (url: string, t = analyst) =>
    f.app.inject({ method: 'GET', url: `/api/seedtest${url}`, headers: bearer(t) });

  it('answers an empty bank before any calibration', async () => {
    const bank = await get('/item-bank');
    assert.equal(bank.statusCode, 200, bank.body);
    assert.equal(bank.json().run, null);
    assert.deepEqual(bank.json().items, []);
    assert.deepEqual((await get('/item-bank/charts')).json(), { charts: [] });
    assert.deepEqual((await get('/item-bank/calibrations')).json(), { total: 0, runs: [] });
    await seed(f);
  });

  it('is for staff: a teacher or a learner gets 403, an analyst or admin the data', async () => {
    const learner = await token('u1', 'reports:view');
    for (const url of [
      '/item-bank',
      '/item-bank/charts',
      '/item-bank/calibrations',
      '/item-bank/items/i1',
      '/item-bank/items/i1/charts',
    ]) {
      for (const t of [teacher, learner]) {
        const res = await get(url, t);
        assert.equal(res.statusCode, 403, url);
        assert.equal(res.json().error.code, 'INSUFFICIENT_SCOPE');
      }
      assert.equal((await get(url, admin)).statusCode, 200, url);
    }
  });

  it("flags the latest run's items, counts each flag, and filters and pages them", async () => {
    const res = await get('/item-bank');
    assert.equal(res.statusCode, 200, res.body);
    const bank = res.json();
    assert.equal(bank.run.run_id, 'cal-2', 'the latest succeeded run, not the failed cal-3');
    assert.equal(bank.bank_size, 4);
    assert.equal(bank.calibrated, 4);
    assert.equal(bank.sessions, 10);
    assert.deepEqual(bank.flag_counts, { drift: 1, misfit: 1, overexposed: 1, inactive: 1 });
    assert.deepEqual(
      bank.items.map((i: { item_id: string; flags: string[] }) => [i.item_id, i.flags]),
      [
        ['i1', ['drift']],
        ['i2', ['misfit']],
        ['i3', ['overexposed']],
        ['i4', ['inactive']],
      ],
    );
    const i1 = bank.items[0];
    assert.equal(i1.exposure_rate, 0.2);
    assert.equal(i1.a, 1.2);
    assert.equal(bank.items[1].exposure_rate, 0, 'never served from a bank that served sessions');
    assert.ok(bank.information.max > 0 && bank.information.theta > -4 && bank.information.theta < 4);

    const ids = async (query: string) =>
      (await get(`/item-bank?${query}`)).json().items.map((i: { item_id: string }) => i.item_id);
    assert.deepEqual(await ids('filter=drift'), ['i1']);
    assert.deepEqual(await ids('filter=misfit'), ['i2']);
    assert.deepEqual(await ids('filter=all&topic_id=geometry'), ['i3', 'i4']);
    assert.deepEqual(await ids('filter=all&limit=2&offset=1'), ['i2', 'i3']);
    assert.equal((await get('/item-bank?filter=all&limit=2')).json().total, 4);
  });

  it('reads an earlier run by id, and 404s a failed or unknown one', async () => {
    const old = (await get('/item-bank?run=cal-1&filter=all')).json();
    assert.equal(old.run.run_id, 'cal-1');
    assert.equal(old.sessions, 0);
    assert.deepEqual(old.flag_counts, { drift: 0, misfit: 0, overexposed: 0, inactive: 1 });
    assert.equal(old.items[0].exposure_rate, null, 'no session started on this bank');
    assert.equal(old.items[0].infit, null);
    for (const run of ['cal-3', 'nope']) {
      const res = await get(`/item-bank?run=${run}`);
      assert.equal(res.statusCode, 404);
      assert.equal(res.json().error.code, 'CALIBRATION_NOT_FOUND');
      assert.equal((await get(`/item-bank/charts?run=${run}`)).statusCode, 404);
    }
  });

  it('refuses bad input with 400', async () => {
    for (const url of [
      '/item-bank?filter=bogus',
      '/item-bank?limit=0',
      '/item-bank?offset=-1',
      '/item-bank?run=',
      '/item-bank?extra=1',
      '/item-bank/charts?color=red',
      '/item-bank/charts?locale=fr',
      '/item-bank/calibrations?limit=1000',
      '/item-bank/items/i1/charts?locale=de',
    ]) {
      const res = await get(url);
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      assert.equal(res.json().error.code, 'INVALID_INPUT');
    }
  });

  it("draws the run's scatter by flag or topic and its test information, in both languages", async () => {
    const byFlag = (await get('/item-bank/charts?locale=en')).json().charts;
    assert.deepEqual(
      byFlag.map((c: { key: string; points: number }) => [c.key, c.points]),
      [
        ['scatter', 4],
        ['information', 81],
      ],
    );
    const [scatter, info] = byFlag.map((c: { svg: string }) => c.svg);
    assert.match(scatter, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    for (const label of ['Difficulty b', 'Discrimination a', 'drift (1)', 'misfit (1)', 'inactive (1)'])
      assert.ok(scatter.includes(label), label);
    assert.ok(info.includes('Test information'));
    const byTopic = (await get('/item-bank/charts?color=topic&locale=ko')).json().charts[0].svg;
    assert.ok(byTopic.includes('Algebra (2)') && byTopic.includes('Geometry (2)'));
    assert.ok(byTopic.includes('난이도 b'));
  });

  it("lists the runs with log-likelihood, reliability, linking, anchors and the failure's reason", async () => {
    const res = await get('/item-bank/calibrations');
    assert.equal(res.statusCode, 200, res.body);
    const { total, runs } = res.json();
    assert.equal(total, 3);
    assert.deepEqual(
      runs.map((r: { run_id: string }) => r.run_id),
      ['cal-3', 'cal-2', 'cal-1'],
    );
    const [failed, linked, first] = runs;
    assert.equal(failed.status, 'failed');
    assert.match(failed.error, /fewer than the minimum/);
    assert.deepEqual(failed.dropped_anchors, ['i2']);
    assert.equal(linked.log_lik, -901.5);
    assert.equal(linked.n_persons, 180);
    assert.equal(linked.marginal_rxx, 0.81);
    assert.equal(linked.empirical_rxx, 0.79);
    assert.deepEqual(linked.linking, { method: 'stocking-lord', A: 1.1, B: -0.2, anchors_used: 3 });
    assert.deepEqual(linked.dropped_anchors, ['i4']);
    assert.equal(linked.drift_flagged, 1);
    assert.equal(first.linking, null);
    assert.equal(first.marginal_rxx, null);
    assert.deepEqual(first.dropped_anchors, []);
    const page = (await get('/item-bank/calibrations?limit=1&offset=1')).json();
    assert.deepEqual(
      page.runs.map((r: { run_id: string }) => r.run_id),
      ['cal-2'],
    );
  });

  it("shows an item's runs with parameters, fit, drift and exposure, and its curves", async () => {
    const res = await get('/item-bank/items/i1');
    assert.equal(res.statusCode, 200, res.body);
    const d = res.json();
    assert.deepEqual(d.item, {
      item_id: 'i1',
      topic_id: 'algebra',
      topic: 'Algebra',
      active: true,
      tags: [],
    });
    assert.deepEqual(
      d.runs.map((r: { run_id: string }) => r.run_id),
      ['cal-2', 'cal-1'],
    );
    const [now, before] = d.runs;
    assert.deepEqual(now.params, { a: 1.2, b: -1, c: 0 });
    assert.deepEqual(now.se, { a: 0.1, b: 0.2, c: null });
    assert.equal(now.responses, 200);
    assert.equal(now.fit.infit, 1);
    assert.equal(now.fit.sx2_p, 0.5);
    assert.deepEqual(now.drift, {
      previous_run: 'cal-1',
      da: 0.2,
      db: 0.5,
      dc: 0,
      lord_chi2: 14.2,
      df: 2,
      p: 0.0008,
      flag: true,
    });
    assert.deepEqual(now.exposure, { served: 2, sessions: 10, rate: 0.2 });
    assert.equal(before.fit, null);
    assert.equal(before.drift, null);
    assert.equal(before.exposure, null);
    assert.deepEqual((await get('/item-bank/items/i2')).json().runs[0].exposure, {
      served: 0,
      sessions: 10,
      rate: 0,
    });

    const charts = (await get('/item-bank/items/i1/charts?locale=en')).json().charts;
    assert.deepEqual(
      charts.map((c: { key: string; points: number }) => [c.key, c.points]),
      [
        ['curve', 81],
        ['history', 2],
      ],
    );
    assert.ok(charts[0].svg.includes('P(correct)') && charts[0].svg.includes('b = −1.00'));
    assert.ok(charts[1].svg.includes('Discrimination a'));

    const missing = await get('/item-bank/items/nope');
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 'ITEM_NOT_FOUND');
    assert.equal((await get('/item-bank/items/nope/charts')).statusCode, 404);
  });

  it('answers an item never calibrated with no runs and no charts', async () => {
    await f.database.db.insertInto('item').values({ item_id: 'i5', topic_id: 'algebra' }).execute();
    assert.deepEqual((await get('/item-bank/items/i5')).json().runs, []);
    assert.deepEqual((await get('/item-bank/items/i5/charts')).json(), { charts: [] });
  });
});
