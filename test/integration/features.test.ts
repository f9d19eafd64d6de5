import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config.js';
import { aggregateFeaturesDaily } from '../../src/features/job.js';
import {
  insertAttempts,
  upsertItems,
  upsertLearners,
  upsertSessions,
  upsertTopics,
} from '../../src/ingestion/repository.js';
import { addDays } from '../../src/jobs/dates.js';
import { findJob } from '../../src/jobs/registry.js';
import { runJob } from '../../src/jobs/runner.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
const job = findJob('aggregate-features-daily');
const settings = loadConfig({ AGG_LOOKBACK_DAYS: '7' });

const at = (s: string) => new Date(s);
before(async () => {
  database = await createTestDatabase();
  const { db } = database;
  await upsertTopics(db, [{ topic_id: 'alg', name: 'Algebra' }]);
  await upsertItems(db, [
    { item_id: 'i1', topic_id: 'alg' },
    { item_id: 'i2', topic_id: 'alg' },
  ]);
  await upsertLearners(db, [{ user_id: 'u1' }]);
  await upsertSessions(db, [
    {
      session_id: 's0',
      user_id: 'u1',
      status: 'completed',
      started_at: at('2026-11-01T08:00:00Z'),
      completed_at: at('2026-11-01T09:00:00Z'),
    },
    {
      session_id: 's1',
      user_id: 'u1',
      status: 'completed',
      started_at: at('2026-11-20T08:00:00Z'),
      completed_at: at('2026-11-20T09:00:00Z'),
    },
  ]);
  const a = (
    session_id: string,
    item_id: string,
    correct: boolean,
    rt: number | null,
    hints: number,
    t: string,
    cid: string,
  ) => ({
    session_id,
    user_id: 'u1',
    item_id,
    correct,
    response_time_ms: rt,
    hints,
    answered_at: at(t),
    client_attempt_id: cid,
  });
  await insertAttempts(db, [
    // 2026-11-01: previous 14-day window of 2026-11-20 is 11-01..11-06 + ... (D−27..D−14 = 10-24..11-06)
    a('s0', 'i1', false, 1000, 0, '2026-11-01T08:10:00Z', 'p1'),
    a('s0', 'i2', false, 2000, 0, '2026-11-01T08:20:00Z', 'p2'),
    // 2026-11-20: four attempts, one unknown time, even count of known times after that? 3 known → median 3000
    a('s1', 'i1', true, 1000, 1, '2026-11-20T08:10:00Z', 'c1'),
    a('s1', 'i2', true, 5000, 2, '2026-11-20T08:20:00Z', 'c2'),
    a('s1', 'i1', false, null, 0, '2026-11-20T08:30:00Z', 'c3'),
    a('s1', 'i2', true, 3000, 0, '2026-11-20T08:40:00Z', 'c4'),
  ]);
  await database.query(
    `INSERT INTO mirt_ability (user_id, theta, se, source, fitted_at) VALUES ('u1', 0.5, 0.3, 'calibration', '2026-11-19T03:00:00Z'),
     ('u1', 0.9, 0.2, 'online', '2026-11-21T00:00:00Z')`,
  );
});
after(async () => {
  await database.close();
});

const featureRows = (date: string) =>
  database.db.selectFrom('features_topic_daily').selectAll().where('date', '=', date).execute();

test('daily topic features follow the definitions of kpis.md', async () => {
  const outcome = await runJob(database.db, job, ['2026-11-20'], settings);
  assert.equal(outcome.status, 'succeeded', outcome.error);
  const rows = await database.db.selectFrom('features_topic_daily').selectAll().orderBy('date').execute();
  assert.equal(rows.length, 1, 'only days with attempts inside the 7-day lookback');
  const r = rows[0]!;
  assert.equal(r.date, '2026-11-20');
  assert.deepEqual([r.attempts, r.correct, r.hints], [4, 3, 3]);
  assert.equal(r.avg_time_ms, 3000); // mean of the known times 1000, 5000, 3000
  assert.equal(r.rt_median, 3000);
  // θ as of the end of the day: the 11-19 estimate, not the 11-21 one
  assert.deepEqual([r.theta_estimate, r.theta_se], [0.5, 0.3]);
  // accuracy 3/4 now vs 0/2 in 10-24..11-06, times min(1, 4/30)
  assert.ok(Math.abs((r.improvement ?? Number.NaN) - 0.75 * (4 / 30)) < 1e-12);
  assert.equal(r.last_seen_at.toISOString(), '2026-11-20T08:40:00.000Z');
});

