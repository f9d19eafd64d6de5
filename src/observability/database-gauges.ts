// Gauges whose truth is in the database, not in the process that happens to be scraped: a job run by
// a CronJob pod, the CLI or another replica leaves its results in job_run, inactivity_alert, the
// calibration tables (mirt_fit_meta, mirt_item_fit, mirt_model_fit, mirt_dropped_anchor) and
// cat_served_item, so the API reads them there at scrape time. Each refresh is a
// few cheap queries (indexed or over small tables), shared by the scrapes of `ttlMs`.
import { sql } from 'kysely';
import { readOverexposed } from '../adaptive/repository.js';
import type { Database } from '../db/connection.js';
import { misfitFlags } from '../irt/index.js';
import { notDryRun } from '../jobs/runs.js';
import type { Metrics } from './metrics.js';

/** Default cache of a refresh: shorter than any scrape interval, so each scrape sees fresh values. */
export const DATABASE_GAUGES_TTL_MS = 5000;

async function refresh(database: Database, metrics: Metrics, maxExposureRate: number): Promise<void> {
  const { db } = database;
  const [successes, open, calibration, overexposed] = await Promise.all([
    db
      .selectFrom('job_run')
      .select(['job', (eb) => eb.fn.max('finished_at').as('finished_at')])
      .where('status', '=', 'succeeded')
      .where(notDryRun)
      .groupBy('job')
      .execute(),
    db
      .selectFrom('inactivity_alert')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('resolved_at', 'is', null)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('mirt_fit_meta')
      .select([
        'run_id',
        'model',
        sql<number | null>`(metrics->>'logLik')::float8`.as('loglik'),
        sql<number | null>`(metrics->>'iterations')::int`.as('iterations'),
        sql<number | null>`jsonb_array_length(model_spec->'excluded_items')`.as('excluded'),
        sql<number | null>`(model_spec->'linking'->>'A')::float8`.as('A'),
        sql<number | null>`(model_spec->'linking'->>'B')::float8`.as('B'),
      ])
      .where('status', '=', 'succeeded')
      .orderBy('fitted_at', 'desc')
      .orderBy('run_id', 'desc')
      .limit(1)
      .executeTakeFirst(),
    readOverexposed(database, maxExposureRate),
  ]);
  // The bank's health: the last successful run's drift, misfit and reliability, and the anchors the
  // last run dropped (a run can fail by dropping too many).
  const [fits, modelFit, lastRun] = await Promise.all([
    calibration
      ? db
          .selectFrom('mirt_item_fit')
          .select(['sx2_p', 'drift_flag'])
          .where('run_id', '=', calibration.run_id)
          .orderBy('item_id')
          .execute()
      : [],
    calibration
      ? db
          .selectFrom('mirt_model_fit')
          .select('marginal_rxx')
          .where('run_id', '=', calibration.run_id)
          .executeTakeFirst()
      : undefined,
    db
      .selectFrom('mirt_fit_meta as m')
      .select((eb) =>
        eb
          .selectFrom('mirt_dropped_anchor as d')
          .select(eb.fn.countAll<string>().as('n'))
          .whereRef('d.run_id', '=', 'm.run_id')
          .as('dropped'),
      )
      .orderBy('m.fitted_at', 'desc')
      .orderBy('m.run_id', 'desc')
      .limit(1)
      .executeTakeFirst(),
  ]);
  for (const r of successes) {
    if (r.finished_at) metrics.jobLastSuccess.set({ job: r.job }, new Date(r.finished_at).getTime() / 1000);
  }
  metrics.inactiveLearners.set(Number(open.n));
  metrics.catOverexposedItems.set(overexposed.items.length);
  // Before the first calibration these series stay absent rather than show a made-up 0.
  for (const g of [
    metrics.irtCalibrationLoglik,
    metrics.irtCalibrationIterations,
    metrics.irtCalibrationItemsExcluded,
    metrics.irtLinkingConstant,
    metrics.irtItemsFlagged,
    metrics.irtMarginalReliability,
  ]) {
    g.reset();
  }
  if (lastRun) metrics.irtItemsFlagged.set({ reason: 'dropped_anchor' }, Number(lastRun.dropped ?? 0));
  if (!calibration) return;
  const { model } = calibration;
  for (const [gauge, value] of [
    [metrics.irtCalibrationLoglik, calibration.loglik],
    [metrics.irtCalibrationIterations, calibration.iterations],
    [metrics.irtCalibrationItemsExcluded, calibration.excluded],
  ] as const) {
    if (value !== null) gauge.set({ model }, Number(value));
  }
  metrics.irtItemsFlagged.set({ reason: 'drift' }, fits.filter((f) => f.drift_flag === true).length);
  metrics.irtItemsFlagged.set(
    { reason: 'misfit' },
    misfitFlags(fits.map((f) => f.sx2_p)).filter(Boolean).length,
  );
  if (modelFit?.marginal_rxx != null)
    metrics.irtMarginalReliability.set({ model }, Number(modelFit.marginal_rxx));
  // An unlinked run (the first, or MIRT_LINKING=none) records the identity, A = 1 and B = 0.
  for (const constant of ['A', 'B'] as const) {
    const v = calibration[constant];
    if (v !== null) metrics.irtLinkingConstant.set({ constant }, Number(v));
  }
}

/**
 * A refresher of the database-derived gauges: call it before rendering a scrape. Concurrent and
 * repeated calls within `ttlMs` share one refresh; a failed refresh is not cached.
 */
export function databaseGauges(
  database: Database,
  metrics: Metrics,
  maxExposureRate: number,
  ttlMs = DATABASE_GAUGES_TTL_MS,
): () => Promise<void> {
  let last: { at: number; done: Promise<void> } | undefined;
  return () => {
    const now = Date.now();
    if (last && now - last.at < ttlMs) return last.done;
    const done = refresh(database, metrics, maxExposureRate);
    const entry = { at: now, done };
    last = entry;
    done.catch(() => {
      if (last === entry) last = undefined;
    });
    return done;
  };
}
