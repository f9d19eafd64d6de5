// The class page's distributions, topic filter and CSV export, and the learner page's topic heat
// maps, over real HTTP on a real database; the same access rules as the other dashboard routes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mintToken } from '../../../src/api/tokens.js';
import { replaceCohorts } from '../../../src/cohorts/repository.js';
import { upsertLearners } from '../../../src/ingestion/repository.js';
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

describe('dashboard: distributions, topic filter, CSV, heat maps', () => {
  let f: Fixture;
  let teacherA: string;
  let teacherB: string;
  before(async () => {
    f = await createFixture();
    const { db } = f.database;
    await seedItems(f.database);
    // A name a spreadsheet would take for a formula, with a comma and a quote in it.
    await upsertLearners(db, [
      { user_id: 'u1', display_name: '=HYPERLINK("x"), Kim', locale: 'ko' },
      { user_id: 'u2', display_name: '김하나' },
    ]);
    await replaceCohorts(db, {
      cohorts: [
        { cohort_id: 'a', name: 'Class A' },
        { cohort_id: 'b', name: 'Class B' },
      ],
      members: ['u1', 'u2', 'u3']
        .map((user_id) => ({ cohort_id: 'a', user_id }))
        .concat([{ cohort_id: 'b', user_id: 'u4' }]),
    });
    const kpis = (i: number, s: number | null) =>
      JSON.stringify({ I_t: i, E_t: 0.5, R_t: 0.05, A_t: 1, P: 0.3, S: s });
    await db
      .insertInto('weekly_kpi')
      .values([
        { user_id: 'u1', week_start: WEEK, kpis: kpis(-0.95, 0.85), as_of: '2026-11-22' },
        { user_id: 'u2', week_start: WEEK, kpis: kpis(0.3, 0.15), as_of: '2026-11-22' },
        { user_id: 'u3', week_start: WEEK, kpis: kpis(0.3, null), as_of: '2026-11-22' },
        { user_id: 'u4', week_start: WEEK, kpis: kpis(1, 0.99), as_of: '2026-11-22' },
      ])
      .execute();
    const feature = (
      user_id: string,
      topic_id: string,
      date: string,
      attempts: number,
      correct: number,
      improvement: number | null,
    ) => ({
      user_id,
      topic_id,
      date,
      attempts,
      correct,
      hints: 0,
      improvement,
      last_seen_at: new Date(`${date}T10:00:00Z`),
    });
    await db
      .insertInto('features_topic_daily')
      .values([
        feature('u1', 'algebra', '2026-11-17', 4, 1, -0.2),
        feature('u1', 'algebra', '2026-11-18', 4, 3, 0.4),
        feature('u1', 'geometry', '2026-11-10', 5, 5, null),
        feature('u2', 'geometry', '2026-11-19', 2, 1, 0),
        feature('u4', 'algebra', '2026-11-19', 2, 1, 0),
      ])
      .execute();
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
  });
  after(() => f.close());

  const get = (url: string, t: string) =>
    f.app.inject({ method: 'GET', url: `/api/seedtest${url}`, headers: bearer(t) });

  it("bins each KPI of the cohort's week over its domain, counting those without a value apart", async () => {
    const res = await get('/cohorts/a/distributions?locale=en', teacherA);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.week_start, WEEK);
    assert.equal(body.learners, 3);
    assert.deepEqual(
      body.topics.map((t: { topic_id: string }) => t.topic_id),
      ['algebra', 'geometry'],
      'the topics the cohort practised that week',
    );
    const chart = (key: string) => body.charts.find((c: { key: string }) => c.key === key);
    assert.deepEqual(
      body.charts.map((c: { key: string }) => c.key),
      ['I_t', 'E_t', 'R_t', 'A_t', 'P', 'S'],
    );
    assert.equal(chart('S').points, 2);
    assert.equal(chart('S').missing, 1);
    assert.equal(chart('I_t').points, 3);
    assert.match(chart('S').svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(chart('S').svg, /Learners/);
    // A topic narrows the cohort to those who practised it that week.
    const algebra = (await get('/cohorts/a/distributions?topic=algebra', teacherA)).json();
    assert.equal(algebra.learners, 1);
    assert.equal((await get('/cohorts/b/distributions', teacherA)).statusCode, 403);
    assert.equal((await get('/cohorts/zz/distributions', await token('x', 'analysis:run'))).statusCode, 404);
    assert.equal((await get('/cohorts/a/distributions?week=2026-02-30', teacherA)).statusCode, 400);
  });

  it('filters the table by topic', async () => {
    const rows = async (q: string) =>
      (await get(`/cohorts/a/learners?${q}`, teacherA))
        .json()
        .learners.map((l: { user_id: string }) => l.user_id);
    assert.deepEqual((await rows('sort=name&order=asc')).sort(), ['u1', 'u2', 'u3']);
    assert.deepEqual(await rows('topic=algebra'), ['u1']);
    assert.deepEqual(await rows('topic=geometry'), ['u2'], "u1's geometry was the week before");
  });

  it('exports the table as CSV with a BOM, every row, formulas defused, same access rules', async () => {
    const res = await get('/cohorts/a/learners.csv?sort=risk&order=desc&locale=en', teacherA);
    assert.equal(res.statusCode, 200, res.body);
    assert.match(res.headers['content-type'] as string, /^text\/csv; charset=utf-8/);
    assert.match(res.headers['content-disposition'] as string, /filename\*=UTF-8''cohort-a-2026-11-16\.csv/);
    const raw = res.rawPayload;
    assert.deepEqual([...raw.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a UTF-8 byte-order mark');
    const lines = raw.subarray(3).toString('utf8').split('\r\n');
    assert.equal(lines.at(-1), '');
    assert.match(lines[0]!, /^user_id,name,Churn risk S,risk band,/);
    assert.equal(lines.length, 5, 'a header and three learners');
    assert.equal(lines[1], `u1,"'=HYPERLINK(""x""), Kim",0.85,high,0.3,,,-0.95,0.5,0.05,1,,`);
    assert.match(lines[2]!, /^u2,김하나,0\.15,low,/);
    const ko = await get('/cohorts/a/learners.csv?topic=algebra', teacherA);
    assert.match(ko.rawPayload.subarray(3).toString('utf8'), /^학습자 ID,이름,/);
    assert.equal(ko.rawPayload.toString('utf8').split('\r\n').length, 3, 'the topic filter applies');
    assert.equal((await get('/cohorts/a/learners.csv', teacherB)).statusCode, 403);
    assert.equal((await get('/cohorts/a/learners.csv?sort=bogus', teacherA)).statusCode, 400);
  });

  it("draws a learner's topics by week as heat maps", async () => {
    const res = await get('/learners/u1/topics?locale=en', teacherA);
    assert.equal(res.statusCode, 200, res.body);
    const charts = res.json().charts as { key: string; points: number; svg: string }[];
    assert.deepEqual(
      charts.map((c) => [c.key, c.points]),
      [
        ['accuracy', 2],
        ['improvement', 1],
      ],
    );
    // Algebra in the week of 16 Nov: 4 of 8 correct; the mean of the days' improvement.
    assert.match(charts[0]!.svg, />50%</);
    assert.match(charts[1]!.svg, />\+0\.10</);
    assert.equal((await get('/learners/u4/topics', teacherA)).statusCode, 403);
    assert.equal((await get('/learners/nobody/topics', await token('x', 'analysis:run'))).statusCode, 404);
    assert.deepEqual((await get('/learners/u3/topics', teacherA)).json(), { charts: [] });
  });
});
