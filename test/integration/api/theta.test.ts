import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engineEap, insertRun } from './irt-fixtures.js';
import { bearer, createFixture, type Fixture, seedItems, token } from './setup.js';

type Headers = Record<string, string>;

const I1 = { a: 1.2, b: -0.5, c: 0 };
const I2 = { a: 0.8, b: 0.3, c: 0 };
const PRIOR = { mean: 0.2, variance: 1.3 };

describe('online θ update and θ history', () => {
  let f: Fixture;
  let alice: Headers;
  let aliceReader: Headers;
  let bob: Headers;
  let analyst: Headers;
  let reader: Headers;

  before(async () => {
    f = await createFixture();
    await seedItems(f.database);
    alice = bearer(await token('alice', 'exam:write'));
    aliceReader = bearer(await token('alice', 'reports:view'));
    bob = bearer(await token('bob', 'exam:write'));
    analyst = bearer(await token('analyst', 'analysis:run'));
    reader = bearer(await token('carol', 'reports:view'));
  });
  after(() => f.close());

  const post = (url: string, headers: Headers, payload?: unknown) =>
    f.app.inject({ method: 'POST', url: `/api/seedtest${url}`, headers, payload: payload as object });
  const get = (url: string, headers: Headers) =>
    f.app.inject({ method: 'GET', url: `/api/seedtest${url}`, headers });
  const abilities = () => f.database.db.selectFrom('mirt_ability').selectAll().orderBy('id').execute();
  const answer = async (
    who: Headers,
    session: string,
    attempts: { item_id: string; correct: boolean; answered_at?: string }[],
  ) => {
    assert.equal((await post('/sessions', who, { session_id: session })).statusCode, 201);
    const res = await post(`/sessions/${session}/attempts`, who, { attempts });
    assert.equal(res.statusCode, 201, res.body);
  };

  it('refuses with 409 NO_CALIBRATION before any calibration, writing nothing', async () => {
    const earlier = new Date(Date.now() - 7_200_000).toISOString();
    await answer(alice, 's0', [{ item_id: 'i1', correct: true, answered_at: earlier }]);
    const res = await post('/analysis/irt/update-theta', alice, { user_id: 'alice' });
    assert.equal(res.statusCode, 409, res.body);
    assert.equal(res.json().error.code, 'NO_CALIBRATION');
    assert.deepEqual(await abilities(), []);
  });

  it('writes the engine EAP of the latest response per item in the window, skipping items without parameters', async () => {
    await insertRun(f.database, 'cal-1', '2026-01-01T00:00:00Z', { i1: I1, i2: I2 }, PRIOR);
    const noResponses = await post('/analysis/irt/update-theta', analyst, { user_id: 'nobody' });
    assert.equal(noResponses.statusCode, 404);
    assert.equal(noResponses.json().error.code, 'NO_RESPONSES');

    const now = Date.now();
    const iso = (msAgo: number) => new Date(now - msAgo).toISOString();
    await answer(alice, 's1', [
      { item_id: 'i1', correct: true, answered_at: iso(60_000) },
      { item_id: 'i2', correct: true, answered_at: iso(50_000) },
      { item_id: 'i1', correct: false, answered_at: iso(40_000) },
      // Outside a 30-day window:
      { item_id: 'i2', correct: false, answered_at: iso(40 * 86_400_000) },
    ]);
    const res = await post('/analysis/irt/update-theta', alice, { user_id: 'alice' });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    // s0 answered i1 correctly earlier; the latest i1 (wrong, s1) counts; i3 has no parameters.
    const expected = engineEap([I1, I2], [0, 1], PRIOR);
    assert.ok(Math.abs(body.theta - expected.theta) < 1e-12, `${body.theta} vs ${expected.theta}`);
    assert.ok(Math.abs(body.se - expected.se) < 1e-12);
    assert.deepEqual(
      { ...body, theta: 0, se: 0, updated_at: 0 },
      {
        user_id: 'alice',
        theta: 0,
        se: 0,
        model: '2PL',
        version: 'cal-1',
        session_id: 's1',
        n_responses: 2,
        n_skipped: 0,
        updated_at: 0,
      },
    );
    assert.match(body.updated_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const rows = await abilities();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.source, 'online');
    assert.equal(rows[0]!.session_id, 's1');
    assert.equal(rows[0]!.n_responses, 2);
    assert.equal(rows[0]!.theta, body.theta);

    // A window long enough to reach the old i2 answer does not change which response counts: the latest.
    const wide = await post('/analysis/irt/update-theta', alice, { user_id: 'alice', lookback_days: 60 });
    assert.equal(wide.json().theta, body.theta);
  });

  it('counts responses to items without parameters as skipped; only those → 404', async () => {
    await answer(bob, 'sb', [
      { item_id: 'i3', correct: true },
      { item_id: 'i2', correct: false },
    ]);
    const res = await post('/analysis/irt/update-theta', bob, { user_id: 'bob', session_id: 'sb' });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().n_responses, 1);
    assert.equal(res.json().n_skipped, 1);
    assert.equal(res.json().theta, engineEap([I2], [0], PRIOR).theta);

    const carol = bearer(await token('carol', 'exam:write'));
    await answer(carol, 'sc', [{ item_id: 'i3', correct: true }]);
    const none = await post('/analysis/irt/update-theta', carol, { user_id: 'carol' });
    assert.equal(none.statusCode, 404);
    assert.equal(none.json().error.code, 'NO_RESPONSES');
    assert.deepEqual(none.json().error.details, { responses: 1, skipped: 1 });
  });

  it('checks scope and ownership: own exam:write, analysis:run for anyone, others 403', async () => {
    const before = (await abilities()).length;
    const other = await post('/analysis/irt/update-theta', bob, { user_id: 'alice' });
    assert.equal(other.statusCode, 403);
    assert.equal(other.json().error.code, 'NOT_YOUR_DATA');
    const wrongScope = await post('/analysis/irt/update-theta', reader, { user_id: 'carol' });
    assert.equal(wrongScope.statusCode, 403);
    assert.equal(wrongScope.json().error.code, 'INSUFFICIENT_SCOPE');
    const noToken = await post('/analysis/irt/update-theta', {}, { user_id: 'alice' });
    assert.equal(noToken.statusCode, 401);
    assert.equal((await abilities()).length, before);
    const byAnalyst = await post('/analysis/irt/update-theta', analyst, { user_id: 'alice' });
    assert.equal(byAnalyst.statusCode, 200);
    assert.equal((await abilities()).length, before + 1);
  });

  it('validates the body: lookback out of range, unknown fields, foreign sessions', async () => {
    const before = (await abilities()).length;
    for (const body of [
      { user_id: 'alice', lookback_days: 0 },
      { user_id: 'alice', lookback_days: 366 },
      { user_id: 'alice', lookback_days: 1.5 },
      { user_id: 'alice', extra: 1 },
      { user_id: '' },
      { user_id: 'a'.repeat(129) },
      { user_id: 'alice', model: '4PL' },
    ]) {
      const res = await post('/analysis/irt/update-theta', alice, body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.equal(res.json().error.code, 'INVALID_INPUT');
    }
    const lookback = await post('/analysis/irt/update-theta', alice, {
      user_id: 'alice',
      lookback_days: 400,
    });
    assert.match(lookback.json().error.message, /lookback_days/);
    const foreign = await post('/analysis/irt/update-theta', alice, { user_id: 'alice', session_id: 'sb' });
    assert.equal(foreign.statusCode, 404);
    assert.equal(foreign.json().error.code, 'SESSION_NOT_FOUND');
    assert.equal((await abilities()).length, before);
  });

  it('follows a new calibration at once and can pin a run or a model', async () => {
    const I1b = { a: 2, b: 1, c: 0 };
    await insertRun(f.database, 'cal-2', '2026-02-01T00:00:00Z', { i1: I1b }, { mean: 0, variance: 1 });
    const res = await post('/analysis/irt/update-theta', alice, { user_id: 'alice' });
    assert.equal(res.statusCode, 200);
    // Current parameters: i1 from cal-2, i2 still from cal-1; the prior of the latest run.
    assert.equal(res.json().version, 'cal-2');
    assert.ok(Math.abs(res.json().theta - engineEap([I1b, I2], [0, 1]).theta) < 1e-12);

    const pinned = await post('/analysis/irt/update-theta', alice, { user_id: 'alice', version: 'cal-1' });
    assert.equal(pinned.json().version, 'cal-1');
    assert.ok(Math.abs(pinned.json().theta - engineEap([I1, I2], [0, 1], PRIOR).theta) < 1e-12);

    const missing = await post('/analysis/irt/update-theta', alice, { user_id: 'alice', model: '3PL' });
    assert.equal(missing.statusCode, 409);
    assert.match(missing.json().error.message, /3PL/);
  });

  it('lists θ history newest first, own or with analysis:run', async () => {
    const own = await get('/analysis/irt/theta', aliceReader);
    assert.equal(own.statusCode, 200, own.body);
    const history = own.json().history;
    assert.equal(own.json().user_id, 'alice');
    assert.equal(history.length, 5);
    assert.deepEqual(
      history.map((h: { version: string }) => h.version),
      ['cal-1', 'cal-2', 'cal-1', 'cal-1', 'cal-1'],
    );
    const times = history.map((h: { fitted_at: string }) => Date.parse(h.fitted_at));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
    );
    assert.equal((await get('/analysis/irt/theta?user_id=alice&limit=2', analyst)).json().history.length, 2);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const future = await get(`/analysis/irt/theta?user_id=alice&since=${tomorrow}`, analyst);
    assert.deepEqual(future.json().history, []);
    // The time rule: nothing beyond now + 1 day, and a date-time needs its zone.
    for (const since of ['2999-01-01', '2026-01-01T00:00:00']) {
      const res = await get(`/analysis/irt/theta?user_id=alice&since=${since}`, analyst);
      assert.equal(res.json().error.details.fields[0].field, 'since', since);
    }
    assert.equal((await get('/analysis/irt/theta?user_id=alice', reader)).statusCode, 403);
    for (const q of ['since=yesterday', 'since=2026-13-45', 'limit=0', 'limit=1001', 'other=1']) {
      const res = await get(`/analysis/irt/theta?${q}`, aliceReader);
      assert.equal(res.statusCode, 400, q);
    }
  });

  it('lists the parameter history of an item with the current row marked', async () => {
    const res = await get('/items/i1/params', reader);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.topic_id, 'algebra');
    assert.deepEqual(
      body.history.map((h: { version: string; current: boolean }) => [h.version, h.current]),
      [
        ['cal-2', true],
        ['cal-1', false],
      ],
    );
    assert.equal(body.history[1].params.a, I1.a);
    assert.deepEqual((await get('/items/i3/params', reader)).json().history, []);
    const unknown = await get('/items/nope/params', reader);
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error.code, 'ITEM_NOT_FOUND');
    assert.equal((await get('/items/i1/params', alice)).statusCode, 403);
  });

  it('documents the routes in OpenAPI', async () => {
    const doc = (await f.app.inject({ method: 'GET', url: '/docs/openapi.json' })).json();
    for (const path of [
      '/api/seedtest/analysis/irt/update-theta',
      '/api/seedtest/analysis/irt/theta',
      '/api/seedtest/items/{item_id}/params',
      '/irt/score',
      '/irt/calibrate',
      '/healthz',
    ]) {
      assert.ok(doc.paths[path], path);
    }
  });
});
