// Numerical pieces of the mirt-compatible estimation path (see docs/irt.md → Agreement with mirt):
// the variable-metric (BFGS) minimiser of Nash (1990, Compact Numerical Methods, Algorithm 21) with
// the constants and stopping rules of R's optim(method = "BFGS"), the bounded limited-memory BFGS of
// R's optim(method = "L-BFGS-B") that mirt uses when latent parameters are estimated. They follow the
// same sequence of decisions as the R implementations, so that an EM run built on them stops where
// mirt stops.

import { NumericalFailure } from '../user-error.js';
import { solveSmall } from './linear-algebra.js';

/** Objective to minimise; may return a non-finite value outside its domain. */
export type Objective = (x: Float64Array) => number;
/** Gradient of the objective at x into g. */
export type Gradient = (x: Float64Array, g: Float64Array) => void;

export interface VariableMetricResult {
  /** Objective at the returned point. */
  value: number;
  /** Objective and gradient evaluations. */
  fnCount: number;
  grCount: number;
  /** True when the iteration limit stopped the search. */
  hitLimit: boolean;
}

/** R's optim defaults: reltol = sqrt(machine epsilon), no absolute tolerance. */
export const OPTIM_RELTOL = 1.4901161193847656e-8;

const STEP_REDUCTION = 0.2;
const ACCEPT_TOL = 1e-4;
const REL_TEST = 10;

/**
 * Minimises `fn` from `x` (updated in place) by the variable-metric method: an inverse-Hessian
 * approximation B (reset to the identity when it stops being useful), a backtracking line search
 * along −B·g with factor 0.2 and acceptance fn ≤ f0 + 1e-4·step·gᵀd, and the BFGS update of B. It
 * stops when a step changes no coordinate, when the decrease of fn is below reltol relative to |fn|,
 * or after `maxit` gradient evaluations.
 */
export function variableMetric(
  x: Float64Array,
  fn: Objective,
  gr: Gradient,
  maxit: number,
  reltol = OPTIM_RELTOL,
): VariableMetricResult {
  const n = x.length;
  let f = fn(x);
  if (maxit <= 0) return { value: f, fnCount: 0, grCount: 0, hitLimit: false };
  if (!Number.isFinite(f)) throw new NumericalFailure('variableMetric: objective is not finite at the start');
  // B is symmetric; its lower triangle is stored row by row (row i has i + 1 entries).
  const B = new Float64Array((n * (n + 1)) / 2);
  const row = (i: number) => (i * (i + 1)) / 2;
  const g = new Float64Array(n);
  const dir = new Float64Array(n);
  const x0 = new Float64Array(n);
  const g0 = new Float64Array(n);
  let fmin = f;
  let fnCount = 1;
  let grCount = 1;
  gr(x, g);
  let iter = 1;
  let lastReset = grCount;
  let unchanged = 0;
  do {
    if (lastReset === grCount) {
      B.fill(0);
      for (let i = 0; i < n; i++) B[row(i) + i] = 1;
    }
    x0.set(x);
    g0.set(g);
    let slope = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      const ri = row(i);
      for (let j = 0; j <= i; j++) s -= B[ri + j] * g[j];
      for (let j = i + 1; j < n; j++) s -= B[row(j) + i] * g[j];
      dir[i] = s;
      slope += s * g[i];
    }
    if (slope < 0) {
      let step = 1;
      let accepted = false;
      do {
        unchanged = 0;
        for (let i = 0; i < n; i++) {
          x[i] = x0[i] + step * dir[i];
          if (REL_TEST + x0[i] === REL_TEST + x[i]) unchanged++;
        }
        if (unchanged < n) {
          f = fn(x);
          fnCount++;
          accepted = Number.isFinite(f) && f <= fmin + slope * step * ACCEPT_TOL;
          if (!accepted) step *= STEP_REDUCTION;
        }
      } while (!(unchanged === n || accepted));
      const progress = Math.abs(f - fmin) > reltol * (Math.abs(fmin) + reltol);
      if (!progress) {
        unchanged = n;
        fmin = f;
      }
      if (unchanged < n) {
        fmin = f;
        gr(x, g);
        grCount++;
        iter++;
        // dir becomes the step taken, g0 the change of the gradient.
        let d1 = 0;
        for (let i = 0; i < n; i++) {
          dir[i] *= step;
          g0[i] = g[i] - g0[i];
          d1 += dir[i] * g0[i];
        }
        if (d1 > 0) {
          // x0 is reused for B·(change of gradient).
          let d2 = 0;
          for (let i = 0; i < n; i++) {
            let s = 0;
            const ri = row(i);
            for (let j = 0; j <= i; j++) s += B[ri + j] * g0[j];
            for (let j = i + 1; j < n; j++) s += B[row(j) + i] * g0[j];
            x0[i] = s;
            d2 += s * g0[i];
          }
          d2 = 1 + d2 / d1;
          for (let i = 0; i < n; i++) {
            const ri = row(i);
            for (let j = 0; j <= i; j++)
              B[ri + j] += (d2 * dir[i] * dir[j] - x0[i] * dir[j] - dir[i] * x0[j]) / d1;
          }
        } else {
          lastReset = grCount;
        }
      } else if (lastReset < grCount) {
        unchanged = 0;
        lastReset = grCount;
      }
    } else {
      // Not a descent direction: restart from the identity unless that was just done.
      unchanged = 0;
      if (lastReset === grCount) unchanged = n;
      else lastReset = grCount;
    }
    if (iter >= maxit) break;
    if (grCount - lastReset > 2 * n) lastReset = grCount;
  } while (unchanged !== n || lastReset !== grCount);
  return { value: fmin, fnCount, grCount, hitLimit: iter >= maxit };
}

