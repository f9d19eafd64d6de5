// `npm run bench -- ingest [--attempts N] [--server URL]`: loads synthetic attempts through the
// set-based ingestion path into a fresh embedded database, and into PostgreSQL when a server is
// given (a scratch database is created and dropped). Prints attempts per second.
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type Database, openEmbedded, openServer } from '../src/db/connection.js';
import { migrate } from '../src/db/migrator.js';
import { loadPlatform } from '../src/demo/load.js';
import { streamPlatform } from '../src/synthetic/platform.js';

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function measure(label: string, database: Database, learners: number) {
  await migrate(database);
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
    await measure('embedded (PGlite)', embedded, learners);
  } finally {
    await embedded.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const server = arg(args, '--server');
  if (!server) return;
  const name = `seedtest_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  const database = openServer(url.toString(), 4);
  try {
    await measure(
      'PostgreSQL',
      database,
      Math.round(Number(arg(args, '--server-attempts') ?? 1_000_000) / 370),
    );
  } finally {
    await database.close();
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  }
}
