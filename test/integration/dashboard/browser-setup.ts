// What the dashboard's browser tests share: Debian's Chromium driven by playwright-core, headless,
// against a real server on a real database filled by the demo's loader and pipeline (40 learners in
// classes c-001 of 30 and c-002 of 10, 60 items, 4 weeks), and pages that record every problem the
// browser reports. Tests skip, saying why, where Chromium is not installed.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { buildServer } from '../../../src/api/server.js';
import { mintToken } from '../../../src/api/tokens.js';
import { groupLearnersIntoCohorts } from '../../../src/cohorts/repository.js';
import { loadPlatform } from '../../../src/demo/load.js';
import { runDemoPipeline } from '../../../src/demo/pipeline.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { streamPlatform } from '../../../src/synthetic/platform.js';
import { CHROMIUM_PATH, drawn, launchChromium } from '../../helpers/chromium.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { AUDIENCE, ISSUER, SECRET, testConfig } from '../api/setup.js';

const FIRST_MONDAY = '2026-11-02';
const WEEKS = 4;
const TODAY = '2026-11-26';

// axe-core, injected into each page it scans (the evaluation goes around the page's CSP).
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core on the page as it stands; fails on any serious or critical violation. */
export async function scan(page: Page, label: string): Promise<void> {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const r = await (
      globalThis as unknown as {
        axe: {
          run(): Promise<{
            violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[];
          }>;
        };
      }
    ).axe.run();
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
    }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${label}: ${JSON.stringify(bad, null, 1)}`);
}

/** The describe blocks' skip option: a reason when Chromium is missing. */
export const skip = existsSync(CHROMIUM_PATH)
  ? false
  : `no Chromium at ${CHROMIUM_PATH}: install it with apt-get install -y chromium to run the browser tests`;

export interface DashboardBrowser {
  database: TestDatabase;
  /** The server's origin. */
  base: string;
  /** Every problem the browsers report, as text: console errors and warnings, page errors, failed requests, HTTP errors. */
  problems: string[];
  /** Every URL the pages requested. */
  requested: string[];
  mint(sub: string, scope: string, cohorts?: string[]): Promise<string>;
  /** A new browser context (language, Seoul time) on `link`, its problems recorded. */
  open(link: string, locale?: 'ko' | 'en', viewport?: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

export async function startDashboardBrowser(): Promise<DashboardBrowser> {
  const dataDir = mkdtempSync(join(tmpdir(), 'seedtest-dash-'));
  const config = testConfig({ DATA_DIR: dataDir, REPORT_FORMATS: 'html' });
  const database = await createTestDatabase();
  const platform = streamPlatform({
    seed: 7,
    learners: 40,
    weeks: WEEKS,
    items: 60,
    start: new Date(`${FIRST_MONDAY}T00:00:00Z`),
  });
  await loadPlatform(database.db, platform, () => {}, new Date(`${TODAY}T12:00:00Z`));
  await groupLearnersIntoCohorts(database.db, 30);
  await runDemoPipeline(database.db, config, {
    firstMonday: FIRST_MONDAY,
    weeks: WEEKS,
    today: TODAY,
    log: () => {},
  });
  const app: FastifyInstance = buildServer({
    config,
    database,
    logger: createLogger('silent', false),
    metrics: createMetrics(),
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const browser: Browser = await launchChromium();
  const problems: string[] = [];
  const requested: string[] = [];
  return {
    database,
    base,
    problems,
    requested,
    mint: (sub, scope, cohorts) =>
      mintToken({ secret: SECRET, sub, scope, ttl: '1h', issuer: ISSUER, audience: AUDIENCE, cohorts }),
    async open(link, locale = 'ko', viewport) {
      const context = await browser.newContext({
        locale,
        timezoneId: 'Asia/Seoul',
        ...(viewport ? { viewport } : {}),
      });
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
      page.on('request', (r) => requested.push(r.url()));
      page.on('response', (r) => {
        if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
      });
      await page.goto(link);
      return page;
    },
    async close() {
      await browser.close();
      await app.close();
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Waits until the page shows charts (`#charts img`) and every one has loaded with a width. */
export function chartsDrawn(page: Page): Promise<number> {
  return drawn(page, [], ['#charts img']);
}
