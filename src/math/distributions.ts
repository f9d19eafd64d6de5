// Distribution functions the fit and drift statistics need: regularised incomplete gamma, central and
// noncentral χ² CDFs, and a bracketing root finder. Pure.

/** log Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error ~1e-15). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let s = LANCZOS[0];
  for (let i = 1; i < 9; i++) s += LANCZOS[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/**
 * Regularised incomplete gamma: [P(a, x), Q(a, x)] with P + Q = 1, by the series for x < a + 1 and
 * the continued fraction (modified Lentz) otherwise, so the smaller of the two is computed directly
 * (Numerical Recipes §6.2; Abramowitz & Stegun 6.5.29, 6.5.31).
 */
export function gammaPQ(a: number, x: number): [number, number] {
  if (!(a > 0) || Number.isNaN(x)) return [Number.NaN, Number.NaN];
  if (x <= 0) return [0, 1];
  if (x === Number.POSITIVE_INFINITY) return [1, 0];
  const logPre = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    const p = Math.exp(logPre) * sum;
    return [p, 1 - p];
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const q = Math.exp(logPre) * h;
  return [1 - q, q];
}

/** P(χ²_df ≤ x). */
export function chiSquareCdf(x: number, df: number): number {
  return gammaPQ(df / 2, x / 2)[0];
}

/** P(χ²_df > x), accurate in the far tail (small p-values). */
export function chiSquareUpper(x: number, df: number): number {
  return gammaPQ(df / 2, x / 2)[1];
}

/**
 * P(χ²_df(ncp) ≤ x) of the noncentral χ²: the Poisson(ncp/2) mixture of central χ²_{df+2i} CDFs,
 * summed outwards from the Poisson mode until the remaining weight is negligible (Johnson, Kotz &
 * Balakrishnan 1995, eq. 29.2).
 */
export function noncentralChiSquareCdf(x: number, df: number, ncp: number): number {
  if (ncp <= 0) return chiSquareCdf(x, df);
  const half = ncp / 2;
  const mode = Math.floor(half);
  const logW = (i: number) => -half + i * Math.log(half) - logGamma(i + 1);
  let sum = 0;
  let mass = 0;
  for (let i = mode; ; i++) {
    const w = Math.exp(logW(i));
    sum += w * chiSquareCdf(x, df + 2 * i);
    mass += w;
    if (w < 1e-17 * mass || i - mode > 100_000) break;
  }
  for (let i = mode - 1; i >= 0; i--) {
    const w = Math.exp(logW(i));
    sum += w * chiSquareCdf(x, df + 2 * i);
    mass += w;
    if (w < 1e-17 * mass) break;
  }
  return sum;
}

/**
 * A root of f in [lo, hi] by bisection with secant steps (Illinois variant of regula falsi), to an
 * absolute x tolerance; null when f(lo) and f(hi) have the same sign (no bracketed root).
 */
export function bracketRoot(f: (x: number) => number, lo: number, hi: number, tol = 1e-10): number | null {
  let a = lo;
  let b = hi;
  let fa = f(a);
  let fb = f(b);
  if (fa === 0) return a;
  if (fb === 0) return b;
  if (Math.sign(fa) === Math.sign(fb)) return null;
  let side = 0;
  for (let it = 0; it < 200 && b - a > tol; it++) {
    const c = (a * fb - b * fa) / (fb - fa);
    const fc = f(c);
    if (fc === 0) return c;
    if (Math.sign(fc) === Math.sign(fb)) {
      b = c;
      fb = fc;
      if (side === -1) fa /= 2;
      side = -1;
    } else {
      a = c;
      fa = fc;
      if (side === 1) fb /= 2;
      side = 1;
    }
  }
  return (a + b) / 2;
}
