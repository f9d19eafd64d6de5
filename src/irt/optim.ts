// Numerical pieces of the mirt-compatible estimation path (see docs/irt.md → Agreement with mirt):
// the variable-metric (BFGS) minimiser of Nash (1990, Compact Numerical Methods, Algorithm 21) with
// the constants and stopping rules of R's optim(method = "BFGS"), and the normal quantile function
// (Wichura 1988, AS 241) that mirt uses for its start values. Both are written to follow the same
// sequence of floating-point decisions as the R implementations, so that an EM run built on them
// stops where mirt stops.

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
  if (!Number.isFinite(f)) throw new RangeError('variableMetric: objective is not finite at the start');
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

/** Standard normal quantile (Wichura 1988, algorithm AS 241, PPND16); p in (0, 1). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return Number.NEGATIVE_INFINITY;
    if (p === 1) return Number.POSITIVE_INFINITY;
    return Number.NaN;
  }
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (
      (q *
        (((((((r * 2509.0809287301227 + 33430.57558358813) * r + 67265.7709270087) * r + 45921.95393154987) *
          r +
          13731.69376550946) *
          r +
          1971.5909503065513) *
          r +
          133.14166789178438) *
          r +
          3.3871328727963665)) /
      (((((((r * 5226.495278852546 + 28729.085735721943) * r + 39307.89580009271) * r + 21213.794301586597) *
        r +
        5394.196021424751) *
        r +
        687.1870074920579) *
        r +
        42.31333070160091) *
        r +
        1)
    );
  }
  let r = Math.sqrt(-Math.log(q > 0 ? 1 - p : p));
  let val: number;
  if (r <= 5) {
    r -= 1.6;
    val =
      (((((((r * 0.0007745450142783414 + 0.022723844989269184) * r + 0.2417807251774506) * r +
        1.2704582524523684) *
        r +
        3.6478483247632045) *
        r +
        5.769497221460691) *
        r +
        4.630337846156546) *
        r +
        1.4234371107496835) /
      (((((((r * 1.0507500716444169e-9 + 0.0005475938084995345) * r + 0.015198666563616457) * r +
        0.14810397642748008) *
        r +
        0.6897673349851) *
        r +
        1.6763848301838038) *
        r +
        2.053191626637759) *
        r +
        1);
  } else {
    r -= 5;
    val =
      (((((((r * 2.0103343992922881e-7 + 0.000027115555687434876) * r + 0.0012426609473880784) * r +
        0.026532189526576124) *
        r +
        0.29656057182850487) *
        r +
        1.7848265399172913) *
        r +
        5.463784911164114) *
        r +
        6.657904643501103) /
      (((((((r * 2.0442631033899397e-15 + 1.421511758316446e-7) * r + 0.000018463183175100548) * r +
        0.0007868691311456133) *
        r +
        0.014875361290850615) *
        r +
        0.1369298809227358) *
        r +
        0.599832206555888) *
        r +
        1);
  }
  return q < 0 ? -val : val;
}
