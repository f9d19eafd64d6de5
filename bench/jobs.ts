// `npm run bench -- jobs [--server URL] [--scale F] [--runs N] [--only features,kpis,calibration]`:
// the batch jobs on PostgreSQL, in a scratch database that is created and dropped. Data is generated
// set-based in SQL (generate_series), so setup takes seconds to minutes, not hours. Prints medians.
//   features:    one day of 1,000,000 attempts, the job against a bare SELECT … GROUP BY of the
//                same aggregates over the same rows (target: ratio <= 1.5), and against that query's
//                rows inserted into a copy of the table (the floor of any job that stores them)
//   kpis:        100,000 learners with 56 days of activity, about 10 M attempts in the 30-day
//                lookback (18.7 M in the 56 days the KPIs read), compute-daily-kpis (target <= 60 s)
//   calibration: 1,000,000 responses (10,000 learners × 100 items of 1,000, 2PL), mirt-calibrate
//                end to end: read, fit, link, write (target <= 30 s)
// --scale multiplies the learner counts (0.1 for a quick look).
import { loadConfig } from '../src/config.js';
import type { Database } from '../src/db/connection.js';
import { findJob } from '../src/jobs/registry.js';
import { runJob } from '../src/jobs/runner.js';
import { arg, bulkLoad, median, withScratchDatabase } from './support.js';

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

async function repeat(runs: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) out.push(await timed(fn));
  return out;
}

const fmt = (xs: number[]) =>
  `median ${median(xs).toFixed(2)} s (runs: ${xs.map((x) => x.toFixed(2)).join(', ')})`;

const DAY = '2026-11-25';
const ITEMS = 1000;

async function reset(database: Database): Promise<void> {
  await database.query(
    'TRUNCATE attempt, exam_session, learner, features_topic_daily, weekly_kpi, mirt_ability, learner_goal, ' +
      'mirt_item_params, mirt_fit_meta, inactivity_alert, item, topic CASCADE',
  );
  await database.query(
    `INSERT INTO topic (topic_id, name) SELECT 't' || n, 'Topic ' || n FROM generate_series(0, 19) n`,
  );
  await database.query(
    `INSERT INTO item (item_id, topic_id) SELECT 'i' || n, 't' || (n % 20) FROM generate_series(0, ${ITEMS - 1}) n`,
  );
}

async function step(label: string, fn: () => Promise<unknown>): Promise<void> {
  const s = await timed(fn);
  console.log(`  setup: ${label} in ${s.toFixed(1)} s`);
}

