// `npm run bench -- api [--server URL] [--seconds S] [--reps N] [--connections C] [--rate R]`:
// the two load targets of the online θ update against `seedtest serve` (a child process) on a
// scratch PostgreSQL database (created and dropped here), with autocannon on 127.0.0.1:
//  1. POST /analysis/irt/update-theta for learners with 100 responses in the window: req/s, p99;
//  2. session completions at R/s (default 200): every update written, completion-to-write latency
//     from the database (exam_session.completed_at → the learner's next online mirt_ability row).
// Prints each repetition and the medians.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { sql } from 'kysely';
import { mintToken } from '../src/api/tokens.js';
import type { Database } from '../src/db/connection.js';
import {
  arg,
  freePort,
  median,
  load as run,
  BENCH_SECRET as SECRET,
  startServe,
  withScratchDatabase,
} from './support.js';

const ITEMS = 2000;
const RESPONSES = 100;

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};

/** Items with parameters of one calibration run, and `learners` learners with 100 responses each in the last day. */
async function seed(database: Database, learners: number): Promise<void> {
  const db = database.db;
  await sql`INSERT INTO topic (topic_id, name) VALUES ('t1', 'Topic')`.execute(db);
  await sql`INSERT INTO item (item_id, topic_id) SELECT 'i' || g, 't1' FROM generate_series(0, ${ITEMS - 1}::int) g`.execute(
    db,
  );
  await sql`INSERT INTO mirt_fit_meta (run_id, model, status, model_spec, metrics)
    VALUES ('cal-bench', '2PL', 'succeeded', '{"quadpts": 61, "theta_lim": [-6, 6]}', '{"latent_mean": 0, "latent_variance": 1}')`.execute(
    db,
  );
  // Deterministic parameters: a in [0.6, 2.0), b in [-2.5, 2.5).
  await sql`INSERT INTO mirt_item_params (item_id, version, model, params)
    SELECT 'i' || g, 'cal-bench', '2PL', jsonb_build_object('a', 0.6 + (g * 37 % 140) / 100.0,
      'b', -2.5 + (g * 53 % 500) / 100.0, 'c', 0, 'd', 0)
    FROM generate_series(0, ${ITEMS - 1}::int) g`.execute(db);
  await sql`INSERT INTO learner (user_id) SELECT 'u' || g FROM generate_series(1, ${learners}::int) g`.execute(
    db,
  );
  await sql`INSERT INTO exam_session (session_id, user_id, status, started_at, completed_at)
    SELECT 's' || g, 'u' || g, 'completed', now() - interval '1 day', now() - interval '1 hour'
    FROM generate_series(1, ${learners}::int) g`.execute(db);
  await sql`INSERT INTO attempt (session_id, user_id, item_id, topic_id, correct, answered_at)
    SELECT 's' || u, 'u' || u, 'i' || ((u * 7919 + k * 104729) % ${ITEMS}::int), 't1', (u * 31 + k * 17) % 10 < 6,
      now() - interval '1 day' + k * interval '1 minute'
    FROM generate_series(1, ${learners}::int) u, generate_series(1, ${RESPONSES}::int) k`.execute(db);
  await sql`ANALYZE`.execute(db);
}

