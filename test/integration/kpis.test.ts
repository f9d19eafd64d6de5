import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import type { JobDefinition } from '../../src/jobs/contract.js';
import { findJob } from '../../src/jobs/registry.js';
import { runJob } from '../../src/jobs/runner.js';
import type { Kpis } from '../../src/kpis/kpis.js';
import { kpiAsOf, normalCdf } from '../../src/kpis/kpis.js';
import { computeWeeklyKpis } from '../../src/kpis/service.js';
import { writeAbilities, writeActivity } from '../helpers/activity.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { gatedJob } from '../helpers/gated-job.js';

let database: TestDatabase;
const job = findJob('compute-daily-kpis');
const config = loadConfig({});
// As of Wednesday 2026-11-25 (week of Monday 11-23). Windows: lookback W(as_of, 30) = [10-27, 11-26),
// W(as_of, 14) = [11-12, 11-26), W(as_of − 14, 14) = [10-29, 11-12), W(as_of, 28) = [10-29, 11-26),
// W(as_of − 28, 28) = [10-01, 10-29), W(as_of, 56) = [10-01, 11-26).
const AS_OF = '2026-11-25';
const WEEK = '2026-11-23';

before(async () => {
  database = await createTestDatabase();
  await writeActivity(
    database.db,
    [
      // u1 exercises every KPI, with attempts on both sides of the 28-day split and of as_of's end.
      {
        id: 'u1-a',
        user: 'u1',
        start: '2026-10-28T23:50:00Z',
        completed: '2026-10-29T00:10:00Z',
        attempts: [
          ['i1', false, 3000, 1, '2026-10-28T23:55:00Z'],
          ['i2', true, 2000, 0, '2026-10-28T23:59:59.999Z'],
          ['i1', true, 1000, 0, '2026-10-29T00:00:00.000Z'],
        ],
      },
      {
        id: 'u1-b',
        user: 'u1',
        start: '2026-11-20T10:00:00Z',
        attempts: [
          ['i2', true, 1500, 2, '2026-11-20T10:01:00Z'],
          ['i1', false, null, 0, '2026-11-20T10:02:00Z'],
          ['i3', true, 500, 0, '2026-11-25T23:59:59.999Z'],
          ['i3', false, 100, 0, '2026-11-26T00:00:00.000Z'],
        ],
      },
      // u3: five recent attempts and two estimates made inside their windows → θ mode.
      {
        id: 'u3-a',
        user: 'u3',
        start: '2026-11-15T10:00:00Z',
        completed: '2026-11-15T10:30:00Z',
        attempts: [1, 2, 3, 4, 5].map((m): [string, boolean, number, number, string] => [
          'i1',
          true,
          1000,
          0,
          `2026-11-15T10:0${m}:00Z`,
        ]),
      },
      // Lookback edges: 10-26 23:59:59.999 is outside W(as_of, 30), 10-27 00:00 inside.
      {
        id: 'late',
        user: 'u-out',
        start: '2026-10-26T23:00:00Z',
        attempts: [['i1', true, 1000, 0, '2026-10-26T23:59:59.999Z']],
      },
      {
        id: 'edge',
        user: 'u-edge',
        start: '2026-10-27T00:00:00Z',
        attempts: [['i1', true, 1000, 0, '2026-10-27T00:00:00.000Z']],
      },
      // A session opened long before the 56-day window that still gets attempts (loaded by id).
      {
        id: 'old',
        user: 'u-old',
        start: '2026-09-25T10:00:00Z',
        attempts: [['i2', true, 1000, 0, '2026-11-24T10:00:00Z']],
      },
      // Only after as_of: not active as of 11-25.
      {
        id: 'next',
        user: 'u-next',
        start: '2026-11-26T00:00:00Z',
        attempts: [['i1', true, 1000, 0, '2026-11-26T00:00:00.000Z']],
      },
    ],
    { u1: 0.8 },
  );
  await writeAbilities(database.db, [
    ['u1', 0.1, 0.3, '2026-11-05T03:00:00Z'],
    ['u1', 0.4, 0.2, '2026-11-24T03:00:00Z'],
    ['u1', 2.0, 0.1, '2026-11-26T00:00:00Z'], // after as_of: ignored
    ['u3', 0.4, 0.3, '2026-11-01T12:00:00Z'],
    ['u3', 1.0, null, '2026-11-15T12:00:00Z'],
  ]);
});
after(async () => {
  await database.close();
});

const rows = () =>
  database.db.selectFrom('weekly_kpi').selectAll().orderBy('user_id').orderBy('week_start').execute();
