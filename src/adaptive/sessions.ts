// The next item of an adaptive session (docs/cat.md → The API). The state is in the database (the
// session's settings, the items served and the answers), so any replica gives the same answer and a
// restart loses nothing: one read (readCatSnapshot), microseconds of engine, and, when a new item is
// chosen, one write that records it (recordServed). Asking again before answering returns the
// recorded item.
//
// The bank (a CatBank: current parameters, topics, the items that may not be served) is cached per
// stamp of the calibration and of the inactive items, as the online θ update caches its scorer;
// engines (their settings validated, their buffers allocated) are cached per bank and settings.

import { priorOf } from '../ability/updater.js';
import { CatBank, CatEngine, type CatSettings, type Exposure } from '../cat/index.js';
import type { Database } from '../db/connection.js';
import { type CatSnapshot, readCatBank, readCatSnapshot, recordServed } from './repository.js';

/** An adaptive session's settings as stored in exam_session.settings (defaults filled in). */
export interface AdaptiveSettings {
  max_items: number;
  min_items: number;
  se_target: number | null;
  /** Target share per topic id. */
  topics: Record<string, number> | null;
  /** 'none', 'randomesque:k' or 'sympson-hetter' (the imported parameters of the latest run with a set). */
  exposure: string;
  kl_items: number;
  /** Items the learner answered in other sessions within this many days are not served. */
  exclude_days: number;
}

export type CatErrorCode =
  | 'SESSION_NOT_FOUND'
  | 'NOT_ADAPTIVE'
  | 'SESSION_CLOSED'
  | 'NO_CALIBRATION'
  | 'NO_EXPOSURE_PARAMS';

