// `npm run bench -- cat [--only quality|next|simulate|http] [--runs N] [--server URL] [--seconds S]
// [--connections C] [--sessions N]`: the adaptive-testing figures of
// issue 18 (docs/cat.md). Banks are drawn by the synthetic platform's generator; everything is
// seeded. Quality: 500 2PL items, 2,000 simulees from N(0, 1), 30 items, for maximum information,
// randomesque k = 5 (and k = 20, 40, within a-strata) and Sympson–Hetter calibrated to 0.25 and 0.33
// (checked on new simulees). Timing: one
// next-item selection on a 5,000-item bank with 30 answers (p50/p99 of single calls), and 10,000
// simulees × 30 items on that bank; medians of the runs, with the load average. HTTP: GET
// …/next-item against `seedtest serve` on a scratch PostgreSQL database (5,000 items, 10 topics),
// each request to a session with 20 answers whose next item is not chosen yet (so it reads, selects
// and records one), req/s and p99 per run and their medians.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { sql } from 'kysely';
import { mintToken } from '../src/api/tokens.js';
import {
  CatBank,
  CatEngine,
  type CatSettings,
  type CatSimulationSummary,
  calibrateSympsonHetter,
  simulateCat,
} from '../src/cat/index.js';
import type { Database } from '../src/db/connection.js';
import { streamPlatform } from '../src/synthetic/platform.js';
import { arg, BENCH_SECRET, freePort, load, median, startServe, withScratchDatabase } from './support.js';

function platformBank(items: number, seed: number): CatBank {
  const p = streamPlatform({ seed, learners: 0, weeks: 1, items, start: new Date('2026-01-05T00:00:00Z') });
  return new CatBank(
    p.items.map((it) => ({ itemId: it.item_id, topicId: it.topic_id, params: p.itemTruth.get(it.item_id)! })),
  );
}

const f = (x: number, d = 3) => x.toFixed(d);

function line(label: string, s: CatSimulationSummary): string {
  return (
    `${label}: RMSE ${f(s.rmse)}, bias ${f(s.bias)}, r ${f(s.correlation)}, reliability ${f(s.reliability)}, ` +
    `length ${f(s.mean_length, 1)} ± ${f(s.sd_length, 1)}, max exposure ${f(s.max_exposure)}, ` +
    `never used ${f(s.never_used)}, overlap ${f(s.mean_overlap)}` +
    (s.content_deviation
      ? `, content deviation ${f(s.content_deviation.mean, 2)} (max ${f(s.content_deviation.max, 2)})`
      : '')
  );
}

