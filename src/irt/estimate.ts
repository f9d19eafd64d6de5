// Marginal maximum likelihood by Bock–Aitkin EM with mirt's conventions (see docs/irt.md).

import { invertSPD } from '../math/linear-algebra.js';
import { closeEm, type EmState, estepPass, openEm, prepareEstep } from './em.js';
import { type Acceleration, type EmOutcome, runEm } from './em-acceleration.js';
import { type ItemModel, type ItemParams, type ItemPriors, itemModel, type ModelName } from './models.js';
import { personPosterior } from './posterior.js';
import { DEFAULT_GRID, gridNodes } from './quadrature.js';
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
  accelerate?: Acceleration;
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
  const nodes = gridNodes(opts.quadpts ?? DEFAULT_GRID.quadpts, opts.thetaLim ?? DEFAULT_GRID.thetaLim);
  const compat = opts.mirtCompat ?? false;
  const s = openEm({
    data,
    model,
    nodes,
    priors: opts.priors,
    fixed: opts.fixed,
    start: opts.start ?? (compat ? 'mirt' : 'engine'),
    mstep: opts.mstep ?? (compat ? 'bfgs' : 'newton'),
    groupedEstep: opts.groupedEstep,
    threads: opts.threads,
  });
  try {
    const accelerate = opts.accelerate ?? (compat ? 'ramsay' : 'squarem');
    const outcome = runEm(s, accelerate, opts.tol ?? 1e-4, opts.maxCycles ?? 500);
    return finish(s, outcome, opts);
  } finally {
    closeEm(s);
  }
}

/** The result at the state EM ended in: a last pass scores the persons and gives logLik; SEs if asked. */
function finish(s: EmState, outcome: EmOutcome, opts: CalibrateOptions): Calibration {
  const { data, model, V, nodes } = s;
  const J = data.nItems;
  const { nPar, free } = model;
  prepareEstep(s);
  const wantAbilities = opts.abilities ?? true;
  const theta = wantAbilities ? new Float64Array(data.nPersons) : undefined;
  const se = wantAbilities ? new Float64Array(data.nPersons) : undefined;
  const scoreStart = performance.now();
  const logLik = estepPass(s, { theta, se });
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
      n: data.itemN[j],
      fixed: !!given,
    });
  }
  if (opts.itemSE)
    itemStandardErrors(data, model, V, s.isFixed, s.estep.table, s.estep.logPrior, nodes, items);

  const nFreeParams = (J - s.nFixed) * free.length + (s.estMean ? 1 : 0) + (s.estVar ? 1 : 0);
  return {
    model: model.name,
    items,
    latent: { mean: s.mean, variance: s.variance },
    logLik,
    AIC: -2 * logLik + 2 * nFreeParams,
    BIC: -2 * logLik + nFreeParams * Math.log(data.nPersons),
    nFreeParams,
    ...outcome,
    threads: s.estep.pool?.threads ?? 1,
    nPersons: data.nPersons,
    nItems: J,
    nObs: data.nObs,
    nodes,
    abilities: theta && se ? { theta, se } : undefined,
  };
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
  const m = model.free.length;
  // col[j]: first row of item j in the information matrix (−1 for fixed items).
  const col = new Int32Array(data.nItems).fill(-1);
  let P = 0;
  for (let j = 0; j < data.nItems; j++) {
    if (isFixed[j]) continue;
    col[j] = P;
    P += m;
  }
  if (P === 0) return;
  const layout: InfoLayout = { col, P, m, full: P <= FULL_SE_LIMIT };
  const info = crossProductInformation(data, model, V, table, logPrior, nodes, layout);
  const boundary = addPriorsAndBoundaries(model, V, info, layout);
  const { full } = layout;
  const cov = full ? invertSPD(info, P) : null;
  const block = new Float64Array(m * m);
  for (let j = 0; j < data.nItems; j++) {
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
    const r = model.standardErrors(V.subarray(j * model.nPar, (j + 1) * model.nPar), block, boundary[j]);
    items[j].se = r.se;
    items[j].cov = { names: r.names, matrix: r.matrix };
    if (r.boundary.length > 0) items[j].boundary = r.boundary;
  }
}

/**
 * Where each item's free parameters sit in the information matrix: rows col[j] … col[j] + m − 1 of a
 * P × P matrix (full), or of P × m per-item blocks.
 */
interface InfoLayout {
  col: Int32Array;
  P: number;
  m: number;
  full: boolean;
}

/** Σ_i g_i g_iᵀ over the persons, g_i the gradient of person i's marginal log-likelihood. */
function crossProductInformation(
  data: ResponseData,
  model: ItemModel,
  V: Float64Array,
  table: Float64Array,
  logPrior: Float64Array,
  nodes: Float64Array,
  { col, P, m, full }: InfoLayout,
): Float64Array {
  const Q = nodes.length;
  const J = data.nItems;
  const { nCat, nPar } = model;
  const rowLen = nCat * Q * m;
  const scores = new Float64Array(J * rowLen);
  for (let j = 0; j < J; j++) {
    if (col[j] >= 0)
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
  return info;
}

/**
 * Adds each item's prior curvature to its block and holds parameters at a bound (their row and column
 * set to the identity); returns the boundary flags per item.
 */
function addPriorsAndBoundaries(
  model: ItemModel,
  V: Float64Array,
  info: Float64Array,
  { col, P, m, full }: InfoLayout,
): (boolean[] | undefined)[] {
  const at = (j: number, p: number, q: number) =>
    full ? (col[j] + p) * P + col[j] + q : (col[j] + p) * m + q;
  const prior = new Float64Array(m * m);
  const boundary: (boolean[] | undefined)[] = [];
  for (let j = 0; j < col.length; j++) {
    if (col[j] < 0) continue;
    const v = V.subarray(j * model.nPar, (j + 1) * model.nPar);
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
  return boundary;
}
