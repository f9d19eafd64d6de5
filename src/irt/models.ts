// Item response models. The EM loop only talks to the `ItemModel` interface: per-category log
// probabilities on the grid, an M-step on expected category counts, and per-node scores for
// standard errors. A polytomous model (graded response) plugs in by implementing it with nCat > 2.

import { choleskySolve, ridgedCholesky } from '../math/linear-algebra.js';
import { normalQuantile } from '../math/normal.js';
import { InvalidInputError } from '../user-error.js';

/** Item parameters in the IRT form of the logistic models: P = c + (1 − c)·σ(a(θ − b)); d = −a·b. */
export interface ItemParams {
  a: number;
  b: number;
  c: number;
}

/** Standard errors and the covariance matrix of the estimated IRT-form parameters (`names`, row-major). */
export interface ParamCovariance {
  se: Record<string, number>;
  names: string[];
  matrix: number[];
  /** Parameters held at their bound (no SE). */
  boundary: string[];
}

/** Model names accepted by the engine; '1PL' is a synonym of 'Rasch'. */
export type ModelName = 'Rasch' | '1PL' | '2PL' | '3PL';

/** Optional priors: log-normal on a, normal on b, Beta on c (the density of c itself, no Jacobian). */
export interface ItemPriors {
  a?: { meanlog: number; sdlog: number };
  b?: { mean: number; sd: number };
  c?: { alpha: number; beta: number };
}

/** One item model, shared by all items of a calibration. Internal vectors have length `nPar`. */
export interface ItemModel {
  readonly name: string;
  /** Number of response categories (2 for dichotomous items). */
  readonly nCat: number;
  /** Length of an item's internal parameter vector. */
  readonly nPar: number;
  /** Indices of the internal vector that are estimated (the others are constants of the model). */
  readonly free: readonly number[];
  /** Writes starting values into `v` from the item's observed category frequencies. */
  start(catFreq: Float64Array, v: Float64Array): void;
  /** Writes the internal vector of `p` into `v`. */
  fromParams(p: ItemParams, v: Float64Array): void;
  /** Reads the IRT-form parameters from an internal vector. */
  toParams(v: Float64Array): ItemParams;
  /** log P(category x | θ_k) into out[x·Q + k] for the Q nodes. */
  logProb(v: Float64Array, nodes: Float64Array, out: Float64Array): void;
  /**
   * M-step: replaces the free entries of `v` by the maximiser of
   * Σ_x Σ_k counts[x·Q + k] · log P(x | θ_k) + log prior.
   */
  maximize(v: Float64Array, nodes: Float64Array, counts: Float64Array): void;
  /** ∂ log P(x | θ_k) / ∂ v[free[p]] into out[(x·Q + k)·free.length + p] (for standard errors). */
  score(v: Float64Array, nodes: Float64Array, out: Float64Array): void;
  /**
   * Standard errors and covariance of the reported parameters from the covariance of the free entries
   * (delta method); entries flagged in `boundary` are left out (no SE is reported for them).
   */
  standardErrors(v: Float64Array, cov: Float64Array, boundary?: readonly boolean[]): ParamCovariance;
  /** Optional: adds the log prior's curvature (its information) over the free entries to `info` (m×m). */
  priorInformation?(v: Float64Array, info: Float64Array): void;
  /** Optional: which free entries sit at a bound of the parameter space (their information vanishes). */
  atBoundary?(v: Float64Array): boolean[];
  /** Optional: true when log P(x | θ) is concave in θ for every category (enables the windowed E-step). */
  isLogConcave?(v: Float64Array): boolean;
  /** Optional: mirt's start values (for the mirt-compatible path); falls back to `start`. */
  mirtStart?(catFreq: Float64Array, v: Float64Array): void;
  /**
   * Optional (needed by the joint BFGS M-step): Σ_x Σ_k counts[x·Q + k] · log P(x | θ_k) + log prior,
   * computed as mirt does (P(0) = 1 − P(1)); non-finite outside the parameter space.
   */
  emObjective?(v: Float64Array, nodes: Float64Array, counts: Float64Array): number;
  /** Optional: gradient of emObjective in the free entries into out[0 .. free.length). */
  emGradient?(v: Float64Array, nodes: Float64Array, counts: Float64Array, out: Float64Array): void;
}

