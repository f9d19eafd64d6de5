// The calibration tables' one module: mirt_fit_meta (a run), mirt_item_params (its items), and the
// bank's health (mirt_item_fit, mirt_model_fit, mirt_dropped_anchor); the reads of the job (the
// window's responses, the previous run, its anchors) and of the item and calibration routes.
import { type Insertable, sql } from 'kysely';
import type { Db } from '../db/connection.js';
import type { MirtFitMetaTable, MirtItemFitTable, MirtModelFitTable } from '../db/schema.js';
import type { DroppedAnchor, ItemParams } from '../irt/index.js';

/**
 * Each learner's latest answer to each item answered in [from, end); with `maxObs` > 0 the most
 * recent `maxObs` of those only, so the fit's memory and time stay bounded however busy the window was.
 */
export async function latestResponses(db: Db, from: Date, end: Date, maxObs: number) {
  const latest = sql`
    SELECT DISTINCT ON (user_id, item_id) user_id, item_id, correct, answered_at, attempt_id
    FROM attempt
    WHERE answered_at >= ${from}::timestamptz AND answered_at < ${end}::timestamptz
    ORDER BY user_id, item_id, answered_at DESC, attempt_id DESC`;
  const r = await sql<{ user_id: string; item_id: string; correct: boolean }>`
    SELECT user_id, item_id, correct FROM (${latest}) latest
    ${maxObs > 0 ? sql`ORDER BY answered_at DESC, attempt_id DESC LIMIT ${maxObs}` : sql`ORDER BY user_id, item_id`}`.execute(
    db,
  );
  return r.rows;
}

/** The latest succeeded run fitted before `asOf` (a backfill links to the run before it, not the newest). */
export function previousRun(db: Db, runId: string, asOf: Date) {
  return db
    .selectFrom('mirt_fit_meta')
    .select(['run_id'])
    .where('status', '=', 'succeeded')
    .where('run_id', '<>', runId)
    .where('fitted_at', '<', asOf)
    .orderBy('fitted_at', 'desc')
    .executeTakeFirst();
}

/** A run's item parameters; `taggedAnchors` keeps the items tagged 'anchor' only. */
export async function runItemParams(
  db: Db,
  runId: string,
  opts: { taggedAnchors?: boolean } = {},
): Promise<Map<string, ItemParams>> {
  const rows = opts.taggedAnchors
    ? await db
        .selectFrom('mirt_item_params as p')
        .innerJoin('item', 'item.item_id', 'p.item_id')
        .select(['p.item_id', 'p.params'])
        .where('p.version', '=', runId)
        .where(sql<boolean>`'anchor' = ANY(item.tags)`)
        .execute()
    : await db
        .selectFrom('mirt_item_params')
        .select(['item_id', 'params'])
        .where('version', '=', runId)
        .execute();
  return new Map(rows.map((r) => [r.item_id, r.params]));
}

/** Removes a run's rows (a re-run of the same day replaces them; the health rows go with the run's). */
export async function deleteRun(db: Db, runId: string): Promise<void> {
  await db.deleteFrom('mirt_item_params').where('version', '=', runId).execute();
  await db.deleteFrom('mirt_fit_meta').where('run_id', '=', runId).execute();
}

export async function insertRun(db: Db, run: Insertable<MirtFitMetaTable>): Promise<void> {
  await db.insertInto('mirt_fit_meta').values(run).execute();
}

/** A run's items, in one statement; `params` are JSON texts. */
export async function insertItemParams(
  db: Db,
  fittedAt: Date,
  items: readonly { item_id: string; version: string; model: string; params: string }[],
): Promise<void> {
  await sql`
    INSERT INTO mirt_item_params (item_id, version, model, params, fitted_at)
    SELECT *, ${fittedAt}::timestamptz FROM unnest(${items.map((i) => i.item_id)}::text[], ${items.map((i) => i.version)}::text[],
      ${items.map((i) => i.model)}::text[], ${items.map((i) => i.params)}::jsonb[])`.execute(db);
}

export async function insertModelFit(db: Db, row: Insertable<MirtModelFitTable>): Promise<void> {
  await db.insertInto('mirt_model_fit').values(row).execute();
}

export async function insertItemFits(db: Db, rows: readonly Insertable<MirtItemFitTable>[]): Promise<void> {
  // Batches keep each statement's parameter count well below PostgreSQL's 65,535.
  for (let i = 0; i < rows.length; i += 1000)
    await db
      .insertInto('mirt_item_fit')
      .values(rows.slice(i, i + 1000))
      .execute();
}