export interface BoundedResult {
  /** Objective at the returned point. */
  value: number;
  /** Completed iterations (line searches that found a new point). */
  iterations: number;
  /** Why it stopped: a convergence test, the iteration limit, or a line search that failed even from B₀. */
  stop: 'converged' | 'maxit' | 'abnormal';
}

/**
 * Minimises `fn` over the box lower ≤ x ≤ upper from `x` (updated in place) by L-BFGS-B (Byrd, Lu,
 * Nocedal & Zhu 1995) with the decisions of R's optim(method = "L-BFGS-B") (version 2.3 of the
 * algorithm): m = 5 correction pairs, B₀ = θI with θ = yᵀy/sᵀy of the newest pair (1 before any), the
 * generalised Cauchy point along the projected steepest-descent path, a subspace Newton step over the
 * variables left free there (truncated to the box), and the Moré–Thuente line search with ftol 1e-3,
 * gtol 0.9, xtol 0.1, first trial step 1 (1/|d| on the first iteration of a problem not fully boxed).
 * It stops when the relative decrease of fn falls to factr·ε, when the projected gradient is ≤ pgtol,
 * or after maxit + 1 iterations (R's count). A failed line search restarts from B₀ = I once pairs exist.
 * Products with B use its compact form, O(n·m) per product.
 */