function quality(runs: number): void {
  const bank = platformBank(500, 20260101);
  const base: CatSettings = { maxItems: 30 };
  const sims = { nSimulees: 2000 };
  const rmse: Record<string, number[]> = { mfi: [], rand: [], sh: [] };
  for (let r = 0; r < runs; r++) {
    const seed = 1000 + r;
    const mfi = simulateCat(new CatEngine(bank, base), { ...sims, seed }).summary;
    const rand = simulateCat(new CatEngine(bank, { ...base, exposure: { kind: 'randomesque', k: 5 } }), {
      ...sims,
      seed,
    }).summary;
    const t0 = performance.now();
    const sh = calibrateSympsonHetter(bank, base, { target: 0.25, ...sims, seed: seed * 100 });
    const shMs = performance.now() - t0;
    const check = simulateCat(
      new CatEngine(bank, { ...base, exposure: { kind: 'sympson-hetter', k: sh.k } }),
      {
        ...sims,
        seed: seed + 50,
      },
    ).summary;
    const topics = new Map(bank.topics.map((t) => [t, 1]));
    const randTopics = simulateCat(
      new CatEngine(bank, { ...base, topics, exposure: { kind: 'randomesque', k: 5 } }),
      { ...sims, seed },
    ).summary;
    console.log(`run ${r + 1} (seed ${seed}):`);
    console.log(`  ${line('max information', mfi)} (targets RMSE ≤ 0.32, reliability ≥ 0.90)`);
    console.log(
      `  ${line('randomesque k=5', rand)} (targets max exposure ≤ 0.35, RMSE ≤ 1.05 × ${f(mfi.rmse)} = ${f(1.05 * mfi.rmse)})`,
    );
    console.log(`  ${line('randomesque k=5 + 10 topics equal shares', randTopics)}`);
    // Why randomesque misses max exposure ≤ 0.35 and what reaches it (docs/cat.md → Exposure).
    for (const [label, settings] of [
      ['randomesque k=20', { ...base, exposure: { kind: 'randomesque', k: 20 } }],
      ['randomesque k=40', { ...base, exposure: { kind: 'randomesque', k: 40 } }],
      ['a-stratified 4 + randomesque k=5', { ...base, aStrata: 4, exposure: { kind: 'randomesque', k: 5 } }],
    ] as [string, CatSettings][])
      console.log(`  ${line(label, simulateCat(new CatEngine(bank, settings), { ...sims, seed }).summary)}`);
    const sh33 = calibrateSympsonHetter(bank, base, { target: 0.33, ...sims, seed: seed * 100 });
    const check33 = simulateCat(
      new CatEngine(bank, { ...base, exposure: { kind: 'sympson-hetter', k: sh33.k } }),
      { ...sims, seed: seed + 50 },
    ).summary;
    console.log(
      `  Sympson–Hetter to 0.33, new simulees: ${line('', check33).slice(2)} (RMSE ${f((check33.rmse / mfi.rmse - 1) * 100, 1)} % above max information)`,
    );
    console.log(
      `  Sympson–Hetter to 0.25: ${sh.iterations} iterations in ${f(shMs / 1000, 1)} s, converged ${sh.converged}; ` +
        `new simulees: ${line('', check).slice(2)} (target max exposure ≤ 0.27)`,
    );
    rmse.mfi.push(mfi.rmse);
    rmse.rand.push(rand.rmse);
    rmse.sh.push(check.max_exposure);
  }
  console.log(
    `medians: RMSE max information ${f(median(rmse.mfi))}, randomesque ${f(median(rmse.rand))}; ` +
      `Sympson–Hetter max exposure ${f(median(rmse.sh))}`,
  );
}

/** Per-call latency of next() with 30 answers on a 5,000-item bank. */
function nextItem(runs: number): void {
  const bank = platformBank(5000, 20260102);
  const topics = new Map(bank.topics.map((t) => [t, 1]));
  const variants: [string, CatSettings][] = [
    ['max information', { maxItems: 31 }],
    ['randomesque 5 + 10 topics', { maxItems: 31, topics, exposure: { kind: 'randomesque', k: 5 } }],
    [
      'Sympson–Hetter (k = 0.5) + 10 topics',
      { maxItems: 31, topics, exposure: { kind: 'sympson-hetter', k: new Float64Array(bank.n).fill(0.5) } },
    ],
  ];
  for (const [label, settings] of variants) {
    const engine = new CatEngine(bank, settings);
    // States: 500 simulated sessions of 30 answers each.
    const states: { sessionId: string; items: number[]; correct: number[] }[] = [];
    simulateCat(new CatEngine(bank, { ...settings, maxItems: 30 }), {
      nSimulees: 500,
      seed: 7,
      onStep: (i, step, x) => {
        if (!states[i]) states[i] = { sessionId: `bench-${i}`, items: [], correct: [] };
        states[i].items.push(step.item);
        states[i].correct.push(x);
      },
    });
    for (const s of states) engine.next(s); // warm-up: compile the paths before timing
    const p50: number[] = [];
    const p99: number[] = [];
    const cpu99: number[] = [];
    for (let r = 0; r < runs; r++) {
      const times: number[] = [];
      const cpu: number[] = [];
      for (let rep = 0; rep < 10; rep++) {
        for (const s of states) {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          engine.next(s);
          times.push(performance.now() - t0);
          const c = process.cpuUsage(c0);
          cpu.push(c.user + c.system);
        }
      }
      const q = (xs: number[], p: number) => xs.sort((x, y) => x - y)[Math.floor(xs.length * p)];
      p50.push(q(times, 0.5) * 1000);
      p99.push(q(times, 0.99) * 1000);
      cpu99.push(q(cpu, 0.99));
    }
    // On a loaded machine a call is descheduled for milliseconds with probability ≈ its duration /
    // the time slice, which the wall-clock p99 of a 30 µs call shows; the CPU-time p99 (getrusage,
    // µs) is the cost of the call itself.
    console.log(
      `next item, 5,000 items, 30 answers, ${label}: p50 ${f(median(p50), 1)} µs, p99 ${f(median(p99), 1)} µs, ` +
        `p99 of CPU time ${f(median(cpu99), 0)} µs (median of ${runs} runs of 5,000 calls; target p99 ≤ 200 µs)`,
    );
  }
}

