import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import type { JobDefinition } from '../../src/jobs/contract.js';
import { findJob } from '../../src/jobs/registry.js';
import { runJob } from '../../src/jobs/runner.js';
import { normalCdf } from '../../src/kpis/kpis.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { type S, writeAbilities, writeActivity } from '../helpers/activity.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
const job = findJob('detect-inactivity');
const config = loadConfig({ INACTIVITY_THRESHOLD_DAYS: '7' });
const one = (id: string, user: string, at: string): S => ({
  id,
  user,
  start: at,
  attempts: [['i1', true, 1000, 0, at]],
});

before(async () => {
  database = await createTestDatabase();
  await writeActivity(database.db, [
    one('v1', 'v1', '2026-11-10T15:00:00Z'),
    // v2 goes quiet after 11-01, comes back on 11-12 and goes quiet again.
    one('v2-a', 'v2', '2026-11-01T10:00:00Z'),
    {
      id: 'v2-b',
      user: 'v2',
      start: '2026-11-12T07:55:00Z',
      attempts: [
        ['i1', true, 1000, 0, '2026-11-12T08:00:00Z'],
        ['i2', false, 1000, 0, '2026-11-12T09:00:00Z'],
      ],
    },
    // v3 has been silent since September: longer than the 56-day window of S.
    one('v3', 'v3', '2026-09-01T10:00:00Z'),
    one('v4', 'v4', '2026-11-05T10:05:00Z'),
    // Threshold edges for a run on 11-16: the last instant of 11-09 is 7 days back, 11-10 00:00 is 6.
    one('late', 'v-late', '2026-11-09T23:59:59.999Z'),
    one('edge', 'v-edge', '2026-11-10T00:00:00.000Z'),
  ]);
  await writeAbilities(database.db, [['v3', 0.5, 0.25, '2026-09-02T03:00:00Z']]);
});
after(async () => {
  await database.close();
});

const alerts = () =>
  database.db
    .selectFrom('inactivity_alert')
    .selectAll()
    .orderBy('user_id')
    .orderBy('last_active_at')
    .execute();
const alertsOf = async (user: string) => (await alerts()).filter((a) => a.user_id === user);
const kpiRows = () =>
  database.db.selectFrom('weekly_kpi').selectAll().orderBy('user_id').orderBy('week_start').execute();
const run = async (date: string, opts = {}) => {
  const outcome = await runJob(database.db, job, [date], config, opts);
  assert.equal(outcome.status, 'succeeded', outcome.error);
  return outcome;
};

test('an alert per inactive learner; S = 1 for a learner silent for the whole window, P and S merged', async () => {
  await run('2026-11-10');
  const v2 = await alertsOf('v2');
  assert.equal(v2.length, 1);
  assert.equal(v2[0]!.last_active_at.toISOString(), '2026-11-01T10:00:00.000Z');
  assert.deepEqual([v2[0]!.detected_on, v2[0]!.days_inactive, v2[0]!.resolved_at], ['2026-11-10', 9, null]);
  // v2, as of 11-10: d = 9 of 14, one session → 0.6·9/14 + 0.15·0.9
  assert.ok(Math.abs(v2[0]!.churn_risk! - (0.6 * (9 / 14) + 0.135)) < 1e-12);
  const v3 = await alertsOf('v3');
  assert.equal(v3[0]!.churn_risk, 1);
  // Nobody else was 7 days quiet on 11-10 (v4: 5 days, v-late: 1).
  assert.deepEqual([...new Set((await alerts()).map((a) => a.user_id))], ['v2', 'v3']);
  // v3 had no row this week: one is created with P (θ 0.5 ± 0.25, target 0 → Φ(2)) and S only.
  const rows = await kpiRows();
  const v3Row = rows.find((r) => r.user_id === 'v3')!;
  assert.equal(v3Row.week_start, '2026-11-09');
  assert.deepEqual({ ...v3Row.kpis, P: null }, { I_t: null, E_t: null, R_t: null, A_t: null, P: null, S: 1 });
  assert.ok(Math.abs(v3Row.kpis.P! - normalCdf(2)) < 1e-12);
});

test('the alert is resolved at the first attempt after the spell when the learner comes back', async () => {
  const outcome = await run('2026-11-12');
  assert.equal(outcome.result.counts?.resolved, 1);
  const [v2] = await alertsOf('v2');
  assert.equal(v2!.resolved_at?.toISOString(), '2026-11-12T08:00:00.000Z');
});

