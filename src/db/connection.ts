// Opens the system of record: an embedded PGlite in DATA_DIR/db when no DATABASE_URL is set,
// otherwise a node-postgres pool. Both are exposed through one Kysely instance and configured to
// return the same JavaScript types (date → 'YYYY-MM-DD', timestamptz → Date, int8/numeric → string).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { type Driver, Kysely, PostgresDialect, type PostgresDialectConfig, PostgresDriver } from 'kysely';
import pg from 'pg';
import { failLeftOverRuns } from '../jobs/runs.js';
import { UserError } from '../user-error.js';
import { Lease, PGliteDialect } from './pglite-dialect.js';
import type { Schema } from './schema.js';

const DATE_OID = 1082;
const INT8_OID = 20;
const NUMERIC_OID = 1700;

export type Db = Kysely<Schema>;

export interface Database {
  readonly kind: 'embedded' | 'server';
  readonly db: Db;
  /** Runs a multi-statement SQL script in one transaction (migrations): all of it or nothing. */
  exec(script: string): Promise<void>;
  /**
   * Runs one parameterised statement outside Kysely (the queue library's adapter). A `name` makes it
   * a prepared statement on a server connection (planned once per connection: hot paths).
   */
  query<R = Record<string, unknown>>(text: string, params?: unknown[], name?: string): Promise<{ rows: R[] }>;
  /**
   * Runs SQL text as sent: one or several statements, no parameters, no wrapping transaction (the
   * text may carry its own BEGIN/COMMIT; one it leaves open by failing is rolled back). Returns the
   * rows of every statement, in order (pg-boss 12 finds its lock and cursor rows among them). For the
   * queue library's schema and maintenance scripts.
   */
  run<R = Record<string, unknown>>(text: string): Promise<{ rows: R[] }>;
  close(): Promise<void>;
}

export class DataDirLockedError extends UserError {
  override name = 'DataDirLockedError';
}

export interface LockInfo {
  pid: number;
  command: string;
  port?: number;
  startedAt: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Who holds the embedded data directory, if a live process does. */
export function readDataDirLock(dataDir: string): LockInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(join(dataDir, 'db.lock'), 'utf8')) as LockInfo;
    return info.pid !== process.pid && isAlive(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the pid lock on DATA_DIR/db: two processes opening one PGlite data directory corrupt it.
 * A stale lock (its process is gone) is taken over.
 */
function lockDataDir(dataDir: string, command: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'db.lock');
  const holder = readDataDirLock(dataDir);
  if (holder) {
    throw new DataDirLockedError(
      `the embedded database in ${dataDir}/db is in use by process ${holder.pid} (\`seedtest ${holder.command}\`, ` +
        `started ${holder.startedAt}). Run jobs through its API (POST /api/seedtest/jobs/{name}/run), ` +
        `stop it first, or set DATABASE_URL to use a PostgreSQL server that several processes can share.`,
    );
  }
  const info: LockInfo = { pid: process.pid, command, startedAt: new Date().toISOString() };
  writeFileSync(path, JSON.stringify(info));
  return () => {
    try {
      const current = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
      if (current.pid === process.pid) rmSync(path, { force: true });
    } catch {
      // already gone
    }
  };
}

/** Records the HTTP port of the process that holds the lock, so other commands can find it. */
export function announcePort(dataDir: string, port: number): void {
  const path = join(dataDir, 'db.lock');
  const info = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
  if (info.pid === process.pid) writeFileSync(path, JSON.stringify({ ...info, port }));
}

const identity = (v: string) => v;

/** The Kysely instances on the embedded database: one session shared by every "connection". */
const embeddedDbs = new WeakSet<Db>();

/** True on the embedded database, where every query runs in one session (advisory locks are re-entrant). */
export function isEmbedded(db: Db): boolean {
  return embeddedDbs.has(db);
}