async function benchFeatures(database: Database, learners: number, runs: number): Promise<void> {
  await reset(database);
  // 20 attempts per learner in one session on DAY, on 4 topics (5 per learner and topic).
  await step(`${learners * 20} attempts on ${DAY}`, async () => {
    await database.query(`SELECT setseed(0.1)`);
    await database.query(`INSERT INTO learner (user_id) SELECT 'f' || u FROM generate_series(1, $1::int) u`, [
      learners,
    ]);
    await database.query(
      `INSERT INTO exam_session (session_id, user_id, status, started_at, completed_at)
       SELECT 'f' || u, 'f' || u, 'completed', $2::date + time '06:00' + (u % 900) * interval '1 min',
         $2::date + time '06:30' + (u % 900) * interval '1 min'
       FROM generate_series(1, $1::int) u`,
      [learners, DAY],
    );
    await bulkLoad(database, ['attempt'], () =>
      database.query(
        `INSERT INTO attempt (session_id, user_id, item_id, topic_id, correct, response_time_ms, hints, answered_at)
       SELECT 'f' || u, 'f' || u, 'i' || it, 't' || (it % 20), random() < 0.6,
         CASE WHEN random() < 0.05 THEN NULL ELSE (2000 + random() * 60000)::int END, (random() < 0.1)::int,
         $2::date + time '06:00' + (u % 900) * interval '1 min' + k * interval '1 min'
       FROM generate_series(1, $1::int) u, generate_series(1, 20) k,
         LATERAL (SELECT (u + k % 4) % 20 + 20 * ((u * 7 + k) % 50) AS it) x`,
        [learners, DAY],
      ),
    );
  });
  const config = loadConfig({ AGG_LOOKBACK_DAYS: '1' });
  const job = findJob('aggregate-features-daily');
  const runOnce = async () => {
    const o = await runJob(database.db, job, [DAY], config);
    if (o.status !== 'succeeded') throw new Error(o.summary);
  };
  // Each repetition: the day's first run on an empty table (200,000 rows inserted), then a re-run on
  // the same attempts (the day's rows deleted and inserted again).
  const firstTimes: number[] = [];
  const rerunTimes: number[] = [];
  for (let r = 0; r < runs; r++) {
    await database.query('TRUNCATE features_topic_daily');
    await database.query('CHECKPOINT');
    firstTimes.push(await timed(runOnce));
    rerunTimes.push(await timed(runOnce));
  }
  // The same aggregates over the same rows, nothing written; every output is consumed so the planner
  // cannot drop an aggregate.
  const bareGroupBy = `
    SELECT user_id, topic_id, count(*) AS n, count(*) FILTER (WHERE correct) AS c,
      round(avg(response_time_ms)) AS t,
      round(percentile_cont(0.5) WITHIN GROUP (ORDER BY response_time_ms)) AS m, sum(hints) AS h,
      max(answered_at) AS l
    FROM attempt WHERE answered_at >= $1::date::timestamp AT TIME ZONE 'UTC' AND answered_at < ($1::date + 1)::timestamp AT TIME ZONE 'UTC'
    GROUP BY user_id, topic_id`;
  const bareTimes = await repeat(runs, () =>
    database.query(
      `SELECT count(*), sum(n), sum(c), sum(t), sum(m), sum(h), max(l) FROM (${bareGroupBy}) g`,
      [DAY],
    ),
  );
  // The floor of any job that stores these rows: the bare query's rows inserted into an empty copy of
  // features_topic_daily with its primary key and indexes (not the yardstick; it shows how
  // much of the job is the write the schema asks for).
  await database.query('CREATE TABLE features_floor (LIKE features_topic_daily INCLUDING ALL)');
  const floorTimes: number[] = [];
  for (let r = 0; r < runs; r++) {
    await database.query('TRUNCATE features_floor');
    await database.query('CHECKPOINT');
    floorTimes.push(
      await timed(() =>
        database.query(
          `INSERT INTO features_floor (user_id, topic_id, date, attempts, correct, avg_time_ms, rt_median, hints, last_seen_at)
           SELECT user_id, topic_id, $1::date, n, c, t, m, h, l FROM (${bareGroupBy}) g`,
          [DAY],
        ),
      ),
    );
  }
  await database.query('DROP TABLE features_floor');
  const rows = await database.query<{ n: string }>('SELECT count(*) AS n FROM features_topic_daily');
  console.log(`features, ${learners * 20} attempts → ${rows.rows[0]!.n} rows`);
  console.log(`  job, first run:  ${fmt(firstTimes)}`);
  console.log(`  job, re-run:     ${fmt(rerunTimes)}`);
  console.log(`  bare:            ${fmt(bareTimes)}`);
  console.log(`  bare + write:    ${fmt(floorTimes)}`);
  const ratio = (xs: number[], to = bareTimes) => (median(xs) / median(to)).toFixed(2);
  console.log(
    `  ratio (medians): first run ${ratio(firstTimes)}, re-run ${ratio(rerunTimes)} (target <= 1.5); ` +
      `bare + write ${ratio(floorTimes)}, first run / (bare + write) ${ratio(firstTimes, floorTimes)}`,
  );
}

async function benchKpis(database: Database, learners: number, runs: number): Promise<void> {
  await reset(database);
  // A session every other day over the 56 days ending DAY, 6 or 7 attempts each (6.67 on average):
  // 100 attempts per learner in any 30 days.
  await step(`${learners} learners, 56 days of sessions and attempts`, async () => {
    await database.query(`SELECT setseed(0.2)`);
    await database.query(`INSERT INTO learner (user_id) SELECT 'k' || u FROM generate_series(1, $1::int) u`, [
      learners,
    ]);
    await database.query(
      `INSERT INTO exam_session (session_id, user_id, status, started_at, completed_at)
       SELECT 'k' || u || '-' || d, 'k' || u, CASE WHEN u % 5 = 0 THEN 'open' ELSE 'completed' END, st,
         CASE WHEN u % 5 = 0 THEN NULL ELSE st + interval '25 min' END
       FROM generate_series(1, $1::int) u, generate_series(0, 55) d,
         LATERAL (SELECT ($2::date - d) + time '07:00' + (u % 700) * interval '1 min' AS st) x
       WHERE (u + d) % 2 = 0`,
      [learners, DAY],
    );
    await bulkLoad(database, ['attempt'], () =>
      database.query(
        `INSERT INTO attempt (session_id, user_id, item_id, topic_id, correct, response_time_ms, hints, answered_at)
       SELECT 'k' || u || '-' || d, 'k' || u, 'i' || it, 't' || (it % 20), random() < 0.65,
         CASE WHEN random() < 0.05 THEN NULL ELSE (2000 + random() * 60000)::int END, (random() < 0.1)::int,
         ($2::date - d) + time '07:00' + (u % 700) * interval '1 min' + k * interval '2 min'
       FROM generate_series(1, $1::int) u, generate_series(0, 55) d,
         LATERAL generate_series(1, 6 + ((u + d) % 3 = 0)::int) k,
         LATERAL (SELECT (u * 13 + d * 7 + k * 31) % ${ITEMS} AS it) x
       WHERE (u + d) % 2 = 0`,
        [learners, DAY],
      ),
    );
    // Two calibrations in the 28 days (θ mode for I_t) and goals for a tenth of the learners.
    await database.query(
      `INSERT INTO mirt_ability (user_id, theta, se, model, source, fitted_at)
       SELECT 'k' || u, (random() - 0.5) * 2, 0.2 + random() * 0.2, '2PL', 'calibration', $2::date - d + time '03:00'
       FROM generate_series(1, $1::int) u, (VALUES (3), (17)) v(d)`,
      [learners, DAY],
    );
    await database.query(
      `INSERT INTO learner_goal (user_id, target_theta) SELECT 'k' || u, 0.5 FROM generate_series(1, $1::int, 10) u`,
      [learners],
    );
    await database.query('ANALYZE');
  });
  const counts = await database.query<{ lookback: string; all: string }>(
    `SELECT count(*) FILTER (WHERE answered_at >= ($1::date - 29)::timestamp AT TIME ZONE 'UTC') AS lookback, count(*) AS all FROM attempt`,
    [DAY],
  );
  const config = loadConfig({});
  const job = findJob('compute-daily-kpis');
  let learnersDone = 0;
  const times = await repeat(runs, async () => {
    // A fresh computation each time (an unchanged row would be skipped, not rewritten).
    await database.query('TRUNCATE weekly_kpi');
    const o = await runJob(database.db, job, [DAY], config);
    if (o.status !== 'succeeded') throw new Error(o.summary);
    learnersDone = o.result.counts?.learners ?? 0;
  });
  const c = counts.rows[0]!;
  console.log(
    `kpis, ${learnersDone} learners, ${c.lookback} attempts in the 30-day lookback (${c.all} in the 56 days read)`,
  );
  console.log(`  compute-daily-kpis: ${fmt(times)} (target <= 60 s)`);
}

