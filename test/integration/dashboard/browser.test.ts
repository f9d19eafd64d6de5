// The dashboard in a real browser (Debian's Chromium driven by playwright-core) against a real server
// on a real database filled by the demo's loader and pipeline: sign-in by link, the cohort table and
// its sorting, a learner's charts, the language switch, the 403 page, and no console error, CSP
// violation or failed request on the way. Skips, saying why, where Chromium is not installed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { chartsDrawn, type DashboardBrowser, skip, startDashboardBrowser } from './browser-setup.js';

describe('the dashboard in Chromium', { skip }, () => {
  let env: DashboardBrowser;
  let database: DashboardBrowser['database'];
  let base: string;
  /** Every problem the browser reports, as text; the 403 step's own 403 is expected and removed. */
  let problems: string[];
  let requested: string[];
  let mint: DashboardBrowser['mint'];
  let open: DashboardBrowser['open'];

  before(async () => {
    env = await startDashboardBrowser();
    ({ database, base, problems, requested, mint, open } = env);
  });
  after(() => env?.close());

  const riskValues = (page: Page) =>
    page.$$eval('#learners tbody tr td:nth-child(2) .band', (els) =>
      els.map((e) => Number((e.textContent ?? '').replace(/[^\d.]/g, '')) || Number.NaN),
    );

  it("signs a teacher in by link, lists her class's learners and sorts them by risk", async () => {
    const members = await database.db
      .selectFrom('cohort_member')
      .select('user_id')
      .where('cohort_id', '=', 'c-001')
      .execute();
    const page = await open(`${base}/dashboard/#token=${await mint('teacher-1', 'cohort:view', ['c-001'])}`);
    await page.waitForSelector('#learners tbody tr');
    assert.doesNotMatch(page.url(), /token/, 'the address bar no longer holds the token');
    assert.ok(await page.evaluate(() => sessionStorage.getItem('seedtest.token')));
    const users = await page.$$eval('#learners tbody tr', (rows) =>
      rows.map((r) => r.getAttribute('data-user')),
    );
    assert.deepEqual(users.sort(), members.map((m) => m.user_id).sort());
    // Highest risk first by default; learners without S sort last.
    const desc = (await riskValues(page)).filter((v) => !Number.isNaN(v));
    assert.ok(desc.length > 5, 'risks are shown');
    assert.deepEqual(
      desc,
      [...desc].sort((a, b) => b - a),
    );
    await page.click('th[data-sort="risk"] button');
    await page.waitForSelector('th[data-sort="risk"][aria-sort="ascending"]');
    const asc = (await riskValues(page)).filter((v) => !Number.isNaN(v));
    assert.deepEqual(
      asc,
      [...asc].sort((a, b) => a - b),
    );
    assert.notDeepEqual(asc, desc);
    await page.context().close();
  });

  it("draws a learner's charts, switches language, and shows another class's learner as 403", async () => {
    const page = await open(`${base}/dashboard/#token=${await mint('teacher-1', 'cohort:view', ['c-001'])}`);
    await page.waitForSelector('#learners tbody tr');
    const riskLabel = await page.textContent('th[data-sort="risk"] button');
    await page.click('#learners tbody tr:first-child th a');
    await page.waitForSelector('#charts figure img');
    // Each chart is an <img> of an SVG: drawn once it has loaded with a width.
    await chartsDrawn(page);
    const charts = await page.$$eval('#charts figure', (figs) =>
      figs.map((f) => {
        const img = f.querySelector('img');
        return {
          key: f.getAttribute('data-chart'),
          points: Number(img?.getAttribute('data-points')),
          alt: img?.getAttribute('alt') ?? '',
        };
      }),
    );
    assert.deepEqual(
      charts.map((c) => c.key),
      ['kpi_trend', 'theta'],
    );
    for (const c of charts) assert.ok(c.points > 0 && c.alt.length > 0, JSON.stringify(c));

    await page.selectOption('#lang', 'en');
    await page.waitForSelector('html[lang="en"]');
    await page.goBack();
    await page.waitForSelector('#learners tbody tr');
    const english = await page.textContent('th[data-sort="risk"] button');
    assert.notEqual(english, riskLabel);
    assert.equal(english, 'Churn risk');
    await page.reload();
    await page.waitForSelector('#learners tbody tr');
    assert.equal(await page.getAttribute('html', 'lang'), 'en', 'the language is remembered');

    const other = await database.db
      .selectFrom('cohort_member')
      .select('user_id')
      .where('cohort_id', '=', 'c-002')
      .executeTakeFirstOrThrow();
    await page.goto(`${base}/dashboard/#/learners/${other.user_id}`);
    await page.waitForSelector('#forbidden');
    assert.equal(await page.textContent('#forbidden h1'), 'You cannot see this page');
    await page.click('#forbidden a[href="#/"]');
    await page.waitForSelector('#learners tbody tr');
    await page.context().close();
    // The 403 asked for (and Chromium's console line about it) is the one expected problem.
    const expected = (p: string) => p.includes(`/learners/${other.user_id}/`) || /status of 403/.test(p);
    assert.ok(problems.some(expected));
    problems.splice(0, problems.length, ...problems.filter((p) => !expected(p)));
  });

  it('shows a learner her own page', async () => {
    const page = await open(`${base}/dashboard/#token=${await mint('u-00001', 'reports:view')}`, 'en');
    await page.waitForSelector('#charts figure img');
    const me = await database.db
      .selectFrom('learner')
      .select('display_name')
      .where('user_id', '=', 'u-00001')
      .executeTakeFirstOrThrow();
    assert.equal(await page.textContent('h1'), me.display_name ?? 'u-00001');
    assert.ok((await page.$$('#sessions tbody tr')).length > 0);
    await page.context().close();
  });

  it('had no console error, CSP violation or failed request, and sent no token in a URL', () => {
    assert.deepEqual(problems, []);
    assert.ok(requested.length > 10);
    assert.deepEqual(
      requested.filter((u) => /token=/.test(u.split('#')[0]!)),
      [],
    );
  });
});