function simulation(runs: number): void {
  const bank = platformBank(5000, 20260102);
  const times: number[] = [];
  const cpu: number[] = [];
  let last: CatSimulationSummary | undefined;
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    last = simulateCat(new CatEngine(bank, { maxItems: 30, exposure: { kind: 'randomesque', k: 5 } }), {
      nSimulees: 10_000,
      seed: 11 + r,
    }).summary;
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  console.log(
    `simulate 10,000 simulees x 30 items, 5,000-item bank, randomesque 5: ${f(median(times) / 1000, 2)} s median of ${runs} ` +
      `[cpu ${f(median(cpu) / 1000, 2)} s] ` +
      `(target 10 s; RMSE ${f(last!.rmse)}, reliability ${f(last!.reliability)})`,
  );
}

const HTTP_ITEMS = 5000;
const HTTP_TOPICS = 10;
const HTTP_ANSWERS = 20;

/** The bank (one calibration run) and `sessions` adaptive sessions of their own learners, each with 20 items served and answered. */
async function seedHttp(database: Database, sessions: number): Promise<void> {
  const db = database.db;
  await sql`INSERT INTO topic (topic_id, name) SELECT 't' || g, 'Topic ' || g FROM generate_series(0, ${HTTP_TOPICS - 1}::int) g`.execute(
    db,
  );
  await sql`INSERT INTO item (item_id, topic_id) SELECT 'i' || g, 't' || (g % ${HTTP_TOPICS}::int)
    FROM generate_series(0, ${HTTP_ITEMS - 1}::int) g`.execute(db);
  await sql`INSERT INTO mirt_fit_meta (run_id, model, status, model_spec, metrics)
    VALUES ('cal-bench', '2PL', 'succeeded', '{"quadpts": 61, "theta_lim": [-6, 6]}', '{"latent_mean": 0, "latent_variance": 1}')`.execute(
    db,
  );
  await sql`INSERT INTO mirt_item_params (item_id, version, model, params)
    SELECT 'i' || g, 'cal-bench', '2PL', jsonb_build_object('a', 0.6 + (g * 37 % 140) / 100.0,
      'b', -2.5 + (g * 53 % 500) / 100.0, 'c', 0, 'd', 0)
    FROM generate_series(0, ${HTTP_ITEMS - 1}::int) g`.execute(db);
  const settings = JSON.stringify({
    max_items: 30,
    min_items: 10,
    se_target: null,
    topics: Object.fromEntries(Array.from({ length: HTTP_TOPICS }, (_, t) => [`t${t}`, 1])),
    exposure: 'randomesque:5',
    kl_items: 0,
    exclude_days: 30,
  });
  await sql`INSERT INTO learner (user_id) SELECT 'u' || g FROM generate_series(1, ${sessions}::int) g`.execute(
    db,
  );
  await sql`INSERT INTO exam_session (session_id, user_id, status, started_at, mode, settings)
    SELECT 's' || g, 'u' || g, 'open', now() - interval '1 hour', 'adaptive', ${settings}::jsonb
    FROM generate_series(1, ${sessions}::int) g`.execute(db);
  // Distinct items per session (4729 is prime to 5000).
  await sql`INSERT INTO cat_served_item (session_id, position, item_id, topic_id, run_id, theta, se)
    SELECT 's' || u, k, 'i' || ((u * 7919 + k * 4729) % ${HTTP_ITEMS}::int),
      't' || ((u * 7919 + k * 4729) % ${HTTP_ITEMS}::int % ${HTTP_TOPICS}::int), 'cal-bench', 0, 1
    FROM generate_series(1, ${sessions}::int) u, generate_series(1, ${HTTP_ANSWERS}::int) k`.execute(db);
  await sql`INSERT INTO attempt (session_id, user_id, item_id, topic_id, correct, answered_at)
    SELECT session_id, 'u' || substr(session_id, 2), item_id, topic_id, (position * 31 + length(item_id)) % 10 < 6,
      now() - interval '1 hour' + position * interval '1 minute'
    FROM cat_served_item`.execute(db);
  await sql`ANALYZE`.execute(db);
}