test('an even number of known times takes the mean of the middle two; no previous window → null improvement', async () => {
  await database.query(`DELETE FROM attempt WHERE client_attempt_id = 'c4'`);
  await runJob(database.db, job, ['2026-11-20'], settings);
  const r = await database.db
    .selectFrom('features_topic_daily')
    .selectAll()
    .where('date', '=', '2026-11-20')
    .executeTakeFirstOrThrow();
  assert.equal(r.rt_median, 3000); // (1000 + 5000) / 2
  assert.equal(r.attempts, 3);
  const early = await runJob(database.db, job, ['2026-11-01'], settings);
  assert.equal(early.status, 'succeeded');
  const first = await database.db
    .selectFrom('features_topic_daily')
    .selectAll()
    .where('date', '=', '2026-11-01')
    .executeTakeFirstOrThrow();
  assert.equal(first.improvement, null);
  assert.equal(first.theta_estimate, null);
});

test('a re-run replaces the rows of the days it covers, a dry run writes nothing, and every run is recorded', async () => {
  await database.query(`DELETE FROM attempt WHERE session_id = 's1'`);
  const dry = await runJob(database.db, job, ['2026-11-20'], settings, { dryRun: true });
  assert.equal(dry.status, 'succeeded');
  assert.match(dry.summary, /run \d+ succeeded \(dry run\): 2026-11-20, would write features_topic_daily=0,/);
  assert.equal((await featureRows('2026-11-20')).length, 1);
  await runJob(database.db, job, ['2026-11-20'], settings);
  assert.equal((await featureRows('2026-11-20')).length, 0);
  const runs = await database.db.selectFrom('job_run').selectAll().orderBy('run_id').execute();
  assert.ok(runs.length >= 4);
  assert.ok(runs.every((r) => r.status === 'succeeded' && r.finished_at instanceof Date));
});

test('days are UTC days whatever the session time zone', async () => {
  const { db } = database;
  await upsertLearners(db, [{ user_id: 'tz' }]);
  await upsertSessions(db, [
    {
      session_id: 'tz1',
      user_id: 'tz',
      status: 'completed',
      started_at: at('2026-11-09T23:00:00Z'),
      completed_at: at('2026-11-11T01:00:00Z'),
    },
  ]);
  const t = (answered_at: string, rt: number, cid: string) => ({
    session_id: 'tz1',
    user_id: 'tz',
    item_id: 'i1',
    correct: true,
    response_time_ms: rt,
    hints: 0,
    answered_at: at(answered_at),
    client_attempt_id: cid,
  });
  // 11-09 23:30 and 11-11 00:30 UTC are outside UTC day 11-10; the other three are inside it.
  await insertAttempts(db, [
    t('2026-11-09T23:30:00Z', 9000, 'z0'),
    t('2026-11-10T00:30:00Z', 1000, 'z1'),
    t('2026-11-10T12:00:00Z', 2000, 'z2'),
    t('2026-11-10T23:30:00Z', 4000, 'z3'),
    t('2026-11-11T00:30:00Z', 9000, 'z4'),
  ]);
  for (const zone of ['Asia/Seoul', 'America/New_York', 'UTC']) {
    const rows = await db.transaction().execute(async (trx) => {
      await sql`SELECT set_config('TimeZone', ${zone}, true)`.execute(trx);
      await aggregateFeaturesDaily(trx, { from: '2026-11-10', to: '2026-11-10' });
      return trx.selectFrom('features_topic_daily').selectAll().where('user_id', '=', 'tz').execute();
    });
    assert.equal(rows.length, 1, zone);
    const r = rows[0]!;
    assert.equal(r.date, '2026-11-10', zone);
    assert.deepEqual([r.attempts, r.avg_time_ms, r.rt_median], [3, 2333, 2000], zone);
    assert.equal(r.last_seen_at.toISOString(), '2026-11-10T23:30:00.000Z', zone);
  }
});

