// The input rules at the HTTP door: every time input follows one rule (a zone on instants, between
// the earliest date and now + 1 day, dates that exist), ids carry no control characters, and a
// refused request answers 4xx in the documented shape and writes nothing.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { insertRun } from './irt-fixtures.js';
import { bearer, createFixture, type Fixture, seedItems, token } from './setup.js';

const DAY_MS = 86_400_000;

describe('input rules of the API', () => {
  let f: Fixture;
  let alice: Record<string, string>;
  let analyst: Record<string, string>;
  let admin: Record<string, string>;

  before(async () => {
    f = await createFixture();
    await seedItems(f.database);
    alice = bearer(await token('alice', 'exam:write reports:view'));
    analyst = bearer(await token('analyst', 'analysis:run reports:view'));
    admin = bearer(await token('root', 'admin'));
  });
  after(() => f.close());

  const post = (url: string, headers: Record<string, string>, payload?: unknown) =>
    f.app.inject({ method: 'POST', url: `/api/seedtest${url}`, headers, payload: payload as object });
  const get = (url: string, headers: Record<string, string>) =>
    f.app.inject({ method: 'GET', url: `/api/seedtest${url}`, headers });
  const count = async (table: string) =>
    Number((await f.database.query<{ n: string }>(`SELECT count(*)::int8 AS n FROM ${table}`)).rows[0]?.n);

  /** 400 INVALID_INPUT whose message and details.fields name `field`. */
  function assertInvalid(res: { statusCode: number; body: string }, field: string) {
    assert.equal(res.statusCode, 400, res.body);
    const { error } = JSON.parse(res.body) as {
      error: { code: string; message: string; details: { fields: { field: string }[] } };
    };
    assert.equal(error.code, 'INVALID_INPUT', res.body);
    assert.ok(error.message.startsWith(`${field} `), res.body);
    assert.deepEqual(
      error.details.fields.map((x) => x.field),
      [field],
      res.body,
    );
  }

  it('refuses a started_at beyond the clock-skew allowance, and completes one within it', async () => {
    const far = new Date(Date.now() + 2 * DAY_MS).toISOString();
    assertInvalid(await post('/sessions', alice, { session_id: 'future', started_at: far }), 'started_at');
    assert.equal(await count('exam_session'), 0);
    // A client clock a few hours ahead: accepted, and the completion is still possible.
    const skewed = new Date(Date.now() + 3 * 3600_000).toISOString();
    const created = await post('/sessions', alice, { session_id: 'skewed', started_at: skewed });
    assert.equal(created.statusCode, 201, created.body);
    const completed = await post('/sessions/skewed/complete', alice);
    assert.equal(completed.statusCode, 200, completed.body);
    const row = await f.database.db
      .selectFrom('exam_session')
      .selectAll()
      .where('session_id', '=', 'skewed')
      .executeTakeFirstOrThrow();
    assert.ok(row.completed_at && row.completed_at >= row.started_at);
  });

  it('refuses instants before the earliest date, without a zone, or not in the calendar', async () => {
    assert.equal((await post('/sessions', alice, { session_id: 'r1' })).statusCode, 201);
    const attempt = (answered_at: string) =>
      post('/sessions/r1/attempts', alice, { attempts: [{ item_id: 'i1', correct: true, answered_at }] });
    for (const bad of [
      '0000-01-01T00:00:00Z',
      '1999-12-31T23:59:59Z',
      '9999-01-01T00:00:00Z',
      '2026-11-30 23:30:00',
      '2026-11-30T23:30:00',
      '2026-02-30T10:00:00Z',
      '2026-11-30T24:00:00Z',
      'yesterday',
    ]) {
      assertInvalid(await attempt(bad), 'attempts[0].answered_at');
    }
    assert.equal(await count('attempt'), 0);
    const ok = await attempt('2026-11-30 23:30:00+09:00');
    assert.equal(ok.statusCode, 201, ok.body);
    const stored = await f.database.db.selectFrom('attempt').select('answered_at').executeTakeFirstOrThrow();
    assert.equal(stored.answered_at.toISOString(), '2026-11-30T14:30:00.000Z');
    assertInvalid(await post('/sessions', alice, { started_at: '0000-01-01T00:00:00Z' }), 'started_at');
  });

  it('checks dates in queries and bodies against the calendar and the earliest date', async () => {
    assertInvalid(await get('/analysis/features/topics?to=0000-01-01', alice), 'to');
    assertInvalid(await get('/analysis/features/topics?to=0001-01-01', alice), 'to');
    assertInvalid(await get('/analysis/features/topics?from=2026-02-29&to=2026-03-01', alice), 'from');
    assert.equal((await get('/analysis/features/topics?to=2026-03-01', alice)).statusCode, 200);
    assertInvalid(
      await post('/analysis/metrics/recompute', analyst, { user_id: 'alice', week_start: '0001-01-01' }),
      'week_start',
    );
    assertInvalid(await get('/reports?week_start=2024-02-30', alice), 'week_start');
    assert.equal((await get('/reports?week_start=2024-02-26', alice)).statusCode, 200);
    assertInvalid(await get('/analysis/irt/theta?since=0000-01-01', alice), 'since');
    assertInvalid(await get('/analysis/irt/theta?since=2026-01-01T10:00:00', alice), 'since');
    const runs = await count('job_run');
    assertInvalid(await post('/jobs/aggregate-features-daily/run', admin, { date: '0001-01-01' }), 'date');
    assertInvalid(
      await post('/jobs/aggregate-features-daily/run', admin, { from: '1999-01-01', to: '2026-01-01' }),
      'from',
    );
    assert.equal(await count('job_run'), runs);
  });

  it('refuses control characters in the job filter and in job users', async () => {
    assertInvalid(await get('/jobs/runs?job=%00', admin), 'job');
    assertInvalid(
      await post('/jobs/aggregate-features-daily/run', admin, { dry_run: true, users: ['a\u0000b'] }),
      'users[0]',
    );
  });

  it('takes an empty JSON body as no body; a route that needs one names it', async () => {
    assert.equal((await post('/sessions', alice, { session_id: 'e1' })).statusCode, 201);
    const headers = { ...alice, 'content-type': 'application/json' };
    const done = await f.app.inject({
      method: 'POST',
      url: '/api/seedtest/sessions/e1/complete',
      headers,
      payload: '',
    });
    assert.equal(done.statusCode, 200, done.body);
    const attempts = await f.app.inject({
      method: 'POST',
      url: '/api/seedtest/sessions/e1/attempts',
      headers,
      payload: '',
    });
    assertInvalid(attempts, 'body');
  });

  it('answers headers over 16 KB with 431 in the documented shape', async () => {
    await f.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = f.app.server.address() as AddressInfo;
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, path: '/health', headers: { 'x-big': 'x'.repeat(20_000) } },
        (r) => {
          let body = '';
          r.on('data', (c) => {
            body += c;
          });
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.status, 431);
    const error = JSON.parse(res.body).error;
    assert.equal(error.code, 'HEADERS_TOO_LARGE');
    assert.match(error.message, /16 KiB/);
  });

  it('a refused POST /sessions (409 SESSION_EXISTS) creates no learner', async () => {
    const bob = bearer(await token('bob', 'exam:write'));
    assert.equal((await post('/sessions', alice, { session_id: 'mine' })).statusCode, 201);
    const learners = await count('learner');
    const res = await post('/sessions', bob, { session_id: 'mine' });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().error.code, 'SESSION_EXISTS');
    assert.equal(await count('learner'), learners);
  });

  it('a re-used client_attempt_id with different content is 409 ATTEMPT_CONFLICT naming it', async () => {
    assert.equal((await post('/sessions', alice, { session_id: 'c' })).statusCode, 201);
    const first = await post('/sessions/c/attempts', alice, {
      attempts: [{ client_attempt_id: 'k1', item_id: 'i1', correct: true, hints: 1 }],
    });
    assert.equal(first.statusCode, 201, first.body);
    // The same answer again (answered_at defaulted both times): a duplicate, as before.
    const retry = await post('/sessions/c/attempts', alice, {
      attempts: [{ client_attempt_id: 'k1', item_id: 'i1', correct: true, hints: 1 }],
    });
    assert.deepEqual(retry.json(), { inserted: 0, duplicates: 1 });
    const attempts = await count('attempt');
    const changed = await post('/sessions/c/attempts', alice, {
      attempts: [
        { client_attempt_id: 'k2', item_id: 'i2', correct: true },
        { client_attempt_id: 'k1', item_id: 'i1', correct: false, hints: 1 },
      ],
    });
    assert.equal(changed.statusCode, 409, changed.body);
    assert.equal(changed.json().error.code, 'ATTEMPT_CONFLICT');
    assert.match(changed.json().error.message, /k1/);
    assert.deepEqual(changed.json().error.details.client_attempt_ids, ['k1']);
    // Within one batch, too.
    const inBatch = await post('/sessions/c/attempts', alice, {
      attempts: [
        { client_attempt_id: 'k3', item_id: 'i2', correct: true },
        { client_attempt_id: 'k3', item_id: 'i3', correct: true },
      ],
    });
    assert.equal(inBatch.statusCode, 409, inBatch.body);
    assert.equal(await count('attempt'), attempts);
  });

  it('a future-dated answer already stored does not pin θ: the online window ends now', async () => {
    await insertRun(f.database, 'cal-1', '2026-01-01T00:00:00Z', { i1: { a: 1.5, b: 0, c: 0 } });
    assert.equal((await post('/sessions', alice, { session_id: 'pin' })).statusCode, 201);
    // Written before the rule existed: a correct answer dated in year 9999.
    await f.database.db
      .insertInto('attempt')
      .values({
        session_id: 'pin',
        user_id: 'alice',
        item_id: 'i1',
        topic_id: 'algebra',
        correct: true,
        answered_at: new Date('9999-01-01T00:00:00Z'),
        client_attempt_id: 'old',
      })
      .execute();
    const wrong = await post('/sessions/pin/attempts', alice, {
      attempts: [{ item_id: 'i1', correct: false }],
    });
    assert.equal(wrong.statusCode, 201, wrong.body);
    const res = await post('/analysis/irt/update-theta', alice, { user_id: 'alice' });
    assert.equal(res.statusCode, 200, res.body);
    // The latest response to i1 is the wrong one: θ below the prior mean.
    assert.ok(res.json().theta < 0, res.body);
  });
});
