// mirt-calibrate: IRT calibration on the latest response per (learner, item) of the last
// MIRT_LOOKBACK_DAYS days, linked to the previous succeeded run after robust anchor screening,
// written in one transaction: mirt_fit_meta, mirt_item_params (version = run id, with SEs and
// covariances), one calibration mirt_ability per learner, and the bank's health (issue 17):
// mirt_item_fit (fit and drift against the previous run), mirt_model_fit (model fit, reliability),
// mirt_dropped_anchor. The run id is `cal-<date>`, so a re-run for the same day replaces its rows.
import { deleteCalibrationAbilities, insertCalibrationAbilities } from '../ability/repository.js';
import type { Config } from '../config.js';
import type { Db } from '../db/connection.js';
import {
  AnchorScreeningError,
  type Calibration,
  calibrateLinked,
  calibrationFitModel,
  DEFAULT_GRID,
  type DriftItem,
  fitStatistics,
  fromTriples,
  type ItemDrift,
  type ItemParams,
  itemDrift,
  type LinkingMethod,
  misfitFlags,
} from '../irt/index.js';
import type { JobResult } from '../jobs/contract.js';
import { addDays, dayStart } from '../jobs/dates.js';
import type { Metrics } from '../observability/metrics.js';
import {
  deleteRun,
  insertDroppedAnchors,
  insertItemFits,
  insertItemParams,
  insertModelFit,
  insertRun,
  latestResponses,
  previousRun,
  runItemParams,
} from './repository.js';

/** The 3PL calibration's default Beta prior on the guessing parameter (spec/irt.md). */
const C_PRIOR = { alpha: 5, beta: 17 } as const;

interface Anchors {
  params: Map<string, ItemParams>;
  source: 'tagged' | 'shared-with-previous' | 'none';
}

/**
 * Tagged anchors with parameters in the previous run (the current ones as of this run) if there
 * are at least 5, else all the previous run's items.
 */
async function findAnchors(db: Db, previous: string | undefined): Promise<Anchors> {
  if (!previous) return { params: new Map(), source: 'none' };
  const tagged = await runItemParams(db, previous, { taggedAnchors: true });
  if (tagged.size >= 5) return { params: tagged, source: 'tagged' };
  return { params: await runItemParams(db, previous), source: 'shared-with-previous' };
}

/**
 * Runs the calibration of `date`. `gauges` (a job process's metrics) receives the bank's health:
 * seedtest_irt_items_flagged{reason} and seedtest_irt_marginal_reliability.
 */