/** A refusal the caller can act on (the API maps the code to its status). */
export class CatSessionError extends Error {
  override name = 'CatSessionError';
  constructor(
    readonly code: CatErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type NextItem =
  | {
      done: false;
      itemId: string;
      topicId: string;
      position: number;
      theta: number;
      se: number;
      /** True when this request chose and recorded the item (false: it had been served already). */
      newlyServed: boolean;
    }
  | { done: true; reason: 'se_target' | 'max_items' | 'no_items'; theta: number; se: number; nItems: number };

interface Bank {
  stamp: string;
  bank: CatBank;
  /** Sympson–Hetter parameters in bank order (items outside the imported set: 1), or null. */
  sh: Float64Array | null;
  engines: Map<string, CatEngine>;
}

/** Test designs kept per bank (one per distinct settings object in use). */
const ENGINE_CACHE_SIZE = 64;

export function parseExposure(spec: string): Exposure | null {
  if (spec === 'none') return { kind: 'none' };
  const m = /^randomesque:([1-9]\d?)$/.exec(spec);
  return m ? { kind: 'randomesque', k: Number(m[1]) } : null;
}

export class CatSessions {
  #current: Bank | undefined;
  #loading: { stamp: string; bank: Promise<Bank> } | undefined;

  constructor(private readonly database: Database) {}

  /** The session's state; throws SESSION_NOT_FOUND. The caller authorises against `user_id`. */
  async load(sessionId: string): Promise<CatSnapshot & { user_id: string }> {
    const snap = await readCatSnapshot(this.database, sessionId);
    if (snap.user_id === null) throw new CatSessionError('SESSION_NOT_FOUND', `no session ${sessionId}`);
    return snap as CatSnapshot & { user_id: string };
  }

  /** The next item of the loaded session, recorded as served, or why the session is over. */
  async next(sessionId: string, snap: CatSnapshot): Promise<NextItem> {
    if (snap.mode !== 'adaptive' || snap.settings === null) {
      throw new CatSessionError('NOT_ADAPTIVE', `session ${sessionId} is not an adaptive session`);
    }
    if (snap.status !== 'open') {
      throw new CatSessionError('SESSION_CLOSED', `session ${sessionId} is ${snap.status}`);
    }
    const served = snap.served_items ?? [];
    const answers = new Map((snap.answered ?? []).map((id, i) => [id, snap.answered_correct![i]!]));
    const last = served.length - 1;
    if (last >= 0 && !answers.has(served[last]!)) {
      return {
        done: false,
        itemId: served[last]!,
        topicId: snap.served_topics![last]!,
        position: last + 1,
        theta: snap.served_theta![last]!,
        se: snap.served_se![last]!,
        newlyServed: false,
      };
    }
    if (snap.run_id === null) {
      throw new CatSessionError('NO_CALIBRATION', 'no succeeded calibration exists yet: the bank is empty');
    }
    const loaded = await this.#bank(snap);
    const { bank } = loaded;
    const engine = engineFor(loaded, snap.settings as unknown as AdaptiveSettings);

    // Served items the current bank no longer has (a recalibration mid-session dropped them) cannot
    // be scored: they are left out of θ (and cannot come back, the bank does not hold them).
    const items: number[] = [];
    const correct: number[] = [];
    for (const id of served) {
      const j = bank.indexOf(id);
      if (j === undefined) continue;
      items.push(j);
      correct.push(answers.get(id) ? 1 : 0);
    }
    const exclude: number[] = [];
    for (const id of snap.recent ?? []) {
      const j = bank.indexOf(id);
      if (j !== undefined) exclude.push(j);
    }
    const step = engine.next({ sessionId, items, correct, exclude });
    if (step.done) {
      return { done: true, reason: step.reason, theta: step.theta, se: step.se, nItems: served.length };
    }
    const { row, inserted } = await recordServed(this.database, {
      session_id: sessionId,
      position: served.length + 1,
      item_id: step.itemId,
      topic_id: step.topicId,
      run_id: snap.run_id,
      theta: step.theta,
      se: step.se,
    });
    return {
      done: false,
      itemId: row.item_id,
      topicId: row.topic_id,
      position: row.position,
      theta: row.theta,
      se: row.se,
      newlyServed: inserted,
    };
  }

  /** The cached bank if its stamp still matches, else a fresh one (one load per stamp). */
  async #bank(snap: CatSnapshot): Promise<Bank> {
    if (this.#current?.stamp === snap.stamp) return this.#current;
    if (this.#loading?.stamp !== snap.stamp) {
      const bank: Promise<Bank> = this.#load(snap)
        .then((loaded) => {
          this.#current = loaded;
          return loaded;
        })
        .finally(() => {
          if (this.#loading?.bank === bank) this.#loading = undefined;
        });
      this.#loading = { stamp: snap.stamp, bank };
    }
    return this.#loading.bank;
  }

  async #load(snap: CatSnapshot): Promise<Bank> {
    const rows = await readCatBank(this.database);
    const bank = new CatBank(
      rows.map((r) => ({
        itemId: r.item_id,
        topicId: r.topic_id,
        params: { a: r.params.a, b: r.params.b, c: r.params.c ?? 0 },
      })),
      { ...priorOf(snap), unavailable: rows.filter((r) => r.unavailable).map((r) => r.item_id) },
    );
    // Items the set does not name (new since the simulation) are never capped.
    const sh = rows[0]?.sh_run_id ? Float64Array.from(rows, (r) => r.sh_k ?? 1) : null;
    return { stamp: snap.stamp, bank, sh, engines: new Map() };
  }
}

function engineFor({ bank, sh, engines }: Bank, s: AdaptiveSettings): CatEngine {
  const key = JSON.stringify(s);
  let engine = engines.get(key);
  if (engine) return engine;
  let exposure = parseExposure(s.exposure) ?? { kind: 'none' };
  if (s.exposure === 'sympson-hetter') {
    if (!sh)
      throw new CatSessionError(
        'NO_EXPOSURE_PARAMS',
        'no Sympson–Hetter parameters have been imported (PUT /cat/sympson-hetter/{run_id})',
      );
    exposure = { kind: 'sympson-hetter', k: sh };
  }
  // Topics without a calibrated item cannot be served: they drop out of the balance (their share
  // is shared among the others) rather than failing every step.
  const topics = new Map(Object.entries(s.topics ?? {}).filter(([t]) => bank.topicIndex(t) !== undefined));
  const settings: CatSettings = {
    maxItems: s.max_items,
    minItems: s.min_items,
    seTarget: s.se_target ?? 0,
    klItems: s.kl_items,
    exposure,
    topics: [...topics.values()].some((x) => x > 0) ? topics : undefined,
  };
  engine = new CatEngine(bank, settings);
  engines.set(key, engine);
  if (engines.size > ENGINE_CACHE_SIZE) engines.delete(engines.keys().next().value!);
  return engine;
}