/**
 * log(1 + e^−|z|): both softplus(z) = log(1 + e^z) = max(z, 0) + r and softplus(−z) = max(−z, 0) + r
 * follow from it without overflow or loss of precision, so log σ(z) and log(1 − σ(z)) cost one
 * exponential and one logarithm together.
 */
function softplusRest(z: number): number {
  return Math.log1p(Math.exp(-Math.abs(z)));
}

const A = 0;
const D = 1;
const G = 2;
const MAX_NEWTON = 50;
const C_BOUND = 1e-4;
const NEWTON_TOL = 1e-10;

/**
 * The logistic family with internal vector [a, d, g], g = logit(c) (g = −∞ when c = 0), z = aθ + d.
 * Rasch estimates d only (a = 1), 2PL a and d, 3PL a, d and g.
 */
class Logistic implements ItemModel {
  readonly nCat = 2;
  readonly nPar = 3;
  readonly free: readonly number[];
  private readonly dP: Float64Array;
  /** The objective's log P(category | node) (resized to the grid). */
  private logP = new Float64Array(0);

  constructor(
    readonly name: 'Rasch' | '2PL' | '3PL',
    private readonly priors: ItemPriors,
  ) {
    this.free = name === 'Rasch' ? [D] : name === '2PL' ? [A, D] : [A, D, G];
    this.dP = new Float64Array(3);
  }

  start(catFreq: Float64Array, v: Float64Array): void {
    const n = catFreq[0] + catFreq[1];
    const cp = this.priors.c;
    const c = this.name !== '3PL' ? 0 : cp ? (cp.alpha - 1) / (cp.alpha + cp.beta - 2) : 0.2;
    const p = Math.min(0.99, Math.max(0.01, (catFreq[1] / n - c) / (1 - c)));
    v[A] = 1;
    // Marginal P ≈ logistic(d / √(1 + 0.346 a²)) under N(0, 1) (probit approximation), a = 1.
    v[D] = Math.log(p / (1 - p)) * (this.name === 'Rasch' ? 1 : 1.16);
    v[G] = c === 0 ? Number.NEGATIVE_INFINITY : Math.log(c / (1 - c));
  }

  /**
   * mirt's start values for a unidimensional confirmatory model: slope 0.5·1.702 = 0.851 (1 for
   * Rasch), intercept −Φ⁻¹(p₀)·1.702/√0.75 with p₀ the proportion incorrect, guessing 0.15 for 3PL
   * (the prior mode with a Beta prior).
   */
  mirtStart(catFreq: Float64Array, v: Float64Array): void {
    const n = catFreq[0] + catFreq[1];
    const div = Math.sqrt(Math.abs(1 - 0.5 * 0.5)) / 1.702;
    v[A] = this.name === 'Rasch' ? 1 : 0.5 * 1.702;
    v[D] = (-1 * normalQuantile(catFreq[0] / n)) / div;
    const cp = this.priors.c;
    const c = this.name !== '3PL' ? 0 : cp ? (cp.alpha - 1) / (cp.alpha + cp.beta - 2) : 0.15;
    v[G] = c === 0 ? Number.NEGATIVE_INFINITY : Math.log(c / (1 - c));
  }

  /** log σ(z) and log(1 − σ(z)) are concave; with guessing (c > 0) log P is not. */
  isLogConcave(v: Float64Array): boolean {
    return v[G] === Number.NEGATIVE_INFINITY;
  }

  emObjective(v: Float64Array, nodes: Float64Array, counts: Float64Array): number {
    const Q = nodes.length;
    const a = v[A];
    const d = v[D];
    const c = guess(v[G]);
    let f = 0;
    for (let k = 0; k < Q; k++) {
      const p = c + (1 - c) / (1 + Math.exp(-clampZ(a * nodes[k] + d)));
      f += counts[Q + k] * Math.log(p) + counts[k] * Math.log(1 - p);
    }
    return f + this.logPrior(v);
  }

