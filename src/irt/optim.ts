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
export const OPTIM_RELTOL = 1.490116119384765625e-8;

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
        (((((((r * 2509.0809287301226727 + 33430.575583588128105) * r + 67265.770927008700853) * r +
          45921.953931549871457) *
          r +
          13731.693765509461125) *
          r +
          1971.5909503065514427) *
          r +
          133.14166789178437745) *
          r +
          3.387132872796366608)) /
      (((((((r * 5226.495278852545925 + 28729.085735721942674) * r + 39307.89580009271061) * r +
        21213.794301586595867) *
        r +
        5394.1960214247511077) *
        r +
        687.1870074920579083) *
        r +
        42.313330701600911252) *
        r +
        1)
    );
  }
  let r = Math.sqrt(-Math.log(q > 0 ? 1 - p : p));
  let val: number;
  if (r <= 5) {
    r -= 1.6;
    val =
      (((((((r * 7.7454501427834140764e-4 + 0.0227238449892691845833) * r + 0.24178072517745061177) * r +
        1.27045825245236838258) *
        r +
        3.64784832476320460504) *
        r +
        5.7694972214606914055) *
        r +
        4.6303378461565452959) *
        r +
        1.42343711074968357734) /
      (((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r +
        0.14810397642748007459) *
        r +
        0.68976733498510000455) *
        r +
        1.6763848301838038494) *
        r +
        2.05319162663775882187) *
        r +
        1);
  } else {
    r -= 5;
    val =
      (((((((r * 2.01033439929228813265e-7 + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r +
        0.026532189526576123093) *
        r +
        0.29656057182850489123) *
        r +
        1.7848265399172913358) *
        r +
        5.4637849111641143699) *
        r +
        6.6579046435011037772) /
      (((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r +
        7.868691311456132591e-4) *
        r +
        0.0148753612908506148525) *
        r +
        0.13692988092273580531) *
        r +
        0.59983220655588793769) *
        r +
        1);
  }
  return q < 0 ? -val : val;
}
