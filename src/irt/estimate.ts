// Marginal maximum likelihood by Bock–Aitkin EM with mirt's conventions (see docs/irt.md).

import { invertSPD } from '../math/linear-algebra.js';
import { boundedLimitedMemoryBfgs, variableMetric } from '../math/optimize.js';
import { InvalidInputError } from '../user-error.js';
import { type ItemModel, type ItemParams, type ItemPriors, itemModel, type ModelName } from './models.js';
import { EstepPool } from './parallel.js';
import {
  bookletDesign,
  groupedPass,
  groupedState,
  type PosteriorSinks,
  personPosterior,
  posteriorPass,
} from './posterior.js';
import { DEFAULT_GRID, gridNodes, normalWeights } from './quadrature.js';
import type { ResponseData } from './responses.js';

export interface CalibrateOptions {
  /** Default '2PL'. A custom ItemModel may be passed. */
  model?: ModelName | ItemModel;
  /** Priors on a, b and c (ignored by models where they do not apply). Default none. */
  priors?: ItemPriors;
  /** Default 61. */
  quadpts?: number;
  /** Default [-6, 6]. */
  thetaLim?: readonly [number, number];
  /** Convergence: largest absolute parameter change between cycles below tol; default 1e-4. */
  tol?: number;
  /** Default 500. */
  maxCycles?: number;
  /** Items held at these parameters (anchors); the latent mean and variance are then estimated. */
  fixed?: ReadonlyMap<string, ItemParams>;
  /** Compute standard errors of the item parameters (cross-product information); default false. */
  itemSE?: boolean;
  /** Compute EAP abilities of the persons; default true. */
  abilities?: boolean;
  /**
   * Filled with the wall time (ms) of the final pass that scores every person and evaluates logLik,
   * for callers that report where time went; kept out of the result, which is bit-reproducible.
   */
  timings?: { scoreMs: number };
  /**
   * EM acceleration: 'squarem' (default, with a monotonicity safeguard), 'ramsay' (mirt's default:
   * every third cycle, skipped while the log-likelihood still rises by more than ln 100) or 'none'.
   */
  accelerate?: 'squarem' | 'ramsay' | 'none';
  /**
   * M-step: 'newton' (default: each item maximised to 1e-10 by Fisher scoring) or 'bfgs' (mirt's:
   * one joint quasi-Newton pass over all free item parameters with R optim's stopping rules and an
   * iteration limit of max(⌈50·Mrate⌉, 15): BFGS, or L-BFGS-B over the items and the latent mean and
   * variance when those are estimated, as mirt does; not used with priors).
   */
  mstep?: 'newton' | 'bfgs';
  /** Start values: 'engine' (default) or 'mirt' (a = 0.851, d = −Φ⁻¹(p₀)·1.702/√0.75). */
  start?: 'engine' | 'mirt';
  /**
   * Shorthand for mirt's own iteration (accelerate 'ramsay', mstep 'bfgs', start 'mirt'): the run
   * then stops where mirt 1.45–1.47 stops, not at the maximum (docs/irt.md). Small banks only: the
   * joint BFGS keeps a dense matrix over the free item parameters (at most 4,000).
   */
  mirtCompat?: boolean;
  /**
   * E-step by booklets (persons with identical item sets; dense data is one booklet): sums and
   * scatters only the correct responses. Default: on for dichotomous items when persons share item
   * sets (≥ 4 per booklet on average); false forces the per-person E-step. Same results up to rounding.
   */
  groupedEstep?: boolean;
  /**
   * Threads for the per-person E-step (parallel.ts): the calling thread plus threads − 1 workers.
   * Default: 2 from PARALLEL_MIN_OBS responses on, else 1 (the booklet-grouped E-step always runs on
   * one thread). Results equal the one-thread E-step up to rounding and are deterministic for a given
   * number of threads; the default does not depend on the machine, so neither do the results.
   */
  threads?: number;
}

/** Responses from which the per-person E-step runs on two threads by default. */
export const PARALLEL_MIN_OBS = 100_000;

/** Largest number of free item parameters the joint BFGS M-step accepts (dense n×n matrix). */
export const MAX_BFGS_PARAMS = 4000;

