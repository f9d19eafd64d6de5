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
import { InvalidInputError } from '../user-error.js';
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
  private readonly counts: Float64Array;
  private readonly topicOrder: number[];
  // The step's candidates, best first (a binary heap: larger criterion, then lower bank index).
  private readonly heapItem: Int32Array;
  private readonly heapValue: Float64Array;
  private heapSize = 0;
  // Maximum information: the candidates not yet in the heap, order[src .. srcEnd) of the bank's
  // infoOrder for the step's interval, null for the other rules (their heap holds all candidates).
  private order: Int32Array | null = null;
  private src = 0;
  private srcEnd = 0;
  private readonly top: Int32Array;
  // The current step's criterion, set by prepare() and read by value().
  private rule: Rule = 'mfi';
  private theta = 0;
  private g = 0;
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
      if (!(Number.isInteger(x) && x >= min))
        throw new InvalidInputError(`${what} must be an integer >= ${min}`);
      return x;
    };
    this.maxItems = int(settings.maxItems, 1, 'maxItems');
    this.minItems = int(settings.minItems ?? 1, 0, 'minItems');
    if (this.minItems > this.maxItems) throw new InvalidInputError('minItems must be at most maxItems');
    this.seTarget = settings.seTarget ?? 0;
    if (!(this.seTarget >= 0)) throw new InvalidInputError('seTarget must be >= 0');
    this.klItems = int(settings.klItems ?? 0, 0, 'klItems');
    this.strata = int(settings.aStrata ?? 0, 0, 'aStrata');
    this.exposure = settings.exposure ?? { kind: 'none' };
    if (this.exposure.kind === 'randomesque') int(this.exposure.k, 1, 'randomesque k');
    if (this.exposure.kind === 'sympson-hetter') {
      const k = this.exposure.k;
      if (k.length !== bank.n)
        throw new InvalidInputError(`Sympson–Hetter parameters: ${k.length} for ${bank.n} items`);
      for (const x of k)
        if (!(x >= 0 && x <= 1)) throw new InvalidInputError('Sympson–Hetter parameters must be in [0, 1]');
    }
    this.startTheta = settings.startTheta;
    if (this.startTheta !== undefined && !Number.isFinite(this.startTheta))
      throw new InvalidInputError('startTheta must be finite');
    this.shares = null;
    if (settings.topics && settings.topics.size > 0) {
      const shares = new Float64Array(bank.topics.length);
      let sum = 0;
      for (const [topic, share] of settings.topics) {
        const t = bank.topicIndex(topic);
        if (t === undefined) throw new InvalidInputError(`topic ${topic} has no item in the bank`);
        if (!(share >= 0 && Number.isFinite(share)))
          throw new InvalidInputError(`share of topic ${topic} must be >= 0`);
        shares[t] = share;
        sum += share;
      }
      if (!(sum > 0)) throw new InvalidInputError('topic shares must not all be 0');
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
    this.counts = new Float64Array(bank.topics.length);
    this.topicOrder = Array.from({ length: bank.topics.length }, (_, t) => t);
    this.heapItem = new Int32Array(bank.n);
    this.heapValue = new Float64Array(bank.n);
    this.top = new Int32Array(this.exposure.kind === 'randomesque' ? this.exposure.k : 1);
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
    if (!this.candidates(items, n))
      return { done: true, reason: 'no_items', theta: est.theta, se: est.se, nItems: n };
    const j = this.choose(state.sessionId, n + 1, stats);
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
   * Sets up the step's candidates: the eligible items of the first topic in Kingsbury–Zara order
   * that has any and, when a-stratified, of the first stratum in stage order that has any; false
   * when there are none.
   */
  private candidates(items: ArrayLike<number>, n: number): boolean {
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
    const { heapItem, heapValue } = this;
    this.order = null;
    for (const t of topics) {
      this.heapSize = 0;
      if (this.rule === 'mfi') {
        // Only as far down the information order as can still matter (see fill()).
        this.order = bank.infoOrder(this.g, t >= 0);
        this.src = t < 0 ? 0 : bank.topicPtr[t];
        this.srcEnd = t < 0 ? bank.n : bank.topicPtr[t + 1];
        this.fill();
        if (this.heapSize > 0) return true;
        continue;
      }
      for (let i = 0; i < nStrata; i++) {
        // Stage order: the current stratum, then the higher ones, then the lower ones.
        const s = i < nStrata - stage ? stage + i : nStrata - 1 - i;
        let m = 0;
        const o0 = t < 0 ? 0 : bank.topicPtr[t];
        const o1 = t < 0 ? bank.n : bank.topicPtr[t + 1];
        for (let o = o0; o < o1; o++) {
          const j = t < 0 ? o : bank.topicItems[o];
          if (this.mask[j] && (!stratumOf || stratumOf[j] === s)) {
            heapItem[m] = j;
            heapValue[m++] = this.value(j);
          }
        }
        if (m > 0) {
          this.heapSize = m;
          for (let p = (m >> 1) - 1; p >= 0; p--) this.siftDown(p);
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Maximum information: moves candidates from the information order into the heap until the
   * heap's best beats the next item's bound, which bounds every item after it: the heap's best is
   * then the best of all. The slack covers the rounding of the interpolation (a few ulps), so an
   * item tying the best is always scanned and the lower index wins as in a full scan.
   */
  private fill(): void {
    const order = this.order;
    if (!order) return;
    const info = this.bank.info;
    const { row0, row1, mask } = this;
    while (this.src < this.srcEnd) {
      const j = order[this.src];
      const bound = Math.max(info[row0 + j], info[row1 + j]) * BOUND_SLACK;
      if (this.heapSize > 0 && bound < this.heapValue[0]) return;
      this.src++;
      if (mask[j]) this.push(j, this.value(j));
    }
  }

  /** The best remaining candidate (its bank index), removed; -1 when none is left. */
  private pop(): number {
    this.fill();
    if (this.heapSize === 0) return -1;
    const j = this.heapItem[0];
    const last = --this.heapSize;
    this.heapItem[0] = this.heapItem[last];
    this.heapValue[0] = this.heapValue[last];
    this.siftDown(0);
    return j;
  }

  private push(j: number, v: number): void {
    const { heapItem, heapValue } = this;
    let i = this.heapSize++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!(v > heapValue[p] || (v === heapValue[p] && j < heapItem[p]))) break;
      heapItem[i] = heapItem[p];
      heapValue[i] = heapValue[p];
      i = p;
    }
    heapItem[i] = j;
    heapValue[i] = v;
  }

  private siftDown(i: number): void {
    const { heapItem, heapValue, heapSize } = this;
    const j = heapItem[i];
    const v = heapValue[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= heapSize) break;
      const r = c + 1;
      if (
        r < heapSize &&
        (heapValue[r] > heapValue[c] || (heapValue[r] === heapValue[c] && heapItem[r] < heapItem[c]))
      )
        c = r;
      if (!(heapValue[c] > v || (heapValue[c] === v && heapItem[c] < j))) break;
      heapItem[i] = heapItem[c];
      heapValue[i] = heapValue[c];
      i = c;
    }
    heapItem[i] = j;
    heapValue[i] = v;
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
      this.g = g;
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

  private choose(sessionId: string, position: number, stats?: SelectionStats): number {
    const { exposure } = this;
    if (exposure.kind === 'none') return this.pop();
    const h = hashId(sessionId);
    if (exposure.kind === 'randomesque') {
      // The k best (fewer when fewer are eligible), best first; ties keep the lower bank index first.
      const { top } = this;
      let k = 0;
      while (k < top.length) {
        const j = this.pop();
        if (j < 0) break;
        top[k++] = j;
      }
      return top[Math.floor(new Rng(mix(h, position)).next() * k)];
    }
    // Sympson–Hetter: items are offered in order of the criterion until one passes its lottery. An
    // item's lottery is drawn once per session (uniform from the session id and the item), so an
    // item refused once stays refused for the session, as in the original procedure, without any
    // state beyond the responses. When every eligible item is refused the best one is given.
    const first = this.pop();
    for (let j = first; j >= 0; j = this.pop()) {
      if (stats && stats.stamp[j] !== stats.session) {
        stats.stamp[j] = stats.session;
        stats.offered[j]++;
      }
      if (mix(h ^ SH_DOMAIN, j + 1) / 4294967296 < exposure.k[j]) return j;
    }
    return first;
  }
}

/** Relative slack of the information bound over the interpolated value's rounding (fill()). */
const BOUND_SLACK = 1 + 1e-12;

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