async function benchCalibration(database: Database, learners: number, runs: number): Promise<void> {
  await reset(database);
  const perLearner = 100;
  await step(`${learners * perLearner} responses (2PL)`, async () => {
    await database.query(`SELECT setseed(0.3)`);
    await database.query(`INSERT INTO learner (user_id) SELECT 'c' || u FROM generate_series(1, $1::int) u`, [
      learners,
    ]);
    await database.query(
      `INSERT INTO exam_session (session_id, user_id, status, started_at, completed_at)
       SELECT 'c' || u, 'c' || u, 'completed', $2::date - 1 + time '09:00', $2::date - 1 + time '10:00'
       FROM generate_series(1, $1::int) u`,
      [learners, DAY],
    );
    // θ ~ N(0, 1) by Box–Muller; each learner answers 100 distinct items.
    await bulkLoad(database, ['attempt'], () =>
      database.query(
        `WITH th AS (SELECT u, sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS theta FROM generate_series(1, $1::int) u)
       INSERT INTO attempt (session_id, user_id, item_id, topic_id, correct, response_time_ms, hints, answered_at)
       SELECT 'c' || u, 'c' || u, 'i' || it, 't' || (it % 20),
         random() < 1 / (1 + exp(-(0.8 + (it % 7) * 0.2) * (theta - (-2 + (it % 41) * 0.1)))),
         10000, 0, $2::date - 1 + time '09:00' + k * interval '30 s'
       FROM th, generate_series(0, ${perLearner - 1}) k, LATERAL (SELECT (u * 7 + k) % ${ITEMS} AS it) x`,
        [learners, DAY],
      ),
    );
  });
  const config = loadConfig({});
  const job = findJob('mirt-calibrate');
  let summary = '';
  const times = await repeat(runs, async () => {
    const o = await runJob(database.db, job, [DAY], config);
    if (o.status !== 'succeeded') throw new Error(o.summary);
    summary = o.summary;
  });
  console.log(`calibration, ${learners * perLearner} responses: ${fmt(times)} (target <= 30 s)`);
  console.log(`  last run: ${summary}`);
}

export async function benchJobs(args: string[]): Promise<void> {
  const server = arg(args, '--server') ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const scale = Number(arg(args, '--scale') ?? 1);
  const runs = Number(arg(args, '--runs') ?? 3);
  const only = (arg(args, '--only') ?? 'features,kpis,calibration').split(',');
  if (!(scale > 0) || !(runs >= 1)) throw new RangeError('--scale must be > 0 and --runs >= 1');
  await withScratchDatabase(server, 'jobs', async (database, url) => {
    console.log(`PostgreSQL ${new URL(url).host}, scale ${scale}, ${runs} runs each`);
    if (only.includes('features')) await benchFeatures(database, Math.round(50_000 * scale), runs);
    if (only.includes('kpis')) await benchKpis(database, Math.round(100_000 * scale), runs);
    if (only.includes('calibration')) await benchCalibration(database, Math.round(10_000 * scale), runs);
  });
}
