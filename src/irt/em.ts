// The EM of one calibration as explicit state and steps (Bock–Aitkin with mirt's conventions,
// docs/irt.md): start values, the E-step, the item and latent M-steps, one cycle. estimate.ts opens
// the state, lets em-acceleration.ts drive the cycles, and scores the result.

import { boundedLimitedMemoryBfgs, variableMetric } from '../math/optimize.js';
import { InvalidInputError } from '../user-error.js';
import type { ItemModel, ItemParams, ItemPriors } from './models.js';
import { EstepPool, startEstepWorkers } from './parallel.js';
import { bookletDesign, groupedPass, groupedState, type PosteriorSinks, posteriorPass } from './posterior.js';
import { normalWeights } from './quadrature.js';
import type { ResponseData } from './responses.js';

/** Responses from which the per-person E-step runs on two threads by default. */
export const PARALLEL_MIN_OBS = 100_000;

/** Threads of the per-person E-step by default: two from PARALLEL_MIN_OBS responses on. */
const defaultThreads = (nObs: number) => (nObs >= PARALLEL_MIN_OBS ? 2 : 1);

/**
 * Starts now the worker threads a default calibration of `nObs` responses will use, so that a
 * caller overlaps their start-up (tens of milliseconds) with its own work; returns that calibration's
 * number of E-step threads.
 */
export function prepareEstepThreads(nObs: number): number {
  const threads = defaultThreads(nObs);
  startEstepWorkers(threads);
  return threads;
}

/** Largest number of free item parameters the joint BFGS M-step accepts (dense n×n matrix). */
export const MAX_BFGS_PARAMS = 4000;

export interface EmSetup {
  data: ResponseData;
  model: ItemModel;
  nodes: Float64Array;
  priors?: ItemPriors;
  fixed?: ReadonlyMap<string, ItemParams>;
  start: 'engine' | 'mirt';
  mstep: 'newton' | 'bfgs';
  groupedEstep?: boolean;
  threads?: number;
}

/** The E-step's tables and the pass that fills the sinks from them (grouped, threaded or per person). */
interface Estep {
  /** log P(category | node) per item, J × nCat × Q (shared with the workers when threaded). */
  readonly table: Float64Array;
  readonly logPrior: Float64Array;
  readonly weights: Float64Array;
  /** Expected responses per item, category and node; expected persons per node. */
  readonly counts: Float64Array;
  readonly nk: Float64Array;
  /** Per-person node windows (posterior.ts), when Q fits a byte. */
  readonly windows: Uint8Array | undefined;
  /** Every item curve log-concave in θ at the current parameters: the windows are valid. */
  concave: boolean;
  readonly pass: (sinks: PosteriorSinks) => number;
  readonly pool: EstepPool | null;
}

/** mirt's joint M-step: the free item entries (and the latent moments under L-BFGS-B) as one vector. */
interface JointMstep {
  readonly kind: 'bfgs' | 'lbfgsb';
  /** Indices into V of the free item entries, item by item. */
  readonly itemIdx: number[];
  /** Latent entries after the item entries: [mean,] variance under L-BFGS-B, else none. */
  readonly nLatent: number;
  readonly x: Float64Array;
  readonly itemGrad: Float64Array;
  /** mirt's group weights: the expected responses at each node over all items, divided by J. */
  readonly nodeMass: Float64Array;
}

export interface EmState {
  readonly data: ResponseData;
  readonly model: ItemModel;
  readonly nodes: Float64Array;
  /** Item vectors in the model's internal form, J × nPar. */
  readonly V: Float64Array;
  /** 1 for items held at given values (anchors). */
  readonly isFixed: Uint8Array;
  readonly nFixed: number;
  readonly estMean: boolean;
  readonly estVar: boolean;
  mean: number;
  variance: number;
  readonly estep: Estep;
  readonly joint: JointMstep | null;
  /** mirt's Mrate (it only sets the joint M-step's iteration budget) and the log-likelihood it follows. */
  mrate: number;
  llPrevCycle: number;
  /** EM cycles run so far. */
  iterations: number;
  /** V before the current cycle's M-step. */
  readonly prev: Float64Array;
}