export async function mirtCalibrate(
  db: Db,
  date: string,
  config: Config,
  gauges?: Metrics,
): Promise<JobResult> {
  const { lookbackDays, model, linking, minItemResponses, maxObs } = config.mirt;
  const runId = `cal-${date}`;
  // The run's estimates are stamped as of its day: now for today's run, the day's last millisecond
  // for a backfill, so "θ as of day D" finds the estimate made from D's window and no later one.
  const end = dayStart(addDays(date, 1));
  const asOf = new Date(Math.min(Date.now(), end.getTime() - 1));
  const windowStart = addDays(date, -(lookbackDays - 1));
  const t0 = performance.now();
  const responses = await latestResponses(db, dayStart(windowStart), end, maxObs);
  if (responses.length === 0) {
    return { written: {}, note: `nothing to do: no responses from ${windowStart} to ${date}` };
  }

  // Replace this run's earlier rows (a re-run of the same day).
  await deleteCalibrationAbilities(db, runId);
  await deleteRun(db, runId);

  const previous = (await previousRun(db, runId, asOf))?.run_id;
  const anchors =
    linking === 'none' ? { params: new Map(), source: 'none' as const } : await findAnchors(db, previous);
  const data = fromTriples(
    responses.map((r) => ({ userId: r.user_id, itemId: r.item_id, correct: r.correct ? 1 : 0 })),
    { minItemResponses },
  );
  const present = data.itemIds.filter((id) => anchors.params.has(id)).length;
  const method: LinkingMethod = present === 0 ? 'none' : linking === 'auto' ? 'fixed' : linking;
  const spec = {
    model,
    n_persons: data.nPersons,
    n_items: data.nItems,
    n_obs: data.nObs,
    quadpts: DEFAULT_GRID.quadpts,
    theta_lim: [...DEFAULT_GRID.thetaLim],
    window_start: windowStart,
    window_end: date,
    priors: model === '3PL' ? { c: { beta: [C_PRIOR.alpha, C_PRIOR.beta] } } : {},
    excluded_items: data.excludedItems,
    excluded_persons: data.excludedPersons,
    duplicates_dropped: data.duplicatesDropped,
    previous_run: previous ?? null,
    anchor_source: anchors.source,
  };
  let fit: ReturnType<typeof calibrateLinked>;
  try {
    if (data.nItems === 0 || data.nPersons === 0)
      throw new Error('no item has enough responses to calibrate');
    fit = calibrateLinked(data, {
      model,
      priors: model === '3PL' ? { c: C_PRIOR } : undefined,
      anchors: anchors.params,
      linking: method,
      itemSE: true,
      // Anchors that moved are screened out before linking; too few left refuses the run.
      ...(method !== 'none' && { screen: {} }),
    });
  } catch (err) {
    const dropped = err instanceof AnchorScreeningError ? err.dropped : [];
    await insertRun(db, {
      run_id: runId,
      model,
      fitted_at: asOf,
      status: 'failed',
      model_spec: JSON.stringify(spec),
      metrics: JSON.stringify({ error: (err as Error).message }),
    });
    await insertDroppedAnchors(db, runId, dropped);
    gauges?.irtItemsFlagged.set({ reason: 'dropped_anchor' }, dropped.length);
    return {
      written: { mirt_fit_meta: 1, ...(dropped.length && { mirt_dropped_anchor: dropped.length }) },
      failure: `calibration failed: ${(err as Error).message}`,
    };
  }
  const { calibration: cal, linking: link } = fit;
  const metrics = {
    logLik: cal.logLik,
    AIC: cal.AIC,
    BIC: cal.BIC,
    iterations: cal.iterations,
    converged: cal.converged,
    elapsed_ms: Math.round(performance.now() - t0),
    estep_threads: cal.threads,
    latent_mean: cal.latent.mean,
    latent_variance: cal.latent.variance,
  };
  await insertRun(db, {
    run_id: runId,
    model,
    fitted_at: asOf,
    status: 'succeeded',
    model_spec: JSON.stringify({
      ...spec,
      linking: {
        method: link.method,
        anchors: link.anchors,
        A: link.A,
        B: link.B,
        n_anchors: link.nAnchors,
        dropped: link.dropped?.map((d) => d.itemId) ?? [],
      },
    }),
    metrics: JSON.stringify(metrics),
  });
  const counts = new Map<string, { n: number; correct: number }>();
  for (const r of responses) {
    const c = counts.get(r.item_id) ?? { n: 0, correct: 0 };
    c.n++;
    if (r.correct) c.correct++;
    counts.set(r.item_id, c);
  }
  const items = cal.items.map((it) => {
    const c = counts.get(it.itemId)!;
    return {
      item_id: it.itemId,
      version: runId,
      model,
      params: JSON.stringify({
        a: it.a,
        b: it.b,
        c: it.c,
        d: it.d,
        n: it.n,
        p: c.correct / c.n,
        ...(it.se ? { se: it.se } : {}),
        ...(it.cov ? { cov: it.cov } : {}),
        ...(it.boundary ? { boundary: it.boundary } : {}),
      }),
    };
  });
  await insertItemParams(db, asOf, items);
  const abilities = cal.abilities!;
  const perPerson = new Int32Array(data.nPersons);
  for (let p = 0; p < data.nPersons; p++) perPerson[p] = data.personPtr[p + 1]! - data.personPtr[p]!;
  await insertCalibrationAbilities(
    db,
    { runId, model, fittedAt: asOf },
    { userIds: data.personIds, theta: abilities.theta, se: abilities.se, nResponses: perPerson },
  );
  const health = await writeHealth(db, runId, data, cal, previous, fit.screened);
  await insertDroppedAnchors(db, runId, link.dropped ?? []);
  if (gauges) {
    gauges.irtItemsFlagged.set({ reason: 'drift' }, health.drifted);
    gauges.irtItemsFlagged.set({ reason: 'misfit' }, health.misfit);
    gauges.irtItemsFlagged.set({ reason: 'dropped_anchor' }, link.dropped?.length ?? 0);
    gauges.irtMarginalReliability.set({ model }, health.marginalRxx);
  }
  return {
    written: {
      mirt_fit_meta: 1,
      mirt_item_params: items.length,
      mirt_ability: data.nPersons,
      mirt_item_fit: items.length,
      mirt_model_fit: 1,
      ...(link.dropped?.length && { mirt_dropped_anchor: link.dropped.length }),
    },
    counts: {
      responses: responses.length,
      itemsExcluded: data.excludedItems.length,
      iterations: cal.iterations,
    },
  };
}