  emGradient(v: Float64Array, nodes: Float64Array, counts: Float64Array, out: Float64Array): void {
    const Q = nodes.length;
    const free = this.free;
    const m = free.length;
    const a = v[A];
    const d = v[D];
    const c = guess(v[G]);
    out.fill(0, 0, m);
    for (let k = 0; k < Q; k++) {
      const r = counts[Q + k];
      const n = counts[k] + r;
      const z = clampZ(a * nodes[k] + d);
      if (c === 0) {
        // Canonical link: ∂/∂z = r − n·P.
        const res = r - n / (1 + Math.exp(-z));
        for (let i = 0; i < m; i++) out[i] += free[i] === A ? res * nodes[k] : free[i] === D ? res : 0;
        continue;
      }
      const s = 1 / (1 + Math.exp(-z));
      const p = c + (1 - c) * s;
      const q = 1 - p;
      this.derivs(v[G], c, nodes[k], s);
      const res = (r - n * p) / (p * q);
      for (let i = 0; i < m; i++) out[i] += res * this.dP[free[i]];
    }
    const info = new Float64Array(m * m);
    this.addPrior(v, out, info);
  }

  fromParams(p: ItemParams, v: Float64Array): void {
    if (!(Number.isFinite(p.a) && Number.isFinite(p.b) && p.c >= 0 && p.c < 1)) {
      throw new InvalidInputError(`invalid item parameters a=${p.a} b=${p.b} c=${p.c}`);
    }
    v[A] = p.a;
    v[D] = -p.a * p.b;
    v[G] = p.c === 0 ? Number.NEGATIVE_INFINITY : Math.log(p.c / (1 - p.c));
  }

  toParams(v: Float64Array): ItemParams {
    return { a: v[A], b: -v[D] / v[A], c: guess(v[G]) };
  }

  logProb(v: Float64Array, nodes: Float64Array, out: Float64Array): void {
    const Q = nodes.length;
    const a = v[A];
    const d = v[D];
    const c = guess(v[G]);
    const log1mc = Math.log1p(-c);
    for (let k = 0; k < Q; k++) {
      const z = a * nodes[k] + d;
      const r = softplusRest(z);
      out[k] = log1mc - (Math.max(z, 0) + r);
      // log(c + (1 − c)σ(z)); the c = 0 branch keeps full precision in the far tail.
      out[Q + k] = c === 0 ? -(Math.max(-z, 0) + r) : Math.log(c + (1 - c) / (1 + Math.exp(-z)));
    }
  }

  /** Expected complete-data log-likelihood plus log prior; −∞ outside the parameter space. */
  private objective(v: Float64Array, nodes: Float64Array, counts: Float64Array): number {
    const Q = nodes.length;
    if (this.logP.length !== 2 * Q) this.logP = new Float64Array(2 * Q);
    const logP = this.logP;
    this.logProb(v, nodes, logP);
    let f = 0;
    for (let k = 0; k < Q; k++) f += counts[k] * logP[k] + counts[Q + k] * logP[Q + k];
    return f + this.logPrior(v);
  }

  private logPrior(v: Float64Array): number {
    const { a: pa, b: pb, c: pc } = this.priors;
    let f = 0;
    if (pa) {
      if (!(v[A] > 0)) return Number.NEGATIVE_INFINITY;
      const u = (Math.log(v[A]) - pa.meanlog) / pa.sdlog;
      f += -0.5 * u * u - Math.log(v[A]);
    }
    if (pb) {
      const u = (-v[D] / v[A] - pb.mean) / pb.sd;
      f += -0.5 * u * u;
    }
    if (pc && this.name === '3PL') {
      const c = guess(v[G]);
      f += (pc.alpha - 1) * Math.log(c) + (pc.beta - 1) * Math.log1p(-c);
    }
    return f;
  }

  /** ∂P/∂[a, d, g] at θ into this.dP, given s = σ(aθ + d). */
  private derivs(g: number, c: number, theta: number, s: number): void {
    const dz = (1 - c) * s * (1 - s);
    this.dP[A] = dz * theta;
    this.dP[D] = dz;
    this.dP[G] = Number.isFinite(g) ? (1 - s) * c * (1 - c) : 0;
  }