/** Run × item rows of the anchors screened out (also for a refused run). */
export async function insertDroppedAnchors(
  db: Db,
  runId: string,
  dropped: readonly DroppedAnchor[],
): Promise<void> {
  if (dropped.length === 0) return;
  await db
    .insertInto('mirt_dropped_anchor')
    .values(dropped.map((d) => ({ run_id: runId, item_id: d.itemId, db: d.db, z: d.z, round: d.round })))
    .execute();
}

/** An item's topic, or undefined when there is no such item. */
export async function itemTopic(db: Db, itemId: string): Promise<string | undefined> {
  const r = await db.selectFrom('item').select('topic_id').where('item_id', '=', itemId).executeTakeFirst();
  return r?.topic_id;
}

/** A page of the bank in item id order (keyset paging: each page costs the same however deep). */
export async function itemsPage(db: Db, opts: { limit: number; after?: string; topicId?: string }) {
  let page = db
    .selectFrom('item')
    .select(['item_id', 'topic_id', 'tags'])
    .orderBy('item_id')
    .limit(opts.limit + 1);
  if (opts.after !== undefined) page = page.where('item_id', '>', opts.after);
  if (opts.topicId !== undefined) page = page.where('topic_id', '=', opts.topicId);
  const rows = await page.execute();
  const items = rows.slice(0, opts.limit);
  // A second query by ids, so the view's DISTINCT ON runs for this page's items only.
  const current =
    items.length === 0
      ? []
      : await db
          .selectFrom('mirt_item_params_current')
          .select(['item_id', 'version', 'model', 'params', 'fitted_at'])
          .where(
            'item_id',
            'in',
            items.map((i) => i.item_id),
          )
          .execute();
  return { items, current: new Map(current.map((c) => [c.item_id, c])), more: rows.length > opts.limit };
}

/**
 * An item's parameters in each succeeded run, newest first, with whether that run's row is the
 * current one and the run's fit and drift statistics for the item (null columns when it stored none).
 */
export function itemParamHistory(db: Db, itemId: string, limit: number) {
  return db
    .selectFrom('mirt_item_params as p')
    .innerJoin('mirt_fit_meta as m', (j) =>
      j.onRef('m.run_id', '=', 'p.version').on('m.status', '=', 'succeeded'),
    )
    .leftJoin('mirt_item_params_current as c', (j) =>
      j.onRef('c.item_id', '=', 'p.item_id').onRef('c.version', '=', 'p.version'),
    )
    .leftJoin('mirt_item_fit as f', (j) =>
      j.onRef('f.run_id', '=', 'p.version').onRef('f.item_id', '=', 'p.item_id'),
    )
    .select([
      'p.version',
      'p.model',
      'p.params',
      'p.fitted_at',
      'c.version as current_version',
      'f.infit',
      'f.outfit',
      'f.infit_z',
      'f.outfit_z',
      'f.sx2',
      'f.sx2_df',
      'f.sx2_p',
      'f.sx2_rmsea',
      'f.previous_run',
      'f.da',
      'f.db',
      'f.dc',
      'f.lord_chi2',
      'f.drift_df',
      'f.drift_p',
      'f.q_flag',
      'f.area',
      'f.drift_flag',
    ])
    .where('p.item_id', '=', itemId)
    .orderBy('p.fitted_at', 'desc')
    .orderBy('p.version', 'desc')
    .limit(limit)
    .execute();
}

/** A run with its model fit, screened-out anchors and per-item flags; undefined when there is no such run. */
export async function calibrationRun(db: Db, runId: string) {
  const meta = await db
    .selectFrom('mirt_fit_meta')
    .selectAll()
    .where('run_id', '=', runId)
    .executeTakeFirst();
  if (!meta) return undefined;
  const [modelFit, dropped, items] = await Promise.all([
    db.selectFrom('mirt_model_fit').selectAll().where('run_id', '=', runId).executeTakeFirst(),
    db
      .selectFrom('mirt_dropped_anchor')
      .select(['item_id', 'db', 'z', 'round'])
      .where('run_id', '=', runId)
      .orderBy('item_id')
      .execute(),
    db
      .selectFrom('mirt_item_fit')
      .select(['item_id', 'sx2_p', 'drift_flag'])
      .where('run_id', '=', runId)
      .orderBy('item_id')
      .execute(),
  ]);
  return { meta, modelFit, dropped, items };
}
