// What the benchmarks share: flag parsing, the median, a scratch PostgreSQL database that is
// created, migrated and dropped around a measurement, bulk loads into it, and `seedtest serve` under
// autocannon.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { type Database, openServer } from '../src/db/connection.js';
import { migrate } from '../src/db/migrator.js';

/** The value after `--name` in the arguments, else the fallback. */
export function arg(args: string[], name: string): string | undefined;
export function arg(args: string[], name: string, fallback: string): string;
export function arg(args: string[], name: string, fallback?: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
}

/** The median (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs `fn` on a new, migrated database on the server at `serverUrl`; drops it afterwards. */
export async function withScratchDatabase<T>(
  serverUrl: string,
  label: string,
  fn: (database: Database, url: string) => Promise<T>,
): Promise<T> {
  const name = `seedtest_bench_${label}_${process.pid}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const database = openServer(url.toString(), 4);
  try {
    await migrate(database);
    return await fn(database, url.toString());
  } finally {
    await database.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/**
 * Loads `tables` without their secondary indexes and constraints, then rebuilds them as the
 * migrations made them (foreign keys NOT VALID: the generated rows satisfy them by construction) and
 * analyzes the database. A bulk build is many times faster than maintaining each structure row by row.
 */
export async function bulkLoad(
  database: Database,
  tables: readonly string[],
  load: () => Promise<unknown>,
): Promise<void> {
  const ddl = await database.query<{ drop: string; create: string }>(
    `SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS drop,
       format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
         || CASE WHEN contype = 'f' THEN ' NOT VALID' ELSE '' END AS create
     FROM pg_constraint WHERE conrelid = ANY($1::regclass[]) AND contype IN ('f', 'u')
     UNION ALL
     SELECT format('DROP INDEX %I', indexname), indexdef FROM pg_indexes i
     WHERE tablename = ANY($2::text[]) AND schemaname = 'public'
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = quote_ident(i.indexname)::regclass)`,
    [tables, tables],
  );
  for (const { drop } of ddl.rows) await database.query(drop);
  await load();
  for (const { create } of ddl.rows) await database.query(create);
  await database.query('ANALYZE');
}

/** The JWT secret of the servers the benchmarks start (tokens are minted with it). */
export const BENCH_SECRET = 'bench-secret-that-is-at-least-32-characters';
const ROOT = fileURLToPath(new URL('../', import.meta.url));

export async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as { port: number };
  srv.close();
  return port;
}

/** `seedtest serve` on the database at `url`, as a child process, once it answers /ready. */
export async function startServe(url: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: url,
      PORT: String(port),
      HOST: '127.0.0.1',
      JWT_SECRET: BENCH_SECRET,
      LOG_LEVEL: 'warn',
      ENABLE_IRT_ONLINE_UPDATE: 'true',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/ready`)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('seedtest serve did not become ready within 30 s');
}

/** One autocannon run. */
export function load(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}
