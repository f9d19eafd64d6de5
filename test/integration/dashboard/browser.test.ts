// The dashboard in a real browser (Debian's Chromium driven by playwright-core) against a real server
// on a real database filled by the demo's loader and pipeline: sign-in by link, the cohort table and
// its sorting, a learner's charts, the language switch, the 403 page, and no console error, CSP
// violation or failed request on the way. Skips, saying why, where Chromium is not installed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { chartsDrawn, type DashboardBrowser, scan, skip, startDashboardBrowser } from './browser-setup.js';

// The browser's globals used by functions that run in the page (this file's tsconfig has no DOM library).
declare const getComputedStyle: (e: unknown) => { fontSize: string; maxWidth: string };
declare const document: { fonts: { ready: Promise<unknown> } & Iterable<{ status: string }> };

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
    await scan(page, 'the class page');
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
    await scan(page, "a learner's page (Korean)");

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
    await scan(page, 'the 403 page');
    await page.click('#forbidden a[href="#/"]');
    await page.waitForSelector('#learners tbody tr');
    await page.context().close();
    // The 403 asked for (and Chromium's console line about it) is the one expected problem.
    const expected = (p: string) => p.includes(`/learners/${other.user_id}/`) || /status of 403/.test(p);
    assert.ok(problems.some(expected));
    problems.splice(0, problems.length, ...problems.filter((p) => !expected(p)));
  });

  it('opens a stored report inside the page, styled and with its font, and closes it', async () => {
    const page = await open(`${base}/dashboard/#token=${await mint('teacher-1', 'cohort:view', ['c-001'])}`);
    await page.waitForSelector('#learners tbody tr');
    await page.click('#learners tbody tr:first-child th a');
    await page.click('#reports li .open-report');
    await page.waitForSelector('dialog#report-view[open]');
    const report = page.frameLocator('#report-frame');
    const title = await report.locator('h1').textContent();
    assert.match(title ?? '', /\S/);
    // The file's own stylesheet ran (by the page's nonce) and its font loaded (a data: URL).
    assert.equal(await report.locator('h1').evaluate((e) => getComputedStyle(e).fontSize), '26px');
    assert.equal(
      await report.locator('body').evaluate(async () => {
        await document.fonts.ready;
        return [...document.fonts].some((f) => f.status === 'loaded');
      }),
      true,
    );
    const widths = await report
      .locator('figure')
      .evaluateAll((figs) =>
        figs.map((f) => [
          getComputedStyle(f).maxWidth,
          f.querySelector('svg')?.getBoundingClientRect().width ?? 0,
        ]),
      );
    assert.ok(
      widths.length > 0 && widths.every(([max, w]) => max !== 'none' && Number(w) > 0),
      JSON.stringify(widths),
    );
    await page.keyboard.press('Escape');
    await page.waitForSelector('dialog#report-view', { state: 'detached' });
    await page.context().close();
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
    await scan(page, "a learner's own page (English)");
    await page.context().close();
  });

  it('asks for the link when there is no token', async () => {
    const page = await open(`${base}/dashboard/`);
    await page.waitForSelector('#signin');
    await scan(page, 'the sign-in page');
    await page.context().close();
  });

  it('shows an operator the pipeline; an admin starts a dry run and sees it in the list', async () => {
    const viewer = await open(`${base}/dashboard/#token=${await mint('op-1', 'analysis:run')}`, 'en');
    await viewer.waitForSelector('#nav-pipeline:not([hidden])');
    await viewer.click('#nav-pipeline');
    await viewer.waitForSelector('#jobs tbody tr');
    assert.equal((await viewer.$$('#jobs tbody tr')).length, 5);
    assert.equal((await viewer.$$('#jobs button')).length, 0, 'runs are started by admins only');
    await scan(viewer, 'the pipeline page (analyst)');
    await viewer.context().close();

    const before = await database.db.selectFrom('job_run').select('run_id').execute();
    const page = await open(`${base}/dashboard/#token=${await mint('op-2', 'admin')}`, 'en');
    await page.waitForSelector('#nav-pipeline:not([hidden])');
    await page.goto(`${base}/dashboard/#/pipeline`);
    await page.waitForSelector('#jobs tbody tr');
    await page.selectOption('#lang', 'en');
    await page.waitForSelector('html[lang="en"] #jobs tbody tr');
    await scan(page, 'the pipeline page (admin)');
    await page.fill('#run-date', '2026-11-20');
    await page.click('#dry-compute-daily-kpis');
    await page.waitForSelector('#run-notice:has-text("dry run")');
    const row = '#runs tbody tr[data-dry-run="true"]:has(th:text-is("compute-daily-kpis"))';
    await page.waitForSelector(`${row}[data-status="succeeded"]`, { timeout: 30_000 });
    // The focus stayed on the button through the refreshes.
    assert.equal(await page.evaluate('document.activeElement?.id'), 'dry-compute-daily-kpis');
    const after = await database.db
      .selectFrom('job_run')
      .select(['run_id', 'job', 'params', 'status'])
      .where('run_id', 'not in', before.length ? before.map((r) => r.run_id) : ['0'])
      .execute();
    assert.equal(after.length, 1);
    assert.equal(after[0]!.job, 'compute-daily-kpis');
    assert.deepEqual(after[0]!.params, { dates: '2026-11-20', dry_run: true }, 'the day picked');
    assert.equal(
      await page.getAttribute(`${row}`, 'data-run'),
      after[0]!.run_id,
      'the list shows the run the button started',
    );
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
