// The one writer of cohort and cohort_member: roster imports (`seedtest import --format cohorts`),
// the admin route (PUT /cohorts/{id}) and the demo's classes. Reads for the dashboard live in dashboard/reads.ts.
import { sql } from 'kysely';
import type { Db } from '../db/connection.js';
import type { ParsedCohorts } from '../ingestion/parse.js';
import { upsertLearners } from '../ingestion/repository.js';

/**
 * Replaces the rosters of the file's cohorts in one transaction (all or nothing): each named
 * cohort is created or renamed and ends with exactly the file's members. Learners not seen before
 * are created, as an attempts import would. Cohorts the file does not name are left alone.
 */
export async function replaceCohorts(
  db: Db,
  parsed: ParsedCohorts,
): Promise<{ cohorts: number; members: number; learners: number }> {
  return db.transaction().execute((trx) => writeRosters(trx, parsed));
}

/** replaceCohorts' writes, inside the caller's transaction. */
export async function writeRosters(
  trx: Db,
  parsed: ParsedCohorts,
): Promise<{ cohorts: number; members: number; learners: number }> {
  const learners = await upsertLearners(
    trx,
    [...new Set(parsed.members.map((m) => m.user_id))].map((user_id) => ({ user_id })),
  );
  const ids = parsed.cohorts.map((c) => c.cohort_id);
  await sql`
    INSERT INTO cohort (cohort_id, name)
    SELECT * FROM unnest(${ids}::text[], ${parsed.cohorts.map((c) => c.name)}::text[])
    ON CONFLICT (cohort_id) DO UPDATE SET name = excluded.name`.execute(trx);
  await trx.deleteFrom('cohort_member').where('cohort_id', 'in', ids).execute();
  await sql`
    INSERT INTO cohort_member (cohort_id, user_id)
    SELECT * FROM unnest(${parsed.members.map((m) => m.cohort_id)}::text[],
      ${parsed.members.map((m) => m.user_id)}::text[])`.execute(trx);
  return { cohorts: ids.length, members: parsed.members.length, learners };
}

/**
 * The demo's classes: every learner in user-id order, `size` to a cohort `c-001`, `c-002`, … named
 * "Class 1", "Class 2", …; returns the number of cohorts.
 */
export async function groupLearnersIntoCohorts(db: Db, size: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    await sql`
      WITH numbered AS (
        SELECT user_id, (row_number() OVER (ORDER BY user_id) - 1) / ${size} + 1 AS k FROM learner
      ), cohorts AS (
        INSERT INTO cohort (cohort_id, name)
        SELECT DISTINCT 'c-' || lpad(k::text, 3, '0'), 'Class ' || k FROM numbered
        ON CONFLICT (cohort_id) DO NOTHING
      )
      INSERT INTO cohort_member (cohort_id, user_id)
      SELECT 'c-' || lpad(k::text, 3, '0'), user_id FROM numbered
      ON CONFLICT DO NOTHING`.execute(trx);
    const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM cohort`.execute(trx);
    return r.rows[0]?.n ?? 0;
  });
}

/** Creates the cohort or renames it, leaving its members as they are; whether it was created. */
export async function upsertCohort(db: Db, cohortId: string, name: string): Promise<{ created: boolean }> {
  const r = await sql<{ created: boolean }>`
    INSERT INTO cohort (cohort_id, name) VALUES (${cohortId}, ${name})
    ON CONFLICT (cohort_id) DO UPDATE SET name = excluded.name
    RETURNING (xmax = 0) AS created`.execute(db);
  return { created: r.rows[0]!.created };
}

/** Whether the learner belongs to one of the cohorts (a teacher's access to a learner's page). */
export async function inAnyCohort(db: Db, userId: string, cohortIds: readonly string[]): Promise<boolean> {
  if (cohortIds.length === 0) return false;
  const row = await db
    .selectFrom('cohort_member')
    .select('cohort_id')
    .where('user_id', '=', userId)
    .where('cohort_id', 'in', [...cohortIds])
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function memberCount(db: Db, cohortId: string): Promise<number> {
  const n = await db
    .selectFrom('cohort_member')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('cohort_id', '=', cohortId)
    .executeTakeFirstOrThrow();
  return Number(n.n);
}