export interface ItemEstimate {
  itemId: string;
  a: number;
  b: number;
  c: number;
  d: number;
  /** Responses used. */
  n: number;
  /** Held at given values (anchor under fixed linking). */
  fixed: boolean;
  /** Standard errors, for the estimated parameters only (none for a parameter at its bound). */
  se?: Record<string, number>;
  /** Covariance of the estimated IRT-form parameters (`names` of a, b, c; row-major), with `se`. */
  cov?: { names: string[]; matrix: number[] };
  /** Estimated parameters at a bound of the parameter space (3PL: c → 0), reported without an SE. */
  boundary?: string[];
}

export interface Calibration {
  model: string;
  items: ItemEstimate[];
  /** Latent distribution N(mean, variance); (0, 1) unless estimated. */
  latent: { mean: number; variance: number };
  logLik: number;
  AIC: number;
  BIC: number;
  /** Free parameters counted in AIC and BIC (items and latent). */
  nFreeParams: number;
  iterations: number;
  converged: boolean;
  /** Largest absolute parameter change of the last cycle. */
  maxChange: number;
  /** Threads the E-step ran on (1 when worker threads were not wanted or could not start). */
  threads: number;
  nPersons: number;
  nItems: number;
  nObs: number;
  nodes: Float64Array;
  /** EAP and posterior SD per person of `data.personIds` (unless abilities: false). */
  abilities?: { theta: Float64Array; se: Float64Array };
}

/** Above this many free item parameters, SEs use per-item blocks of the information matrix. */
const FULL_SE_LIMIT = 1500;

/**
 * Calibrates the items of `data` by EM. Deterministic: the same data and options give bit-identical
 * results. `converged` is true only when the largest parameter change fell below `tol` within
 * `maxCycles` cycles; logLik, AIC, BIC and abilities are evaluated at the returned parameters.
 */
