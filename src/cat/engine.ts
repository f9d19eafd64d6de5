// Next-item selection for adaptive tests. Pure: the state is the session's responses so far (bank
// indices and 0/1) plus exclusion sets, so any replica computes the same answer from the database,
// and the only randomness (exposure control) is a function of the session id (and the position or
// the item), so a replay serves the same sequence. See docs/cat.md.
//
// One step: EAP θ and SE from the responses (the bank's OnlineScorer) → stopping rules → eligible
// items (available, not excluded, not answered) → Kingsbury–Zara topic → a-stratum (optional) →
// criterion (max Fisher information at θ̂; Chang–Ying KL index for the first items; |b − θ̂| in
// a-stratified mode) → exposure control (none: argmax; randomesque; Sympson–Hetter).

import { probability, Rng } from '../irt/index.js';
import type { CatBank } from './bank.js';

export type Exposure =
  | { kind: 'none' }
  /** Uniform among the k best items (Kingsbury & Zara 1989). */
  | { kind: 'randomesque'; k: number }
  /** Sympson & Hetter (1985): the selected item j is administered with probability k[j] (bank order). */
  | { kind: 'sympson-hetter'; k: Float64Array };

export interface CatSettings {
  maxItems: number;
  /** No SE stop before this many items; default 1. */
  minItems?: number;
  /** Stop once the posterior SD is at most this (and minItems are given); default none. */
  seTarget?: number;
  /** The first this-many items are chosen by the KL index instead of Fisher information; default 0. */
  klItems?: number;
  /** a-stratified selection with this many strata (Chang & Ying 1999); 0 or 1: off (default). */
  aStrata?: number;
  exposure?: Exposure;
  /** Target share per topic id (normalised to sum 1); topics not listed have share 0. */
  topics?: ReadonlyMap<string, number>;
  /** θ used to choose the first item (the learner's latest θ); default the prior mean. */
  startTheta?: number;
}

export interface CatState {
  /** Seeds the exposure-control draws together with the position. */
  sessionId: string;
  /** Bank indices of the items answered so far, in order, and the responses (0/1). */
  items: ArrayLike<number>;
  correct: ArrayLike<number>;
  /** Bank indices not to serve in this session (e.g. answered by the learner within N days). */
  exclude?: Iterable<number>;
}

export type StopReason = 'se_target' | 'max_items' | 'no_items';
export type Rule = 'mfi' | 'kl' | 'a-stratified';

export type NextStep =
  | {
      done: false;
      item: number;
      itemId: string;
      topicId: string;
      /** 1-based position of the item in the session. */
      position: number;
      theta: number;
      se: number;
      rule: Rule;
    }
  | { done: true; reason: StopReason; theta: number; se: number; nItems: number };

/**
 * Counters the Sympson–Hetter calibration reads: the sessions in which each item came up for its
 * lottery (counted once per session: `stamp` holds the last session counted, `session` the current).
 */
export interface SelectionStats {
  offered: Float64Array;
  stamp: Int32Array;
  session: number;
}

/** Chang & Ying (1996): the KL index integrates over θ̂ ± 3/√n. */
const KL_WIDTH = 3;

export class CatEngine {
  readonly maxItems: number;
  readonly minItems: number;
  readonly seTarget: number;
  readonly klItems: number;
  readonly strata: number;
  readonly exposure: Exposure;
  readonly startTheta: number | undefined;
  /** Target share per bank topic, or null when content is not balanced. */
  readonly shares: Float64Array | null;
  /** Stratum of each item (ascending a), when a-stratified. */
  readonly stratumOf: Int32Array | null;
  private readonly mask: Uint8Array;
  private readonly cand: Int32Array;
  private readonly crit: Float64Array;
  private readonly counts: Float64Array;
  private readonly topicOrder: number[];
  private readonly top: Int32Array;
  private readonly topValue: Float64Array;
  // The current step's criterion, set by prepare() and read by value().
  private rule: Rule = 'mfi';
  private theta = 0;
  private row0 = 0;
  private row1 = 0;
  private w = 0;
  private k0 = 0;
  private k1 = 0;

