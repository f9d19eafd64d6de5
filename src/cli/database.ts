// Opening the database for one command: the embedded instance migrates itself, a server must be
// current; the database is closed however the command ends.
import type { Config } from '../config.js';
import { type Database, openDatabase } from '../db/connection.js';
import { ensureSchema } from '../db/migrator.js';

export async function withDatabase<T>(
  config: Config,
  command: string,
  fn: (database: Database) => Promise<T>,
): Promise<T> {
  const database = await openDatabase(config, command);
  try {
    await ensureSchema(database);
    return await fn(database);
  } finally {
    await database.close();
  }
}
