// `npm run bench -- dashboard [--server URL] [--runs N] [--requests N]`: the dashboard's data routes
// on PostgreSQL (issue 19: each page's data route p95 ≤ 300 ms). One scratch database is seeded,
// `seedtest serve` started on it, and each page's part measures its routes: every route asked
// `--requests` times in a row (after 10 warm-up requests), p50 and p95 per run, the median of the
// runs, with the load average (the machine is shared: compare ratios within one run).
//
// Item bank: 5,000 items in 10 topics, 20 weekly calibration runs of the whole bank (parameters
// with SEs and covariances, item fit, drift against the previous run, model fit, 12 dropped anchors
// a run), adaptive exposure on the last 4 runs' banks, 50 inactive items.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { sql } from 'kysely';
import { mintToken } from '../src/api/tokens.js';
import type { Database } from '../src/db/connection.js';
import { arg, BENCH_SECRET, freePort, median, startServe, withScratchDatabase } from './support.js';

const ITEMS = 5000;
const TOPICS = 10;
const RUNS = 20;
const TARGET_P95_MS = 300;

/** What a page's part gets: the seeded database, the server, a staff token's headers, the counts. */
export interface DashboardBenchContext {
  database: Database;
  base: string;
  headers: Record<string, string>;
  runs: number;
  requests: number;
}

const f = (x: number, d = 1) => x.toFixed(d);

/** p50 and p95 of `requests` sequential GETs of `path` (after a warm-up), in ms. */
async function timeRoute(
  ctx: DashboardBenchContext,
  path: string,
): Promise<{ p50: number; p95: number; bytes: number }> {
  let bytes = 0;
  const get = async () => {
    const res = await fetch(`${ctx.base}${path}`, { headers: ctx.headers });
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
    bytes = (await res.arrayBuffer()).byteLength;
  };
  for (let i = 0; i < 10; i++) await get();
  const times: number[] = [];
  for (let i = 0; i < ctx.requests; i++) {
    const t0 = performance.now();
    await get();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: median(times), p95: times[Math.ceil(times.length * 0.95) - 1]!, bytes };
}

/** Measures each route `ctx.runs` times and prints the runs and their medians against the target. */
async function measure(ctx: DashboardBenchContext, page: string, paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    const p50: number[] = [];
    const p95: number[] = [];
    let bytes = 0;
    for (let r = 0; r < ctx.runs; r++) {
      const t = await timeRoute(ctx, path);
      p50.push(t.p50);
      p95.push(t.p95);
      bytes = t.bytes;
    }
    const p95Median = median(p95);
    console.log(
      `${page} GET ${path}: p50 ${f(median(p50))} ms, p95 ${f(p95Median)} ms, ${f(bytes / 1024)} KB ` +
        `(runs: ${p95.map((x) => f(x)).join(', ')}; ${ctx.requests} requests each; ` +
        `target p95 ≤ ${TARGET_P95_MS} ms ${p95Median <= TARGET_P95_MS ? 'met' : 'MISSED'}; ` +
        `load average ${f(loadavg()[0]!, 2)})`,
    );
  }
}