export function boundedLimitedMemoryBfgs(
  x: Float64Array,
  lower: Float64Array,
  upper: Float64Array,
  fn: Objective,
  gr: Gradient,
  maxit: number,
  factr = 1e7,
  pgtol = 0,
): BoundedResult {
  const n = x.length;
  const M = 5;
  const eps = Number.EPSILON;
  // Bound kinds as in the algorithm: 0 none, 1 lower, 2 both, 3 upper.
  const kind = new Int8Array(n);
  let boxed = true;
  let constrained = false;
  // Variable states at the Cauchy point: −1 no bounds, 0 free, 1 at lower, 2 at upper, 3 fixed (l = u).
  const where = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    const lo = Number.isFinite(lower[i]);
    const hi = Number.isFinite(upper[i]);
    kind[i] = lo && hi ? 2 : lo ? 1 : hi ? 3 : 0;
    if (kind[i] !== 2) boxed = false;
    if (kind[i] !== 0) constrained = true;
    if (lo && x[i] < lower[i]) x[i] = lower[i];
    if (hi && x[i] > upper[i]) x[i] = upper[i];
    where[i] = kind[i] === 0 ? -1 : kind[i] === 2 && upper[i] - lower[i] <= 0 ? 3 : 0;
  }
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  let theta = 1;
  // The compact form of the L-BFGS matrix (Byrd, Nocedal & Schnabel 1994): B = θI − W·M·Wᵀ with
  // W = [Y, θS] and M⁻¹ = [[−D, Lᵀ], [L, θSᵀS]] (D = diag sᵢᵀyᵢ, L the strictly lower part of SᵀY):
  // products with B cost O(n·m), so no n × n matrix is ever formed.
  let Minv = new Float64Array(0);
  let k = 0;
  const prepare = () => {
    k = S.length;
    const k2 = 2 * k;
    Minv = new Float64Array(k2 * k2);
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++) {
        let sy = 0;
        let ss = 0;
        for (let t = 0; t < n; t++) {
          sy += S[i][t] * Y[j][t];
          ss += S[i][t] * S[j][t];
        }
        if (i === j) Minv[i * k2 + i] = -sy;
        else if (i > j) {
          Minv[(k + i) * k2 + j] = sy; // L
          Minv[j * k2 + k + i] = sy; // Lᵀ
        }
        Minv[(k + i) * k2 + k + j] = theta * ss;
      }
  };
  const wk = new Float64Array(2 * M);
  const wq = new Float64Array(2 * M);
  // out = B·v.
  const timesB = (v: Float64Array, out: Float64Array) => {
    for (let i = 0; i < k; i++) {
      let py = 0;
      let ps = 0;
      for (let t = 0; t < n; t++) {
        py += Y[i][t] * v[t];
        ps += S[i][t] * v[t];
      }
      wk[i] = py;
      wk[k + i] = theta * ps;
    }
    if (k > 0 && !solveSmall(Minv, wk, wq, 2 * k))
      throw new NumericalFailure('L-BFGS-B: singular middle matrix');
    for (let t = 0; t < n; t++) {
      let w = theta * v[t];
      for (let i = 0; i < k; i++) w -= Y[i][t] * wq[i] + theta * S[i][t] * wq[k + i];
      out[t] = w;
    }
  };
  const Bd = new Float64Array(n);
  const dot = (u: Float64Array, v: Float64Array) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += u[i] * v[i];
    return s;
  };
  const projectedGradientNorm = (g: Float64Array) => {
    let norm = 0;
    for (let i = 0; i < n; i++) {
      let gi = g[i];
      if (kind[i] !== 0) {
        if (gi < 0) {
          if (kind[i] >= 2) gi = Math.max(gi, x[i] - upper[i]);
        } else if (kind[i] <= 2) gi = Math.min(gi, x[i] - lower[i]);
      }
      norm = Math.max(norm, Math.abs(gi));
    }
    return norm;
  };

  // The step cap along direction dk from `from` for variable i: 0 if it already sits on the bound it
  // moves towards, the step that reaches that bound if smaller than `cap`, else `cap`.
  const stepToBound = (i: number, from: number, dk: number, cap: number): number => {
    if (dk < 0 && kind[i] !== 0 && kind[i] <= 2) {
      const room = lower[i] - from;
      return room >= 0 ? 0 : dk * cap < room ? room / dk : cap;
    }
    if (dk > 0 && kind[i] >= 2) {
      const room = upper[i] - from;
      return room <= 0 ? 0 : dk * cap > room ? room / dk : cap;
    }
    return cap;
  };

  const g = new Float64Array(n);
  const z = new Float64Array(n); // Cauchy point, then the subspace minimiser
  const d = new Float64Array(n);
  const dz = new Float64Array(n);
  const x0 = new Float64Array(n);
  const g0 = new Float64Array(n);
  const scratch = new Float64Array(n);
  let f = fn(x);
  if (!Number.isFinite(f))
    throw new NumericalFailure('boundedLimitedMemoryBfgs: objective is not finite at the start');
  gr(x, g);
  let pgNorm = projectedGradientNorm(g);
  if (pgNorm <= pgtol) return { value: f, iterations: 0, stop: 'converged' };
  let iter = 0;

  // Generalised Cauchy point of the quadratic model along P(x − t·g) into z; `where` marks the
  // variables that reached a bound.
  const cauchyPoint = () => {
    z.set(x);
    if (pgNorm <= 0) return;
    const breaks: { t: number; i: number }[] = [];
    let bounded = true;
    let f1 = 0;
    for (let i = 0; i < n; i++) {
      const neg = -g[i];
      let tl = 0;
      let tu = 0;
      if (where[i] !== 3 && where[i] !== -1) {
        if (kind[i] <= 2) tl = x[i] - lower[i];
        if (kind[i] >= 2) tu = upper[i] - x[i];
        const atLower = kind[i] <= 2 && tl <= 0;
        const atUpper = kind[i] >= 2 && tu <= 0;
        where[i] = 0;
        if (atLower) {
          if (neg <= 0) where[i] = 1;
        } else if (atUpper) {
          if (neg >= 0) where[i] = 2;
        } else if (Math.abs(neg) <= 0) where[i] = -3;
      }
      if (where[i] !== 0 && where[i] !== -1) {
        d[i] = 0;
        continue;
      }
      d[i] = neg;
      f1 -= neg * neg;
      if (kind[i] !== 0 && kind[i] <= 2 && neg < 0) breaks.push({ t: tl / -neg, i });
      else if (kind[i] >= 2 && neg > 0) breaks.push({ t: tu / neg, i });
      else if (Math.abs(neg) > 0) bounded = false;
    }
    if (f1 === 0) return;
    breaks.sort((p, q) => p.t - q.t);
    dz.fill(0);
    timesB(d, Bd);
    let f2 = dot(d, Bd);
    const f2Floor = eps * f2;
    let dtm = -f1 / f2;
    let tPrev = 0;
    let b = 0;
    for (; b < breaks.length; b++) {
      const dt = breaks[b].t - tPrev;
      tPrev = breaks[b].t;
      if (dtm < dt) break;
      const i = breaks[b].i;
      for (let t = 0; t < n; t++) dz[t] += dt * d[t];
      const di = d[i];
      d[i] = 0;
      if (di > 0) {
        dz[i] = upper[i] - x[i];
        z[i] = upper[i];
        where[i] = 2;
      } else {
        dz[i] = lower[i] - x[i];
        z[i] = lower[i];
        where[i] = 1;
      }
      if (b === breaks.length - 1 && breaks.length === n) {
        // Every variable is at a bound.
        for (let t = 0; t < n; t++) if (d[t] !== 0) z[t] = x[t] + dz[t];
        return;
      }
      // Slope and curvature of the model along the remaining direction from the breakpoint.
      timesB(d, Bd);
      f1 = dot(g, d) + dot(dz, Bd);
      f2 = Math.max(dot(d, Bd), f2Floor);
      if (b < breaks.length - 1) dtm = -f1 / f2;
      else if (bounded) dtm = 0;
      else dtm = -f1 / f2;
    }
    if (dtm <= 0) dtm = 0;
    for (let t = 0; t < n; t++) if (d[t] !== 0) z[t] = x[t] + dz[t] + dtm * d[t];
  };

  // Newton step of the model over the variables free at the Cauchy point, from z, truncated to the
  // box; false when the reduced system is singular. With Z the free columns, ZᵀBZ = θI − W_F·M·W_Fᵀ,
  // so by Sherman–Morrison–Woodbury du = r/θ + W_F·K⁻¹·W_Fᵀr/θ² with the 2m × 2m matrix
  // K = M⁻¹ − W_FᵀW_F/θ (the K of the algorithm's subsm).
  const subspaceStep = (): boolean => {
    const free: number[] = [];
    for (let i = 0; i < n; i++) if (where[i] <= 0) free.push(i);
    const nf = free.length;
    if (nf === 0 || k === 0) return true;
    for (let i = 0; i < n; i++) dz[i] = z[i] - x[i];
    timesB(dz, Bd);
    // r = −(g + B(z − x)) on the free variables.
    const r = new Float64Array(nf);
    for (let a = 0; a < nf; a++) r[a] = -(g[free[a]] + Bd[free[a]]);
    const k2 = 2 * k;
    // Column c of W restricted to the free variables: y_c, then θ·s_c.
    const w = (c: number, i: number) => (c < k ? Y[c][i] : theta * S[c - k][i]);
    const K = Float64Array.from(Minv);
    const wr = new Float64Array(k2);
    for (let c = 0; c < k2; c++) {
      let sr = 0;
      for (let a = 0; a < nf; a++) sr += w(c, free[a]) * r[a];
      wr[c] = sr;
      for (let e = 0; e <= c; e++) {
        let ww = 0;
        for (let a = 0; a < nf; a++) ww += w(c, free[a]) * w(e, free[a]);
        K[c * k2 + e] -= ww / theta;
        if (e !== c) K[e * k2 + c] -= ww / theta;
      }
    }
    const v = new Float64Array(k2);
    if (!solveSmall(K, wr, v, k2)) return false;
    for (let a = 0; a < nf; a++) {
      let corr = 0;
      for (let c = 0; c < k2; c++) corr += w(c, free[a]) * v[c];
      r[a] = r[a] / theta + corr / (theta * theta);
    }
    // Backtrack to the box: the largest α ≤ 1 keeping z + α·du feasible; the variable that limits
    // it is put exactly on its bound.
    let alpha = 1;
    let limit = -1;
    for (let a = 0; a < nf; a++) {
      const i = free[a];
      const dk = r[a];
      const t = stepToBound(i, z[i], dk, alpha);
      if (t < alpha) {
        alpha = t;
        limit = a;
      }
    }
    if (alpha < 1) {
      const i = free[limit];
      if (r[limit] > 0) z[i] = upper[i];
      else if (r[limit] < 0) z[i] = lower[i];
      r[limit] = 0;
    }
    for (let a = 0; a < nf; a++) z[free[a]] += alpha * r[a];
    return true;
  };

  const refresh = () => {
    S.length = 0;
    Y.length = 0;
    theta = 1;
  };

  for (;;) {
    prepare();
    if (!constrained && S.length > 0) {
      z.set(x);
      for (let i = 0; i < n; i++) where[i] = -1;
    } else cauchyPoint();
    if (!subspaceStep()) {
      refresh();
      continue;
    }
    for (let i = 0; i < n; i++) d[i] = z[i] - x[i];

    // Line search along d from x.
    let dtd = 0;
    for (let i = 0; i < n; i++) dtd += d[i] * d[i];
    let stpmax = 1e10;
    if (constrained) {
      if (iter === 0) stpmax = 1;
      else {
        for (let i = 0; i < n; i++) stpmax = stepToBound(i, x[i], d[i], stpmax);
      }
    }
    let stp = iter === 0 && !boxed ? Math.min(1 / Math.sqrt(dtd), stpmax) : 1;
    x0.set(x);
    g0.set(g);
    const f0 = f;
    let gd0 = 0;
    for (let i = 0; i < n; i++) gd0 += g[i] * d[i];
    let ok = gd0 < 0;
    let evals = 0;
    let gd = gd0;
    if (ok) {
      const search = new MoreThuente(f0, gd0, stp, 0, stpmax);
      for (;;) {
        evals++;
        if (stp === 1) x.set(z);
        else for (let i = 0; i < n; i++) x[i] = stp * d[i] + x0[i];
        f = fn(x);
        if (!Number.isFinite(f))
          throw new NumericalFailure('boundedLimitedMemoryBfgs: objective is not finite');
        gr(x, g);
        gd = 0;
        for (let i = 0; i < n; i++) gd += g[i] * d[i];
        const next = search.next(f, gd);
        if (next === null) break;
        stp = next;
        if (evals >= 20) {
          ok = false;
          break;
        }
      }
      stp = search.stp;
    }
    if (!ok) {
      x.set(x0);
      g.set(g0);
      f = f0;
      if (S.length === 0) return { value: f, iterations: iter, stop: 'abnormal' };
      refresh();
      continue;
    }
    iter++;
    pgNorm = projectedGradientNorm(g);
    if (iter > maxit) return { value: f, iterations: iter, stop: 'maxit' };
    if (pgNorm <= pgtol) return { value: f, iterations: iter, stop: 'converged' };
    if (f0 - f <= factr * eps * Math.max(Math.abs(f0), Math.abs(f), 1))
      return { value: f, iterations: iter, stop: 'converged' };
    // Correction pair s = stp·d, y = Δg; skipped unless sᵀy > ε·(−gᵀs).
    let yy = 0;
    for (let i = 0; i < n; i++) {
      scratch[i] = g[i] - g0[i];
      yy += scratch[i] * scratch[i];
    }
    const sy = stp === 1 ? gd - gd0 : (gd - gd0) * stp;
    const floor = stp === 1 ? -gd0 : -gd0 * stp;
    if (sy <= eps * floor) continue;
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) s[i] = stp === 1 ? d[i] : stp * d[i];
    S.push(s);
    Y.push(Float64Array.from(scratch));
    if (S.length > M) {
      S.shift();
      Y.shift();
    }
    theta = yy / sy;
  }
}