  maximize(v: Float64Array, nodes: Float64Array, counts: Float64Array): void {
    const Q = nodes.length;
    const free = this.free;
    const m = free.length;
    const grad = new Float64Array(m);
    const info = new Float64Array(m * m);
    const step = new Float64Array(m);
    const trial = new Float64Array(3);
    let f = this.objective(v, nodes, counts);
    for (let iter = 0; iter < MAX_NEWTON; iter++) {
      grad.fill(0);
      info.fill(0);
      const a = v[A];
      const d = v[D];
      const c = guess(v[G]);
      for (let k = 0; k < Q; k++) {
        const r = counts[Q + k];
        const n = counts[k] + r;
        if (n === 0) continue;
        const z = a * nodes[k] + d;
        const s = 1 / (1 + Math.exp(-z));
        const p = c + (1 - c) * s;
        const q = (1 - c) * (1 - s);
        this.derivs(v[G], c, nodes[k], s);
        const res = (r - n * p) / (p * q);
        const w = n / (p * q);
        // Fisher scoring: the expected information is positive definite and, for Rasch and 2PL
        // (canonical link), equal to the observed one.
        for (let i = 0; i < m; i++) {
          const di = this.dP[free[i]];
          grad[i] += res * di;
          for (let j = 0; j <= i; j++) info[i * m + j] += w * di * this.dP[free[j]];
        }
      }
      this.addPrior(v, grad, info);
      for (let i = 0; i < m; i++) for (let j = 0; j < i; j++) info[j * m + i] = info[i * m + j];
      const L = ridgedCholesky(info, m);
      if (!L) return;
      choleskySolve(L, grad, step, m);
      let t = 1;
      let accepted = false;
      for (let h = 0; h < 40; h++) {
        trial.set(v);
        for (let i = 0; i < m; i++) trial[free[i]] += t * step[i];
        const ft = this.objective(trial, nodes, counts);
        if (ft >= f - 1e-12 * Math.abs(f)) {
          accepted = true;
          f = ft;
          break;
        }
        t /= 2;
      }
      if (!accepted) return;
      let change = 0;
      for (let i = 0; i < m; i++) change = Math.max(change, Math.abs(trial[free[i]] - v[free[i]]));
      v.set(trial);
      if (change < NEWTON_TOL) return;
    }
  }

  /** Adds the log prior's gradient and (positive) curvature over the free entries. */
  private addPrior(v: Float64Array, grad: Float64Array, info: Float64Array): void {
    const { a: pa, b: pb, c: pc } = this.priors;
    const free = this.free;
    const m = free.length;
    const ia = free.indexOf(A);
    const id = free.indexOf(D);
    const ig = free.indexOf(G);
    const a = v[A];
    if (pa && ia >= 0) {
      const u = Math.log(a) - pa.meanlog;
      const s2 = pa.sdlog * pa.sdlog;
      grad[ia] += -u / (a * s2) - 1 / a;
      info[ia * m + ia] += 1 / (a * a * s2);
    }
    if (pb) {
      // b = −d/a: Gauss–Newton curvature of the normal log density through b.
      const s2 = pb.sd * pb.sd;
      const res = (-v[D] / a - pb.mean) / s2;
      const db = [v[D] / (a * a), -1 / a];
      const idx = [ia, id];
      for (let i = 0; i < 2; i++) {
        if (idx[i] < 0) continue;
        grad[idx[i]] += -res * db[i];
        for (let j = 0; j < 2; j++) if (idx[j] >= 0) info[idx[i] * m + idx[j]] += (db[i] * db[j]) / s2;
      }
    }
    if (pc && ig >= 0) {
      const c = guess(v[G]);
      grad[ig] += (pc.alpha - 1) * (1 - c) - (pc.beta - 1) * c;
      info[ig * m + ig] += (pc.alpha + pc.beta - 2) * c * (1 - c);
    }
  }

  score(v: Float64Array, nodes: Float64Array, out: Float64Array): void {
    const Q = nodes.length;
    const free = this.free;
    const m = free.length;
    const a = v[A];
    const d = v[D];
    const c = guess(v[G]);
    for (let k = 0; k < Q; k++) {
      const z = a * nodes[k] + d;
      const s = 1 / (1 + Math.exp(-z));
      const p = c + (1 - c) * s;
      const q = (1 - c) * (1 - s);
      this.derivs(v[G], c, nodes[k], s);
      for (let i = 0; i < m; i++) {
        out[k * m + i] = -this.dP[free[i]] / q;
        out[(Q + k) * m + i] = this.dP[free[i]] / p;
      }
    }
  }

