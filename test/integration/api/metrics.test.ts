import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addDays, isoWeekStart, utcToday } from '../../../src/jobs/dates.js';
import { writeActivity } from '../../helpers/activity.js';
import { bearer, createFixture, type Fixture, token } from './setup.js';

let f: Fixture;
// The routes work relative to the real today, so the fixture is placed around this week's Monday.
const today = utcToday(new Date());
const monday = isoWeekStart(today);
const lastMonday = addDays(monday, -7);
const lastFriday = addDays(monday, -3);
const nullKpis = { I_t: null, E_t: null, R_t: null, A_t: null, P: null, S: null };

before(async () => {
  f = await createFixture();
  await writeActivity(f.database.db, [
    {
      id: 'a',
      user: 'u1',
      start: `${lastFriday}T10:00:00Z`,
      attempts: [['i1', true, 1000, 0, `${lastFriday}T10:01:00Z`]],
    },
    {
      id: 'b',
      user: 'u1',
      start: `${monday}T00:00:00Z`,
      attempts: [['i2', false, 2000, 1, `${monday}T00:00:01Z`]],
    },
    {
      id: 'c',
      user: 'u2',
      start: `${lastFriday}T09:00:00Z`,
      attempts: [['i1', true, 1000, 0, `${lastFriday}T09:01:00Z`]],
    },
  ]);
  const row = (user_id: string, week_start: string, S: number) => ({
    user_id,
    week_start,
    as_of: addDays(week_start, 6),
    kpis: JSON.stringify({ ...nullKpis, S }),
  });
  await f.database.db
    .insertInto('weekly_kpi')
    .values([row('u2', addDays(monday, -70), 0.7), row('u2', lastMonday, 0.2)])
    .execute();
  await f.database.db
    .insertInto('features_topic_daily')
    .values(
      ['2026-10-01', '2026-10-02', '2026-10-03'].flatMap((date) =>
        ['geo', 'alg'].map((topic_id) => ({
          user_id: 'u2',
          topic_id,
          date,
          attempts: 2,
          correct: 1,
          avg_time_ms: null,
          rt_median: null,
          hints: 0,
          theta_estimate: 0.3,
          theta_se: null,
          improvement: null,
          last_seen_at: `${date}T10:00:00Z`,
        })),
      ),
    )
    .execute();
});
after(async () => {
  await f.close();
});

const get = (url: string, t: string) =>
  f.app.inject({ method: 'GET', url: `/api/seedtest${url}`, headers: bearer(t) });
const post = (url: string, t: string, payload: Record<string, unknown>) =>
  f.app.inject({ method: 'POST', url: `/api/seedtest${url}`, headers: bearer(t), payload });

test('weekly KPIs: the last `weeks` ISO weeks, newest first, own data unless analysis:run', async () => {
  const u2 = await token('u2', 'reports:view');
  const four = await get('/analysis/metrics/weekly', u2);
  assert.equal(four.statusCode, 200, four.body);
  assert.deepEqual(
    four.json().weeks.map((w: { week_start: string; kpis: { S: number } }) => [w.week_start, w.kpis.S]),
    [[lastMonday, 0.2]],
  );
  const year = await get('/analysis/metrics/weekly?user_id=u2&weeks=52', u2);
  assert.deepEqual(
    year.json().weeks.map((w: { week_start: string }) => w.week_start),
    [lastMonday, addDays(monday, -70)],
  );
  assert.deepEqual(year.json().weeks[0].kpis, { ...nullKpis, S: 0.2 });
  const other = await get('/analysis/metrics/weekly?user_id=u1', u2);
  assert.equal(other.statusCode, 403);
  assert.equal(other.json().error.code, 'NOT_YOUR_DATA');
  const analyst = await token('ana', 'analysis:run');
  assert.equal((await get('/analysis/metrics/weekly?user_id=u2', analyst)).json().weeks.length, 1);
  const tooMany = await get('/analysis/metrics/weekly?weeks=53', u2);
  assert.equal(tooMany.statusCode, 400);
  assert.match(tooMany.json().error.message, /weeks/);
  assert.equal((await get('/analysis/metrics/weekly', await token('u2', 'exam:write'))).statusCode, 403);
  assert.equal(
    (await f.app.inject({ method: 'GET', url: '/api/seedtest/analysis/metrics/weekly' })).statusCode,
    401,
  );
});