/**
 * The line search of Moré & Thuente (1994, MINPACK-2 dcsrch/dcstep): a step satisfying the
 * sufficient-decrease condition f(t) ≤ f(0) + ftol·t·f′(0) and the curvature condition
 * |f′(t)| ≤ gtol·|f′(0)|, by safeguarded cubic and quadratic interpolation on an interval that
 * brackets such a step. `next(f, g)` takes the function and slope at `stp` and returns the next trial
 * step, or null when the search has ended (converged, or a warning: the best step is then `stp`).
 */
const LS_FTOL = 1e-3;
const LS_GTOL = 0.9;
const LS_XTOL = 0.1;
class MoreThuente {
  private bracketed = false;
  private stage = 1;
  private readonly gtest: number;
  private width: number;
  private width1: number;
  private stx = 0;
  private fx: number;
  private gx: number;
  private sty = 0;
  private fy: number;
  private gy: number;
  private stmin = 0;
  private stmax: number;

  constructor(
    private readonly finit: number,
    private readonly ginit: number,
    public stp: number,
    private readonly stpmin: number,
    private readonly stpmax: number,
  ) {
    this.gtest = LS_FTOL * ginit;
    this.width = stpmax - stpmin;
    this.width1 = this.width / 0.5;
    this.fx = finit;
    this.gx = ginit;
    this.fy = finit;
    this.gy = ginit;
    this.stmax = stp + 4 * stp;
  }

