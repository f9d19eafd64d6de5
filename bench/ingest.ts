// `npm run bench -- ingest [--attempts N] [--server URL] [--server-attempts N] [--http-seconds S]`:
// loads synthetic attempts through the set-based ingestion path into a fresh embedded database,
// and into PostgreSQL when a server is given (a scratch database is created and dropped); then, on
// that PostgreSQL database, drives `POST /sessions/{id}/attempts` (batches of 50) over HTTP with
// autocannon. Prints attempts per second and request latencies.
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import { buildServer } from '../src/api/server.js';
import { mintToken } from '../src/api/tokens.js';
import { loadConfig } from '../src/config.js';
import { type Database, openEmbedded } from '../src/db/connection.js';
import { migrate } from '../src/db/migrator.js';
import { loadPlatform } from '../src/demo/load.js';
import { createLogger } from '../src/observability/logger.js';
import { createMetrics } from '../src/observability/metrics.js';
import { streamPlatform } from '../src/synthetic/platform.js';
import { arg, withScratchDatabase } from './support.js';

const BATCH = 50;
const HTTP_LEARNERS = 200;
const SECRET = 'bench-secret-that-is-at-least-32-characters';

/** POST /sessions/{id}/attempts in batches of 50 against a loaded database, one open session per learner. */
async function measureHttp(url: string, database: Database, seconds: number): Promise<void> {
  const config = loadConfig({
    DATABASE_URL: url,
    JWT_SECRET: SECRET,
    LOG_LEVEL: 'silent',
    ENABLE_IRT_ONLINE_UPDATE: 'false',
  });
  const app = buildServer({
    config,
    database,
    logger: createLogger('silent', false),
    metrics: createMetrics(),
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const learners = await database.db
    .selectFrom('learner')
    .select('user_id')
    .orderBy('user_id')
    .limit(HTTP_LEARNERS)
    .execute();
  const items = (await database.db.selectFrom('item').select('item_id').execute()).map((r) => r.item_id);
  await sql`INSERT INTO exam_session (session_id, user_id, status, started_at)
    SELECT 'bench-' || user_id, user_id, 'open', now() FROM unnest(${learners.map((l) => l.user_id)}::text[]) AS u(user_id)`.execute(
    database.db,
  );
  const tokens = await Promise.all(
    learners.map((l) => mintToken({ secret: SECRET, sub: l.user_id, scope: 'exam:write', ttl: '1h' })),
  );
  let n = 0;
  const result = await autocannon({
    url: address,
    connections: 16,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const k = n++;
          const learner = k % learners.length;
          const attempts = Array.from({ length: BATCH }, (_, j) => ({
            client_attempt_id: `b${k}-${j}`,
            item_id: items[(k * BATCH + j) % items.length],
            correct: (k + j) % 3 !== 0,
            response_time_ms: 20_000 + ((k * 7919 + j) % 40_000),
          }));
          return {
            ...req,
            path: `/api/seedtest/sessions/bench-${learners[learner]!.user_id}/attempts`,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[learner]}` },
            body: JSON.stringify({ attempts }),
          };
        },
      },
    ],
  });
  await app.close();
  const stored = await database.db
    .selectFrom('attempt')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('session_id', 'like', 'bench-%')
    .executeTakeFirstOrThrow();
  const non2xx = result.non2xx + result.errors;
  console.log(
    `POST /sessions/{id}/attempts, batches of ${BATCH}, 16 connections, ${seconds} s: ` +
      `${Math.round(result.requests.average * BATCH)} attempts/s (median ${Math.round(result.requests.p50 * BATCH)}), ` +
      `latency p50 ${result.latency.p50} ms p99 ${result.latency.p99} ms, ${non2xx} errors, ${stored.n} attempts stored`,
  );
}

async function measure(label: string, database: Database, learners: number) {
  const platform = streamPlatform({
    seed: 1,
    learners,
    weeks: 8,
    items: 1000,
    start: new Date('2026-09-07T00:00:00Z'),
  });
  const t0 = performance.now();
  const s = await loadPlatform(database.db, platform);
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `${label}: ${s.attempts} attempts, ${s.sessions} sessions, ${s.learners} learners in ${seconds.toFixed(1)} s ` +
      `(${Math.round(s.attempts / seconds)} attempts/s, generation included)`,
  );
}

export async function benchIngest(args: string[]): Promise<void> {
  // The generator makes about 370 attempts per learner over 8 weeks.
  const attempts = Number(arg(args, '--attempts') ?? 100_000);
  const learners = Math.max(1, Math.round(attempts / 370));
  const dir = await mkdtemp(join(tmpdir(), 'seedtest-bench-'));
  const embedded = await openEmbedded(dir, 'bench');
  try {
    await migrate(embedded);
    await measure('embedded (PGlite)', embedded, learners);
  } finally {
    await embedded.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const server = arg(args, '--server');
  if (!server) return;
  await withScratchDatabase(server, 'ingest', async (database, url) => {
    await measure(
      'PostgreSQL',
      database,
      Math.round(Number(arg(args, '--server-attempts') ?? 1_000_000) / 370),
    );
    await measureHttp(url, database, Number(arg(args, '--http-seconds') ?? 20));
  });
}