async function http(args: string[], runs: number): Promise<void> {
  const server = arg(args, '--server', 'postgres://postgres@127.0.0.1:5432/test');
  const seconds = Number(arg(args, '--seconds', '10'));
  const connections = Number(arg(args, '--connections', '8'));
  const perRun = Number(arg(args, '--sessions', '12000'));
  await withScratchDatabase(server, 'cat', async (database, url) => {
    let serve: ChildProcess | undefined;
    try {
      const t0 = performance.now();
      await seedHttp(database, perRun * runs + 1);
      console.log(
        `seeded ${HTTP_ITEMS} items, ${perRun * runs + 1} adaptive sessions × ${HTTP_ANSWERS} answers in ${f((performance.now() - t0) / 1000, 1)} s`,
      );
      const port = await freePort();
      serve = await startServe(url, port);
      const token = await mintToken({
        secret: BENCH_SECRET,
        sub: 'bench',
        scope: 'exam:write analysis:run',
        ttl: '2h',
      });
      const headers = { authorization: `Bearer ${token}` };
      const base = `http://127.0.0.1:${port}/api/seedtest/sessions`;
      // Warm-up (loads the bank; the last session is kept for it).
      await load({ url: `${base}/s${perRun * runs + 1}/next-item`, headers, amount: 200 });
      const rps: number[] = [];
      const p99: number[] = [];
      const baseline: number[] = [];
      for (let r = 0; r < runs; r++) {
        // The same server's ceiling on this (shared) machine: the unauthenticated liveness route.
        const health = await load({
          url: `http://127.0.0.1:${port}/health`,
          connections,
          duration: Math.min(5, seconds),
        });
        baseline.push(health.requests.average);
        const first = r * perRun + 1;
        let n = 0;
        const res = await load({
          url: base,
          headers,
          connections,
          duration: seconds,
          requests: [
            {
              setupRequest: (req) => ({
                ...req,
                path: `/api/seedtest/sessions/s${first + (n++ % perRun)}/next-item`,
              }),
            },
          ],
        });
        const served = Number(
          (
            await sql<{
              n: string;
            }>`SELECT count(*) AS n FROM cat_served_item WHERE position > ${HTTP_ANSWERS}::int
              AND substr(session_id, 2)::int BETWEEN ${first}::int AND ${first + perRun - 1}::int`.execute(
              database.db,
            )
          ).rows[0]!.n,
        );
        rps.push(res.requests.average);
        p99.push(res.latency.p99);
        console.log(
          `next-item run ${r + 1}: ${res.requests.average.toFixed(0)} req/s, p50 ${res.latency.p50} ms, p99 ${res.latency.p99} ms, ` +
            `${res.requests.total} requests (${served} chose and recorded an item, the rest repeated one), ` +
            `non-2xx ${res.non2xx}, errors ${res.errors} (GET /health ${health.requests.average.toFixed(0)} req/s; load average ${loadavg()[0]!.toFixed(1)})`,
        );
      }
      console.log(
        `next-item median: ${median(rps).toFixed(0)} req/s, p99 ${median(p99)} ms ` +
          `(target ≥ 1500 req/s, p99 ≤ 20 ms; ${connections} connections, ${seconds} s, 5,000 items, 20 answers, 10 topics, randomesque 5); ` +
          `GET /health median ${median(baseline).toFixed(0)} req/s`,
      );
    } finally {
      if (serve) {
        serve.kill('SIGTERM');
        await once(serve, 'exit');
      }
    }
  });
}

export async function benchCat(args: string[]): Promise<void> {
  const runs = Number(arg(args, '--runs', '3'));
  const only = arg(args, '--only');
  console.log(
    `load average at start: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} (2 cores)`,
  );
  if (!only || only === 'quality') quality(runs);
  if (!only || only === 'next') nextItem(runs);
  if (!only || only === 'simulate') simulation(runs);
  if (!only || only === 'http') await http(args, runs);
}
