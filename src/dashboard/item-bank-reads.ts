// The dashboard's item-bank reads (staff): a calibration run's bank with each item's parameters, fit,
// drift and exposure in that run; the runs' history with their model fit, reliability and linking;
// one item's runs. Each is one statement over the run's or the item's index (mirt_item_params by
// version or by item, the fit and exposure tables by their (run, item) keys), so the cost grows with
// the bank, not with the platform's history. Read-only: the tables are written by the calibration job
// and the adaptive sessions.
import { sql } from 'kysely';
import type { Db } from '../db/connection.js';

export interface BankRun {
  run_id: string;
  model: string;
  fitted_at: Date;
}

/** A succeeded run by id, or the latest succeeded run; undefined when there is none. */
export async function bankRun(db: Db, runId?: string): Promise<BankRun | undefined> {
  let q = db
    .selectFrom('mirt_fit_meta')
    .select(['run_id', 'model', 'fitted_at'])
    .where('status', '=', 'succeeded');
  if (runId !== undefined) q = q.where('run_id', '=', runId);
  return q.orderBy('fitted_at', 'desc').orderBy('run_id', 'desc').limit(1).executeTakeFirst();
}

export interface BankItem {
  item_id: string;
  topic_id: string;
  /** The topic's name as registered. */
  topic: string;
  active: boolean;
  a: number;
  b: number;
  c: number;
  /** Null when the run stored no fit for the item. */
  infit: number | null;
  outfit: number | null;
  sx2_p: number | null;
  drift_flag: boolean | null;
  /** Adaptive sessions of this run's bank that served the item (0 when none). */
  served: number;
}

export interface Bank {
  items: BankItem[];
  /** Adaptive sessions that started on this run's bank (cat_exposure_run), 0 when none. */
  sessions: number;
  /** Items in the bank table, calibrated in this run or not. */
  bank_size: number;
  topics: { topic_id: string; name: string; name_ko: string | null; name_en: string | null }[];
}

/** Every item the run calibrated, by id, with its fit, drift and exposure in that run. */
export async function readBank(db: Db, runId: string): Promise<Bank> {
  const [items, sessions, size, topics] = await Promise.all([
    sql<BankItem>`
      SELECT p.item_id, i.topic_id, t.name AS topic, i.active,
        (p.params->>'a')::float8 AS a, (p.params->>'b')::float8 AS b,
        coalesce((p.params->>'c')::float8, 0) AS c,
        f.infit, f.outfit, f.sx2_p, f.drift_flag, coalesce(e.served, 0) AS served
      FROM mirt_item_params p
      JOIN item i ON i.item_id = p.item_id
      JOIN topic t ON t.topic_id = i.topic_id
      LEFT JOIN mirt_item_fit f ON f.run_id = p.version AND f.item_id = p.item_id
      LEFT JOIN cat_exposure e ON e.run_id = p.version AND e.item_id = p.item_id
      WHERE p.version = ${runId}
      ORDER BY p.item_id`.execute(db),
    db.selectFrom('cat_exposure_run').select('sessions').where('run_id', '=', runId).executeTakeFirst(),
    db
      .selectFrom('item')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
    db.selectFrom('topic').select(['topic_id', 'name', 'name_ko', 'name_en']).orderBy('topic_id').execute(),
  ]);
  return {
    items: items.rows,
    sessions: sessions?.sessions ?? 0,
    bank_size: Number(size.n),
    topics,
  };
}

export interface CalibrationSummary {
  run_id: string;
  model: string;
  status: 'succeeded' | 'failed';
  fitted_at: Date;
  log_lik: number | null;
  n_items: number | null;
  n_persons: number | null;
  marginal_rxx: number | null;
  empirical_rxx: number | null;
  linking_method: string | null;
  linking_a: number | null;
  linking_b: number | null;
  anchors_used: number | null;
  dropped_anchors: string[];
  drift_flagged: number;
  error: string | null;
}

/**
 * Calibration runs, newest first, with the figures of their history table: log-likelihood, sizes,
 * reliability, linking constants, anchors used and dropped, items flagged by drift. The linking's
 * anchor list (one id per anchor) stays in the database: only its count is read.
 */
