// Ability estimation: EAP (posterior mean, SE = posterior SD) on a grid, MAP and ML by Newton on θ
// bounded to the grid's range (SE from the test information), and a fast online EAP for one learner.

import { InvalidInputError } from '../user-error.js';
import { type ItemParams, logTable } from './models.js';
import {
  addRows,
  normalizeLog,
  type PersonResponses,
  personPosterior,
  posteriorMoments,
  posteriorPass,
} from './posterior.js';
import { DEFAULT_GRID, makeGrid } from './quadrature.js';

export type ScoreMethod = 'eap' | 'map' | 'ml';

export interface ScoreOptions {
  /** Default 'eap'. */
  method?: ScoreMethod;
  /** Grid: default 61 nodes on [-6, 6] (the calibration grid). */
  quadpts?: number;
  thetaLim?: readonly [number, number];
  /** Prior N(mean, variance) for EAP and MAP; default N(0, 1). */
  mean?: number;
  variance?: number;
}

export interface Abilities {
  theta: Float64Array;
  se: Float64Array;
}

const NEWTON_STEPS = 50;

/**
 * Scores every person of `data` with `items[j]` the parameters of item j. EAP uses the grid and the
 * normal prior; MAP and ML start from the best grid node and refine by Newton's method inside
 * thetaLim (ML of an all-correct or all-wrong pattern ends at a bound).
 */
export function scorePersons(
  data: PersonResponses,
  items: readonly ItemParams[],
  opts: ScoreOptions = {},
): Abilities {
  const method = opts.method ?? 'eap';
  const lim = opts.thetaLim ?? DEFAULT_GRID.thetaLim;
  const mean = opts.mean ?? 0;
  const variance = opts.variance ?? 1;
  const grid = makeGrid(opts.quadpts ?? DEFAULT_GRID.quadpts, lim, mean, variance);
  const Q = grid.nodes.length;
  const table = logTable(items, grid.nodes);
  const logPrior = new Float64Array(Q);
  for (let k = 0; k < Q; k++) logPrior[k] = method === 'ml' ? 0 : Math.log(grid.weights[k]);
  const theta = new Float64Array(data.nPersons);
  const se = new Float64Array(data.nPersons);
  if (method === 'eap') {
    posteriorPass(data, table, 2, logPrior, grid.nodes, { theta, se });
    return { theta, se };
  }
  const post = new Float64Array(Q);
  const win = new Int32Array(2);
  const out = new Float64Array(2);
  const precision = method === 'map' ? 1 / variance : 0;
  for (let i = 0; i < data.nPersons; i++) {
    personPosterior(data, i, table, 2, logPrior, post, win);
    let best = 0;
    for (let k = 1; k < Q; k++) if (post[k] > post[best]) best = k;
    const from = data.personPtr[i];
    const to = data.personPtr[i + 1];
    modeNewton(
      items,
      data.personItem.subarray(from, to),
      data.personValue.subarray(from, to),
      grid.nodes[best],
      mean,
      precision,
      lim,
      out,
    );
    theta[i] = out[0];
    se[i] = out[1];
  }
  return { theta, se };
}

/** Marginal log-likelihood of `data` under fixed item parameters and the N(mean, variance) grid prior. */
export function marginalLogLik(
  data: PersonResponses,
  items: readonly ItemParams[],
  opts: Omit<ScoreOptions, 'method'> = {},
): number {
  const grid = makeGrid(
    opts.quadpts ?? DEFAULT_GRID.quadpts,
    opts.thetaLim ?? DEFAULT_GRID.thetaLim,
    opts.mean ?? 0,
    opts.variance ?? 1,
  );
  return posteriorPass(data, logTable(items, grid.nodes), 2, grid.weights.map(Math.log), grid.nodes, {});
}

/**
 * Maximises Σ log P(x_j | θ) − precision·(θ − mean)²/2 over θ in lim by Newton's method with
 * Fisher information and step halving, from `start`; writes θ and 1/√(information + precision).
 */
function modeNewton(
  items: readonly ItemParams[],
  idx: ArrayLike<number>,
  x: ArrayLike<number>,
  start: number,
  mean: number,
  precision: number,
  lim: readonly [number, number],
  out: Float64Array,
): void {
  const evalAt = (t: number, d: Float64Array): number => {
    let f = -0.5 * precision * (t - mean) ** 2;
    let g = -precision * (t - mean);
    let info = 0;
    for (let o = 0; o < idx.length; o++) {
      const p = items[idx[o]];
      const s = 1 / (1 + Math.exp(-p.a * (t - p.b)));
      const P = p.c + (1 - p.c) * s;
      const Qv = (1 - p.c) * (1 - s);
      const dP = p.a * (1 - p.c) * s * (1 - s);
      f += x[o] ? Math.log(P) : Math.log(Qv);
      g += ((x[o] - P) * dP) / (P * Qv);
      info += (dP * dP) / (P * Qv);
    }
    d[0] = g;
    d[1] = info + precision;
    return f;
  };
  const d = new Float64Array(2);
  let t = start;
  let f = evalAt(t, d);
  for (let it = 0; it < NEWTON_STEPS; it++) {
    let step = d[0] / d[1];
    let moved = false;
    for (let h = 0; h < 30; h++) {
      const tn = Math.min(lim[1], Math.max(lim[0], t + step));
      if (tn === t) break;
      const dn = new Float64Array(2);
      const fn = evalAt(tn, dn);
      if (fn >= f) {
        moved = Math.abs(tn - t) > 1e-10;
        t = tn;
        f = fn;
        d.set(dn);
        break;
      }
      step /= 2;
    }
    if (!moved) break;
  }
  evalAt(t, d);
  out[0] = t;
  out[1] = 1 / Math.sqrt(d[1]);
}