test('a run deletes the rows of its days on every topic, and no other day', async () => {
  const { db } = database;
  // Rows without attempts behind them (as after attempts were deleted), on topics whose ids sort
  // before, between and after the others: the delete finds the table's topics by itself.
  const stale = (topic_id: string, date: string) => ({
    user_id: 'u1',
    topic_id,
    date,
    attempts: 1,
    correct: 1,
    hints: 0,
    last_seen_at: at(`${date}T12:00:00Z`),
  });
  const topics = ['0first', 'alg', 'mid', 'zz-last'];
  const days = ['2026-10-01', '2026-10-02', '2026-10-03', '2026-10-04'];
  await db
    .insertInto('features_topic_daily')
    .values(topics.flatMap((t) => days.map((d) => stale(t, d))))
    .execute();
  // Run date 10-03 with a 2-day lookback: days 10-02 and 10-03.
  const outcome = await runJob(db, job, ['2026-10-03'], loadConfig({ AGG_LOOKBACK_DAYS: '2' }));
  assert.equal(outcome.status, 'succeeded', outcome.error);
  assert.equal(outcome.result.counts?.rowsReplaced, 8);
  const left = await db
    .selectFrom('features_topic_daily')
    .select(['topic_id', 'date'])
    .where('date', '>=', '2026-10-01')
    .where('date', '<=', '2026-10-04')
    .orderBy('topic_id')
    .orderBy('date')
    .execute();
  assert.deepEqual(
    left,
    topics.flatMap((t) => ['2026-10-01', '2026-10-04'].map((date) => ({ topic_id: t, date }))),
  );
});

test('a range run computes each day once, 14 days per transaction, with the rows one wide run gives', async () => {
  const { db } = database;
  await upsertLearners(db, [{ user_id: 'bf' }]);
  const days = Array.from({ length: 40 }, (_, i) => addDays('2026-08-01', i));
  await upsertSessions(
    db,
    days.map((d) => ({
      session_id: `bf-${d}`,
      user_id: 'bf',
      status: 'completed' as const,
      started_at: at(`${d}T10:00:00Z`),
      completed_at: at(`${d}T11:00:00Z`),
    })),
  );
  // A session every day, accuracy changing over the weeks so that improvement varies.
  await insertAttempts(
    db,
    days.flatMap((d, i) =>
      [0, 1, 2].map((k) => ({
        session_id: `bf-${d}`,
        user_id: 'bf',
        item_id: k % 2 ? 'i1' : 'i2',
        correct: (i * 3 + k) % (i < 20 ? 4 : 2) === 0,
        response_time_ms: 1000 + 100 * i + k,
        hints: k,
        answered_at: at(`${d}T10:${10 + k}:00Z`),
        client_attempt_id: `bf-${d}-${k}`,
      })),
    ),
  );
  const rowsOf = () =>
    db
      .selectFrom('features_topic_daily')
      .select(['date', 'attempts', 'correct', 'avg_time_ms', 'rt_median', 'hints', 'improvement'])
      .where('user_id', '=', 'bf')
      .orderBy('date')
      .execute();
  // 2026-08-10..2026-09-09 is 31 days: units of 14, 14 and 3 days, the first with the 6 before it.
  const range = days.slice(9, 40);
  const unitEnds: string[] = [];
  const outcome = await runJob(db, job, range, settings, { onDay: (date) => unitEnds.push(date) });
  assert.equal(outcome.status, 'succeeded', outcome.error);
  assert.deepEqual(unitEnds, ['2026-08-23', '2026-09-06', '2026-09-09']);
  assert.equal(outcome.result.written.features_topic_daily, 37, 'each of 2026-08-04..09-09 written once');
  const ranged = await rowsOf();
  assert.deepEqual(
    ranged.map((r) => r.date),
    days.slice(3),
  );
  // The same days from one statement over the whole span.
  const wide = await runJob(db, job, ['2026-09-09'], loadConfig({ AGG_LOOKBACK_DAYS: '37' }));
  assert.equal(wide.status, 'succeeded', wide.error);
  assert.deepEqual(await rowsOf(), ranged);
  assert.ok(ranged.some((r) => r.improvement !== null && r.improvement !== ranged.at(-1)!.improvement));
});
