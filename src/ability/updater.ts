// The online θ update: EAP of one learner from the latest response per item of the last
// `lookbackDays` days, against the current item parameters and with the calibration's prior and
// grid, appended to mirt_ability as source 'online'. Shared by the API route and the queue worker.
//
// Speed: one round trip reads the calibration, the learner's responses and a stamp of the
// parameter tables; the item bank (an OnlineScorer with its log-probability tables) is cached per
// stamp, so a request costs one read, microseconds of EAP and one insert, both prepared statements
// (planning the read cost as much as running it).
import type { Database } from '../db/connection.js';
import { DEFAULT_GRID, type ItemParams, OnlineScorer } from '../irt/index.js';
import { insertOnlineTheta } from './repository.js';

export type ThetaUpdateErrorCode = 'NO_CALIBRATION' | 'NO_RESPONSES' | 'SESSION_NOT_FOUND';

/** A refusal the caller can act on (the API maps the code to its status). */
export class ThetaUpdateError extends Error {
  override name = 'ThetaUpdateError';
  constructor(
    readonly code: ThetaUpdateErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export interface ThetaUpdateRequest {
  userId: string;
  /** Recorded on the row; default: the session of the learner's newest response in the window. */
  sessionId?: string;
  lookbackDays: number;
  /** Score with the latest succeeded calibration of this model, using that run's parameters only. */
  model?: string;
  /** Score with this calibration run's parameters only. */
  version?: string;
}

export interface ThetaUpdate {
  userId: string;
  theta: number;
  se: number;
  model: string;
  version: string;
  sessionId: string | null;
  nResponses: number;
  /** Responses to items without parameters (not scored). */
  nSkipped: number;
  updatedAt: Date;
}

interface Bank {
  stamp: string;
  index: Map<string, number>;
  scorer: OnlineScorer;
}

/** Banks kept at once: the current parameters plus a few pinned runs. */
const BANK_CACHE_SIZE = 8;

/** $1 user, $2 lookback days, $3 run id or null, $4 model or null, $5 session id or null. */
const SNAPSHOT_SQL = `
  WITH fit AS (
    SELECT run_id, model, fitted_at,
      (model_spec->>'quadpts')::int AS quadpts, model_spec->'theta_lim' AS theta_lim,
      (metrics->>'latent_mean')::float8 AS latent_mean,
      (metrics->>'latent_variance')::float8 AS latent_variance
    FROM mirt_fit_meta
    WHERE status = 'succeeded' AND ($3::text IS NULL OR run_id = $3) AND ($4::text IS NULL OR model = $4)
    ORDER BY fitted_at DESC, run_id DESC
    LIMIT 1
  ), resp AS (
    SELECT DISTINCT ON (item_id) item_id, correct, session_id, answered_at, attempt_id
    FROM attempt
    -- Bounded by now: an answer dated ahead of the clock is not yet "the latest" (nor, for good, later).
    WHERE user_id = $1 AND answered_at >= now() - make_interval(days => $2::int) AND answered_at <= now()
    ORDER BY item_id, answered_at DESC, attempt_id DESC
  )
  SELECT f.run_id, f.model, f.fitted_at AS run_fitted_at, f.quadpts, f.theta_lim,
    f.latent_mean, f.latent_variance, s.runs, s.latest, r.item_ids, r.correct, r.newest_session,
    (SELECT user_id FROM exam_session WHERE session_id = $5) AS session_owner
  FROM (SELECT count(*) AS runs, max(fitted_at) AS latest FROM mirt_fit_meta WHERE status = 'succeeded') s
  LEFT JOIN fit f ON true
  CROSS JOIN (
    SELECT array_agg(item_id ORDER BY item_id) AS item_ids,
      array_agg(correct ORDER BY item_id) AS correct,
      (array_agg(session_id ORDER BY answered_at DESC, attempt_id DESC))[1] AS newest_session
    FROM resp) r`;

interface Snapshot {
  run_id: string | null;
  model: string | null;
  run_fitted_at: Date | null;
  quadpts: number | null;
  theta_lim: [number, number] | null;
  latent_mean: number | null;
  latent_variance: number | null;
  runs: string;
  latest: Date | null;
  item_ids: string[] | null;
  correct: boolean[] | null;
  newest_session: string | null;
  session_owner: string | null;
}

/** The prior and grid of a calibration run, with mirt's defaults where the run did not record them. */
export function priorOf(s: Pick<Snapshot, 'quadpts' | 'theta_lim' | 'latent_mean' | 'latent_variance'>) {
  const lim = s.theta_lim;
  return {
    quadpts:
      Number.isInteger(s.quadpts) && (s.quadpts ?? 0) >= 2 ? (s.quadpts as number) : DEFAULT_GRID.quadpts,
    thetaLim: (Array.isArray(lim) && lim.length === 2
      ? [Number(lim[0]), Number(lim[1])]
      : DEFAULT_GRID.thetaLim) as [number, number],
    mean: typeof s.latent_mean === 'number' ? s.latent_mean : 0,
    variance: typeof s.latent_variance === 'number' && s.latent_variance > 0 ? s.latent_variance : 1,
  };
}

export class ThetaUpdater {
  readonly #banks = new Map<string, Bank>();
  readonly #loading = new Map<string, Promise<Bank>>();

  constructor(private readonly database: Database) {}

  async update(req: ThetaUpdateRequest): Promise<ThetaUpdate> {
    const pinned = req.model !== undefined || req.version !== undefined;
    const { rows } = await this.database.query<Snapshot>(
      SNAPSHOT_SQL,
      [req.userId, req.lookbackDays, req.version ?? null, req.model ?? null, req.sessionId ?? null],
      'theta-update-snapshot',
    );
    const snap = rows[0]!;
    if (req.sessionId !== undefined && snap.session_owner !== req.userId) {
      throw new ThetaUpdateError('SESSION_NOT_FOUND', `no session ${req.sessionId} of user ${req.userId}`);
    }
    if (snap.run_id === null || snap.model === null || snap.run_fitted_at === null) {
      const which = req.version
        ? `calibration run ${req.version}${req.model ? ` of model ${req.model}` : ''}`
        : req.model
          ? `calibration of model ${req.model}`
          : 'calibration';
      throw new ThetaUpdateError(
        'NO_CALIBRATION',
        `no succeeded ${which} exists yet: run the mirt-calibrate job first`,
      );
    }
    const itemIds = snap.item_ids ?? [];
    if (itemIds.length === 0) {
      throw new ThetaUpdateError(
        'NO_RESPONSES',
        `user ${req.userId} has no response in the last ${req.lookbackDays} days`,
        { responses: 0, skipped: 0 },
      );
    }
    const key = pinned ? `run:${snap.run_id}` : 'current';
    const stamp = pinned
      ? snap.run_fitted_at.toISOString()
      : `${snap.runs}:${snap.latest?.toISOString()}:${snap.run_id}`;
    const bank = await this.#bank(key, stamp, snap);

    const correct = snap.correct ?? [];
    const idx = new Int32Array(itemIds.length);
    const x = new Uint8Array(itemIds.length);
    let n = 0;
    for (let r = 0; r < itemIds.length; r++) {
      const j = bank.index.get(itemIds[r]!);
      if (j === undefined) continue;
      idx[n] = j;
      x[n] = correct[r] ? 1 : 0;
      n++;
    }
    const skipped = itemIds.length - n;
    if (n === 0) {
      throw new ThetaUpdateError(
        'NO_RESPONSES',
        `none of the ${itemIds.length} items user ${req.userId} answered in the last ${req.lookbackDays} days has parameters yet`,
        { responses: itemIds.length, skipped },
      );
    }
    const { theta, se } = bank.scorer.eap(idx.subarray(0, n), x.subarray(0, n));
    const sessionId = req.sessionId ?? snap.newest_session;
    const updatedAt = await insertOnlineTheta(this.database, {
      userId: req.userId,
      theta,
      se,
      model: snap.model,
      version: snap.run_id,
      sessionId,
      nResponses: n,
    });
    return {
      userId: req.userId,
      theta,
      se,
      model: snap.model,
      version: snap.run_id,
      sessionId,
      nResponses: n,
      nSkipped: skipped,
      updatedAt,
    };
  }

  /** The cached bank for `key` if its stamp still matches, else a fresh one (one load per stamp). */
  async #bank(key: string, stamp: string, snap: Snapshot): Promise<Bank> {
    const cached = this.#banks.get(key);
    if (cached?.stamp === stamp) return cached;
    const loadKey = `${key}@${stamp}`;
    let loading = this.#loading.get(loadKey);
    if (!loading) {
      loading = this.#load(key, stamp, snap).finally(() => this.#loading.delete(loadKey));
      this.#loading.set(loadKey, loading);
    }
    return loading;
  }

  async #load(key: string, stamp: string, snap: Snapshot): Promise<Bank> {
    const rows =
      key === 'current'
        ? await this.database.db
            .selectFrom('mirt_item_params_current')
            .select(['item_id', 'params'])
            .execute()
        : await this.database.db
            .selectFrom('mirt_item_params')
            .select(['item_id', 'params'])
            .where('version', '=', snap.run_id!)
            .execute();
    const params: ItemParams[] = rows.map((r) => ({ a: r.params.a, b: r.params.b, c: r.params.c ?? 0 }));
    const bank: Bank = {
      stamp,
      index: new Map(rows.map((r, j) => [r.item_id, j])),
      scorer: new OnlineScorer(params, priorOf(snap)),
    };
    this.#banks.delete(key);
    this.#banks.set(key, bank);
    if (this.#banks.size > BANK_CACHE_SIZE) this.#banks.delete(this.#banks.keys().next().value!);
    return bank;
  }
}