  /**
   * Lower bound of c treated as reached: the EM drives logit c towards −∞ without a prior, and the
   * information on it vanishes like c, so its SE is undefined there (mirt reports such a parameter
   * at its bound without an SE). 1e-4 is far below any guessing rate that matters.
   */
  atBoundary(v: Float64Array): boolean[] {
    return this.free.map((p) => p === G && guess(v[G]) < C_BOUND);
  }

  priorInformation(v: Float64Array, info: Float64Array): void {
    this.addPrior(v, new Float64Array(this.free.length), info);
  }

  standardErrors(v: Float64Array, cov: Float64Array, boundary?: readonly boolean[]): ParamCovariance {
    const free = this.free;
    const m = free.length;
    const a = v[A];
    const c = guess(v[G]);
    // Jacobian of the IRT-form (a, b, c) in the free internal entries: b = −d/a, c = σ(g).
    const rows: { name: string; grad: number[] }[] = [];
    const entry = (p: number, value: number) => free.map((q) => (q === p ? value : 0));
    const usable = (p: number) => free.includes(p) && !boundary?.[free.indexOf(p)];
    if (usable(A)) rows.push({ name: 'a', grad: entry(A, 1) });
    rows.push({ name: 'b', grad: free.map((q) => (q === A ? v[D] / (a * a) : q === D ? -1 / a : 0)) });
    if (usable(G)) rows.push({ name: 'c', grad: entry(G, c * (1 - c)) });
    const quad = (x: number[], y: number[]) => {
      let s = 0;
      for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) s += x[i] * cov[i * m + j] * y[j];
      return s;
    };
    const matrix = rows.flatMap((r) => rows.map((t) => quad(r.grad, t.grad)));
    const se: Record<string, number> = { d: Math.sqrt(quad(entry(D, 1), entry(D, 1))) };
    rows.forEach((r, i) => {
      se[r.name] = Math.sqrt(matrix[i * rows.length + i]);
    });
    return {
      se,
      names: rows.map((r) => r.name),
      matrix,
      boundary: free.includes(G) && !usable(G) ? ['c'] : [],
    };
  }
}

/**
 * mirt bounds the linear predictor to ±35 when it evaluates item curves (ABS_MAX_Z), so the
 * expected log-likelihood stays finite at the far trial points of its M-step optimisers; the
 * mirt-compatible objective does the same (inside ±35, where every fit ends, it changes nothing).
 */
const MIRT_MAX_Z = 35;
function clampZ(z: number): number {
  return Math.min(MIRT_MAX_Z, Math.max(-MIRT_MAX_Z, z));
}

/** c from its logit (0 for −∞). */
function guess(g: number): number {
  return g === Number.NEGATIVE_INFINITY ? 0 : 1 / (1 + Math.exp(-g));
}

/** The item model for a model name ('1PL' means 'Rasch'); priors that do not apply are ignored. */
export function itemModel(name: ModelName, priors: ItemPriors = {}): ItemModel {
  switch (name) {
    case 'Rasch':
    case '1PL':
      return new Logistic('Rasch', {});
    case '2PL':
      return new Logistic('2PL', { a: priors.a, b: priors.b });
    case '3PL':
      return new Logistic('3PL', priors);
    default:
      throw new InvalidInputError(`unknown model '${name as string}' (Rasch, 1PL, 2PL or 3PL)`);
  }
}

/** P(correct | θ) of a logistic item. */
export function probability(p: ItemParams, theta: number): number {
  return p.c + (1 - p.c) / (1 + Math.exp(-p.a * (theta - p.b)));
}

/**
 * Log-probability table of dichotomous items on a grid: out[(j·2 + x)·Q + k] = log P(x | θ_k) for
 * item j — the layout the E-step and scoring read.
 */
export function logTable(items: readonly ItemParams[], nodes: Float64Array): Float64Array {
  const Q = nodes.length;
  const model = itemModel('3PL');
  const v = new Float64Array(3);
  const out = new Float64Array(items.length * 2 * Q);
  for (let j = 0; j < items.length; j++) {
    model.fromParams(items[j], v);
    model.logProb(v, nodes, out.subarray(j * 2 * Q, (j + 1) * 2 * Q));
  }
  return out;
}