/** Item parameters of the R-compatible route: c is optional (0). */
export interface PositionalItem {
  a: number;
  b: number;
  c?: number;
}

/**
 * Scores rows of positional responses (entry j answers item j; null = not presented), the
 * original R service's /irt/score contract: by default EAP with N(0, 1) on 81 nodes over [-4, 4].
 * Throws InvalidInputError naming row and column for a value that is not 0, 1 or null.
 */
export function scorePositional(
  items: readonly PositionalItem[],
  responses: readonly (readonly (number | null)[])[],
  opts: ScoreOptions = {},
): { theta: number; se: number }[] {
  const ptr = [0];
  const item: number[] = [];
  const value: number[] = [];
  responses.forEach((row, i) => {
    if (row.length > items.length)
      throw new InvalidInputError(`row ${i + 1}: ${row.length} responses for ${items.length} items`);
    row.forEach((x, j) => {
      if (x === null) return;
      if (x !== 0 && x !== 1)
        throw new InvalidInputError(`row ${i + 1}, item ${j + 1}: response must be 0, 1 or null`);
      item.push(j);
      value.push(x);
    });
    ptr.push(item.length);
  });
  const data: PersonResponses = {
    nPersons: responses.length,
    personPtr: Int32Array.from(ptr),
    personItem: Int32Array.from(item),
    personValue: Uint8Array.from(value),
  };
  const params = items.map((p) => ({ a: p.a, b: p.b, c: p.c ?? 0 }));
  const { theta, se } = scorePersons(data, params, { quadpts: 81, thetaLim: [-4, 4], ...opts });
  return Array.from(theta, (t, i) => ({ theta: t, se: se[i] }));
}

/**
 * EAP of one learner against a fixed item bank, with log P / log Q tables precomputed once:
 * O(responses × nodes) additions and one exponential per node, no allocation per call.
 */
export class OnlineScorer {
  /** log P(x | θ_k) of every bank item at [(j·2 + x)·Q + k] (read by the adaptive engine's KL index). */
  readonly table: Float64Array;
  private readonly logPrior: Float64Array;
  /** The grid θ_k of the prior. */
  readonly nodes: Float64Array;
  private readonly post: Float64Array;
  private readonly mom = new Float64Array(2);
  private readonly win = new Int32Array(2);
  private readonly nItems: number;
  private item = new Int32Array(128);
  private correct = new Uint8Array(128);

  /** `items[j]` are the parameters of bank item j; the prior and grid as in ScoreOptions. */
  constructor(items: readonly ItemParams[], opts: Omit<ScoreOptions, 'method'> = {}) {
    const grid = makeGrid(
      opts.quadpts ?? DEFAULT_GRID.quadpts,
      opts.thetaLim ?? DEFAULT_GRID.thetaLim,
      opts.mean ?? 0,
      opts.variance ?? 1,
    );
    this.nodes = grid.nodes;
    this.nItems = items.length;
    this.table = logTable(items, grid.nodes);
    this.logPrior = grid.weights.map(Math.log);
    this.post = new Float64Array(grid.nodes.length);
  }

  /** EAP and posterior SD from responses correct[r] ∈ {0, 1} to bank items item[r]. */
  eap(item: ArrayLike<number>, correct: ArrayLike<number>): { theta: number; se: number } {
    const n = item.length;
    // Checked into typed scratch arrays, so the accumulation is the E-step's own (addRows, several
    // responses per sweep over the nodes) and always sees the same array types.
    if (this.item.length < n) {
      this.item = new Int32Array(Math.max(n, 2 * this.item.length));
      this.correct = new Uint8Array(this.item.length);
    }
    for (let r = 0; r < n; r++) {
      const x = correct[r];
      if (x !== 0 && x !== 1) throw new InvalidInputError(`response ${r + 1}: correct must be 0 or 1`);
      if (!(item[r] >= 0 && item[r] < this.nItems))
        throw new InvalidInputError(`response ${r + 1}: unknown item`);
      this.item[r] = item[r];
      this.correct[r] = x;
    }
    const Q = this.nodes.length;
    this.post.set(this.logPrior);
    addRows(this.item, this.correct, 0, n, this.table, 2, Q, this.post, 0, Q - 1);
    normalizeLog(this.post, this.win);
    posteriorMoments(this.post, this.nodes, this.mom);
    return { theta: this.mom[0], se: this.mom[1] };
  }
}