/** The item bank of the header's description, written set-based in SQL. */
export async function seedItemBank(database: Database): Promise<void> {
  const db = database.db;
  await sql`INSERT INTO topic (topic_id, name) SELECT 't' || g, 'Topic ' || g
    FROM generate_series(0, ${TOPICS - 1}::int) g`.execute(db);
  await sql`INSERT INTO item (item_id, topic_id, active) SELECT 'i' || lpad(g::text, 4, '0'), 't' || (g % ${TOPICS}::int), g % 100 <> 7
    FROM generate_series(0, ${ITEMS - 1}::int) g`.execute(db);
  // Run r on day r·7 after 2026-01-04; each run linked to the one before.
  await sql`INSERT INTO mirt_fit_meta (run_id, model, status, fitted_at, model_spec, metrics)
    SELECT 'cal-' || lpad(r::text, 2, '0'), '2PL', 'succeeded', timestamptz '2026-01-04 23:00Z' + r * interval '7 days',
      jsonb_build_object('n_items', ${ITEMS}::int, 'n_persons', 100000, 'linking',
        CASE WHEN r = 1 THEN jsonb_build_object('method', 'none', 'A', 1, 'B', 0, 'n_anchors', 0, 'anchors', '[]'::jsonb)
        ELSE jsonb_build_object('method', 'stocking-lord', 'A', 1 + r / 1000.0, 'B', -r / 500.0, 'n_anchors', ${ITEMS - 12}::int,
          'anchors', (SELECT jsonb_agg('i' || lpad(g::text, 4, '0')) FROM generate_series(12, ${ITEMS - 1}::int) g)) END),
      jsonb_build_object('logLik', -1200000 - r * 1000, 'AIC', 2400000, 'BIC', 2410000)
    FROM generate_series(1, ${RUNS}::int) r`.execute(db);
  await sql`INSERT INTO mirt_item_params (item_id, version, model, params, fitted_at)
    SELECT 'i' || lpad(g::text, 4, '0'), 'cal-' || lpad(r::text, 2, '0'), '2PL',
      jsonb_build_object('a', 0.5 + (g * 37 % 200) / 100.0 + r / 1000.0, 'b', -3 + (g * 53 % 600) / 100.0, 'c', 0, 'd', 0,
        'n', 400 + g % 300, 'p', 0.3 + (g % 50) / 100.0,
        'se', jsonb_build_object('a', 0.08, 'b', 0.11, 'd', 0.1),
        'cov', jsonb_build_object('names', jsonb_build_array('a', 'b'), 'matrix', jsonb_build_array(0.0064, 0.001, 0.001, 0.0121))),
      timestamptz '2026-01-04 23:00Z' + r * interval '7 days'
    FROM generate_series(1, ${RUNS}::int) r, generate_series(0, ${ITEMS - 1}::int) g`.execute(db);
  await sql`INSERT INTO mirt_item_fit (run_id, item_id, infit, outfit, infit_z, outfit_z, sx2, sx2_df, sx2_p, sx2_rmsea,
      previous_run, da, db, dc, lord_chi2, drift_df, drift_p, q_flag, area, drift_flag)
    SELECT 'cal-' || lpad(r::text, 2, '0'), 'i' || lpad(g::text, 4, '0'), 0.8 + (g % 40) / 100.0, 0.75 + (g % 50) / 100.0,
      (g % 7) - 3, (g % 9) - 4, 10 + g % 20, 8, CASE WHEN g % 250 = 0 THEN 0.00001 ELSE 0.05 + (g % 90) / 100.0 END, 0.01,
      CASE WHEN r = 1 THEN NULL ELSE 'cal-' || lpad((r - 1)::text, 2, '0') END,
      CASE WHEN r = 1 THEN NULL ELSE 0.001 END, CASE WHEN r = 1 THEN NULL ELSE (g % 11 - 5) / 100.0 END,
      CASE WHEN r = 1 THEN NULL ELSE 0 END, CASE WHEN r = 1 THEN NULL ELSE (g % 13) / 2.0 END,
      CASE WHEN r = 1 THEN NULL ELSE 2 END, CASE WHEN r = 1 THEN NULL ELSE 0.5 END,
      CASE WHEN r = 1 THEN NULL ELSE g % 400 = 3 END, CASE WHEN r = 1 THEN NULL ELSE 0.01 END,
      CASE WHEN r = 1 THEN NULL ELSE g % 400 = 3 END
    FROM generate_series(1, ${RUNS}::int) r, generate_series(0, ${ITEMS - 1}::int) g`.execute(db);
  await sql`INSERT INTO mirt_model_fit (run_id, marginal_rxx, empirical_rxx, notes)
    SELECT 'cal-' || lpad(r::text, 2, '0'), 0.9 + r / 1000.0, 0.89 + r / 1000.0, '[]'
    FROM generate_series(1, ${RUNS}::int) r`.execute(db);
  await sql`INSERT INTO mirt_dropped_anchor (run_id, item_id, db, z, round)
    SELECT 'cal-' || lpad(r::text, 2, '0'), 'i' || lpad(g::text, 4, '0'), 0.8, 2.2, 1
    FROM generate_series(2, ${RUNS}::int) r, generate_series(0, 11) g`.execute(db);
  // 20,000 adaptive sessions on each of the last 4 banks, 20 items each (400,000 servings a bank).
  await sql`INSERT INTO cat_exposure_run (run_id, sessions)
    SELECT 'cal-' || lpad(r::text, 2, '0'), 20000 FROM generate_series(${RUNS - 3}::int, ${RUNS}::int) r`.execute(
    db,
  );
  await sql`INSERT INTO cat_exposure (run_id, item_id, served)
    SELECT 'cal-' || lpad(r::text, 2, '0'), 'i' || lpad(g::text, 4, '0'), CASE WHEN g % 500 = 1 THEN 6000 ELSE 40 + g % 80 END
    FROM generate_series(${RUNS - 3}::int, ${RUNS}::int) r, generate_series(0, ${ITEMS - 1}::int) g`.execute(
    db,
  );
  await sql`ANALYZE`.execute(db);
}

/** The item-bank pages' routes: the bank page's three (both colourings) and an item page's two. */
export async function itemBankBench(ctx: DashboardBenchContext): Promise<void> {
  await measure(ctx, 'item bank', [
    '/api/seedtest/item-bank?filter=flagged&limit=50',
    '/api/seedtest/item-bank/charts?color=flag&locale=ko',
    '/api/seedtest/item-bank/charts?color=topic&locale=en',
    '/api/seedtest/item-bank/calibrations?limit=20',
    '/api/seedtest/item-bank/items/i0001',
    '/api/seedtest/item-bank/items/i0001/charts?locale=ko',
  ]);
}

export async function benchDashboard(args: string[]): Promise<void> {
  const server = arg(args, '--server', 'postgres://postgres@127.0.0.1:5432/test');
  const runs = Number(arg(args, '--runs', '3'));
  const requests = Number(arg(args, '--requests', '100'));
  console.log(
    `load average at start: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} (2 cores)`,
  );
  await withScratchDatabase(server, 'dashboard', async (database, url) => {
    let serve: ChildProcess | undefined;
    try {
      const t0 = performance.now();
      await seedItemBank(database);
      console.log(
        `seeded the item bank: ${ITEMS} items, ${RUNS} runs in ${f((performance.now() - t0) / 1000)} s`,
      );
      const port = await freePort();
      serve = await startServe(url, port);
      const token = await mintToken({ secret: BENCH_SECRET, sub: 'bench', scope: 'analysis:run', ttl: '2h' });
      const ctx: DashboardBenchContext = {
        database,
        base: `http://127.0.0.1:${port}`,
        headers: { authorization: `Bearer ${token}` },
        runs,
        requests,
      };
      await itemBankBench(ctx);
    } finally {
      if (serve) {
        serve.kill('SIGTERM');
        await once(serve, 'exit');
      }
    }
  });
}
