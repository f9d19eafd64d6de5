// The dashboard's JSON routes over real HTTP (inject) on a real database: cohort rosters imported by
// the one writer, who sees which cohort and learner (403 for another teacher's), the overview's
// sorting, filtering and paging in SQL, and a learner's page and charts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mintToken } from '../../../src/api/tokens.js';
import { parseCsv } from '../../../src/cli/csv.js';
import { replaceCohorts } from '../../../src/cohorts/repository.js';
import { parseCohortsCsv } from '../../../src/ingestion/parse.js';
import { insertAttempts, upsertLearners, upsertSessions } from '../../../src/ingestion/repository.js';
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

const WEEK = '2026-11-16';
const PREVIOUS = '2026-11-09';

/** Cohort a: u1..u3, cohort b: u4. KPIs of two weeks, θ before and in the week, one open alert. */
async function seed(f: Fixture): Promise<void> {
  const { db } = f.database;
  await seedItems(f.database);
  await upsertLearners(db, [{ user_id: 'u1', display_name: 'Ana Kim', locale: 'en' }]);
  await replaceCohorts(db, {
    cohorts: [
      { cohort_id: 'a', name: 'Class A' },
      { cohort_id: 'b', name: 'Class B' },
    ],
    members: [
      { cohort_id: 'a', user_id: 'u1' },
      { cohort_id: 'a', user_id: 'u2' },
      { cohort_id: 'a', user_id: 'u3' },
      { cohort_id: 'b', user_id: 'u4' },
    ],
  });
  const kpis = (s: number | null, p: number | null) => ({
    I_t: 0.1,
    E_t: 0.5,
    R_t: 0.4,
    A_t: 0.7,
    P: p,
    S: s,
  });
  await db
    .insertInto('weekly_kpi')
    .values([
      { user_id: 'u1', week_start: WEEK, kpis: JSON.stringify(kpis(0.2, 0.6)), as_of: '2026-11-22' },
      { user_id: 'u2', week_start: WEEK, kpis: JSON.stringify(kpis(0.9, 0.1)), as_of: '2026-11-22' },
      { user_id: 'u3', week_start: WEEK, kpis: JSON.stringify(kpis(0.5, null)), as_of: '2026-11-22' },
      { user_id: 'u4', week_start: WEEK, kpis: JSON.stringify(kpis(0.95, 0.2)), as_of: '2026-11-22' },
      { user_id: 'u1', week_start: PREVIOUS, kpis: JSON.stringify(kpis(0.3, 0.5)), as_of: '2026-11-15' },
    ])
    .execute();
  await db
    .insertInto('mirt_ability')
    .values([
      {
        user_id: 'u1',
        theta: 0.1,
        se: 0.4,
        source: 'calibration',
        fitted_at: new Date('2026-11-12T00:00:00Z'),
      },
      { user_id: 'u1', theta: 0.6, se: 0.3, source: 'online', fitted_at: new Date('2026-11-18T10:00:00Z') },
    ])
    .execute();
  await upsertSessions(db, [
    {
      session_id: 's1',
      user_id: 'u1',
      status: 'completed',
      started_at: new Date('2026-11-18T09:00:00Z'),
      completed_at: new Date('2026-11-18T09:30:00Z'),
    },
  ]);
  await insertAttempts(
    db,
    ['i1', 'i2', 'i3'].map((item, k) => ({
      session_id: 's1',
      user_id: 'u1',
      item_id: item,
      correct: k !== 1,
      response_time_ms: 20_000,
      answered_at: new Date(`2026-11-18T09:0${k}:00Z`),
      client_attempt_id: `c${k}`,
    })),
  );
  await db
    .insertInto('inactivity_alert')
    .values({
      user_id: 'u2',
      last_active_at: new Date('2026-11-01T00:00:00Z'),
      detected_on: '2026-11-20',
      days_inactive: 19,
      churn_risk: 0.9,
    })
    .execute();
}

