// The item-bank pages in Chromium on the demo's data (browser-setup.ts), with adaptive exposure and an
// inactive item added to the latest calibration: an analyst opens the bank from the header, the
// scatter has a point per calibrated item, the colouring switches, an item's page draws its curves;
// both widths (tablet, desktop) and languages fit the window (DASHBOARD_SCREENSHOTS=dir saves each
// as a PNG); a teacher gets the 403 page and no link; no console error or failed request.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chartsDrawn, type DashboardBrowser, scan, skip, startDashboardBrowser } from './browser-setup.js';

const SHOTS = process.env.DASHBOARD_SCREENSHOTS;

describe('the item-bank pages in Chromium', { skip }, () => {
  let env: DashboardBrowser;
  let runId: string;
  let calibrated: number;
  const overexposed = ['itm-0003', 'itm-0007'];
  const inactive = 'itm-0011';

  before(async () => {
    env = await startDashboardBrowser();
    const { db } = env.database;
    const run = await db
      .selectFrom('mirt_fit_meta')
      .select('run_id')
      .where('status', '=', 'succeeded')
      .orderBy('fitted_at', 'desc')
      .executeTakeFirstOrThrow();
    runId = run.run_id;
    const items = await db
      .selectFrom('mirt_item_params')
      .select('item_id')
      .where('version', '=', runId)
      .execute();
    calibrated = items.length;
    // 20 adaptive sessions on the latest bank: two items served in 12 of them, the rest in 2.
    await db.insertInto('cat_exposure_run').values({ run_id: runId, sessions: 20 }).execute();
    await db
      .insertInto('cat_exposure')
      .values(
        items.map((i) => ({
          run_id: runId,
          item_id: i.item_id,
          served: overexposed.includes(i.item_id) ? 12 : 2,
        })),
      )
      .execute();
    await db.updateTable('item').set({ active: false }).where('item_id', '=', inactive).execute();
  });
  after(() => env?.close());

  it('shows an analyst the bank: a point per item, the flagged items, the calibration history', async () => {
    const page = await env.open(
      `${env.base}/dashboard/#token=${await env.mint('analyst-1', 'analysis:run')}`,
      'en',
    );
    await page.waitForSelector('#cohort-list');
    await page.selectOption('#lang', 'en');
    await page.waitForSelector('html[lang="en"] #cohort-list');
    await page.click('#nav-items:not([hidden])');
    await page.waitForSelector('#items tbody tr');
    await chartsDrawn(page);
    await scan(page, 'the item bank');
    const charts = await page.$$eval('#charts figure', (figs) =>
      figs.map((f) => ({
        key: f.getAttribute('data-chart'),
        points: Number(f.querySelector('img')?.getAttribute('data-points')),
        alt: f.querySelector('img')?.getAttribute('alt') ?? '',
        note: f.querySelector('.chart-note')?.textContent ?? '',
      })),
    );
    assert.deepEqual(
      charts.map((c) => c.key),
      ['scatter', 'information'],
    );
    assert.equal(charts[0]!.points, calibrated);
    for (const c of charts) assert.ok(c.alt.length > 0 && c.note.length > 0, JSON.stringify(c));
    const flagged = await page.$$eval('#items tbody tr', (rows) =>
      Object.fromEntries(
        rows.map((r) => [
          r.getAttribute('data-item'),
          [...r.querySelectorAll('.flag')].map((f) => f.textContent),
        ]),
      ),
    );
    for (const id of overexposed) assert.ok(flagged[id]?.includes('over-exposed'), JSON.stringify(flagged));
    assert.ok(flagged[inactive]?.includes('inactive'));
    assert.equal(await page.textContent('[data-card="overexposed"] .value'), '2');
    const runs = await env.database.db.selectFrom('mirt_fit_meta').select('run_id').execute();
    assert.equal((await page.$$('#calibrations tbody tr')).length, runs.length);

    // By topic: the scatter is drawn again, with the same points.
    const before = await page.getAttribute('figure[data-chart="scatter"] img', 'src');
    await page.selectOption('#color', 'topic');
    await page.waitForSelector(`figure[data-chart="scatter"] img:not([src=${JSON.stringify(before)}])`);
    await chartsDrawn(page);
    assert.equal(
      Number(await page.getAttribute('figure[data-chart="scatter"] img', 'data-points')),
      calibrated,
    );

    await page.click(`#items tbody tr[data-item="${overexposed[0]}"] th a`);
    await page.waitForSelector('#item-runs tbody tr');
    await chartsDrawn(page);
    assert.equal(await page.textContent('h1'), overexposed[0]);
    const curve = await page.$eval('figure[data-chart="curve"] img', (i) =>
      Number(i.getAttribute('data-points')),
    );
    assert.equal(curve, 81);
    const itemRuns = await env.database.db
      .selectFrom('mirt_item_params as p')
      .innerJoin('mirt_fit_meta as m', 'm.run_id', 'p.version')
      .select('p.version')
      .where('p.item_id', '=', overexposed[0]!)
      .where('m.status', '=', 'succeeded')
      .execute();
    assert.equal((await page.$$('#item-runs tbody tr')).length, itemRuns.length);
    assert.match((await page.textContent(`#item-runs tr[data-run="${runId}"]`)) ?? '', /60%.*12 of 20/);
    await scan(page, "an item's page");
    await page.context().close();
  });

  it('fits a tablet and a desktop window in both languages', async () => {
    const token = await env.mint('analyst-2', 'analysis:run');
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
    for (const width of [768, 1280]) {
      for (const locale of ['ko', 'en'] as const) {
        const page = await env.open(`${env.base}/dashboard/#token=${token}`, locale, { width, height: 1000 });
        await page.waitForSelector('#cohort-list');
        if (locale === 'en') {
          await page.selectOption('#lang', 'en');
          await page.waitForSelector('html[lang="en"] #cohort-list');
        }
        for (const [name, hash, ready] of [
          ['bank', '#/items', '#calibrations'],
          ['item', `#/items/${overexposed[0]}`, '#item-runs'],
        ] as const) {
          await page.goto(`${env.base}/dashboard/${hash}`);
          await page.waitForSelector(ready);
          await chartsDrawn(page);
          // Wide tables scroll inside their frame; the page itself does not scroll sideways.
          const overflow = Number(
            await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'),
          );
          assert.ok(overflow <= 0, `${name} ${locale} ${width}px is ${overflow}px too wide`);
          if (SHOTS)
            await page.screenshot({ path: join(SHOTS, `${name}-${locale}-${width}.png`), fullPage: true });
        }
        await page.context().close();
      }
    }
  });

  it('gives a teacher the 403 page and no item-bank link', async () => {
    const page = await env.open(
      `${env.base}/dashboard/#token=${await env.mint('teacher-1', 'cohort:view', ['c-001'])}`,
    );
    await page.waitForSelector('#learners tbody tr');
    assert.equal(await page.isHidden('#nav-items'), true);
    await page.goto(`${env.base}/dashboard/#/items`);
    await page.waitForSelector('#forbidden');
    // The 403 page from #/items is still on screen: wait for the item's own refusal.
    const refused = page.waitForResponse((r) => r.url().includes('/item-bank/items/') && r.status() === 403);
    await page.goto(`${env.base}/dashboard/#/items/${overexposed[0]}`);
    await refused;
    await page.waitForSelector('#forbidden');
    await page.context().close();
    // The pages' 403s (and Chromium's console lines about them) are the expected problems.
    const expected = (p: string) =>
      /^HTTP 403: .*\/api\/seedtest\/item-bank[/?]/.test(p) || /status of 403/.test(p);
    const forbidden = env.problems.filter((p) => p.startsWith('HTTP 403'));
    assert.ok(
      forbidden.some((p) => p.includes('/item-bank?')) && forbidden.some((p) => p.includes('/items/')),
    );
    env.problems.splice(0, env.problems.length, ...env.problems.filter((p) => !expected(p)));
  });

  it('had no console error, CSP violation or failed request, and sent no token in a URL', () => {
    assert.deepEqual(env.problems, []);
    assert.deepEqual(
      env.requested.filter((u) => /token=/.test(u.split('#')[0]!)),
      [],
    );
  });
});
