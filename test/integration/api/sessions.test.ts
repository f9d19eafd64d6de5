import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildServer } from '../../../src/api/server.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { createTestDatabase } from '../../helpers/db.js';
import { bearer, createFixture, type Fixture, seedItems, testConfig, token } from './setup.js';

describe('sessions and attempts', () => {
  let f: Fixture;
  let alice: Record<string, string>;
  let bob: Record<string, string>;
  let analyst: Record<string, string>;

  before(async () => {
    f = await createFixture();
    await seedItems(f.database);
    alice = bearer(await token('alice', 'exam:write', {}));
    bob = bearer(await token('bob', 'exam:write'));
    analyst = bearer(await token('analyst', 'analysis:run'));
  });
  after(() => f.close());

  const post = (url: string, headers: Record<string, string>, payload?: unknown) =>
    f.app.inject({ method: 'POST', url: `/api/seedtest${url}`, headers, payload: payload as object });

  it('creates a session, records attempts with duplicates skipped, completes idempotently', async () => {
    const created = await post('/sessions', alice, { session_id: 's1', exam_id: 'e1' });
    assert.equal(created.statusCode, 201, created.body);
    const session = created.json();
    assert.equal(session.session_id, 's1');
    assert.equal(session.user_id, 'alice');
    assert.equal(session.status, 'open');
    assert.match(session.started_at, /Z$/);
    const learner = await f.database.db.selectFrom('learner').selectAll().execute();
    assert.deepEqual(
      learner.map((l) => l.user_id),
      ['alice'],
    );

    const again = await post('/sessions', alice, { session_id: 's1' });
    assert.equal(again.statusCode, 200);

    const batch = {
      attempts: [
        { client_attempt_id: 'a1', item_id: 'i1', correct: true, response_time_ms: 1200 },
        {
          client_attempt_id: 'a2',
          item_id: 'i3',
          correct: false,
          hints: 2,
          answered_at: '2026-11-20T10:00:00Z',
        },
        { item_id: 'i2', correct: true },
      ],
    };
    const first = await post('/sessions/s1/attempts', alice, batch);
    assert.equal(first.statusCode, 201, first.body);
    assert.deepEqual(first.json(), { inserted: 3, duplicates: 0 });

    const retry = await post('/sessions/s1/attempts', alice, {
      attempts: [
        { client_attempt_id: 'a1', item_id: 'i1', correct: true },
        { client_attempt_id: 'a3', item_id: 'i2', correct: false },
        { client_attempt_id: 'a3', item_id: 'i2', correct: false },
      ],
    });
    assert.equal(retry.statusCode, 201, retry.body);
    assert.deepEqual(retry.json(), { inserted: 1, duplicates: 2 });

    const rows = await f.database.db.selectFrom('attempt').selectAll().orderBy('attempt_id').execute();
    assert.equal(rows.length, 4);
    assert.equal(rows[1].topic_id, 'geometry');
    assert.equal(rows[1].hints, 2);
    assert.equal(new Date(rows[1].answered_at).toISOString(), '2026-11-20T10:00:00.000Z');
    assert.equal(rows[0].user_id, 'alice');
    assert.equal(rows[0].response_time_ms, 1200);

    const done = await post('/sessions/s1/complete', alice);
    assert.equal(done.statusCode, 200, done.body);
    assert.deepEqual(done.json(), { status: 'completed', theta_update: 'queued' });
    const done2 = await post('/sessions/s1/complete', alice);
    assert.equal(done2.statusCode, 200);
    assert.deepEqual(f.completed[0], ['alice', 's1']);
    const s = await f.database.db
      .selectFrom('exam_session')
      .selectAll()
      .where('session_id', '=', 's1')
      .executeTakeFirstOrThrow();
    assert.equal(s.status, 'completed');
    assert.ok(s.completed_at);

    const late = await post('/sessions/s1/attempts', alice, { attempts: [{ item_id: 'i1', correct: true }] });
    assert.equal(late.statusCode, 409);
    assert.equal(late.json().error.code, 'SESSION_CLOSED');
  });

  it('generates a session id when absent', async () => {
    const res = await post('/sessions', alice, {});
    assert.equal(res.statusCode, 201);
    assert.match(res.json().session_id, /^[0-9a-f-]{36}$/);
  });

  it('refuses unknown items with 422 naming them and writes nothing', async () => {
    await post('/sessions', alice, { session_id: 's2' });
    const res = await post('/sessions/s2/attempts', alice, {
      attempts: [
        { item_id: 'i1', correct: true },
        { item_id: 'nope', correct: true },
        { item_id: 'ghost', correct: false },
      ],
    });
    assert.equal(res.statusCode, 422);
    const err = res.json().error;
    assert.equal(err.code, 'UNKNOWN_ITEMS');
    assert.deepEqual(err.details.item_ids, ['ghost', 'nope'], 'sorted');
    const n = await f.database.db
      .selectFrom('attempt')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('session_id', '=', 's2')
      .executeTakeFirstOrThrow();
    assert.equal(Number(n.n), 0);
  });

  it("keeps learners out of other users' sessions; analysis:run may act for them", async () => {
    const other = await post('/sessions/s2/attempts', bob, { attempts: [{ item_id: 'i1', correct: true }] });
    assert.equal(other.statusCode, 403);
    assert.equal(other.json().error.code, 'NOT_YOUR_DATA');
    const forOther = await post('/sessions', bob, { user_id: 'alice' });
    assert.equal(forOther.statusCode, 403);
    assert.equal(forOther.json().error.code, 'NOT_YOUR_DATA');
    const completeOther = await post('/sessions/s2/complete', bob);
    assert.equal(completeOther.statusCode, 403);

    const noScope = await post('/sessions', analyst, { user_id: 'carol' });
    assert.equal(noScope.statusCode, 403);
    assert.equal(noScope.json().error.code, 'INSUFFICIENT_SCOPE');
    const elevated = bearer(await token('analyst', 'exam:write analysis:run'));
    const forCarol = await post('/sessions', elevated, { user_id: 'carol', session_id: 's-carol' });
    assert.equal(forCarol.statusCode, 201);
    assert.equal(forCarol.json().user_id, 'carol');
    const admin = bearer(await token('root', 'admin'));
    const adminAttempts = await post('/sessions/s-carol/attempts', admin, {
      attempts: [{ item_id: 'i3', correct: true }],
    });
    assert.equal(adminAttempts.statusCode, 201);
  });

  it('answers 404 for an unknown session', async () => {
    const res = await post('/sessions/missing/attempts', alice, {
      attempts: [{ item_id: 'i1', correct: true }],
    });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.code, 'SESSION_NOT_FOUND');
    const c = await post('/sessions/missing/complete', alice);
    assert.equal(c.statusCode, 404);
  });

  it('rejects invalid bodies with 400 naming the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ attempts: [{ item_id: 'i1', correct: 'yes' }] }, 'attempts[0].correct'],
      // A JSON body is taken as typed: no coercion of null to false or of "30" to 30.
      [{ attempts: [{ item_id: 'i1', correct: null }] }, 'attempts[0].correct'],
      [{ attempts: [{ item_id: 'i1', correct: 'true' }] }, 'attempts[0].correct'],
      [
        { attempts: [{ item_id: 'i1', correct: true, response_time_ms: '30' }] },
        'attempts[0].response_time_ms',
      ],
      [{ attempts: [{ item_id: 'i1' }] }, 'attempts[0].correct'],
      [{ attempts: [{ item_id: 'i1', correct: true, extra: 1 }] }, 'attempts[0].extra'],
      [
        { attempts: [{ item_id: 'i1', correct: true, response_time_ms: -5 }] },
        'attempts[0].response_time_ms',
      ],
      [{ attempts: [{ item_id: 'i1', correct: true, answered_at: 'yesterday' }] }, 'attempts[0].answered_at'],
      [{ attempts: [{ item_id: 'x'.repeat(129), correct: true }] }, 'attempts[0].item_id'],
      [{ attempts: [{ item_id: 'a\u0001b', correct: true }] }, 'attempts[0].item_id'],
      [{ attempts: [] }, 'attempts'],
      [{ attempts: [{ correct: true }] }, 'attempts[0].item_id'],
      [{ attempts: [{ item_id: 'i1', correct: true }], more: true }, 'more'],
    ];
    for (const [payload, field] of cases) {
      const res = await post('/sessions/s2/attempts', alice, payload);
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      const err = res.json().error;
      assert.equal(err.code, 'INVALID_INPUT');
      assert.equal(err.details.fields[0].field, field, JSON.stringify(err));
    }
    const tooMany = await post('/sessions/s2/attempts', alice, {
      attempts: Array.from({ length: 1001 }, () => ({ item_id: 'i1', correct: true })),
    });
    assert.equal(tooMany.statusCode, 400);
    const badSession = await post('/sessions', alice, { started_at: 'not a date' });
    assert.equal(badSession.statusCode, 400);
    assert.equal(badSession.json().error.details.fields[0].field, 'started_at');
    const longId = await post(`/sessions/${'s'.repeat(129)}/complete`, alice);
    assert.equal(longId.statusCode, 400);
    assert.equal(longId.json().error.details.fields[0].field, 'session_id');
  });

  it('refuses malformed JSON (400) and bodies over 1 MiB (413)', async () => {
    const malformed = await f.app.inject({
      method: 'POST',
      url: '/api/seedtest/sessions',
      headers: { ...alice, 'content-type': 'application/json' },
      payload: '{"session_id": ',
    });
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.json().error.code, 'MALFORMED_JSON');
    const big = await f.app.inject({
      method: 'POST',
      url: '/api/seedtest/sessions/s2/attempts',
      headers: { ...alice, 'content-type': 'application/json' },
      payload: JSON.stringify({ attempts: [{ item_id: 'i1', correct: true, pad: 'x'.repeat(1024 * 1024) }] }),
    });
    assert.equal(big.statusCode, 413);
    assert.equal(big.json().error.code, 'PAYLOAD_TOO_LARGE');
  });
});

