// Opening the database for one command: the embedded instance migrates itself, a server must be
// current; the database is closed however the command ends.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Config } from '../config.js';
import { type Database, embeddedDatabaseExists, openDatabase } from '../db/connection.js';
import { ensureSchema } from '../db/migrator.js';
import type { Logger } from '../observability/logger.js';
import { UserError } from '../user-error.js';

export async function withDatabase<T>(
  config: Config,
  command: string,
  fn: (database: Database) => Promise<T>,
): Promise<T> {
  const database = await openCurrent(config, command);
  try {
    return await fn(database);
  } finally {
    await database.close();
  }
}

/** The database, migrated (embedded) or checked current (server); closed again if that fails. */
async function openCurrent(config: Config, command: string): Promise<Database> {
  const database = await openDatabase(config, command);
  try {
    await ensureSchema(database);
    return database;
  } catch (err) {
    await database.close();
    throw err;
  }
}

/**
 * Opens a current database for a process that stays up (serve, worker). A data directory without
 * an embedded database gets one from a `seedtest migrate` child process first: PGlite's
 * WebAssembly memory grows for initdb and the migrations and never shrinks, so a server that
 * created its database itself would hold ~150 MB more for its whole life (docs/decisions.md →
 * "Idle memory").
 */
export async function openForServing(config: Config, command: string, logger: Logger): Promise<Database> {
  if (!config.databaseUrl && !embeddedDatabaseExists(config.dataDir)) {
    logger.info(
      { dataDir: config.dataDir },
      'creating the embedded database (seedtest migrate, a process of its own)',
    );
    await migrateInChildProcess();
  }
  return openCurrent(config, command);
}

/** Runs `seedtest migrate` as this program runs (built or from sources), with this environment. */
async function migrateInChildProcess(): Promise<void> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, 'migrate'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0)
    throw new UserError(`creating the embedded database failed: seedtest migrate exited with ${code}`);
}