const kpisOf = async (user: string, week = WEEK) =>
  (
    await database.db
      .selectFrom('weekly_kpi')
      .selectAll()
      .where('user_id', '=', user)
      .where('week_start', '=', week)
      .executeTakeFirstOrThrow()
  ).kpis;

function close(actual: Kpis, expected: Kpis) {
  for (const key of Object.keys(expected) as (keyof Kpis)[]) {
    const [a, e] = [actual[key], expected[key]];
    if (e === null) assert.equal(a, null, `${key} should be null, got ${a}`);
    else assert.ok(a !== null && Math.abs(a - e) < 1e-9, `${key}: expected ${e}, got ${a}`);
  }
}

test('every KPI of the current week, as of the run date, from hand-built activity', async () => {
  const outcome = await runJob(database.db, job, [AS_OF], config);
  assert.equal(outcome.status, 'succeeded', outcome.error);
  const all = await rows();
  // u-out's only attempt is 1 ms before the lookback; u-next's is after as_of.
  assert.deepEqual(
    all.map((r) => r.user_id),
    ['u-edge', 'u-old', 'u1', 'u3'],
  );
  assert.ok(all.every((r) => r.week_start === WEEK && r.as_of === AS_OF));
  assert.equal(outcome.result.written.weekly_kpi, 4);

  // u1 — I_t (accuracy mode, 3 recent attempts < 5): W14 = ✓ ✗ ✓ (the 11-26 one is outside), p_r = 2/3;
  // previous W14 = the 10-29 00:00 attempt ✓, p_p = 1; exposure 3/30; 1.96·sqrt((2/9)/3) = 0.53 → factor 0.5.
  // E_t: correct known times in W28 = 1000 (10-29 00:00), 1500, 500 → median 1000; before: 2000
  // (10-28 23:59:59.999) → (2000 − 1000)/2000. R_t: K = {i1}; recent i1 attempts ✓ ✗ → 1/2.
  // A_t: sessions a (started 10-28 23:50, 1200 s) and b (open: 1500 + 500 ms known up to as_of = 2 s);
  // hints 0 + 2 + 0 + 0 over 4 attempts; mean gap between the two starts in days.
  const gap = (Date.parse('2026-11-20T10:00:00Z') - Date.parse('2026-10-28T23:50:00Z')) / 86_400_000;
  // P: θ 0.4 ± 0.2 (11-24; the 11-26 estimate is after as_of), goal 0.8 → 1 − Φ(2).
  // S: last attempt on as_of → d = 0; gap 22.4 days → 1; 2 sessions → 0.8.
  close(await kpisOf('u1'), {
    I_t: (2 / 3 - 1) * (3 / 30) * 0.5,
    E_t: 0.5,
    R_t: 0.5,
    A_t: 0.35 * (2 / 28) + 0.25 * (1 / gap) + 0.2 * (1 - 0.5 / 3) + 0.2 * ((1200 + 2) / 2 / 900),
    P: 1 - 0.9772498680518208,
    S: 0.25 + 0.15 * 0.8,
  });
  // u3 — θ mode: (1.0 − 0.4) · 5/30 · 1 (se null); P null (se null); one completed 30-minute session;
  // S: d = 11-25 − 11-15 = 10 of 14, one session.
  close(await kpisOf('u3'), {
    I_t: 0.6 * (5 / 30),
    E_t: null,
    R_t: null,
    A_t: 0.35 / 28 + 0.25 * 0.5 + 0.2 + 0.2,
    P: null,
    S: 0.6 * (10 / 14) + 0.15 * 0.9,
  });
  // u-edge — one attempt at 10-27 00:00: inside the lookback, before W28, so only S: d = 29 → 0.6.
  // u-old — its open session started 09-25 (one second of known time); d = 1.
  close(await kpisOf('u-old'), {
    I_t: null,
    E_t: null,
    R_t: null,
    A_t: 0.35 / 28 + 0.25 * 0.5 + 0.2 + 0.2 * (1 / 900),
    P: null,
    S: 0.6 * (1 / 14) + 0.15 * 0.9,
  });
  close(await kpisOf('u-edge'), { I_t: null, E_t: null, R_t: null, A_t: null, P: null, S: 0.6 + 0.15 * 0.9 });
});

