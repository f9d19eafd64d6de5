// Small dense linear algebra on row-major Float64Arrays: Cholesky factor and solve, the inverse of a
// symmetric positive definite matrix, Gaussian elimination. Pure.

/** Lower Cholesky factor of a symmetric n×n matrix (row-major); null when not positive definite. */
export function choleskyFactor(H: ArrayLike<number>, n: number): Float64Array | null {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = H[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 0)) return null;
        L[i * n + i] = Math.sqrt(s);
      } else L[i * n + j] = s / L[j * n + j];
    }
  }
  return L;
}

/**
 * Cholesky factor of H, adding a growing ridge to the diagonal when H is (numerically) singular, as
 * happens when c → 0 makes the information on logit c vanish; null if even that fails.
 */
export function ridgedCholesky(H: Float64Array, n: number): Float64Array | null {
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, Math.abs(H[i * n + i]));
  const ridged = Float64Array.from(H);
  for (let ridge = 1e-10 * (1 + maxDiag), t = 0; t < 24; t++, ridge *= 10) {
    const L = choleskyFactor(ridged, n);
    if (L) return L;
    for (let i = 0; i < n; i++) ridged[i * n + i] = H[i * n + i] + ridge;
  }
  return null;
}

/** Solves L Lᵀ x = g for x given the Cholesky factor L. */
export function choleskySolve(L: Float64Array, g: ArrayLike<number>, x: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    let s = g[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * x[k];
    x[i] = s / L[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = x[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * x[k];
    x[i] = s / L[i * n + i];
  }
}

/** Inverse of a symmetric positive definite n×n matrix (column by column via Cholesky); null if not PD. */
export function invertSPD(H: Float64Array, n: number): Float64Array | null {
  const out = new Float64Array(n * n);
  const e = new Float64Array(n);
  const x = new Float64Array(n);
  const L = choleskyFactor(H, n);
  if (!L) return null;
  for (let c = 0; c < n; c++) {
    e.fill(0);
    e[c] = 1;
    choleskySolve(L, e, x, n);
    for (let r = 0; r < n; r++) out[r * n + c] = x[r];
  }
  return out;
}

/** Solves the small dense system A·x = b (A n × n, row-major, not modified) by Gaussian elimination
 * with partial pivoting; false when A is singular. */
export function solveSmall(A: Float64Array, b: Float64Array, x: Float64Array, n: number): boolean {
  const a = Float64Array.from(A.subarray(0, n * n));
  for (let i = 0; i < n; i++) x[i] = b[i];
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]) > Math.abs(a[p * n + c])) p = r;
    if (!(Math.abs(a[p * n + c]) > 0)) return false;
    if (p !== c) {
      for (let j = 0; j < n; j++) [a[c * n + j], a[p * n + j]] = [a[p * n + j], a[c * n + j]];
      [x[c], x[p]] = [x[p], x[c]];
    }
    for (let r = c + 1; r < n; r++) {
      const f = a[r * n + c] / a[c * n + c];
      if (f === 0) continue;
      for (let j = c; j < n; j++) a[r * n + j] -= f * a[c * n + j];
      x[r] -= f * x[c];
    }
  }
  for (let c = n - 1; c >= 0; c--) {
    let s = x[c];
    for (let j = c + 1; j < n; j++) s -= a[c * n + j] * x[j];
    x[c] = s / a[c * n + c];
  }
  return true;
}