  constructor(
    readonly bank: CatBank,
    settings: CatSettings,
  ) {
    const int = (x: number, min: number, what: string) => {
      if (!(Number.isInteger(x) && x >= min)) throw new RangeError(`${what} must be an integer >= ${min}`);
      return x;
    };
    this.maxItems = int(settings.maxItems, 1, 'maxItems');
    this.minItems = int(settings.minItems ?? 1, 0, 'minItems');
    if (this.minItems > this.maxItems) throw new RangeError('minItems must be at most maxItems');
    this.seTarget = settings.seTarget ?? 0;
    if (!(this.seTarget >= 0)) throw new RangeError('seTarget must be >= 0');
    this.klItems = int(settings.klItems ?? 0, 0, 'klItems');
    this.strata = int(settings.aStrata ?? 0, 0, 'aStrata');
    this.exposure = settings.exposure ?? { kind: 'none' };
    if (this.exposure.kind === 'randomesque') int(this.exposure.k, 1, 'randomesque k');
    if (this.exposure.kind === 'sympson-hetter') {
      const k = this.exposure.k;
      if (k.length !== bank.n)
        throw new RangeError(`Sympson–Hetter parameters: ${k.length} for ${bank.n} items`);
      for (const x of k)
        if (!(x >= 0 && x <= 1)) throw new RangeError('Sympson–Hetter parameters must be in [0, 1]');
    }
    this.startTheta = settings.startTheta;
    if (this.startTheta !== undefined && !Number.isFinite(this.startTheta))
      throw new RangeError('startTheta must be finite');
    this.shares = null;
    if (settings.topics && settings.topics.size > 0) {
      const shares = new Float64Array(bank.topics.length);
      let sum = 0;
      for (const [topic, share] of settings.topics) {
        const t = bank.topicIndex(topic);
        if (t === undefined) throw new RangeError(`topic ${topic} has no item in the bank`);
        if (!(share >= 0 && Number.isFinite(share)))
          throw new RangeError(`share of topic ${topic} must be >= 0`);
        shares[t] = share;
        sum += share;
      }
      if (!(sum > 0)) throw new RangeError('topic shares must not all be 0');
      for (let t = 0; t < shares.length; t++) shares[t] /= sum;
      this.shares = shares;
    }
    this.stratumOf = null;
    if (this.strata > 1) {
      // Chang & Ying (1999): strata of equal size by ascending a; early stages use the low-a items.
      const order = Array.from({ length: bank.n }, (_, j) => j).sort(
        (i, j) => bank.params[i].a - bank.params[j].a || i - j,
      );
      const s = new Int32Array(bank.n);
      order.forEach((j, r) => {
        s[j] = Math.floor((r * this.strata) / bank.n);
      });
      this.stratumOf = s;
    }
    this.mask = new Uint8Array(bank.n);
    this.cand = new Int32Array(bank.n);
    this.crit = new Float64Array(bank.n);
    this.counts = new Float64Array(bank.topics.length);
    this.topicOrder = Array.from({ length: bank.topics.length }, (_, t) => t);
    const k = this.exposure.kind === 'randomesque' ? this.exposure.k : 1;
    this.top = new Int32Array(k);
    this.topValue = new Float64Array(k);
  }

  /** The next item for a session, or why it is over, with the current EAP θ and SE. */
  next(state: CatState, stats?: SelectionStats): NextStep {
    const { bank } = this;
    const { items, correct } = state;
    const n = items.length;
    const est = bank.scorer.eap(items, correct);
    if (n >= this.maxItems)
      return { done: true, reason: 'max_items', theta: est.theta, se: est.se, nItems: n };
    if (n >= this.minItems && est.se <= this.seTarget)
      return { done: true, reason: 'se_target', theta: est.theta, se: est.se, nItems: n };
    const theta = n === 0 && this.startTheta !== undefined ? this.startTheta : est.theta;

    const mask = this.mask;
    mask.set(bank.available);
    for (const j of state.exclude ?? []) if (j >= 0 && j < bank.n) mask[j] = 0;
    for (let r = 0; r < n; r++) mask[items[r]] = 0;

    const rule: Rule = this.stratumOf ? 'a-stratified' : n < this.klItems ? 'kl' : 'mfi';
    this.prepare(rule, theta, n);
    const m = this.candidates(items, n);
    if (m === 0) return { done: true, reason: 'no_items', theta: est.theta, se: est.se, nItems: n };
    const j = this.choose(m, state.sessionId, n + 1, stats);
    return {
      done: false,
      item: j,
      itemId: bank.itemIds[j],
      topicId: bank.topics[bank.topicOf[j]],
      position: n + 1,
      theta: est.theta,
      se: est.se,
      rule,
    };
  }