/** The state at the start values; close it (worker threads) when done. */
export function openEm(setup: EmSetup): EmState {
  const { data, model, nodes } = setup;
  const J = data.nItems;
  const { V, isFixed } = startValues(setup);
  const nFixed = isFixed.reduce((s, x) => s + x, 0);
  const estMean = nFixed > 0;
  const estVar = estMean || model.name === 'Rasch';
  const joint = jointMstepFor(setup, isFixed, estMean, estVar);
  return {
    data,
    model,
    nodes,
    V,
    isFixed,
    nFixed,
    estMean,
    estVar,
    mean: 0,
    variance: 1,
    estep: openEstep(setup),
    joint,
    mrate: 0.4,
    llPrevCycle: Number.POSITIVE_INFINITY,
    iterations: 0,
    prev: new Float64Array(J * model.nPar),
  };
}

export function closeEm(s: EmState): void {
  s.estep.pool?.close();
}

function startValues({ data, model, fixed, start }: EmSetup): { V: Float64Array; isFixed: Uint8Array } {
  const J = data.nItems;
  const { nCat, nPar } = model;
  const V = new Float64Array(J * nPar);
  const isFixed = new Uint8Array(J);
  // Responses per item and category, from the by-person data.
  const freq = new Float64Array(J * nCat);
  for (let o = 0; o < data.nObs; o++) freq[data.personItem[o] * nCat + data.personValue[o]]++;
  for (let j = 0; j < J; j++) {
    const v = V.subarray(j * nPar, (j + 1) * nPar);
    const given = fixed?.get(data.itemIds[j]);
    if (given) {
      model.fromParams(given, v);
      isFixed[j] = 1;
      continue;
    }
    const catFreq = freq.subarray(j * nCat, (j + 1) * nCat);
    if (start === 'mirt' && model.mirtStart) model.mirtStart(catFreq, v);
    else model.start(catFreq, v);
  }
  return { V, isFixed };
}

function openEstep({ data, model, nodes, groupedEstep, threads: wanted }: EmSetup): Estep {
  const J = data.nItems;
  const Q = nodes.length;
  const { nCat } = model;
  const size = J * nCat * Q;
  const design = nCat === 2 && (groupedEstep ?? true) ? bookletDesign(data, J) : null;
  const threads = design ? 1 : Math.max(1, Math.floor(wanted ?? defaultThreads(data.nObs)));
  const pool = threads > 1 ? EstepPool.open(data, nodes, size, nCat, threads) : null;
  const table = pool ? pool.table : new Float64Array(size);
  const logPrior = pool ? pool.logPrior : new Float64Array(Q);
  const grouped = design ? groupedState(design, J, Q) : null;
  const pass = (sinks: PosteriorSinks): number =>
    grouped
      ? groupedPass(grouped, table, logPrior, nodes, sinks)
      : pool
        ? pool.pass(sinks, !!sinks.windows)
        : posteriorPass(data, table, nCat, logPrior, nodes, sinks);
  return {
    table,
    logPrior,
    weights: new Float64Array(Q),
    counts: new Float64Array(size),
    nk: new Float64Array(Q),
    // Windowed E-step (posterior.ts) when every item curve is log-concave in θ and Q fits a byte.
    windows: Q <= 255 ? new Uint8Array(2 * data.nPersons).fill(255) : undefined,
    concave: false,
    pass,
    pool,
  };
}

/**
 * mirt's M-step: one joint minimisation of −Σ_j (expected complete-data log-likelihood of item j)
 * over the free entries of all estimated items, from the current values. Without latent parameters it
 * is R optim's BFGS with at most max(⌈50·Mrate⌉, 15) iterations (Mrate = e^(ΔlogLik) once the
 * log-likelihood rises, 0.4 before). With the latent mean/variance estimated (Rasch, anchors) mirt adds
 * them to the same minimisation, with the expected log density of the node masses Σ_k r_k log φ(θ_k;
 * μ, σ²) (r_k = Σ_j expected responses at node k / J), and, the variance being bounded below by 1e-4,
 * uses L-BFGS-B, whose Mrate starts moving only after cycle 5. Null for the per-item Newton M-step.
 */
function jointMstepFor(
  { data, model, nodes, priors, mstep }: EmSetup,
  isFixed: Uint8Array,
  estMean: boolean,
  estVar: boolean,
): JointMstep | null {
  const hasPriors = !!(priors?.a || priors?.b || (priors?.c && model.name === '3PL'));
  if (mstep !== 'bfgs' || hasPriors) return null;
  const itemIdx: number[] = [];
  for (let j = 0; j < data.nItems; j++)
    if (!isFixed[j]) for (const p of model.free) itemIdx.push(j * model.nPar + p);
  if (!model.emObjective || !model.emGradient)
    throw new InvalidInputError(`mstep 'bfgs' needs a model with emObjective/emGradient (${model.name})`);
  if (itemIdx.length > MAX_BFGS_PARAMS)
    throw new InvalidInputError(
      `mstep 'bfgs' (mirtCompat) is limited to ${MAX_BFGS_PARAMS} free item parameters, got ${itemIdx.length}`,
    );
  if (itemIdx.length === 0) return null;
  const kind = estVar ? 'lbfgsb' : 'bfgs';
  const nLatent = kind === 'lbfgsb' ? (estMean ? 2 : 1) : 0;
  return {
    kind,
    itemIdx,
    nLatent,
    x: new Float64Array(itemIdx.length + nLatent),
    itemGrad: new Float64Array(model.free.length),
    nodeMass: new Float64Array(nodes.length),
  };
}

