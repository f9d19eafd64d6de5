// The weekly_kpi table's one module (the KPI job's rows, and the inactivity job's P and S merged into
// them), and the reads of it and of the learners a KPI run covers.
import { sql } from 'kysely';
import type { Db } from '../db/connection.js';
import { inShard, type Shard } from '../jobs/shard.js';
import { KPI_KEYS, type Kpis, window } from './kpis.js';

export interface WeeklyKpiRow {
  user_id: string;
  week_start: string;
  as_of: string;
  kpis: Kpis;
}

/** The learners whose KPIs a run as of `asOf` computes, in id order. */
export async function activeLearners(
  db: Db,
  asOf: string,
  lookbackDays: number,
  shard: Shard,
  userIds?: readonly string[],
): Promise<string[]> {
  const w = window(asOf, lookbackDays);
  const only = userIds ? sql`AND l.user_id = ANY(${[...userIds]}::text[])` : sql``;
  const r = await sql<{ user_id: string }>`
    SELECT l.user_id FROM learner l
    WHERE ${inShard(sql`l.user_id`, shard)} ${only}
      AND EXISTS (SELECT 1 FROM attempt a WHERE a.user_id = l.user_id
        AND a.answered_at >= ${new Date(w.start).toISOString()}::timestamptz
        AND a.answered_at < ${new Date(w.end).toISOString()}::timestamptz)
    ORDER BY l.user_id`.execute(db);
  return r.rows.map((x) => x.user_id);
}

/** Upserts whole rows on (user_id, week_start); returns the rows inserted or changed. */
export async function upsertWeeklyKpis(
  db: Db,
  weekStart: string,
  asOf: string,
  rows: readonly WeeklyKpiRow[],
): Promise<number> {
  const written = await sql`
    INSERT INTO weekly_kpi (user_id, week_start, kpis, as_of)
    SELECT u, ${weekStart}::date, k, ${asOf}::date
    FROM unnest(${rows.map((r) => r.user_id)}::text[], ${rows.map((r) => JSON.stringify(r.kpis))}::jsonb[]) AS x(u, k)
    ON CONFLICT (user_id, week_start) DO UPDATE SET kpis = excluded.kpis, as_of = excluded.as_of, updated_at = now()
    WHERE weekly_kpi.kpis IS DISTINCT FROM excluded.kpis OR weekly_kpi.as_of IS DISTINCT FROM excluded.as_of`.execute(
    db,
  );
  return Number(written.numAffectedRows ?? 0);
}

/** The KPIs other than P and S as nulls: a row the inactivity job creates has only those two. */
const ONLY_P_AND_S = JSON.stringify(
  Object.fromEntries(KPI_KEYS.filter((k) => k !== 'P' && k !== 'S').map((k) => [k, null])),
);

/**
 * Merges P and S (JSON objects `{P, S}`, one per learner) into the learners' rows of `weekStart`; a
 * learner without a row this week (silent for longer than KPI_LOOKBACK_DAYS) gets one whose other
 * four KPIs are null, which is what their definitions give after 28 silent days. Returns the rows
 * inserted or changed.
 */
export async function mergeGoalAndChurn(
  db: Db,
  weekStart: string,
  asOf: string,
  learners: readonly string[],
  ps: readonly string[],
): Promise<number> {
  const r = await sql`
    INSERT INTO weekly_kpi (user_id, week_start, kpis, as_of)
    SELECT x.u, ${weekStart}::date, ${ONLY_P_AND_S}::jsonb || x.ps, ${asOf}::date
    FROM unnest(${[...learners]}::text[], ${[...ps]}::jsonb[]) AS x(u, ps)
    ON CONFLICT (user_id, week_start) DO UPDATE
      SET kpis = weekly_kpi.kpis || jsonb_build_object('P', excluded.kpis->'P', 'S', excluded.kpis->'S'),
        updated_at = now()
    WHERE weekly_kpi.kpis->'P' IS DISTINCT FROM excluded.kpis->'P'
      OR weekly_kpi.kpis->'S' IS DISTINCT FROM excluded.kpis->'S'`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/** A learner's rows from `since` on, newest first. */
export function weeklyKpisSince(db: Db, userId: string, since: string) {
  return db
    .selectFrom('weekly_kpi')
    .selectAll()
    .where('user_id', '=', userId)
    .where('week_start', '>=', since)
    .orderBy('week_start', 'desc')
    .execute();
}

export function weeklyKpiRow(db: Db, userId: string, weekStart: string) {
  return db
    .selectFrom('weekly_kpi')
    .selectAll()
    .where('user_id', '=', userId)
    .where('week_start', '=', weekStart)
    .executeTakeFirst();
}