  /**
   * Fills `cand` (ascending bank order) and their criterion values `crit` with the eligible items of the first topic in
   * Kingsbury–Zara order that has any and, when a-stratified, of the first stratum in stage order
   * that has any; returns their number.
   */
  private candidates(items: ArrayLike<number>, n: number): number {
    const { bank, shares, stratumOf } = this;
    const stage = stratumOf ? Math.min(this.strata - 1, Math.floor((n * this.strata) / this.maxItems)) : 0;
    const nStrata = stratumOf ? this.strata : 1;
    const topics = shares ? this.topicOrder : [-1];
    if (shares) {
      // Kingsbury & Zara (1989): the topic furthest below its target share first. The shortfall is
      // counted after this item (share·(n + 1) − count), a quota rule that keeps every topic within
      // one item of share × length; ties go to the earlier topic.
      const counts = this.counts.fill(0);
      for (let r = 0; r < n; r++) counts[bank.topicOf[items[r]]]++;
      const deficit = (t: number) => shares[t] * (n + 1) - counts[t];
      this.topicOrder.sort((s, t) => deficit(t) - deficit(s) || s - t);
    }
    for (const t of topics) {
      for (let i = 0; i < nStrata; i++) {
        // Stage order: the current stratum, then the higher ones, then the lower ones.
        const s = i < nStrata - stage ? stage + i : nStrata - 1 - i;
        let m = 0;
        if (t < 0) {
          for (let j = 0; j < bank.n; j++)
            if (this.mask[j] && (!stratumOf || stratumOf[j] === s)) {
              this.cand[m] = j;
              this.crit[m++] = this.value(j);
            }
        } else {
          for (let o = bank.topicPtr[t]; o < bank.topicPtr[t + 1]; o++) {
            const j = bank.topicItems[o];
            if (this.mask[j] && (!stratumOf || stratumOf[j] === s)) {
              this.cand[m] = j;
              this.crit[m++] = this.value(j);
            }
          }
        }
        if (m > 0) return m;
      }
    }
    return 0;
  }

  /** Sets up the step's criterion (value(j): larger is better). */
  private prepare(rule: Rule, theta: number, n: number): void {
    const { bank } = this;
    this.rule = rule;
    this.theta = theta;
    if (rule === 'mfi') {
      // Linear interpolation in the bank's information table (θ clamped to its range).
      const x = Math.min(bank.infoPoints - 1, Math.max(0, (theta - bank.infoLo) / bank.infoStep));
      const g = Math.min(bank.infoPoints - 2, Math.floor(x));
      this.w = x - g;
      this.row0 = g * bank.n;
      this.row1 = this.row0 + bank.n;
    } else if (rule === 'kl') {
      // Chang & Ying (1996): the nodes θ_k of the scorer's grid in θ̂ ± 3/√n (equally spaced, so the
      // sum below is the integral up to the constant spacing). Nodes on the ends count (1e-9 of a
      // spacing absorbs the grid's rounding).
      const nodes = bank.scorer.nodes;
      const Q = nodes.length;
      const h = nodes[1] - nodes[0];
      const delta = KL_WIDTH / Math.sqrt(Math.max(1, n));
      this.k0 = Math.max(0, Math.ceil((theta - delta - nodes[0]) / h - 1e-9));
      this.k1 = Math.min(Q - 1, Math.floor((theta + delta - nodes[0]) / h + 1e-9));
      if (this.k0 > this.k1)
        this.k0 = this.k1 = Math.min(Q - 1, Math.max(0, Math.round((theta - nodes[0]) / h)));
    }
  }