export async function calibrationHistory(
  db: Db,
  opts: { limit: number; offset: number },
): Promise<{ total: number; runs: CalibrationSummary[] }> {
  const [runs, total] = await Promise.all([
    sql<CalibrationSummary>`
      SELECT m.run_id, m.model, m.status, m.fitted_at,
        (m.metrics->>'logLik')::float8 AS log_lik,
        (m.model_spec->>'n_items')::int AS n_items, (m.model_spec->>'n_persons')::int AS n_persons,
        mf.marginal_rxx, mf.empirical_rxx,
        m.model_spec->'linking'->>'method' AS linking_method,
        (m.model_spec->'linking'->>'A')::float8 AS linking_a,
        (m.model_spec->'linking'->>'B')::float8 AS linking_b,
        (m.model_spec->'linking'->>'n_anchors')::int AS anchors_used,
        coalesce(d.ids, '{}') AS dropped_anchors, coalesce(fl.n, 0) AS drift_flagged,
        m.metrics->>'error' AS error
      FROM (SELECT * FROM mirt_fit_meta ORDER BY fitted_at DESC, run_id DESC
            LIMIT ${opts.limit} OFFSET ${opts.offset}) m
      LEFT JOIN mirt_model_fit mf ON mf.run_id = m.run_id
      LEFT JOIN LATERAL (
        SELECT array_agg(a.item_id ORDER BY a.item_id) AS ids
        FROM mirt_dropped_anchor a WHERE a.run_id = m.run_id) d ON true
      LEFT JOIN LATERAL (
        SELECT count(*)::int AS n FROM mirt_item_fit f WHERE f.run_id = m.run_id AND f.drift_flag) fl ON true
      ORDER BY m.fitted_at DESC, m.run_id DESC`.execute(db),
    db
      .selectFrom('mirt_fit_meta')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return { total: Number(total.n), runs: runs.rows };
}

export interface ItemRun {
  run_id: string;
  model: string;
  fitted_at: Date;
  a: number;
  b: number;
  c: number;
  se_a: number | null;
  se_b: number | null;
  se_c: number | null;
  /** Responses the run used, and their proportion correct. */
  n: number | null;
  p: number | null;
  infit: number | null;
  outfit: number | null;
  infit_z: number | null;
  outfit_z: number | null;
  sx2: number | null;
  sx2_df: number | null;
  sx2_p: number | null;
  previous_run: string | null;
  da: number | null;
  db: number | null;
  dc: number | null;
  lord_chi2: number | null;
  drift_df: number | null;
  drift_p: number | null;
  drift_flag: boolean | null;
  /** Sessions of this run's bank that served the item, of `sessions` (null: none started on it). */
  served: number | null;
  sessions: number | null;
}

export interface ItemPage {
  item: { item_id: string; topic_id: string; topic: string; active: boolean; tags: string[] };
  /** Newest first. */
  runs: ItemRun[];
}

/** One item and its last `limit` succeeded runs: parameters with SEs, fit, drift, exposure. */
export async function itemPage(db: Db, itemId: string, limit: number): Promise<ItemPage | undefined> {
  const item = await db
    .selectFrom('item as i')
    .innerJoin('topic as t', 't.topic_id', 'i.topic_id')
    .select(['i.item_id', 'i.topic_id', 't.name as topic', 'i.active', 'i.tags'])
    .where('i.item_id', '=', itemId)
    .executeTakeFirst();
  if (!item) return undefined;
  const runs = await sql<ItemRun>`
    SELECT p.version AS run_id, p.model, p.fitted_at,
      (p.params->>'a')::float8 AS a, (p.params->>'b')::float8 AS b,
      coalesce((p.params->>'c')::float8, 0) AS c,
      (p.params->'se'->>'a')::float8 AS se_a, (p.params->'se'->>'b')::float8 AS se_b,
      (p.params->'se'->>'c')::float8 AS se_c,
      (p.params->>'n')::int AS n, (p.params->>'p')::float8 AS p,
      f.infit, f.outfit, f.infit_z, f.outfit_z, f.sx2, f.sx2_df, f.sx2_p,
      f.previous_run, f.da, f.db, f.dc, f.lord_chi2, f.drift_df, f.drift_p, f.drift_flag,
      e.served, r.sessions
    FROM mirt_item_params p
    JOIN mirt_fit_meta m ON m.run_id = p.version AND m.status = 'succeeded'
    LEFT JOIN mirt_item_fit f ON f.run_id = p.version AND f.item_id = p.item_id
    LEFT JOIN cat_exposure_run r ON r.run_id = p.version
    LEFT JOIN cat_exposure e ON e.run_id = p.version AND e.item_id = p.item_id
    WHERE p.item_id = ${itemId}
    ORDER BY p.fitted_at DESC, p.version DESC
    LIMIT ${limit}`.execute(db);
  return {
    item,
    runs: runs.rows.map((r) => (r.sessions !== null && r.served === null ? { ...r, served: 0 } : r)),
  };
}

/** How many items the bank has. */
export async function bankSize(db: Db): Promise<number> {
  const r = await db
    .selectFrom('item')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
