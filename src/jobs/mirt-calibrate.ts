// mirt-calibrate: IRT calibration on the latest response per (learner, item) of the last
// MIRT_LOOKBACK_DAYS days, linked to the previous succeeded run, written in one transaction:
// mirt_fit_meta, mirt_item_params (version = run id) and one calibration mirt_ability per learner.
// The run id is `cal-<date>`, so a re-run for the same day replaces that run's rows.
import { sql } from 'kysely';
import type { Config } from '../config.js';
import type { Db } from '../db/connection.js';
import { calibrateLinked, fromTriples, type ItemParams, type LinkingMethod } from '../irt/index.js';
import { addDays, dayStart } from './dates.js';
import type { JobResult } from './registry.js';

/** The 3PL calibration's default Beta prior on the guessing parameter (spec/irt.md). */
const C_PRIOR = { alpha: 5, beta: 17 } as const;

interface Anchors {
  params: Map<string, ItemParams>;
  source: 'tagged' | 'shared-with-previous' | 'none';
}

/** The latest succeeded run fitted before `asOf` (a backfill links to the run before it, not the newest). */
async function previousRun(db: Db, runId: string, asOf: Date) {
  return db
    .selectFrom('mirt_fit_meta')
    .select(['run_id'])
    .where('status', '=', 'succeeded')
    .where('run_id', '<>', runId)
    .where('fitted_at', '<', asOf)
    .orderBy('fitted_at', 'desc')
    .executeTakeFirst();
}

/**
 * Tagged anchors with parameters in the previous run (the current ones as of this run) if there
 * are at least 5, else all the previous run's items.
 */
async function findAnchors(db: Db, previous: string | undefined): Promise<Anchors> {
  if (!previous) return { params: new Map(), source: 'none' };
  const tagged = await db
    .selectFrom('mirt_item_params as p')
    .innerJoin('item', 'item.item_id', 'p.item_id')
    .select(['p.item_id', 'p.params'])
    .where('p.version', '=', previous)
    .where(sql<boolean>`'anchor' = ANY(item.tags)`)
    .execute();
  if (tagged.length >= 5)
    return { params: new Map(tagged.map((r) => [r.item_id, r.params])), source: 'tagged' };
  const shared = await db
    .selectFrom('mirt_item_params')
    .select(['item_id', 'params'])
    .where('version', '=', previous)
    .execute();
  return { params: new Map(shared.map((r) => [r.item_id, r.params])), source: 'shared-with-previous' };
}

export async function mirtCalibrate(db: Db, date: string, config: Config): Promise<JobResult> {
  const { lookbackDays, model, linking, minItemResponses } = config.mirt;
  const runId = `cal-${date}`;
  // The run's estimates are stamped as of its day: now for today's run, the day's last millisecond
  // for a backfill, so "θ as of day D" finds the estimate made from D's window and no later one.
  const end = dayStart(addDays(date, 1));
  const asOf = new Date(Math.min(Date.now(), end.getTime() - 1));
  const windowStart = addDays(date, -(lookbackDays - 1));
  const t0 = performance.now();
  const responses = await sql<{ user_id: string; item_id: string; correct: boolean }>`
    SELECT DISTINCT ON (user_id, item_id) user_id, item_id, correct
    FROM attempt
    WHERE answered_at >= ${dayStart(windowStart)}::timestamptz AND answered_at < ${end}::timestamptz
    ORDER BY user_id, item_id, answered_at DESC, attempt_id DESC`.execute(db);
  if (responses.rows.length === 0) {
    return { written: {}, note: `nothing to do: no responses from ${windowStart} to ${date}` };
  }

  // Replace this run's earlier rows (a re-run of the same day).
  await db
    .deleteFrom('mirt_ability')
    .where('version', '=', runId)
    .where('source', '=', 'calibration')
    .execute();
  await db.deleteFrom('mirt_item_params').where('version', '=', runId).execute();
  await db.deleteFrom('mirt_fit_meta').where('run_id', '=', runId).execute();

  const previous = (await previousRun(db, runId, asOf))?.run_id;
  const anchors =
    linking === 'none' ? { params: new Map(), source: 'none' as const } : await findAnchors(db, previous);
  const data = fromTriples(
    responses.rows.map((r) => ({ userId: r.user_id, itemId: r.item_id, correct: r.correct ? 1 : 0 })),
    { minItemResponses },
  );
  const present = data.itemIds.filter((id) => anchors.params.has(id)).length;
  const method: LinkingMethod = present === 0 ? 'none' : linking === 'auto' ? 'fixed' : linking;
  const spec = {
    model,
    n_persons: data.nPersons,
    n_items: data.nItems,
    n_obs: data.nObs,
    quadpts: 61,
    theta_lim: [-6, 6],
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
    });
  } catch (err) {
    await db
      .insertInto('mirt_fit_meta')
      .values({
        run_id: runId,
        model,
        fitted_at: asOf,
        status: 'failed',
        model_spec: JSON.stringify(spec),
        metrics: JSON.stringify({ error: (err as Error).message }),
      })
      .execute();
    return { written: { mirt_fit_meta: 1 }, failure: `calibration failed: ${(err as Error).message}` };
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
  await db
    .insertInto('mirt_fit_meta')
    .values({
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
        },
      }),
      metrics: JSON.stringify(metrics),
    })
    .execute();
  const counts = new Map<string, { n: number; correct: number }>();
  for (const r of responses.rows) {
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
      }),
    };
  });
  await sql`
    INSERT INTO mirt_item_params (item_id, version, model, params, fitted_at)
    SELECT *, ${asOf}::timestamptz FROM unnest(${items.map((i) => i.item_id)}::text[], ${items.map((i) => i.version)}::text[],
      ${items.map((i) => i.model)}::text[], ${items.map((i) => i.params)}::jsonb[])`.execute(db);
  const abilities = cal.abilities!;
  const perPerson = new Int32Array(data.nPersons);
  for (let p = 0; p < data.nPersons; p++) perPerson[p] = data.personPtr[p + 1]! - data.personPtr[p]!;
  await sql`
    INSERT INTO mirt_ability (user_id, theta, se, model, version, source, n_responses, fitted_at)
    SELECT u, t, s, ${model}, ${runId}, 'calibration', n, ${asOf}::timestamptz
    FROM unnest(${data.personIds}::text[], ${Array.from(abilities.theta)}::float8[], ${Array.from(abilities.se)}::float8[],
      ${Array.from(perPerson)}::int[]) AS x(u, t, s, n)`.execute(db);
  return {
    written: { mirt_fit_meta: 1, mirt_item_params: items.length, mirt_ability: data.nPersons },
    counts: {
      responses: responses.rows.length,
      itemsExcluded: data.excludedItems.length,
      iterations: cal.iterations,
    },
  };
}