export function calibrate(data: ResponseData, opts: CalibrateOptions = {}): Calibration {
  const model = typeof opts.model === 'object' ? opts.model : itemModel(opts.model ?? '2PL', opts.priors);
  const tol = opts.tol ?? 1e-4;
  const maxCycles = opts.maxCycles ?? 500;
  const nodes = gridNodes(opts.quadpts ?? DEFAULT_GRID.quadpts, opts.thetaLim ?? DEFAULT_GRID.thetaLim);
  const Q = nodes.length;
  const J = data.nItems;
  const { nCat, nPar, free } = model;
  const stride = nCat * Q;
  const compat = opts.mirtCompat ?? false;
  const accelerate = opts.accelerate ?? (compat ? 'ramsay' : 'squarem');
  const startKind = opts.start ?? (compat ? 'mirt' : 'engine');
  const mstepKind = opts.mstep ?? (compat ? 'bfgs' : 'newton');

  const V = new Float64Array(J * nPar);
  const isFixed = new Uint8Array(J);
  const catFreq = new Float64Array(nCat);
  for (let j = 0; j < J; j++) {
    const v = V.subarray(j * nPar, (j + 1) * nPar);
    const given = opts.fixed?.get(data.itemIds[j]);
    if (given) {
      model.fromParams(given, v);
      isFixed[j] = 1;
      continue;
    }
    catFreq.fill(0);
    for (let q = data.itemPtr[j]; q < data.itemPtr[j + 1]; q++) catFreq[data.itemValue[q]]++;
    if (startKind === 'mirt' && model.mirtStart) model.mirtStart(catFreq, v);
    else model.start(catFreq, v);
  }
  const nFixed = isFixed.reduce((s, x) => s + x, 0);
  const estMean = nFixed > 0;
  const estVar = estMean || model.name === 'Rasch';
  let mean = 0;
  let variance = 1;

  const design = nCat === 2 && (opts.groupedEstep ?? true) ? bookletDesign(data, J) : null;
  const threads = design
    ? 1
    : Math.max(1, Math.floor(opts.threads ?? (data.nObs >= PARALLEL_MIN_OBS ? 2 : 1)));
  const pool = threads > 1 ? EstepPool.open(data, nodes, J * stride, nCat, threads) : null;
  try {
    return run();
  } finally {
    pool?.close();
  }

  function run(): Calibration {
    const table = pool ? pool.table : new Float64Array(J * stride);
    const counts = new Float64Array(J * stride);
    const nk = new Float64Array(Q);
    const weights = new Float64Array(Q);
    const logPrior = pool ? pool.logPrior : new Float64Array(Q);
    const prev = new Float64Array(J * nPar);
    const setPrior = () => {
      normalWeights(nodes, mean, variance, weights);
      for (let k = 0; k < Q; k++) logPrior[k] = Math.log(weights[k]);
    };
    const grouped = design ? groupedState(design, J, Q) : null;
    const pass = (sinks: PosteriorSinks): number =>
      grouped
        ? groupedPass(grouped, table, logPrior, nodes, sinks)
        : pool
          ? pool.pass(sinks, !!sinks.windows)
          : posteriorPass(data, table, nCat, logPrior, nodes, sinks);
    // Windowed E-step (posterior.ts) when every item curve is log-concave in θ and Q fits a byte.
    const windows = Q <= 255 ? new Uint8Array(2 * data.nPersons).fill(255) : undefined;
    let concave = false;
    const fillTable = () => {
      concave = !!windows && !!model.isLogConcave;
      for (let j = 0; j < J; j++) {
        if (concave && !model.isLogConcave!(V.subarray(j * nPar, (j + 1) * nPar))) concave = false;
        model.logProb(
          V.subarray(j * nPar, (j + 1) * nPar),
          nodes,
          table.subarray(j * stride, (j + 1) * stride),
        );
      }
    };

    // mirt's M-step: one joint minimisation of −Σ_j (expected complete-data log-likelihood of item j)
    // over the free entries of all estimated items, from the current values. Without latent
    // parameters it is R optim's BFGS with at most max(⌈50·Mrate⌉, 15) iterations (Mrate = e^(ΔlogLik)
    // once the log-likelihood rises, 0.4 before). With the latent mean/variance estimated (Rasch,
    // anchors) mirt adds them to the same minimisation, with the expected log density of the node
    // masses Σ_k r_k log φ(θ_k; μ, σ²) (r_k = Σ_j expected responses at node k / J), and, the variance
    // being bounded below by 1e-4, uses L-BFGS-B, whose Mrate starts moving only after cycle 5.
    const hasPriors = !!(opts.priors?.a || opts.priors?.b || (opts.priors?.c && model.name === '3PL'));
    let mrate = 0.4;
    let llPrevCycle = Number.POSITIVE_INFINITY;
    const bfgsIdx: number[] = [];
    if (mstepKind === 'bfgs' && !hasPriors) {
      for (let j = 0; j < J; j++) if (!isFixed[j]) for (const p of free) bfgsIdx.push(j * nPar + p);
      if (!model.emObjective || !model.emGradient)
        throw new InvalidInputError(`mstep 'bfgs' needs a model with emObjective/emGradient (${model.name})`);
      if (bfgsIdx.length > MAX_BFGS_PARAMS)
        throw new InvalidInputError(
          `mstep 'bfgs' (mirtCompat) is limited to ${MAX_BFGS_PARAMS} free item parameters, got ${bfgsIdx.length}`,
        );
    }
    const jointMstep = bfgsIdx.length > 0 ? (estVar ? 'lbfgsb' : 'bfgs') : null;
    const nItemX = bfgsIdx.length;
    const latentX = jointMstep === 'lbfgsb' ? (estMean ? 2 : 1) : 0;
    const mstepX = new Float64Array(nItemX + latentX);
    const itemGrad = new Float64Array(free.length);
    const nodeMass = new Float64Array(Q);
    const runJointMstep = () => {
      const emObjective = model.emObjective!.bind(model);
      const emGradient = model.emGradient!.bind(model);
      const m = free.length;
      const load = (x: Float64Array) => {
        for (let i = 0; i < nItemX; i++) V[bfgsIdx[i]] = x[i];
      };
      // Latent entries of x: [mean,] variance after the item entries.
      const latentOf = (x: Float64Array) =>
        estMean ? { mu: x[nItemX], v: x[nItemX + 1] } : { mu: 0, v: x[nItemX] };
      const fn = (x: Float64Array) => {
        load(x);
        let f = 0;
        for (let j = 0; j < J; j++) {
          if (isFixed[j]) continue;
          f += emObjective(
            V.subarray(j * nPar, (j + 1) * nPar),
            nodes,
            counts.subarray(j * stride, (j + 1) * stride),
          );
        }
        if (latentX > 0) {
          const { mu, v } = latentOf(x);
          const c = -0.5 * Math.log(2 * Math.PI * v);
          for (let k = 0; k < Q; k++) f += nodeMass[k] * (c - (nodes[k] - mu) ** 2 / (2 * v));
        }
        return Number.isFinite(f) ? -f : 1e100;
      };
      const gr = (x: Float64Array, g: Float64Array) => {
        load(x);
        let o = 0;
        for (let j = 0; j < J; j++) {
          if (isFixed[j]) continue;
          emGradient(
            V.subarray(j * nPar, (j + 1) * nPar),
            nodes,
            counts.subarray(j * stride, (j + 1) * stride),
            itemGrad,
          );
          for (let i = 0; i < m; i++) g[o++] = -itemGrad[i];
        }
        if (latentX > 0) {
          const { mu, v } = latentOf(x);
          let gMu = 0;
          let gV = 0;
          for (let k = 0; k < Q; k++) {
            const e = nodes[k] - mu;
            gMu += (nodeMass[k] * e) / v;
            gV += (nodeMass[k] * (e * e - v)) / (2 * v * v);
          }
          if (estMean) g[o++] = -gMu;
          g[o] = -gV;
        }
      };
      for (let i = 0; i < nItemX; i++) mstepX[i] = V[bfgsIdx[i]];
      const maxit = Math.max(Math.ceil(mrate * 50), 15);
      if (jointMstep === 'bfgs') variableMetric(mstepX, fn, gr, maxit);
      else {
        // mirt's group weights: the expected responses at each node over all items, divided by J.
        for (let k = 0; k < Q; k++) {
          let s = 0;
          for (let j = 0; j < J; j++) for (let c = 0; c < nCat; c++) s += counts[j * stride + c * Q + k];
          nodeMass[k] = s / J;
        }
        if (estMean) mstepX[nItemX] = mean;
        mstepX[nItemX + latentX - 1] = variance;
        // Only the variance is bounded (below, 1e-4); the rest are free, so the problem is not
        // "boxed" and each M-step's first trial step is 1/|d| (R's rule), not 1.
        const lower = new Float64Array(mstepX.length).fill(Number.NEGATIVE_INFINITY);
        const upper = new Float64Array(mstepX.length).fill(Number.POSITIVE_INFINITY);
        lower[mstepX.length - 1] = 1e-4;
        boundedLimitedMemoryBfgs(mstepX, lower, upper, fn, gr, maxit);
        ({ mu: mean, v: variance } = latentOf(mstepX));
      }
      load(mstepX);
    };

    // One EM cycle (E-step at V, mean, variance; M-step in place); returns the log-likelihood at the
    // input and the largest absolute change of the free parameters.
    const emCycle = (): { logLik: number; change: number } => {
      setPrior();
      fillTable();
      counts.fill(0);
      nk.fill(0);
      const ll = pass({
        counts,
        nk,
        windows: concave ? windows : undefined,
      });
      prev.set(V);
      // mirt: Mrate = e^(LL_prev − LL) whenever the log-likelihood rose (from cycle 6 with L-BFGS-B);
      // it only sets the M-step's iteration budget.
      if (ll > llPrevCycle && (jointMstep !== 'lbfgsb' || iterations > 5)) mrate = Math.exp(llPrevCycle - ll);
      llPrevCycle = ll;
      const latentBefore = { mean, variance };
      if (jointMstep) runJointMstep();
      else {
        for (let j = 0; j < J; j++) {
          if (isFixed[j]) continue;
          model.maximize(
            V.subarray(j * nPar, (j + 1) * nPar),
            nodes,
            counts.subarray(j * stride, (j + 1) * stride),
          );
        }
      }
      let change = 0;
      for (let j = 0; j < J; j++) {
        if (isFixed[j]) continue;
        for (const p of free) change = Math.max(change, Math.abs(V[j * nPar + p] - prev[j * nPar + p]));
      }
      if (estVar && jointMstep !== 'lbfgsb') {
        // M-step of the latent distribution: the moments of the expected node counts.
        let n = 0;
        let m1 = 0;
        for (let k = 0; k < Q; k++) {
          n += nk[k];
          m1 += nk[k] * nodes[k];
        }
        mean = estMean ? m1 / n : 0;
        let m2 = 0;
        for (let k = 0; k < Q; k++) m2 += nk[k] * (nodes[k] - mean) ** 2;
        variance = m2 / n;
      }
      if (estVar)
        change = Math.max(
          change,
          Math.abs(mean - latentBefore.mean),
          Math.abs(variance - latentBefore.variance),
        );
      return { logLik: ll, change };
    };
    // The full state (item vectors, then latent mean and variance) for the acceleration.
    const NS = J * nPar + 2;
    const save = (out: Float64Array) => {
      out.set(V);
      out[NS - 2] = mean;
      out[NS - 1] = variance;
    };
    const load = (src: Float64Array) => {
      V.set(src.subarray(0, J * nPar));
      mean = src[NS - 2];
      variance = src[NS - 1];
    };
    // Free state entries (the ones the acceleration extrapolates).
    const freeIdx: number[] = [];
    for (let j = 0; j < J; j++) if (!isFixed[j]) for (const p of free) freeIdx.push(j * nPar + p);
    if (estMean) freeIdx.push(NS - 2);
    if (estVar) freeIdx.push(NS - 1);
    const x0 = new Float64Array(NS);
    const x1 = new Float64Array(NS);
    const x2 = new Float64Array(NS);

    let iterations = 0;
    let converged = false;
    let maxChange = Number.POSITIVE_INFINITY;
    // One EM cycle with bookkeeping; true when the loop must stop (converged, non-finite or maxCycles).
    let lastLL = Number.NaN;
    const step = (): boolean => {
      iterations++;
      const { logLik: ll, change } = emCycle();
      lastLL = ll;
      maxChange = change;
      if (!Number.isFinite(change)) return true;
      if (change < tol) {
        converged = true;
        return true;
      }
      return iterations >= maxCycles;
    };
    if (accelerate === 'none' && !jointMstep) {
      while (iterations < maxCycles) if (step()) break;
    } else if (accelerate === 'none' || accelerate === 'ramsay') {
      // mirt's loop: Mrate from the log-likelihood increase (it sets the BFGS iteration limit), and
      // on every third cycle Ramsay's (1975) extrapolation x ← (1 − α)·F(x) + α·x with
      // α = max(1 − |Δ|/|Δ − Δ₋₁|, −5) over the whole state, applied to the item parameters only
      // (not the latent mean and variance) and skipped while Mrate ≤ 0.01.
      save(x1);
      while (iterations < maxCycles) {
        save(x0); // input of this cycle (x1 keeps the input of the previous one)
        if (step()) break;
        if (accelerate === 'ramsay' && iterations % 3 === 0 && mrate > 0.01) {
          save(x2);
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
            for (const i of freeIdx) if (i < J * nPar) V[i] = (1 - accel) * x2[i] + accel * x0[i];
          }
        }
        x1.set(x0);
      }
    } else {
      // SQUAREM (Varadhan & Roland 2008, scheme S3) with a monotonicity safeguard: from x0, two EM
      // cycles give x1, x2; the extrapolated point x' = x0 − 2α r + α² v (r = x1 − x0, v = x2 − 2x1 + x0,
      // α = −|r|/|v| ≤ −1) is taken only if it is valid and the next EM cycle finds logLik(x') ≥
      // logLik(x1); otherwise EM continues from x2. Convergence is always judged on a plain EM cycle
      // (|F(x) − x| < tol), so the fixed point and the stopping rule are those of plain EM.
      while (iterations < maxCycles) {
        save(x0);
        if (step()) break;
        save(x1);
        if (step()) break;
        const ll1 = lastLL; // logLik at x1
        const change2 = maxChange;
        save(x2);
        let rr = 0;
        let vv = 0;
        for (const i of freeIdx) {
          const r = x1[i] - x0[i];
          const v = x2[i] - 2 * x1[i] + x0[i];
          rr += r * r;
          vv += v * v;
        }
        if (!(vv > 0)) continue;
        let alpha = -Math.sqrt(rr / vv);
        if (alpha > -1) alpha = -1;
        for (const i of freeIdx) {
          const r = x1[i] - x0[i];
          const v = x2[i] - 2 * x1[i] + x0[i];
          x0[i] = x0[i] - 2 * alpha * r + alpha * alpha * v;
        }
        // x0 now holds the extrapolated point (fixed entries unchanged).
        let valid = true;
        for (const i of freeIdx) if (!Number.isFinite(x0[i])) valid = false;
        if (estVar && !(x0[NS - 1] > 0)) valid = false;
        if (!valid || alpha === -1) {
          load(x2);
          continue;
        }
        load(x0);
        const stop = step();
        if (lastLL >= ll1) {
          if (stop) break;
          continue;
        }
        // The extrapolation lowered the likelihood: discard it and continue EM from x2.
        converged = false;
        load(x2);
        maxChange = change2;
        if (iterations >= maxCycles) break;
      }
    }

    setPrior();
    fillTable();
    const wantAbilities = opts.abilities ?? true;
    const theta = wantAbilities ? new Float64Array(data.nPersons) : undefined;
    const se = wantAbilities ? new Float64Array(data.nPersons) : undefined;
    const scoreStart = performance.now();
    const logLik = pass({
      theta,
      se,
      windows: concave ? windows : undefined,
    });
    if (opts.timings) opts.timings.scoreMs = performance.now() - scoreStart;

    const items: ItemEstimate[] = [];
    for (let j = 0; j < J; j++) {
      const given = opts.fixed?.get(data.itemIds[j]);
      // Anchors are reported exactly as given, not through the internal (a, d) round trip.
      const p = given ?? model.toParams(V.subarray(j * nPar, (j + 1) * nPar));
      items.push({
        itemId: data.itemIds[j],
        a: p.a,
        b: p.b,
        c: p.c,
        d: -p.a * p.b,
        n: data.itemPtr[j + 1] - data.itemPtr[j],
        fixed: !!given,
      });
    }
    if (opts.itemSE) itemStandardErrors(data, model, V, isFixed, table, logPrior, nodes, items);

    const nFreeParams = (J - nFixed) * free.length + (estMean ? 1 : 0) + (estVar ? 1 : 0);
    return {
      model: model.name,
      items,
      latent: { mean, variance },
      logLik,
      AIC: -2 * logLik + 2 * nFreeParams,
      BIC: -2 * logLik + nFreeParams * Math.log(data.nPersons),
      nFreeParams,
      iterations,
      converged,
      maxChange,
      threads: pool ? threads : 1,
      nPersons: data.nPersons,
      nItems: J,
      nObs: data.nObs,
      nodes,
      abilities: theta && se ? { theta, se } : undefined,
    };
  }
}