/**
 * Item fit, model fit and reliability of the run, and drift against `previous` when the run was
 * linked to it with screening: the previous run's parameters and covariances against the screened
 * free calibration on the same scale (anchors held fixed in the run itself cannot show a change).
 * Misfit counts the items `misfitFlags` flags.
 */
async function writeHealth(
  db: Db,
  runId: string,
  data: ReturnType<typeof fromTriples>,
  cal: Calibration,
  previous: string | undefined,
  screened: Calibration | undefined,
): Promise<{ drifted: number; misfit: number; marginalRxx: number }> {
  const fit = fitStatistics(data, calibrationFitModel(cal));
  let drift = new Map<string, ItemDrift>();
  if (previous && screened) {
    const prev = await runItemParams(db, previous);
    const before: DriftItem[] = [...prev].map(([itemId, params]) => ({
      itemId,
      a: params.a,
      b: params.b,
      c: params.c,
      ...((params as { cov?: DriftItem['cov'] }).cov && { cov: (params as { cov?: DriftItem['cov'] }).cov }),
    }));
    drift = new Map(itemDrift(before, screened.items).map((d) => [d.itemId, d]));
  }
  const misfit = misfitFlags(fit.items.map((it) => it.sx2P));
  const m = fit.model;
  await insertModelFit(db, {
    run_id: runId,
    m2: m.M2,
    m2_df: m.df,
    m2_p: m.p,
    rmsea: m.RMSEA,
    rmsea_5: m.RMSEA_5,
    rmsea_95: m.RMSEA_95,
    srmsr: m.SRMSR,
    tli: m.TLI,
    cfi: m.CFI,
    marginal_rxx: m.marginal_rxx,
    empirical_rxx: m.empirical_rxx,
    notes: JSON.stringify(fit.notes),
  });
  const rows = fit.items.map((it) => {
    const d = drift.get(it.itemId);
    return {
      run_id: runId,
      item_id: it.itemId,
      infit: it.infit,
      outfit: it.outfit,
      infit_z: it.infitZ,
      outfit_z: it.outfitZ,
      sx2: it.sx2,
      sx2_df: it.sx2Df,
      sx2_p: it.sx2P,
      sx2_rmsea: it.sx2Rmsea,
      previous_run: d ? previous! : null,
      da: d?.da ?? null,
      db: d?.db ?? null,
      dc: d?.dc ?? null,
      lord_chi2: d?.lordChi2 ?? null,
      drift_df: d ? d.df : null,
      drift_p: d?.p ?? null,
      q_flag: d ? d.qFlag : null,
      area: d?.area ?? null,
      drift_flag: d ? d.flag : null,
    };
  });
  await insertItemFits(db, rows);
  return {
    drifted: [...drift.values()].filter((d) => d.flag).length,
    misfit: misfit.filter(Boolean).length,
    marginalRxx: m.marginal_rxx,
  };
}