test('a past week is computed as of its Sunday', async () => {
  const asOf = kpiAsOf('2026-11-16', AS_OF);
  assert.equal(asOf, '2026-11-22');
  const { rows: computed } = await computeWeeklyKpis(database.db, { asOf, config, userIds: ['u1'] });
  assert.deepEqual(
    computed.map((r) => [r.user_id, r.week_start, r.as_of]),
    [['u1', '2026-11-16', '2026-11-22']],
  );
  // As of 11-22: the 11-24 estimate does not exist yet, so P uses 11-05's θ 0.1 ± 0.3 against the
  // goal 0.8 → Φ(−0.7/0.3); the last attempt was 11-20 → d = 2.
  const k = await kpisOf('u1', '2026-11-16');
  assert.ok(Math.abs(k.P! - normalCdf(-0.7 / 0.3)) < 1e-12, `P ${k.P}`);
  assert.ok(Math.abs(k.S! - (0.6 * (2 / 14) + 0.25 + 0.15 * 0.8)) < 1e-12, `S ${k.S}`);
});

test('running twice leaves identical rows (timestamps included: unchanged rows are not rewritten)', async () => {
  const before = await rows();
  const again = await runJob(database.db, job, [AS_OF], config);
  assert.equal(again.status, 'succeeded');
  assert.equal(again.result.written.weekly_kpi, 0);
  assert.deepEqual(await rows(), before);
});

test('a failure after the writes leaves the previous results intact; a dry run writes nothing', async () => {
  const before = await rows();
  // New activity would change u1's KPIs…
  await writeActivity(database.db, [
    {
      id: 'u1-c',
      user: 'u1',
      start: '2026-11-24T09:00:00Z',
      attempts: [['i1', true, 700, 0, '2026-11-24T09:01:00Z']],
    },
  ]);
  // …but this run dies after computing and upserting everything.
  const dying: JobDefinition = {
    ...job,
    run: async (db, ctx) => {
      const result = await job.run(db, ctx);
      assert.ok(result.written.weekly_kpi! > 0);
      throw new Error('killed after the writes');
    },
  };
  const failed = await runJob(database.db, dying, [AS_OF], config);
  assert.equal(failed.status, 'failed');
  assert.match(failed.error!, /killed after the writes/);
  assert.deepEqual(await rows(), before);
  const dry = await runJob(database.db, job, [AS_OF], config, { dryRun: true });
  assert.equal(dry.status, 'succeeded');
  assert.deepEqual(await rows(), before);
  // A real run picks the new attempt up.
  await runJob(database.db, job, [AS_OF], config);
  assert.notDeepEqual(
    (await kpisOf('u1')).A_t,
    before.find((r) => r.user_id === 'u1' && r.week_start === WEEK)!.kpis.A_t,
  );
});

test('shards partition the learners: 0/2 and 1/2 are disjoint and together all of them', async () => {
  await writeActivity(
    database.db,
    Array.from({ length: 30 }, (_, i) => ({
      id: `many-${i}`,
      user: `m${i}`,
      start: '2026-11-24T08:00:00Z',
      attempts: [
        ['i2', i % 2 === 0, 900, 0, '2026-11-24T08:01:00Z'] as [string, boolean, number, number, string],
      ],
    })),
  );
  const users = async (shard?: { index: number; count: number }) =>
    (await computeWeeklyKpis(database.db, { asOf: AS_OF, config, shard })).rows.map((r) => r.user_id).sort();
  const all = await users();
  const [s0, s1] = [await users({ index: 0, count: 2 }), await users({ index: 1, count: 2 })];
  assert.equal(all.length, 34);
  assert.ok(s0.length > 0 && s1.length > 0);
  assert.ok(
    s0.every((u) => !s1.includes(u)),
    'disjoint',
  );
  assert.deepEqual([...s0, ...s1].sort(), all);
  const viaRunner = await runJob(database.db, job, [AS_OF], config, { shard: { index: 1, count: 2 } });
  assert.equal(viaRunner.result.counts?.learners, s1.length);
});

test('two concurrent runs of the job: one runs, the other reports the lock and fails', {
  skip:
    process.env.SEEDTEST_TEST_DB !== 'server' &&
    "on the embedded database the second run waits for the first one's transaction (job-lock.test.ts)",
}, async () => {
  const slow = gatedJob(job); // the runner holds the job's lock once inside
  const first = runJob(database.db, slow.job, [AS_OF], config);
  await slow.inside;
  const second = await runJob(database.db, job, [AS_OF], config);
  slow.release();
  assert.equal(second.status, 'failed');
  assert.match(second.error!, /compute-daily-kpis is already running elsewhere/);
  assert.equal((await first).status, 'succeeded');
});