/** The E-step's inputs at the current state: the prior's log weights and every item's log table. */
export function prepareEstep(s: EmState): void {
  const { model, nodes, V, estep } = s;
  const { nPar } = model;
  const stride = model.nCat * nodes.length;
  normalWeights(nodes, s.mean, s.variance, estep.weights);
  for (let k = 0; k < nodes.length; k++) estep.logPrior[k] = Math.log(estep.weights[k]);
  estep.concave = !!estep.windows && !!model.isLogConcave;
  for (let j = 0; j < s.data.nItems; j++) {
    const v = V.subarray(j * nPar, (j + 1) * nPar);
    if (estep.concave && !model.isLogConcave!(v)) estep.concave = false;
    model.logProb(v, nodes, estep.table.subarray(j * stride, (j + 1) * stride));
  }
}

/** One E-step pass into the given sinks (the windows added when valid); returns the log-likelihood. */
export function estepPass(s: EmState, sinks: Omit<PosteriorSinks, 'windows'>): number {
  return s.estep.pass({ ...sinks, windows: s.estep.concave ? s.estep.windows : undefined });
}

/**
 * One EM cycle (E-step at the state, M-step in place); returns the log-likelihood at the input and the
 * largest absolute change of the free parameters.
 */
export function emCycle(s: EmState): { logLik: number; change: number } {
  const { counts, nk } = s.estep;
  prepareEstep(s);
  counts.fill(0);
  nk.fill(0);
  const ll = estepPass(s, { counts, nk });
  s.prev.set(s.V);
  // mirt: Mrate = e^(LL_prev − LL) whenever the log-likelihood rose (from cycle 6 with L-BFGS-B).
  if (ll > s.llPrevCycle && (s.joint?.kind !== 'lbfgsb' || s.iterations > 5))
    s.mrate = Math.exp(s.llPrevCycle - ll);
  s.llPrevCycle = ll;
  const latentBefore = { mean: s.mean, variance: s.variance };
  if (s.joint) jointMstep(s, s.joint);
  else itemMsteps(s);
  let change = 0;
  const { nPar, free } = s.model;
  for (let j = 0; j < s.data.nItems; j++) {
    if (s.isFixed[j]) continue;
    for (const p of free) change = Math.max(change, Math.abs(s.V[j * nPar + p] - s.prev[j * nPar + p]));
  }
  if (s.estVar && s.joint?.kind !== 'lbfgsb') latentMstep(s);
  if (s.estVar)
    change = Math.max(
      change,
      Math.abs(s.mean - latentBefore.mean),
      Math.abs(s.variance - latentBefore.variance),
    );
  return { logLik: ll, change };
}

/** The default M-step: each estimated item maximised on its own (Fisher scoring, models.ts). */
function itemMsteps(s: EmState): void {
  const { model, nodes, V } = s;
  const { nPar } = model;
  const stride = model.nCat * nodes.length;
  for (let j = 0; j < s.data.nItems; j++) {
    if (s.isFixed[j]) continue;
    model.maximize(
      V.subarray(j * nPar, (j + 1) * nPar),
      nodes,
      s.estep.counts.subarray(j * stride, (j + 1) * stride),
    );
  }
}

/** M-step of the latent distribution: the moments of the expected node counts. */
function latentMstep(s: EmState): void {
  const { nodes } = s;
  const { nk } = s.estep;
  let n = 0;
  let m1 = 0;
  for (let k = 0; k < nodes.length; k++) {
    n += nk[k];
    m1 += nk[k] * nodes[k];
  }
  s.mean = s.estMean ? m1 / n : 0;
  let m2 = 0;
  for (let k = 0; k < nodes.length; k++) m2 += nk[k] * (nodes[k] - s.mean) ** 2;
  s.variance = m2 / n;
}

