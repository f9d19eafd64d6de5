// A fingerprint of every table of the public schema (md5 of its rows in a fixed order), read in
// one query: two equal fingerprints mean no row was added, removed or changed in between.
import type { Database } from '../../src/db/connection.js';

const statements = new WeakMap<Database, Promise<string>>();

async function checksumSql(database: Database): Promise<string> {
  const { rows } = await database.query<{ t: string }>(
    `SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`,
  );
  return rows
    .map(
      ({ t }) =>
        `SELECT '${t}' AS t, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM public."${t}" x`,
    )
    .join(' UNION ALL ');
}

/** `{table: md5}` of every public table, as one JSON string to compare. */
export async function tableChecksums(database: Database): Promise<string> {
  let sql = statements.get(database);
  if (!sql) {
    sql = checksumSql(database);
    statements.set(database, sql);
  }
  const { rows } = await database.query<{ t: string; h: string }>(await sql);
  return JSON.stringify(Object.fromEntries(rows.map((r) => [r.t, r.h])));
}

/**
 * The next transaction id: unchanged between two reads means no transaction wrote in between (a
 * write needs an id), so the checksums need no reading. A changed mark proves nothing either way
 * (a rolled-back write, another database on the server): compare the checksums then.
 */
export async function writeMark(database: Database): Promise<string> {
  const { rows } = await database.query<{ x: string }>(
    'SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS x',
  );
  return rows[0]!.x;
}