  next(f: number, g: number): number | null {
    const stp = this.stp;
    const ftest = this.finit + stp * this.gtest;
    if (this.stage === 1 && f <= ftest && g >= 0) this.stage = 2;
    if (this.bracketed && (stp <= this.stmin || stp >= this.stmax)) return null;
    if (this.bracketed && this.stmax - this.stmin <= LS_XTOL * this.stmax) return null;
    if (stp === this.stpmax && f <= ftest && g <= this.gtest) return null;
    if (stp === this.stpmin && (f > ftest || g >= this.gtest)) return null;
    if (f <= ftest && Math.abs(g) <= LS_GTOL * -this.ginit) return null;

    if (this.stage === 1 && f <= this.fx && f > ftest) {
      // Modified function ψ(t) = f(t) − f(0) − ftol·t·f′(0) while the decrease is insufficient.
      const gt = this.gtest;
      const s = this.step(
        this.fx - this.stx * gt,
        this.gx - gt,
        this.fy - this.sty * gt,
        this.gy - gt,
        f - stp * gt,
        g - gt,
      );
      this.fx = s.fx + this.stx * gt;
      this.fy = s.fy + this.sty * gt;
      this.gx = s.gx + gt;
      this.gy = s.gy + gt;
    } else {
      const s = this.step(this.fx, this.gx, this.fy, this.gy, f, g);
      this.fx = s.fx;
      this.fy = s.fy;
      this.gx = s.gx;
      this.gy = s.gy;
    }
    if (this.bracketed) {
      if (Math.abs(this.sty - this.stx) >= 0.66 * this.width1)
        this.stp = this.stx + 0.5 * (this.sty - this.stx);
      this.width1 = this.width;
      this.width = Math.abs(this.sty - this.stx);
      this.stmin = Math.min(this.stx, this.sty);
      this.stmax = Math.max(this.stx, this.sty);
    } else {
      this.stmin = this.stp + 1.1 * (this.stp - this.stx);
      this.stmax = this.stp + 4 * (this.stp - this.stx);
    }
    this.stp = Math.min(Math.max(this.stp, this.stpmin), this.stpmax);
    if (
      this.bracketed &&
      (this.stp <= this.stmin || this.stp >= this.stmax || this.stmax - this.stmin <= LS_XTOL * this.stmax)
    )
      this.stp = this.stx;
    return this.stp;
  }

