// detect-inactivity: learners whose last attempt (up to the end of the run date D) is at least
// INACTIVITY_THRESHOLD_DAYS days before D. One inactivity_alert per spell, keyed by the time of the
// last attempt; an open alert is resolved (at the learner's first attempt after it) once they come
// back. P and S as of D are merged into the learners' weekly_kpi row of D's week, and only those
// keys: the other four stay as compute-daily-kpis wrote them.
import { sql } from 'kysely';
import type { Db } from '../db/connection.js';
import type { JobContext, JobResult } from '../jobs/contract.js';
import { addDays, isoWeekStart } from '../jobs/dates.js';
import { inShard } from '../jobs/shard.js';
import { KPI_BATCH, loadKpiInputs } from '../kpis/inputs.js';
import { churnRisk, dayStart, goalProbability, window } from '../kpis/kpis.js';
import { mergeGoalAndChurn } from '../kpis/repository.js';

export async function detectInactivity(db: Db, ctx: JobContext): Promise<JobResult> {
  const { date, config, shard } = ctx;
  const end = new Date(window(date, 1).end).toISOString();
  // days_inactive = D − date(last attempt) >= threshold  ⇔  last attempt before D − threshold + 1.
  const cutoff = new Date(dayStart(addDays(date, 1 - config.inactivityThresholdDays))).toISOString();
  const only = ctx.users ? sql`AND l.user_id = ANY(${[...ctx.users]}::text[])` : sql``;

  // The first attempt after an open alert's last activity ends the spell (as of the end of D).
  const resolved = await sql`
    UPDATE inactivity_alert ia SET resolved_at = back.first_at
    FROM (
      SELECT o.user_id, o.last_active_at,
        (SELECT min(a.answered_at) FROM attempt a
         WHERE a.user_id = o.user_id AND a.answered_at > o.last_active_at AND a.answered_at < ${end}::timestamptz) AS first_at
      FROM inactivity_alert o
      JOIN learner l ON l.user_id = o.user_id
      WHERE o.resolved_at IS NULL AND ${inShard(sql`o.user_id`, shard)} ${only}
    ) back
    WHERE ia.user_id = back.user_id AND ia.last_active_at = back.last_active_at AND back.first_at IS NOT NULL`.execute(
    db,
  );

  const inactive = await sql<{ user_id: string }>`
    SELECT l.user_id FROM learner l
    CROSS JOIN LATERAL (
      SELECT max(a.answered_at) AS answered_at FROM attempt a
      WHERE a.user_id = l.user_id AND a.answered_at < ${end}::timestamptz
    ) last
    WHERE ${inShard(sql`l.user_id`, shard)} ${only} AND last.answered_at < ${cutoff}::timestamptz
    ORDER BY l.user_id`.execute(db);
  const learners = inactive.rows.map((r) => r.user_id);

  const settings = {
    asOf: date,
    useIrtTheta: config.kpi.useIrtTheta,
    defaultTarget: config.kpi.defaultTarget,
    churnHorizonDays: config.kpi.churnHorizonDays,
  };
  const churn: (number | null)[] = [];
  const ps: string[] = [];
  for (let i = 0; i < learners.length; i += KPI_BATCH) {
    ctx.signal.throwIfAborted();
    const batch = learners.slice(i, i + KPI_BATCH);
    const inputs = await loadKpiInputs(db, batch, date);
    for (const id of batch) {
      const input = inputs.get(id)!;
      const s = churnRisk(input, settings);
      churn.push(s);
      ps.push(JSON.stringify({ P: goalProbability(input, settings), S: s }));
    }
    ctx.progress(Math.min(learners.length, i + KPI_BATCH), learners.length);
  }

  let newAlerts = 0;
  let updatedAlerts = 0;
  let merged = 0;
  if (learners.length > 0) {
    // Re-running any day, in any order, leaves one row per spell: first detection, longest streak.
    const alerts = await sql<{ inserted: boolean }>`
      INSERT INTO inactivity_alert (user_id, last_active_at, detected_on, days_inactive, churn_risk)
      SELECT x.u, last.at, ${date}::date, ${date}::date - (last.at AT TIME ZONE 'UTC')::date, x.s
      FROM unnest(${learners}::text[], ${churn}::float8[]) AS x(u, s)
      CROSS JOIN LATERAL (
        SELECT max(a.answered_at) AS at FROM attempt a WHERE a.user_id = x.u AND a.answered_at < ${end}::timestamptz
      ) last
      ON CONFLICT (user_id, last_active_at) DO UPDATE SET
        detected_on = least(inactivity_alert.detected_on, excluded.detected_on),
        days_inactive = greatest(inactivity_alert.days_inactive, excluded.days_inactive),
        churn_risk = CASE WHEN excluded.days_inactive >= inactivity_alert.days_inactive
          THEN excluded.churn_risk ELSE inactivity_alert.churn_risk END
      WHERE excluded.detected_on < inactivity_alert.detected_on
        OR excluded.days_inactive > inactivity_alert.days_inactive
        OR (excluded.days_inactive = inactivity_alert.days_inactive
          AND excluded.churn_risk IS DISTINCT FROM inactivity_alert.churn_risk)
      RETURNING (xmax = 0) AS inserted`.execute(db);
    newAlerts = alerts.rows.filter((r) => r.inserted).length;
    updatedAlerts = alerts.rows.length - newAlerts;
    merged = await mergeGoalAndChurn(db, isoWeekStart(date), date, learners, ps);
  }

  if (ctx.metrics && !ctx.dryRun) {
    const open = await db
      .selectFrom('inactivity_alert')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('resolved_at', 'is', null)
      .executeTakeFirstOrThrow();
    ctx.metrics.inactiveLearners.set(Number(open.n));
  }
  const resolvedCount = Number(resolved.numAffectedRows ?? 0);
  return {
    written: { inactivity_alert: newAlerts + updatedAlerts + resolvedCount, weekly_kpi: merged },
    counts: { inactive: learners.length, newAlerts, resolved: resolvedCount },
    ...(learners.length === 0 && resolvedCount === 0 ? { note: 'nothing to do: no inactive learner' } : {}),
  };
}