describe('dashboard routes', () => {
  let f: Fixture;
  let teacherA: string;
  let teacherB: string;
  let analyst: string;
  let learner: string;
  before(async () => {
    f = await createFixture();
    await seed(f);
    const teacher = (cohorts: string[]) =>
      mintToken({
        secret: SECRET,
        sub: 't',
        scope: 'cohort:view',
        ttl: '1h',
        issuer: ISSUER,
        audience: AUDIENCE,
        cohorts,
      });
    teacherA = await teacher(['a']);
    teacherB = await teacher(['b']);
    analyst = await token('analyst', 'analysis:run');
    learner = await token('u1', 'reports:view');
  });
  after(() => f.close());

  const get = (url: string, t: string) =>
    f.app.inject({ method: 'GET', url: `/api/seedtest${url}`, headers: bearer(t) });

  it('imports rosters all or nothing, naming the file and line of an error', async () => {
    const table = (text: string) => {
      const t = parseCsv(text, 'roster.csv');
      return { ...t, col: { cohort_id: 0, cohort_name: 1, user_id: 2 } };
    };
    assert.throws(
      () => parseCohortsCsv(table('cohort_id,cohort_name,user_id\nb,Class B,u9\nb,Other name,u10\n')),
      /^ImportError: roster.csv: line 3: cohort b is named 'Other name' here but 'Class B' on line 2$/,
    );
    assert.throws(
      () => parseCohortsCsv(table('cohort_id,cohort_name,user_id\nb,Class B,\n')),
      /roster.csv: line 2: user_id/,
    );
    // Re-importing b replaces its roster: u4 leaves, u5 (a new learner) joins; a is untouched.
    const r = await replaceCohorts(
      f.database.db,
      parseCohortsCsv(table('cohort_id,cohort_name,user_id\nb,Class B,u5\nb,Class B,u5\n')),
    );
    assert.deepEqual(r, { cohorts: 1, members: 1, learners: 1 });
    const members = await f.database.db.selectFrom('cohort_member').selectAll().orderBy('user_id').execute();
    assert.deepEqual(
      members.map((m) => `${m.cohort_id}:${m.user_id}`),
      ['a:u1', 'a:u2', 'a:u3', 'b:u5'],
    );
    await replaceCohorts(
      f.database.db,
      parseCohortsCsv(table('cohort_id,cohort_name,user_id\nb,Class B,u4\n')),
    );
  });

  it('lists the cohorts of the claim to a teacher and every cohort to an analyst', async () => {
    const mine = await get('/cohorts', teacherA);
    assert.equal(mine.statusCode, 200);
    assert.deepEqual(mine.json(), { total: 1, cohorts: [{ cohort_id: 'a', name: 'Class A', members: 3 }] });
    const all = await get('/cohorts', analyst);
    assert.deepEqual(
      all.json().cohorts.map((c: { cohort_id: string }) => c.cohort_id),
      ['a', 'b'],
    );
    assert.equal((await get('/cohorts', learner)).statusCode, 403);
  });

  it("sorts a cohort's learners by risk in SQL, with θ change, last activity and alerts", async () => {
    const res = await get('/cohorts/a/learners?sort=risk&order=desc', teacherA);
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.week_start, WEEK);
    assert.equal(body.total, 3);
    assert.deepEqual(
      body.learners.map((l: { user_id: string }) => l.user_id),
      ['u2', 'u3', 'u1'],
    );
    const [u2, , u1] = body.learners;
    assert.equal(u2.churn_band, 'high');
    assert.equal(u2.open_alerts, 1);
    assert.equal(u2.days_inactive, 19);
    assert.equal(u1.display_name, 'Ana Kim');
    assert.equal(u1.theta, 0.6);
    assert.ok(Math.abs(u1.theta_change - 0.5) < 1e-9);
    assert.equal(u1.last_active_at, '2026-11-18T09:02:00.000Z');
    const asc = await get('/cohorts/a/learners?sort=risk&order=asc&limit=1&offset=1', teacherA);
    assert.deepEqual(
      asc.json().learners.map((l: { user_id: string }) => l.user_id),
      ['u3'],
    );
    assert.equal(asc.json().total, 3);
    const risky = await get('/cohorts/a/learners?filter=at_risk', teacherA);
    assert.deepEqual(
      risky.json().learners.map((l: { user_id: string }) => l.user_id),
      ['u2'],
    );
    const inactive = await get('/cohorts/a/learners?filter=inactive', analyst);
    assert.equal(inactive.json().total, 1);
    const before = await get(`/cohorts/a/learners?week=${PREVIOUS}&sort=name&order=asc`, analyst);
    assert.equal(before.json().learners[0].kpis.S, 0.3);
  });

  it("refuses another teacher's cohort and learner with 403, unknown ones with 404", async () => {
    const other = await get('/cohorts/a/learners', teacherB);
    assert.equal(other.statusCode, 403);
    assert.equal(other.json().error.code, 'COHORT_FORBIDDEN');
    assert.equal((await get('/learners/u1/overview', teacherB)).statusCode, 403);
    assert.equal((await get('/learners/u1/charts', teacherB)).statusCode, 403);
    assert.equal((await get('/learners/u4/overview', learner)).statusCode, 403);
    assert.equal((await get('/cohorts/zz/learners', analyst)).json().error.code, 'COHORT_NOT_FOUND');
    assert.equal((await get('/learners/nobody/overview', analyst)).statusCode, 404);
    assert.equal((await get('/cohorts/a/learners?sort=drop%20table', analyst)).statusCode, 400);
    assert.equal((await get('/cohorts/a/learners?week=2026-02-30', analyst)).statusCode, 400);
  });

  it("gives a learner's page to her teacher and to herself, with charts from the report module", async () => {
    for (const t of [teacherA, learner]) {
      const res = await get('/learners/u1/overview', t);
      assert.equal(res.statusCode, 200);
      const d = res.json();
      assert.deepEqual(d.cohorts, [{ cohort_id: 'a', name: 'Class A' }]);
      assert.deepEqual(
        d.kpi_weeks.map((w: { week_start: string }) => w.week_start),
        [PREVIOUS, WEEK],
      );
      assert.deepEqual(
        d.theta_history.map((p: { theta: number }) => p.theta),
        [0.1, 0.6],
      );
      assert.deepEqual(d.sessions[0], {
        session_id: 's1',
        status: 'completed',
        started_at: '2026-11-18T09:00:00.000Z',
        completed_at: '2026-11-18T09:30:00.000Z',
        attempts: 3,
        correct: 2,
      });
    }
    const charts = await get('/learners/u1/charts?locale=en', teacherA);
    assert.equal(charts.statusCode, 200);
    const byKey = Object.fromEntries(charts.json().charts.map((c: { key: string }) => [c.key, c]));
    assert.equal(byKey.kpi_trend.points, 2);
    assert.equal(byKey.theta.points, 2);
    assert.match(byKey.kpi_trend.svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(byKey.kpi_trend.svg, /Engagement|Effort|Retention/);
    assert.match(byKey.theta.svg, /Ability θ/);
  });

  it('serves the pages with a CSP without unsafe-inline, and documents the routes in OpenAPI', async () => {
    const page = await f.app.inject({ method: 'GET', url: '/dashboard/' });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /^text\/html/);
    const csp = page.headers['content-security-policy'] as string;
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.doesNotMatch(page.body, /<script>|<style|style="/, 'no inline script or style');
    // A fresh nonce each time the page is served, the one its script tag carries (for a shown report).
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce && page.body.includes(`nonce="${nonce}"`));
    const again = await f.app.inject({ method: 'GET', url: '/dashboard/' });
    assert.ok(!(again.headers['content-security-policy'] as string).includes(nonce));
    const script = await f.app.inject({ method: 'GET', url: '/dashboard/app.js' });
    assert.match(script.headers['content-type'] as string, /^text\/javascript/);
    assert.match(script.body, /sessionStorage/);
    const missing = await f.app.inject({ method: 'GET', url: '/dashboard/secret.txt' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 'NOT_FOUND');
    const doc = (await f.app.inject({ method: 'GET', url: '/docs/openapi.json' })).json();
    for (const path of [
      '/api/seedtest/cohorts',
      '/api/seedtest/cohorts/{cohort_id}/learners',
      '/api/seedtest/learners/{user_id}/overview',
      '/api/seedtest/learners/{user_id}/charts',
    ])
      assert.ok(doc.paths[path]?.get, path);
    assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/dashboard')));
  });
});
