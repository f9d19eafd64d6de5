// The read routes a client expects: GET /sessions/{id} (exam:read; a learner sees only its own
// sessions) and GET /items (the bank with current parameters, paged by item id).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, createFixture, type Fixture, seedItems, token } from './setup.js';

describe('GET /sessions/{id}', () => {
  let f: Fixture;
  let alice: Record<string, string>;
  let bob: Record<string, string>;
  let aliceWriteOnly: Record<string, string>;
  let analyst: Record<string, string>;

  before(async () => {
    f = await createFixture();
    await seedItems(f.database);
    alice = bearer(await token('alice', 'exam:read exam:write'));
    bob = bearer(await token('bob', 'exam:read'));
    aliceWriteOnly = bearer(await token('alice', 'exam:write'));
    analyst = bearer(await token('analyst', 'exam:read analysis:run'));
    const created = await f.app.inject({
      method: 'POST',
      url: '/api/seedtest/sessions',
      headers: alice,
      payload: { session_id: 's1', exam_id: 'e1' },
    });
    assert.equal(created.statusCode, 201, created.body);
    const attempts = await f.app.inject({
      method: 'POST',
      url: '/api/seedtest/sessions/s1/attempts',
      headers: alice,
      payload: {
        attempts: [
          { item_id: 'i1', correct: true },
          { item_id: 'i2', correct: false },
          { item_id: 'i3', correct: true },
        ],
      },
    });
    assert.equal(attempts.statusCode, 201, attempts.body);
  });
  after(() => f.close());

  const get = (id: string, headers: Record<string, string>) =>
    f.app.inject({ url: `/api/seedtest/sessions/${encodeURIComponent(id)}`, headers });

  it('answers the owner with the session and its attempt counts', async () => {
    const res = await get('s1', alice);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.session_id, 's1');
    assert.equal(body.user_id, 'alice');
    assert.equal(body.exam_id, 'e1');
    assert.equal(body.status, 'open');
    assert.equal(body.completed_at, null);
    assert.deepEqual(body.attempts, { count: 3, correct: 2 });
  });

  it('needs exam:read: exam:write alone is refused', async () => {
    const res = await get('s1', aliceWriteOnly);
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().error.code, 'INSUFFICIENT_SCOPE');
    assert.equal((await f.app.inject({ url: '/api/seedtest/sessions/s1' })).statusCode, 401);
  });

  it('another learner gets 403; analysis:run reads anyone’s', async () => {
    const res = await get('s1', bob);
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().error.code, 'NOT_YOUR_DATA');
    assert.equal((await get('s1', analyst)).statusCode, 200);
  });

  it('an unknown session is a 404 in the error shape; a malformed id a 400', async () => {
    const res = await get('nope', alice);
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.code, 'SESSION_NOT_FOUND');
    const bad = await get('a\u0001b', alice);
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'INVALID_INPUT');
  });
});

describe('GET /items', () => {
  let f: Fixture;
  let viewer: Record<string, string>;

  before(async () => {
    f = await createFixture();
    await seedItems(f.database);
    viewer = bearer(await token('viewer', 'reports:view'));
    // One succeeded calibration that included i1 and i3, and a failed one that must not count.
    await f.database.db
      .insertInto('mirt_fit_meta')
      .values([
        { run_id: 'cal-1', model: '2PL', status: 'succeeded', model_spec: '{}', metrics: '{}' },
        { run_id: 'cal-2', model: '2PL', status: 'failed', model_spec: '{}', metrics: '{}' },
      ] as never)
      .execute();
    const params = (b: number) => JSON.stringify({ a: 1.2, b, c: 0, d: -1.2 * b, n: 300, p: 0.6 });
    await f.database.db
      .insertInto('mirt_item_params')
      .values([
        {
          item_id: 'i1',
          version: 'cal-1',
          model: '2PL',
          params: params(0.5),
          fitted_at: '2026-11-20T03:00:00Z',
        },
        {
          item_id: 'i3',
          version: 'cal-1',
          model: '2PL',
          params: params(-1),
          fitted_at: '2026-11-20T03:00:00Z',
        },
        {
          item_id: 'i3',
          version: 'cal-2',
          model: '2PL',
          params: params(9),
          fitted_at: '2026-11-21T03:00:00Z',
        },
      ] as never)
      .execute();
  });
  after(() => f.close());

  const list = (query: string, headers = viewer) =>
    f.app.inject({ url: `/api/seedtest/items${query}`, headers });

  it('lists the bank by item id with each item’s current parameters (null before any calibration)', async () => {
    const res = await list('');
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.deepEqual(
      body.items.map((i: { item_id: string }) => i.item_id),
      ['i1', 'i2', 'i3'],
    );
    assert.equal(body.next_after, null);
    const [i1, i2, i3] = body.items;
    assert.equal(i1.topic_id, 'algebra');
    assert.equal(i1.current.version, 'cal-1');
    assert.equal(i1.current.params.b, 0.5);
    assert.equal(i1.current.fitted_at, '2026-11-20T03:00:00.000Z');
    assert.equal(i2.current, null);
    assert.equal(i3.current.params.b, -1, 'the failed run is not current');
  });

  it('pages with limit and after, and filters by topic', async () => {
    const first = (await list('?limit=2')).json();
    assert.deepEqual(
      first.items.map((i: { item_id: string }) => i.item_id),
      ['i1', 'i2'],
    );
    assert.equal(first.next_after, 'i2');
    const second = (await list(`?limit=2&after=${first.next_after}`)).json();
    assert.deepEqual(
      second.items.map((i: { item_id: string }) => i.item_id),
      ['i3'],
    );
    assert.equal(second.next_after, null);
    const exact = (await list('?limit=3')).json();
    assert.equal(exact.next_after, null, 'a full last page says so');
    const geometry = (await list('?topic_id=geometry')).json();
    assert.deepEqual(
      geometry.items.map((i: { item_id: string }) => i.item_id),
      ['i3'],
    );
    const none = (await list('?after=i3')).json();
    assert.deepEqual(none, { items: [], next_after: null });
  });

  it('refuses a bad limit or an unknown parameter with 400, a token without the scope with 403', async () => {
    for (const q of ['?limit=0', '?limit=1001', '?limit=x', '?page=2']) {
      const res = await list(q);
      assert.equal(res.statusCode, 400, q);
      assert.equal(res.json().error.code, 'INVALID_INPUT', q);
    }
    const learner = await list('', bearer(await token('l', 'exam:write exam:read')));
    assert.equal(learner.statusCode, 403);
    assert.equal(learner.json().error.code, 'INSUFFICIENT_SCOPE');
    assert.equal((await f.app.inject({ url: '/api/seedtest/items' })).statusCode, 401);
  });
});