test('recompute: the current week as of today, a past week as of its Sunday, stored and returned', async () => {
  const analyst = await token('ana', 'analysis:run');
  const current = await post('/analysis/metrics/recompute', analyst, { user_id: 'u1' });
  assert.equal(current.statusCode, 200, current.body);
  const row = current.json();
  assert.deepEqual([row.user_id, row.week_start, row.as_of], ['u1', monday, today]);
  const stored = await f.database.db
    .selectFrom('weekly_kpi')
    .selectAll()
    .where('user_id', '=', 'u1')
    .where('week_start', '=', monday)
    .executeTakeFirstOrThrow();
  assert.deepEqual(stored.kpis, row.kpis);
  const past = await post('/analysis/metrics/recompute', analyst, { user_id: 'u1', week_start: lastMonday });
  assert.equal(past.statusCode, 200, past.body);
  assert.equal(past.json().as_of, addDays(lastMonday, 6));
  // As of last Sunday: one session, its attempt on Friday → d = 2: 0.6·2/14 + 0.15·0.9.
  assert.ok(Math.abs(past.json().kpis.S - (0.6 * (2 / 14) + 0.135)) < 1e-12);
  // A correct then a wrong answer on different items: no recovery base, no previous window.
  assert.deepEqual([past.json().kpis.R_t, past.json().kpis.I_t], [null, null]);
});

test('recompute refuses what it cannot do, naming why', async () => {
  const analyst = await token('ana', 'analysis:run');
  // A past Wednesday: one after this Monday is in the future whenever today is a Monday.
  const notMonday = await post('/analysis/metrics/recompute', analyst, {
    user_id: 'u1',
    week_start: addDays(monday, -5),
  });
  assert.equal(notMonday.statusCode, 400);
  assert.match(notMonday.json().error.message, /must be a Monday/);
  // Next Monday has not started: tomorrow on a Sunday (422), otherwise beyond the day of clock skew
  // any time input is allowed (400).
  const nextMonday = addDays(monday, 7);
  const future = await post('/analysis/metrics/recompute', analyst, {
    user_id: 'u1',
    week_start: nextMonday,
  });
  if (nextMonday === addDays(today, 1)) {
    assert.equal(future.statusCode, 422);
    assert.equal(future.json().error.code, 'WEEK_NOT_STARTED');
  } else {
    assert.equal(future.statusCode, 400);
    assert.match(future.json().error.message, /week_start is more than a day in the future/);
  }
  const idle = await post('/analysis/metrics/recompute', analyst, { user_id: 'nobody' });
  assert.equal(idle.statusCode, 404);
  assert.equal(idle.json().error.code, 'NO_ACTIVITY');
  const badDate = await post('/analysis/metrics/recompute', analyst, {
    user_id: 'u1',
    week_start: '2026-02-30',
  });
  assert.equal(badDate.statusCode, 400);
  assert.match(badDate.json().error.message, /week_start/);
  const extra = await post('/analysis/metrics/recompute', analyst, { user_id: 'u1', force: true });
  assert.equal(extra.statusCode, 400);
  const learner = await post('/analysis/metrics/recompute', await token('u1', 'reports:view exam:write'), {
    user_id: 'u1',
  });
  assert.equal(learner.statusCode, 403);
  assert.equal(learner.json().error.code, 'INSUFFICIENT_SCOPE');
});

test('topic features: the rows of a date range by date then topic, with the topic name', async () => {
  const u2 = await token('u2', 'reports:view');
  const res = await get('/analysis/features/topics?user_id=u2&from=2026-10-02&to=2026-10-03', u2);
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.deepEqual(
    body.rows.map((r: { date: string; topic_id: string }) => `${r.date}/${r.topic_id}`),
    ['2026-10-02/alg', '2026-10-02/geo', '2026-10-03/alg', '2026-10-03/geo'],
  );
  assert.equal(body.rows[0].topic_name, 'Algebra');
  assert.equal(body.rows[1].topic_name, null, 'a topic unknown to the catalogue');
  assert.equal(body.rows[0].last_seen_at, '2026-10-02T10:00:00.000Z');
  assert.equal(body.rows[0].rt_median, null);
  // Default range: the 30 days up to today.
  const recent = (await get('/analysis/features/topics', u2)).json();
  assert.deepEqual([recent.from, recent.to, recent.rows.length], [addDays(today, -29), today, 0]);
  const reversed = await get('/analysis/features/topics?from=2026-10-03&to=2026-10-01', u2);
  assert.equal(reversed.statusCode, 400);
  assert.match(reversed.json().error.message, /after/);
  assert.equal((await get('/analysis/features/topics?from=2024-01-01&to=2026-01-01', u2)).statusCode, 400);
  const badDate = await get('/analysis/features/topics?from=2026-13-01', u2);
  assert.equal(badDate.statusCode, 400);
  assert.match(badDate.json().error.message, /from/);
  assert.equal((await get('/analysis/features/topics?user_id=u1', u2)).statusCode, 403);
});

test('the routes are in the OpenAPI document under the metrics tag', async () => {
  const doc = (await f.app.inject({ method: 'GET', url: '/docs/openapi.json' })).json();
  for (const path of [
    '/analysis/metrics/weekly',
    '/analysis/metrics/recompute',
    '/analysis/features/topics',
  ]) {
    const ops = doc.paths[`/api/seedtest${path}`];
    assert.ok(ops, `${path} is documented`);
    assert.ok(Object.values(ops).every((op) => (op as { tags: string[] }).tags.includes('metrics')));
  }
});