/**
 * Item standard errors from the cross-product (XPD) approximation of the observed information,
 * I ≈ Σ_i g_i g_iᵀ with g_i the gradient of person i's marginal log-likelihood in the free item
 * parameters (latent parameters treated as known), plus the priors' curvature (the information the
 * MAP estimate owes to its priors; without it SEs ignore the prior, e.g. se_c above the prior's own
 * SD). A parameter at a bound (3PL c → 0) carries no information: it is held at the bound (its row and
 * column set to the identity, which inverts the rest exactly) and reported without an SE. The full
 * matrix is inverted up to FULL_SE_LIMIT free parameters, per-item blocks above (cheaper, slightly
 * optimistic). A singular information gives NaN standard errors.
 */
function itemStandardErrors(
  data: ResponseData,
  model: ItemModel,
  V: Float64Array,
  isFixed: Uint8Array,
  table: Float64Array,
  logPrior: Float64Array,
  nodes: Float64Array,
  items: ItemEstimate[],
): void {
  const Q = nodes.length;
  const J = data.nItems;
  const { nCat, nPar, free } = model;
  const m = free.length;
  const rowLen = nCat * Q * m;
  // col[j]: first row of item j in the information matrix (−1 for fixed items).
  const col = new Int32Array(J).fill(-1);
  let P = 0;
  for (let j = 0; j < J; j++) {
    if (isFixed[j]) continue;
    col[j] = P;
    P += m;
  }
  if (P === 0) return;
  const full = P <= FULL_SE_LIMIT;
  const scores = new Float64Array(J * rowLen);
  for (let j = 0; j < J; j++) {
    if (!isFixed[j])
      model.score(V.subarray(j * nPar, (j + 1) * nPar), nodes, scores.subarray(j * rowLen, (j + 1) * rowLen));
  }
  const info = new Float64Array(full ? P * P : P * m);
  const post = new Float64Array(Q);
  const win = new Int32Array(2);
  const { personPtr, personItem, personValue } = data;
  let maxResp = 0;
  for (let i = 0; i < data.nPersons; i++) maxResp = Math.max(maxResp, personPtr[i + 1] - personPtr[i]);
  const g = new Float64Array(maxResp * m);
  for (let i = 0; i < data.nPersons; i++) {
    personPosterior(data, i, table, nCat, logPrior, post, win);
    const o0 = personPtr[i];
    const ni = personPtr[i + 1] - o0;
    for (let u = 0; u < ni; u++) {
      const j = personItem[o0 + u];
      if (col[j] < 0) continue;
      const base = j * rowLen + personValue[o0 + u] * Q * m;
      for (let p = 0; p < m; p++) {
        let s = 0;
        for (let k = 0; k < Q; k++) s += post[k] * scores[base + k * m + p];
        g[u * m + p] = s;
      }
    }
    for (let u = 0; u < ni; u++) {
      const ju = personItem[o0 + u];
      if (col[ju] < 0) continue;
      const wFrom = full ? 0 : u;
      const wTo = full ? ni : u + 1;
      for (let w = wFrom; w < wTo; w++) {
        const jw = personItem[o0 + w];
        if (col[jw] < 0) continue;
        for (let p = 0; p < m; p++) {
          const row = full ? (col[ju] + p) * P + col[jw] : (col[ju] + p) * m;
          for (let q = 0; q < m; q++) info[row + q] += g[u * m + p] * g[w * m + q];
        }
      }
    }
  }
  // Prior curvature and boundaries, per item block.
  const at = (j: number, p: number, q: number) =>
    full ? (col[j] + p) * P + col[j] + q : (col[j] + p) * m + q;
  const prior = new Float64Array(m * m);
  const boundary: (boolean[] | undefined)[] = [];
  for (let j = 0; j < J; j++) {
    if (col[j] < 0) continue;
    const v = V.subarray(j * nPar, (j + 1) * nPar);
    if (model.priorInformation) {
      prior.fill(0);
      model.priorInformation(v, prior);
      for (let p = 0; p < m; p++) for (let q = 0; q < m; q++) info[at(j, p, q)] += prior[p * m + q];
    }
    boundary[j] = model.atBoundary?.(v);
    boundary[j]?.forEach((isAt, p) => {
      if (!isAt) return;
      const row = col[j] + p;
      const width = full ? P : m;
      for (let q = 0; q < width; q++) {
        info[(full ? row * P : row * m) + q] = 0;
        if (full) info[q * P + row] = 0;
      }
      // Per-item blocks: the column of p inside its own block.
      if (!full) for (let q = 0; q < m; q++) info[(col[j] + q) * m + p] = 0;
      info[at(j, p, p)] = 1;
    });
  }
  const cov = full ? invertSPD(info, P) : null;
  const block = new Float64Array(m * m);
  for (let j = 0; j < J; j++) {
    if (col[j] < 0) continue;
    if (full) {
      if (cov)
        for (let p = 0; p < m; p++)
          for (let q = 0; q < m; q++) block[p * m + q] = cov[(col[j] + p) * P + col[j] + q];
      else block.fill(Number.NaN);
    } else {
      const inv = invertSPD(info.slice(col[j] * m, (col[j] + m) * m), m);
      if (inv) block.set(inv);
      else block.fill(Number.NaN);
    }
    const r = model.standardErrors(V.subarray(j * nPar, (j + 1) * nPar), block, boundary[j]);
    items[j].se = r.se;
    items[j].cov = { names: r.names, matrix: r.matrix };
    if (r.boundary.length > 0) items[j].boundary = r.boundary;
  }
}
