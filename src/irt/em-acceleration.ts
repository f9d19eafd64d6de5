// The EM loop: plain cycles, mirt's Ramsay extrapolation or SQUAREM, each over the state of em.ts.

import { type EmState, emCycle } from './em.js';

export type Acceleration = 'squarem' | 'ramsay' | 'none';

export interface EmOutcome {
  iterations: number;
  /** The largest parameter change fell below tol within maxCycles. */
  converged: boolean;
  /** Largest absolute parameter change of the last cycle. */
  maxChange: number;
}

/** The loop's bookkeeping around the state: one EM cycle per `step`. */
interface Loop {
  readonly s: EmState;
  readonly tol: number;
  readonly maxCycles: number;
  converged: boolean;
  maxChange: number;
  /** Log-likelihood at the input of the last cycle. */
  lastLL: number;
  /** Free state entries (the ones the acceleration extrapolates), over the vector of `save`. */
  readonly freeIdx: number[];
}

/** Runs EM from the state until convergence or maxCycles; the state ends at the returned point. */
export function runEm(s: EmState, accelerate: Acceleration, tol: number, maxCycles: number): EmOutcome {
  const loop: Loop = {
    s,
    tol,
    maxCycles,
    converged: false,
    maxChange: Number.POSITIVE_INFINITY,
    lastLL: Number.NaN,
    freeIdx: freeEntries(s),
  };
  if (accelerate === 'none' && !s.joint) plainLoop(loop);
  else if (accelerate === 'none' || accelerate === 'ramsay') ramsayLoop(loop, accelerate === 'ramsay');
  else squaremLoop(loop);
  return { iterations: s.iterations, converged: loop.converged, maxChange: loop.maxChange };
}

/** One EM cycle with bookkeeping; true when the loop must stop (converged, non-finite or maxCycles). */
function step(loop: Loop): boolean {
  loop.s.iterations++;
  const { logLik, change } = emCycle(loop.s);
  loop.lastLL = logLik;
  loop.maxChange = change;
  if (!Number.isFinite(change)) return true;
  if (change < loop.tol) {
    loop.converged = true;
    return true;
  }
  return loop.s.iterations >= loop.maxCycles;
}

// The full state as one vector: the item vectors, then the latent mean and variance.
const stateSize = (s: EmState) => s.V.length + 2;

function save(s: EmState, out: Float64Array): void {
  out.set(s.V);
  out[out.length - 2] = s.mean;
  out[out.length - 1] = s.variance;
}

function load(s: EmState, src: Float64Array): void {
  s.V.set(src.subarray(0, s.V.length));
  s.mean = src[src.length - 2];
  s.variance = src[src.length - 1];
}

function freeEntries(s: EmState): number[] {
  const NS = stateSize(s);
  const { nPar, free } = s.model;
  const idx: number[] = [];
  for (let j = 0; j < s.data.nItems; j++) if (!s.isFixed[j]) for (const p of free) idx.push(j * nPar + p);
  if (s.estMean) idx.push(NS - 2);
  if (s.estVar) idx.push(NS - 1);
  return idx;
}

function plainLoop(loop: Loop): void {
  while (loop.s.iterations < loop.maxCycles) if (step(loop)) break;
}

/**
 * mirt's loop: Mrate from the log-likelihood increase (it sets the BFGS iteration limit), and, with
 * `extrapolate`, on every third cycle Ramsay's (1975) extrapolation x ← (1 − α)·F(x) + α·x with
 * α = max(1 − |Δ|/|Δ − Δ₋₁|, −5) over the whole state, applied to the item parameters only (not the
 * latent mean and variance) and skipped while Mrate ≤ 0.01.
 */
function ramsayLoop(loop: Loop, extrapolate: boolean): void {
  const { s, freeIdx } = loop;
  const NS = stateSize(s);
  const x0 = new Float64Array(NS);
  const x1 = new Float64Array(NS);
  const x2 = new Float64Array(NS);
  save(s, x1);
  while (s.iterations < loop.maxCycles) {
    save(s, x0); // input of this cycle (x1 keeps the input of the previous one)
    if (step(loop)) break;
    if (extrapolate && s.iterations % 3 === 0 && s.mrate > 0.01) {
      save(s, x2);
      let dd = 0;
      let d2 = 0;
      for (const i of freeIdx) {
        const dX = x2[i] - x0[i];
        const dX2 = x0[i] - x1[i];
        dd += dX * dX;
        d2 += (dX - dX2) * (dX - dX2);
      }
      let accel = 1 - Math.sqrt(dd / d2);
      if (accel < -5) accel = -5;
      if (Number.isFinite(accel)) {
        for (const i of freeIdx) if (i < s.V.length) s.V[i] = (1 - accel) * x2[i] + accel * x0[i];
      }
    }
    x1.set(x0);
  }
}

/**
 * SQUAREM (Varadhan & Roland 2008, scheme S3) with a monotonicity safeguard: from x0, two EM cycles
 * give x1, x2; the extrapolated point x' = x0 − 2α r + α² v (r = x1 − x0, v = x2 − 2x1 + x0,
 * α = −|r|/|v| ≤ −1) is taken only if it is valid and the next EM cycle finds logLik(x') ≥ logLik(x1);
 * otherwise EM continues from x2. Convergence is always judged on a plain EM cycle (|F(x) − x| < tol),
 * so the fixed point and the stopping rule are those of plain EM.
 */
function squaremLoop(loop: Loop): void {
  const { s } = loop;
  const NS = stateSize(s);
  const x0 = new Float64Array(NS);
  const x1 = new Float64Array(NS);
  const x2 = new Float64Array(NS);
  while (s.iterations < loop.maxCycles) {
    save(s, x0);
    if (step(loop)) break;
    save(s, x1);
    if (step(loop)) break;
    const ll1 = loop.lastLL; // logLik at x1
    const change2 = loop.maxChange;
    save(s, x2);
    const alpha = squaremExtrapolate(loop.freeIdx, x0, x1, x2);
    if (alpha === null) continue;
    // x0 now holds the extrapolated point (fixed entries unchanged).
    let valid = true;
    for (const i of loop.freeIdx) if (!Number.isFinite(x0[i])) valid = false;
    if (s.estVar && !(x0[NS - 1] > 0)) valid = false;
    if (!valid || alpha === -1) {
      load(s, x2);
      continue;
    }
    load(s, x0);
    const stop = step(loop);
    if (loop.lastLL >= ll1) {
      if (stop) break;
      continue;
    }
    // The extrapolation lowered the likelihood: discard it and continue EM from x2.
    loop.converged = false;
    load(s, x2);
    loop.maxChange = change2;
    if (s.iterations >= loop.maxCycles) break;
  }
}

/** Overwrites x0's free entries with SQUAREM's point and returns its α, or null when x2 − 2x1 + x0 = 0. */
function squaremExtrapolate(
  freeIdx: number[],
  x0: Float64Array,
  x1: Float64Array,
  x2: Float64Array,
): number | null {
  let rr = 0;
  let vv = 0;
  for (const i of freeIdx) {
    const r = x1[i] - x0[i];
    const v = x2[i] - 2 * x1[i] + x0[i];
    rr += r * r;
    vv += v * v;
  }
  if (!(vv > 0)) return null;
  let alpha = -Math.sqrt(rr / vv);
  if (alpha > -1) alpha = -1;
  for (const i of freeIdx) {
    const r = x1[i] - x0[i];
    const v = x2[i] - 2 * x1[i] + x0[i];
    x0[i] = x0[i] - 2 * alpha * r + alpha * alpha * v;
  }
  return alpha;
}