/** mirt's joint M-step (jointMstepFor): BFGS, or L-BFGS-B with the latent moments. */
function jointMstep(s: EmState, jm: JointMstep): void {
  const { V, nodes } = s;
  const { x, itemIdx, nLatent, nodeMass } = jm;
  const { fn, gr } = jointObjective(s, jm);
  for (let i = 0; i < itemIdx.length; i++) x[i] = V[itemIdx[i]];
  const maxit = Math.max(Math.ceil(s.mrate * 50), 15);
  if (jm.kind === 'bfgs') variableMetric(x, fn, gr, maxit);
  else {
    const { counts } = s.estep;
    const J = s.data.nItems;
    const Q = nodes.length;
    const { nCat } = s.model;
    for (let k = 0; k < Q; k++) {
      let sum = 0;
      for (let j = 0; j < J; j++) for (let c = 0; c < nCat; c++) sum += counts[j * nCat * Q + c * Q + k];
      nodeMass[k] = sum / J;
    }
    if (s.estMean) x[itemIdx.length] = s.mean;
    x[itemIdx.length + nLatent - 1] = s.variance;
    // Only the variance is bounded (below, 1e-4); the rest are free, so the problem is not "boxed"
    // and each M-step's first trial step is 1/|d| (R's rule), not 1.
    const lower = new Float64Array(x.length).fill(Number.NEGATIVE_INFINITY);
    const upper = new Float64Array(x.length).fill(Number.POSITIVE_INFINITY);
    lower[x.length - 1] = 1e-4;
    boundedLimitedMemoryBfgs(x, lower, upper, fn, gr, maxit);
    ({ mu: s.mean, v: s.variance } = latentOf(s, jm, x));
  }
  loadItems(s, jm, x);
}

function loadItems(s: EmState, jm: JointMstep, x: Float64Array): void {
  for (let i = 0; i < jm.itemIdx.length; i++) s.V[jm.itemIdx[i]] = x[i];
}

/** The latent entries of the joint vector: [mean,] variance after the item entries. */
function latentOf(s: EmState, jm: JointMstep, x: Float64Array): { mu: number; v: number } {
  const n = jm.itemIdx.length;
  return s.estMean ? { mu: x[n], v: x[n + 1] } : { mu: 0, v: x[n] };
}

/** The joint M-step's objective (minus the expected complete-data log-likelihood) and its gradient. */
function jointObjective(
  s: EmState,
  jm: JointMstep,
): { fn: (x: Float64Array) => number; gr: (x: Float64Array, g: Float64Array) => void } {
  const { model, nodes, V, isFixed } = s;
  const { counts } = s.estep;
  const { nPar } = model;
  const J = s.data.nItems;
  const Q = nodes.length;
  const stride = model.nCat * Q;
  const m = model.free.length;
  const emObjective = model.emObjective!.bind(model);
  const emGradient = model.emGradient!.bind(model);
  const fn = (x: Float64Array) => {
    loadItems(s, jm, x);
    let f = 0;
    for (let j = 0; j < J; j++) {
      if (isFixed[j]) continue;
      f += emObjective(
        V.subarray(j * nPar, (j + 1) * nPar),
        nodes,
        counts.subarray(j * stride, (j + 1) * stride),
      );
    }
    if (jm.nLatent > 0) {
      const { mu, v } = latentOf(s, jm, x);
      const c = -0.5 * Math.log(2 * Math.PI * v);
      for (let k = 0; k < Q; k++) f += jm.nodeMass[k] * (c - (nodes[k] - mu) ** 2 / (2 * v));
    }
    return Number.isFinite(f) ? -f : 1e100;
  };
  const gr = (x: Float64Array, g: Float64Array) => {
    loadItems(s, jm, x);
    let o = 0;
    for (let j = 0; j < J; j++) {
      if (isFixed[j]) continue;
      emGradient(
        V.subarray(j * nPar, (j + 1) * nPar),
        nodes,
        counts.subarray(j * stride, (j + 1) * stride),
        jm.itemGrad,
      );
      for (let i = 0; i < m; i++) g[o++] = -jm.itemGrad[i];
    }
    if (jm.nLatent > 0) {
      const { mu, v } = latentOf(s, jm, x);
      let gMu = 0;
      let gV = 0;
      for (let k = 0; k < Q; k++) {
        const e = nodes[k] - mu;
        gMu += (jm.nodeMass[k] * e) / v;
        gV += (jm.nodeMass[k] * (e * e - v)) / (2 * v * v);
      }
      if (s.estMean) g[o++] = -gMu;
      g[o] = -gV;
    }
  };
  return { fn, gr };
}