/** Wraps an open PGlite instance (a data directory, or a snapshot in tests). */
export function fromPGlite(instance: PGlite, onClose: () => void = () => {}): Database {
  const lease = new Lease();
  const db = new Kysely<Schema>({ dialect: new PGliteDialect(instance, lease) });
  embeddedDbs.add(db);
  return {
    kind: 'embedded',
    db,
    exec: (script) => lease.run(async () => void (await instance.transaction((tx) => tx.exec(script)))),
    query: <R>(text: string, params?: unknown[]) =>
      lease.run(async () => ({ rows: (await instance.query<R>(text, params)).rows })),
    run: <R>(text: string) =>
      lease.run(async () => {
        try {
          const results = await instance.exec(text);
          return { rows: results.flatMap((r) => r.rows) as R[] };
        } catch (err) {
          await instance.exec('ROLLBACK').catch(() => {});
          throw err;
        }
      }),
    async close() {
      await db.destroy();
      // Kysely closes the driver only if a query went through it; an instance used only through
      // query/exec/run would stay open, and its timer would keep the process from exiting.
      if (!instance.closed) await lease.run(() => instance.close());
      onClose();
    },
  };
}

export const pgliteParsers = { [DATE_OID]: identity, [INT8_OID]: identity, [NUMERIC_OID]: identity };

/**
 * PostgreSQL's buffer cache inside the embedded instance. PGlite's default (128 MB) is WebAssembly
 * memory the process holds from the first query on; the data files are in the OS page cache anyway,
 * so a small cache costs little and keeps an idle `seedtest serve` small.
 */
const EMBEDDED_SHARED_BUFFERS = '16MB';

/** Whether DATA_DIR holds an embedded database already (PostgreSQL writes PG_VERSION when initdb ends). */
export function embeddedDatabaseExists(dataDir: string): boolean {
  return existsSync(join(dataDir, 'db', 'PG_VERSION'));
}

export async function openEmbedded(dataDir: string, command: string): Promise<Database> {
  const unlock = lockDataDir(dataDir, command);
  try {
    const instance = await PGlite.create(join(dataDir, 'db'), {
      parsers: pgliteParsers,
      postgresqlconf: [`shared_buffers = ${EMBEDDED_SHARED_BUFFERS}`],
    });
    await failLeftOverRuns(instance);
    return fromPGlite(instance, unlock);
  } catch (err) {
    unlock();
    throw err;
  }
}

/**
 * A transaction whose connection was lost (a terminated backend, a failover) cannot be rolled back
 * (the server already has); Kysely's failing ROLLBACK would replace the error that ended the
 * transaction (57P01, 08006: a 503 for the API) with the pool client's "not queryable".
 */
class ServerDriver extends PostgresDriver {
  override async rollbackTransaction(connection: Parameters<PostgresDriver['rollbackTransaction']>[0]) {
    await super.rollbackTransaction(connection).catch(() => {});
  }
}

class ServerDialect extends PostgresDialect {
  constructor(private readonly config: PostgresDialectConfig) {
    super(config);
  }
  override createDriver(): Driver {
    return new ServerDriver(this.config);
  }
}

export function openServer(url: string, poolSize = 10): Database {
  const types = {
    getTypeParser: ((oid: number, format?: string) =>
      oid === DATE_OID
        ? identity
        : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
  };
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types });
  // A connection error (a terminated backend, a failover) must not crash the process. The pool
  // listens on idle clients only; a checked-out client's query in flight already fails with the
  // error, and the pool discards the broken client when it is released.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Schema>({ dialect: new ServerDialect({ pool }) });
  return {
    kind: 'server',
    db,
    async exec(script) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(script);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async query<R>(text: string, params?: unknown[], name?: string) {
      const res = await pool.query(name ? { name, text, values: params } : { text, values: params });
      return { rows: res.rows as R[] };
    },
    async run<R>(text: string) {
      const client = await pool.connect();
      try {
        // Several statements answer with one result each.
        const res: pg.QueryResult | pg.QueryResult[] = await client.query(text);
        const results = Array.isArray(res) ? res : [res];
        return { rows: results.flatMap((r) => r.rows ?? []) as R[] };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async close() {
      await db.destroy();
    },
  };
}

export async function openDatabase(
  config: { databaseUrl?: string; dataDir: string },
  command: string,
): Promise<Database> {
  return config.databaseUrl ? openServer(config.databaseUrl) : openEmbedded(config.dataDir, command);
}