describe('sessions with online θ updates disabled', () => {
  let f: Fixture;
  before(async () => {
    f = await createFixture({ ENABLE_IRT_ONLINE_UPDATE: 'false' });
  });
  after(() => f.close());

  it('reports theta_update disabled and calls no hook', async () => {
    const h = bearer(await token('dave', 'exam:write'));
    await f.app.inject({
      method: 'POST',
      url: '/api/seedtest/sessions',
      headers: h,
      payload: { session_id: 'd1' },
    });
    const res = await f.app.inject({ method: 'POST', url: '/api/seedtest/sessions/d1/complete', headers: h });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'completed', theta_update: 'disabled' });
    assert.equal(f.completed.length, 0);
  });
});

describe('sessions on a server built without a θ-update queue', () => {
  it('answers theta_update not_queued: online updates are on but nothing was queued', async () => {
    const database = await createTestDatabase();
    const app = buildServer({
      config: testConfig(),
      database,
      logger: createLogger('silent', false),
      metrics: createMetrics(),
    });
    try {
      const h = bearer(await token('erin', 'exam:write'));
      const opened = await app.inject({
        method: 'POST',
        url: '/api/seedtest/sessions',
        headers: h,
        payload: { session_id: 'e1' },
      });
      assert.equal(opened.statusCode, 201, opened.body);
      const res = await app.inject({ method: 'POST', url: '/api/seedtest/sessions/e1/complete', headers: h });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { status: 'completed', theta_update: 'not_queued' });
    } finally {
      await app.close();
      await database.close();
    }
  });
});