  /**
   * dcstep: from the best step stx (value fx, slope dx), the other end sty and the trial stp (fp,
   * dp), the next trial step into this.stp and the updated interval; returns the updated values.
   * Extrapolation is limited by the current interval [stmin, stmax], not by the overall bounds.
   * Extrapolation is limited by the current interval [stmin, stmax], not by the overall bounds.
   */
  private step(fx: number, dx: number, fy: number, dy: number, fp: number, dp: number) {
    const { stx, sty, stp } = this;
    const sgnd = dp * (dx / Math.abs(dx));
    let stpf: number;
    if (fp > fx) {
      // Higher value: the minimum is bracketed; cubic step if closer to stx, else the mean of the two.
      const theta = ((fx - fp) * 3) / (stp - stx) + dx + dp;
      const s = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
      let gamma = s * Math.sqrt((theta / s) ** 2 - (dx / s) * (dp / s));
      if (stp < stx) gamma = -gamma;
      const r = (gamma - dx + theta) / (gamma - dx + gamma + dp);
      const stpc = stx + r * (stp - stx);
      const stpq = stx + (dx / ((fx - fp) / (stp - stx) + dx) / 2) * (stp - stx);
      stpf = Math.abs(stpc - stx) < Math.abs(stpq - stx) ? stpc : stpc + (stpq - stpc) / 2;
      this.bracketed = true;
    } else if (sgnd < 0) {
      // Lower value, slopes of opposite sign: bracketed; cubic if farther from stp than the secant.
      const theta = ((fx - fp) * 3) / (stp - stx) + dx + dp;
      const s = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
      let gamma = s * Math.sqrt((theta / s) ** 2 - (dx / s) * (dp / s));
      if (stp > stx) gamma = -gamma;
      const r = (gamma - dp + theta) / (gamma - dp + gamma + dx);
      const stpc = stp + r * (stx - stp);
      const stpq = stp + (dp / (dp - dx)) * (stx - stp);
      stpf = Math.abs(stpc - stp) > Math.abs(stpq - stp) ? stpc : stpq;
      this.bracketed = true;
    } else if (Math.abs(dp) < Math.abs(dx)) {
      // Lower value, same sign, slope decreasing in magnitude.
      const theta = ((fx - fp) * 3) / (stp - stx) + dx + dp;
      const s = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
      const disc = (theta / s) ** 2 - (dx / s) * (dp / s);
      let gamma = disc < 0 ? 0 : s * Math.sqrt(disc);
      if (stp > stx) gamma = -gamma;
      const r = (gamma - dp + theta) / (gamma + (dx - dp) + gamma);
      const stpc = r < 0 && gamma !== 0 ? stp + r * (stx - stp) : stp > stx ? this.stmax : this.stmin;
      const stpq = stp + (dp / (dp - dx)) * (stx - stp);
      if (this.bracketed) {
        stpf = Math.abs(stpc - stp) < Math.abs(stpq - stp) ? stpc : stpq;
        const cap = stp + 0.66 * (sty - stp);
        stpf = stp > stx ? Math.min(cap, stpf) : Math.max(cap, stpf);
      } else {
        stpf = Math.abs(stpc - stp) > Math.abs(stpq - stp) ? stpc : stpq;
        stpf = Math.max(this.stmin, Math.min(this.stmax, stpf));
      }
    } else if (this.bracketed) {
      // Lower value, same sign, slope not decreasing: cubic step towards sty.
      const theta = ((fp - fy) * 3) / (sty - stp) + dy + dp;
      const s = Math.max(Math.abs(theta), Math.abs(dy), Math.abs(dp));
      let gamma = s * Math.sqrt((theta / s) ** 2 - (dy / s) * (dp / s));
      if (stp > sty) gamma = -gamma;
      const r = (gamma - dp + theta) / (gamma - dp + gamma + dy);
      stpf = stp + r * (sty - stp);
    } else stpf = stp > stx ? this.stmax : this.stmin;
    let out = { fx, gx: dx, fy, gy: dy };
    if (fp > fx) {
      this.sty = stp;
      out = { fx, gx: dx, fy: fp, gy: dp };
    } else {
      if (sgnd < 0) {
        this.sty = stx;
        out = { fx: fp, gx: dp, fy: fx, gy: dx };
      } else out = { fx: fp, gx: dp, fy, gy: dy };
      this.stx = stp;
    }
    this.stp = stpf;
    return out;
  }
}