test('threshold edge: a last attempt at 23:59:59.999 seven days back alerts, one at 00:00 the next day does not', async () => {
  await run('2026-11-16');
  const late = await alertsOf('v-late');
  assert.equal(late.length, 1);
  assert.equal(late[0]!.days_inactive, 7);
  assert.equal(late[0]!.last_active_at.toISOString(), '2026-11-09T23:59:59.999Z');
  assert.equal((await alertsOf('v-edge')).length, 0);
});

test('only P and S of an existing weekly_kpi row are replaced', async () => {
  // As compute-daily-kpis would have written it (the 11-16 run already merged P and S into it).
  const full = { I_t: 0.11, E_t: 0.22, R_t: 0.33, A_t: 0.44, P: 0.9, S: 0.1 };
  await database.db
    .insertInto('weekly_kpi')
    .values({ user_id: 'v4', week_start: '2026-11-16', as_of: '2026-11-16', kpis: JSON.stringify(full) })
    .onConflict((oc) => oc.columns(['user_id', 'week_start']).doUpdateSet({ kpis: JSON.stringify(full) }))
    .execute();
  await run('2026-11-17');
  const row = (await kpiRows()).find((r) => r.user_id === 'v4' && r.week_start === '2026-11-16')!;
  // v4 has no θ → P null; S: d = 11-17 − 11-05 = 12 of 14, one session.
  const s = 0.6 * (12 / 14) + 0.135;
  assert.deepEqual({ ...row.kpis, S: 0 }, { I_t: 0.11, E_t: 0.22, R_t: 0.33, A_t: 0.44, P: null, S: 0 });
  assert.ok(Math.abs(row.kpis.S! - s) < 1e-12);
  assert.equal(row.as_of, '2026-11-16', 'as_of stays the day of the full computation');
  const [v4] = await alertsOf('v4');
  assert.equal(v4!.churn_risk, row.kpis.S);
  // v1 (11-10 15:00) and v-edge (11-10 00:00) are 7 days quiet on 11-17.
  assert.equal((await alertsOf('v1'))[0]?.days_inactive, 7);
  assert.equal((await alertsOf('v-edge'))[0]?.days_inactive, 7);
});

test('a learner who goes quiet again opens a second spell; the gauge counts open alerts', async () => {
  const metrics = createMetrics();
  await run('2026-11-20', { metrics });
  const v2 = await alertsOf('v2');
  assert.deepEqual(
    v2.map((a) => [a.last_active_at.toISOString(), a.resolved_at?.toISOString() ?? null, a.days_inactive]),
    [
      ['2026-11-01T10:00:00.000Z', '2026-11-12T08:00:00.000Z', 9],
      ['2026-11-12T09:00:00.000Z', null, 8],
    ],
  );
  // Open: v1, v2 (second spell), v3, v4, v-edge, v-late.
  const gauge = await metrics.inactiveLearners.get();
  assert.equal(gauge.values[0]?.value, 6);
  assert.equal((await alerts()).filter((a) => a.resolved_at === null).length, 6);
});

test('re-running a day leaves identical rows; a failure after the writes leaves the previous results', async () => {
  const [alertsBefore, kpisBefore] = [await alerts(), await kpiRows()];
  const again = await run('2026-11-20');
  assert.equal(again.result.written.inactivity_alert, 0);
  assert.deepEqual(await alerts(), alertsBefore);
  assert.deepEqual(await kpiRows(), kpisBefore);
  const dying: JobDefinition = {
    ...job,
    run: async (db, ctx) => {
      const result = await job.run(db, ctx);
      assert.ok(result.written.inactivity_alert! > 0, 'the run wrote before dying');
      throw new Error('killed after the writes');
    },
  };
  const failed = await runJob(database.db, dying, ['2026-11-25'], config);
  assert.equal(failed.status, 'failed');
  assert.deepEqual(await alerts(), alertsBefore);
  assert.deepEqual(await kpiRows(), kpisBefore);
});

test('a run limited to some learners (--user) looks at those only', async () => {
  const outcome = await run('2026-11-21', { users: ['v1', 'v3', 'nobody'] });
  assert.equal(outcome.result.counts?.inactive, 2);
  const days = Object.fromEntries(
    (await alerts()).filter((a) => !a.resolved_at).map((a) => [a.user_id, a.days_inactive]),
  );
  // v1 and v3 moved on to 11-21; v4 stays at its 11-20 count.
  assert.equal(days.v1, 11);
  assert.equal(days.v4, 15);
});