  /** The criterion of item j at this step. */
  private value(j: number): number {
    const { bank } = this;
    if (this.rule === 'mfi') {
      const info = bank.info;
      const i0 = info[this.row0 + j];
      return i0 + this.w * (info[this.row1 + j] - i0);
    }
    if (this.rule === 'kl') return this.klIndex(j);
    // a-stratified: within the stage's stratum, the item whose b is closest to θ̂.
    return -Math.abs(bank.params[j].b - this.theta);
  }

  /**
   * Σ_k KL(P(θ̂) ‖ P(θ_k)) of item j from the scorer's log-probability table (a method of its own so
   * that value() stays small enough to be inlined into the candidate scan).
   */
  private klIndex(j: number): number {
    const { bank } = this;
    const table = bank.scorer.table;
    const Q = bank.scorer.nodes.length;
    const p = probability(bank.params[j], this.theta);
    const q = 1 - p;
    const lp = p > 0 ? Math.log(p) : 0;
    const lq = q > 0 ? Math.log(q) : 0;
    const row0 = 2 * j * Q;
    const row1 = row0 + Q;
    let kl = 0;
    for (let k = this.k0; k <= this.k1; k++) kl += p * (lp - table[row1 + k]) + q * (lq - table[row0 + k]);
    return kl;
  }

  /** Index into cand of the best remaining candidate (lowest bank index on ties); knocks it out. */
  private takeBest(m: number): number {
    const crit = this.crit;
    let best = -1;
    let bestValue = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < m; i++) {
      if (crit[i] > bestValue) {
        bestValue = crit[i];
        best = i;
      }
    }
    if (best < 0) return -1;
    crit[best] = Number.NEGATIVE_INFINITY;
    return best;
  }

  private choose(m: number, sessionId: string, position: number, stats?: SelectionStats): number {
    const { cand, exposure } = this;
    if (exposure.kind === 'none') return cand[this.takeBest(m)];
    const h = hashId(sessionId);
    if (exposure.kind === 'randomesque') {
      // The k best in one pass (insertion into a sorted list; ties keep the lower bank index first).
      const k = Math.min(exposure.k, m);
      const { top, topValue, crit } = this;
      let filled = 0;
      for (let i = 0; i < m; i++) {
        const v = crit[i];
        if (filled === k && !(v > topValue[k - 1])) continue;
        let pos = filled < k ? filled++ : k - 1;
        while (pos > 0 && topValue[pos - 1] < v) {
          top[pos] = top[pos - 1];
          topValue[pos] = topValue[pos - 1];
          pos--;
        }
        top[pos] = i;
        topValue[pos] = v;
      }
      return cand[top[Math.floor(new Rng(mix(h, position)).next() * k)]];
    }
    // Sympson–Hetter: items are offered in order of the criterion until one passes its lottery. An
    // item's lottery is drawn once per session (uniform from the session id and the item), so an
    // item refused once stays refused for the session, as in the original procedure, without any
    // state beyond the responses. When every eligible item is refused the best one is given.
    let first = -1;
    for (;;) {
      const i = this.takeBest(m);
      if (i < 0) return cand[first];
      if (first < 0) first = i;
      const j = cand[i];
      if (stats && stats.stamp[j] !== stats.session) {
        stats.stamp[j] = stats.session;
        stats.offered[j]++;
      }
      if (mix(h ^ SH_DOMAIN, j + 1) / 4294967296 < exposure.k[j]) return j;
    }
  }
}

/** Separates the item lotteries' stream from the positions' stream of one session. */
const SH_DOMAIN = 0x5bd1e995;

/** FNV-1a of a session id. */
function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** murmur3's finaliser of a hash combined with an integer: 32 well-mixed bits. */
function mix(h: number, x: number): number {
  let z = h ^ Math.imul(x, 0x9e3779b1);
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
