// What the benchmarks share: flag parsing, the median, and a scratch PostgreSQL database that is
// created, migrated and dropped around a measurement.
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