export async function benchApi(args: string[]): Promise<void> {
  const server = arg(args, '--server', 'postgres://postgres@127.0.0.1:5432/test');
  const seconds = Number(arg(args, '--seconds', '30'));
  const reps = Number(arg(args, '--reps', '3'));
  const connections = Number(arg(args, '--connections', '8'));
  const rate = Number(arg(args, '--rate', '200'));
  const completions = Math.ceil(rate * seconds);
  const learners = completions * reps;
  await withScratchDatabase(server, 'api', async (database, url) => {
    let serve: ChildProcess | undefined;
    try {
      const t0 = performance.now();
      await seed(database, learners);
      console.log(
        `seeded ${learners} learners × ${RESPONSES} responses on ${ITEMS} items in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      const port = await freePort();
      serve = await startServe(url, port);
      const token = await mintToken({
        secret: SECRET,
        sub: 'bench',
        scope: 'exam:write analysis:run',
        ttl: '2h',
      });
      const auth = { authorization: `Bearer ${token}` };
      const headers = { ...auth, 'content-type': 'application/json' };
      const base = `http://127.0.0.1:${port}/api/seedtest`;

      // Warm-up: the item bank is loaded on the first update.
      await run({
        url: `${base}/analysis/irt/update-theta`,
        method: 'POST',
        headers,
        body: '{"user_id":"u1"}',
        amount: 200,
      });

      const throughput: number[] = [];
      const p99s: number[] = [];
      const baseline: number[] = [];
      for (let r = 0; r < reps; r++) {
        // The same server's ceiling on this (shared, noisy) machine: an unauthenticated liveness route.
        const health = await run({
          url: `http://127.0.0.1:${port}/health`,
          connections,
          duration: Math.min(5, seconds),
        });
        baseline.push(health.requests.average);
        let n = 0;
        const res = await run({
          url: `${base}/analysis/irt/update-theta`,
          method: 'POST',
          headers,
          connections,
          duration: seconds,
          requests: [
            {
              setupRequest: (req) => ({
                ...req,
                body: JSON.stringify({ user_id: `u${(n++ % learners) + 1}` }),
              }),
            },
          ],
        });
        throughput.push(res.requests.average);
        p99s.push(res.latency.p99);
        console.log(
          `update-theta rep ${r + 1}: ${res.requests.average.toFixed(0)} req/s, p50 ${res.latency.p50} ms, p99 ${res.latency.p99} ms, ` +
            `errors ${res.errors}, non-2xx ${res.non2xx}, timeouts ${res.timeouts} (GET /health: ${health.requests.average.toFixed(0)} req/s; ` +
            `load average ${loadavg()[0]!.toFixed(1)})`,
        );
      }
      console.log(
        `update-theta median: ${median(throughput).toFixed(0)} req/s, p99 ${median(p99s)} ms ` +
          `(target ≥ 1000 req/s, p99 ≤ 25 ms; ${connections} connections, ${seconds} s); GET /health median ${median(baseline).toFixed(0)} req/s`,
      );

      const p99Latency: number[] = [];
      for (let r = 0; r < reps; r++) {
        const first = r * completions + 1;
        await sql`INSERT INTO exam_session (session_id, user_id, status, started_at)
        SELECT 'c' || g, 'u' || g, 'open', now() FROM generate_series(${first}::int, ${first + completions - 1}::int) g`.execute(
          database.db,
        );
        let n = 0;
        const res = await run({
          url: base,
          method: 'POST',
          headers: auth,
          // autocannon paces each connection at overallRate / connections per second (rounded down).
          connections: 20,
          overallRate: rate,
          amount: completions,
          requests: [
            { setupRequest: (req) => ({ ...req, path: `/api/seedtest/sessions/c${first + n++}/complete` }) },
          ],
        });
        // Every completed session's learner must get an online row written after the completion.
        const pending = async () =>
          Number(
            (
              await sql<{ n: string }>`SELECT count(*) AS n FROM exam_session s
              WHERE s.session_id LIKE 'c%' AND s.status = 'completed'
                AND substr(s.session_id, 2)::int BETWEEN ${first}::int AND ${first + completions - 1}::int
                AND NOT EXISTS (SELECT 1 FROM mirt_ability a WHERE a.user_id = s.user_id
                  AND a.source = 'online' AND a.fitted_at >= s.completed_at)`.execute(database.db)
            ).rows[0]!.n,
          );
        for (let w = 0; w < 100 && (await pending()) > 0; w++) await new Promise((x) => setTimeout(x, 200));
        const lat = await sql<{ ms: number }>`SELECT extract(epoch FROM (
          SELECT min(a.fitted_at) FROM mirt_ability a
          WHERE a.user_id = s.user_id AND a.source = 'online' AND a.fitted_at >= s.completed_at) - s.completed_at) * 1000 AS ms
        FROM exam_session s
        WHERE s.session_id LIKE 'c%' AND s.status = 'completed'
          AND substr(s.session_id, 2)::int BETWEEN ${first}::int AND ${first + completions - 1}::int`.execute(
          database.db,
        );
        const ms = lat.rows.map((x) => (x.ms === null ? Number.NaN : Number(x.ms))).filter(Number.isFinite);
        const completed = lat.rows.length;
        if (ms.length === 0)
          throw new Error(`no θ update was written for the ${completed} completions of rep ${r + 1}`);
        p99Latency.push(quantile(ms, 0.99));
        console.log(
          `completions rep ${r + 1}: ${res.requests.total} sent at ${res.requests.average.toFixed(0)}/s (p99 ${res.latency.p99} ms, ` +
            `non-2xx ${res.non2xx}, errors ${res.errors}); ${completed} completed, ${ms.length} updates written; ` +
            `completion→write p50 ${quantile(ms, 0.5).toFixed(0)} ms, p99 ${quantile(ms, 0.99).toFixed(0)} ms, max ${Math.max(...ms).toFixed(0)} ms`,
        );
      }
      console.log(
        `completions median p99 completion→write: ${median(p99Latency).toFixed(0)} ms (target ≤ 1000 ms at ${rate}/s)`,
      );
    } finally {
      if (serve) {
        serve.kill('SIGTERM');
        await once(serve, 'exit');
      }
    }
  });
}
