// Numbered, forward-only SQL migrations (migrations/NNNN_name.sql), each applied in one transaction
// and recorded in schema_migrations. The embedded database migrates itself on open; a server's
// schema is migrated only by `seedtest migrate`, and other commands refuse to run when it is behind.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../user-error.js';
import type { Database } from './connection.js';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');
const LOCK_KEY = 'seedtest:migrate';

export interface Migration {
  version: string;
  name: string;
  sql: string;
}

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: f.slice(0, 4), name: f.slice(5, -4), sql: readFileSync(join(dir, f), 'utf8') }));
}

export class SchemaBehindError extends UserError {
  override name = 'SchemaBehindError';
}

async function appliedVersions(database: Database): Promise<Set<string>> {
  await database.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version text PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  const { rows } = await database.query<{ version: string }>('SELECT version FROM schema_migrations');
  return new Set(rows.map((r) => r.version));
}

export async function pendingMigrations(database: Database): Promise<Migration[]> {
  const applied = await appliedVersions(database);
  return listMigrations().filter((m) => !applied.has(m.version));
}

/** Applies pending migrations in order; returns the versions applied. Safe to run concurrently. */
export async function migrate(database: Database): Promise<string[]> {
  const applied: string[] = [];
  for (const m of await pendingMigrations(database)) {
    // The advisory lock serialises concurrent migrators; the re-check inside makes the loser a no-op.
    const script =
      `SELECT pg_advisory_xact_lock(hashtext('${LOCK_KEY}'));\n` +
      `DO $$ BEGIN IF EXISTS (SELECT 1 FROM schema_migrations WHERE version = '${m.version}') THEN ` +
      `RAISE EXCEPTION 'seedtest: migration ${m.version} already applied' USING ERRCODE = 'SQ001'; END IF; END $$;\n` +
      `${m.sql}\nINSERT INTO schema_migrations (version, name) VALUES ('${m.version}', '${m.name}');`;
    try {
      await database.exec(script);
      applied.push(`${m.version}_${m.name}`);
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQ001') {
        throw new Error(`migration ${m.version}_${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
    }
  }
  return applied;
}

/** Embedded: migrate. Server: refuse when the schema is behind. */
export async function ensureSchema(database: Database): Promise<void> {
  if (database.kind === 'embedded') {
    await migrate(database);
    return;
  }
  const pending = await pendingMigrations(database);
  if (pending.length > 0) {
    throw new SchemaBehindError(
      `the database schema is behind: ${pending.length} pending migration(s) ` +
        `(${pending.map((m) => `${m.version}_${m.name}`).join(', ')}). Run \`seedtest migrate\` first.`,
    );
  }
}
