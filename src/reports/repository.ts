// The report_artifacts table's one module: the rows of a learner's stored report objects (written by
// the report job after the objects are stored) and the reads of the report routes.
import { sql } from 'kysely';
import type { Db } from '../db/connection.js';
import type { ReportFormat } from './storage.js';
import type { Edition } from './view-model.js';

/** One stored object of a learner's weekly report. */
export interface StoredReport {
  edition: string;
  format: ReportFormat;
  key: string;
  bytes: number;
  sha256: string;
}

/**
 * Upserts the rows of a learner's week, in one transaction, each with its download URL (which names
 * the row's id, known only once the row exists); returns the number of rows.
 */
export async function recordReports(
  db: Db,
  report: { userId: string; weekStart: string; generatedAt: Date },
  stored: readonly StoredReport[],
  urlOf: (id: string) => string,
): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const rows = await sql<{ id: string }>`
      INSERT INTO report_artifacts (user_id, week_start, edition, format, url, storage_key, bytes, sha256, generated_at)
      SELECT ${report.userId}, ${report.weekStart}::date, e, f, '', k, b, h, ${report.generatedAt}
      FROM unnest(${stored.map((s) => s.edition)}::text[], ${stored.map((s) => s.format)}::text[],
                  ${stored.map((s) => s.key)}::text[], ${stored.map((s) => s.bytes)}::int[],
                  ${stored.map((s) => s.sha256)}::text[]) AS x(e, f, k, b, h)
      ON CONFLICT (user_id, week_start, edition, format) DO UPDATE SET storage_key = excluded.storage_key,
        bytes = excluded.bytes, sha256 = excluded.sha256, generated_at = excluded.generated_at
      RETURNING id`.execute(trx);
    for (const { id } of rows.rows) {
      await trx
        .updateTable('report_artifacts')
        .set({ url: urlOf(id) })
        .where('id', '=', id)
        .execute();
    }
    return rows.rows.length;
  });
}

/** A learner's stored reports, newest week first; optionally one week or one edition. */
export function learnerReports(
  db: Db,
  userId: string,
  opts: { weekStart?: string; edition?: Edition; limit: number },
) {
  let q = db
    .selectFrom('report_artifacts')
    .select(['id', 'user_id', 'week_start', 'edition', 'format', 'bytes', 'sha256', 'generated_at'])
    .where('user_id', '=', userId)
    .orderBy('week_start', 'desc')
    .orderBy('edition')
    .orderBy('format');
  if (opts.weekStart) q = q.where('week_start', '=', opts.weekStart);
  if (opts.edition) q = q.where('edition', '=', opts.edition);
  return q.limit(opts.limit).execute();
}

export function findReport(db: Db, id: string) {
  return db
    .selectFrom('report_artifacts')
    .select(['user_id', 'week_start', 'edition', 'format', 'storage_key'])
    .where('id', '=', id)
    .executeTakeFirst();
}
