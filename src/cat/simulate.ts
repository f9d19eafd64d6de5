// The adaptive-test simulator: simulees with known θ take the test through the engine, answering
// by the bank's own parameters (the bank is taken as the truth: the figures measure the design,
// not calibration error), and the run is summarised as a design team reads it. Also calibrates the
// Sympson–Hetter exposure parameters by the authors' iteration. Pure and seeded.

import { probability, Rng } from '../irt/index.js';
import { InvalidInputError } from '../user-error.js';
import type { CatBank } from './bank.js';
import { CatEngine, type CatSettings, type NextStep, type StopReason } from './engine.js';

export type ThetaDistribution =
  | { kind: 'normal'; mean: number; sd: number }
  | { kind: 'uniform'; lo: number; hi: number };

export interface CatSimulationOptions {
  nSimulees: number;
  seed: number;
  /** Default N(0, 1). */
  theta?: ThetaDistribution;
  /** Called for every served item with the simulee, the step and the response. */
  onStep?: (simulee: number, step: Extract<NextStep, { done: false }>, correct: 0 | 1) => void;
}

export interface CatSimulationSummary {
  n_simulees: number;
  bias: number;
  rmse: number;
  correlation: number;
  mean_length: number;
  sd_length: number;
  /** Empirical reliability var(θ̂) / (var(θ̂) + mean SE²) (mirt's empirical_rxx for EAP). */
  reliability: number;
  /** Largest share of simulees who saw one item. */
  max_exposure: number;
  /** Share of the available items nobody saw. */
  never_used: number;
  /** Mean share of a test shared by two random simulees (Chen, Ankenmann & Spray 2003). */
  mean_overlap: number;
  /** Per simulee the largest |count − share × length| over topics, in items; null without shares. */
  content_deviation: { mean: number; max: number } | null;
  stop_reasons: Record<StopReason, number>;
}

export interface CatSimulation {
  summary: CatSimulationSummary;
  /** Exposure rate of each bank item (share of simulees who saw it). */
  exposure: Float64Array;
  /** Times each item came up for the Sympson–Hetter lottery, per simulee. */
  offered: Float64Array;
  trueTheta: Float64Array;
  theta: Float64Array;
  se: Float64Array;
  length: Int32Array;
}

/** Runs `nSimulees` adaptive tests with the engine's settings. */
export function simulateCat(engine: CatEngine, opts: CatSimulationOptions): CatSimulation {
  const { bank } = engine;
  const N = opts.nSimulees;
  if (!(Number.isInteger(N) && N >= 2)) throw new InvalidInputError('nSimulees must be an integer >= 2');
  const dist = opts.theta ?? { kind: 'normal', mean: 0, sd: 1 };
  const rng = new Rng(opts.seed);
  const seen = new Float64Array(bank.n);
  const stats = { offered: new Float64Array(bank.n), stamp: new Int32Array(bank.n).fill(-1), session: 0 };
  const trueTheta = new Float64Array(N);
  const theta = new Float64Array(N);
  const se = new Float64Array(N);
  const length = new Int32Array(N);
  const stopReasons: Record<StopReason, number> = { se_target: 0, max_items: 0, no_items: 0 };
  const items: number[] = [];
  const correct: (0 | 1)[] = [];
  const topicCount = new Float64Array(bank.topics.length);
  let devSum = 0;
  let devMax = 0;
  for (let i = 0; i < N; i++) {
    const t =
      dist.kind === 'normal'
        ? dist.mean + dist.sd * rng.normal()
        : dist.lo + (dist.hi - dist.lo) * rng.next();
    trueTheta[i] = t;
    items.length = 0;
    correct.length = 0;
    const sessionId = `sim-${opts.seed}-${i}`;
    stats.session = i;
    for (;;) {
      const step = engine.next({ sessionId, items, correct }, stats);
      if (step.done) {
        theta[i] = step.theta;
        se[i] = step.se;
        stopReasons[step.reason]++;
        break;
      }
      const x = rng.next() < probability(bank.params[step.item], t) ? 1 : 0;
      items.push(step.item);
      correct.push(x);
      seen[step.item]++;
      opts.onStep?.(i, step, x);
    }
    length[i] = items.length;
    if (engine.shares) {
      topicCount.fill(0);
      for (const j of items) topicCount[bank.topicOf[j]]++;
      let dev = 0;
      for (let s = 0; s < topicCount.length; s++)
        dev = Math.max(dev, Math.abs(topicCount[s] - engine.shares[s] * items.length));
      devSum += dev;
      devMax = Math.max(devMax, dev);
    }
  }
  const exposure = seen.map((c) => c / N);
  const offered = stats.offered.map((c) => c / N);
  return {
    summary: summarise(bank, engine, trueTheta, theta, se, length, seen, stopReasons, devSum, devMax),
    exposure,
    offered,
    trueTheta,
    theta,
    se,
    length,
  };
}

function summarise(
  bank: CatBank,
  engine: CatEngine,
  trueTheta: Float64Array,
  theta: Float64Array,
  se: Float64Array,
  length: Int32Array,
  seen: Float64Array,
  stopReasons: Record<StopReason, number>,
  devSum: number,
  devMax: number,
): CatSimulationSummary {
  const N = theta.length;
  const mean = (xs: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += xs[i];
    return s / xs.length;
  };
  const mt = mean(trueTheta);
  const me = mean(theta);
  const ml = mean(length);
  let bias = 0;
  let sq = 0;
  let stt = 0;
  let see = 0;
  let ste = 0;
  let sse2 = 0;
  let sll = 0;
  for (let i = 0; i < N; i++) {
    const e = theta[i] - trueTheta[i];
    bias += e;
    sq += e * e;
    stt += (trueTheta[i] - mt) ** 2;
    see += (theta[i] - me) ** 2;
    ste += (trueTheta[i] - mt) * (theta[i] - me);
    sse2 += se[i] * se[i];
    sll += (length[i] - ml) ** 2;
  }
  const varEst = see / (N - 1);
  // Overlap: pairs of simulees sharing item j are c_j(c_j − 1)/2; per pair and per item of a test.
  let pairs = 0;
  let maxSeen = 0;
  let available = 0;
  let unused = 0;
  for (let j = 0; j < bank.n; j++) {
    pairs += seen[j] * (seen[j] - 1);
    maxSeen = Math.max(maxSeen, seen[j]);
    if (bank.available[j]) {
      available++;
      if (seen[j] === 0) unused++;
    }
  }
  return {
    n_simulees: N,
    bias: bias / N,
    rmse: Math.sqrt(sq / N),
    correlation: ste / Math.sqrt(stt * see),
    mean_length: ml,
    sd_length: Math.sqrt(sll / (N - 1)),
    reliability: varEst / (varEst + sse2 / N),
    max_exposure: maxSeen / N,
    never_used: available > 0 ? unused / available : 0,
    mean_overlap: pairs / (N * (N - 1) * ml),
    content_deviation: engine.shares ? { mean: devSum / N, max: devMax } : null,
    stop_reasons: stopReasons,
  };
}

export interface SympsonHetterOptions {
  /** Target maximum exposure rate r. */
  target: number;
  nSimulees: number;
  seed: number;
  theta?: ThetaDistribution;
  /** Default 30. */
  maxIterations?: number;
}

export interface SympsonHetterCalibration {
  /** P(administer | selected) per bank item. */
  k: Float64Array;
  /** Iterations run (without convergence: the iteration whose k is returned). */
  iterations: number;
  /** Largest exposure rate of the simulation with the returned k. */
  maxExposure: number;
  converged: boolean;
}

/**
 * Sympson & Hetter (1985): start from k = 1; simulate; for each item whose selection rate
 * P(S) = offers/N exceeds the aim set k = aim / P(S), else k = 1; repeat until the largest exposure
 * rate of an iteration is at most r. Every iteration simulates the same simulees with the same
 * draws, so the iteration is a deterministic map of k and settles instead of chasing sampling
 * noise; the margin below keeps the result from fitting that one sample. The aim is r less two binomial standard errors of a rate r among N simulees: an item held
 * at exactly r would exceed r in half of all later samples, and the largest of the capped items by
 * about two standard errors; with the margin the capped items stay at r in a sample of the same size.
 */
export function calibrateSympsonHetter(
  bank: CatBank,
  settings: Omit<CatSettings, 'exposure'>,
  opts: SympsonHetterOptions,
): SympsonHetterCalibration {
  const r = opts.target;
  if (!(r > 0 && r <= 1)) throw new InvalidInputError('target exposure must be in (0, 1]');
  const aim = Math.max(r / 2, r - 2 * Math.sqrt((r * (1 - r)) / opts.nSimulees));
  const k = new Float64Array(bank.n).fill(1);
  const maxIterations = opts.maxIterations ?? 30;
  // Near the fixed point the largest rate can hover a sampling step above r: without convergence
  // the k of the iteration with the lowest largest rate is returned.
  let best = { k: k.slice(), iterations: 0, maxExposure: Number.POSITIVE_INFINITY };
  for (let it = 1; it <= maxIterations; it++) {
    const engine = new CatEngine(bank, { ...settings, exposure: { kind: 'sympson-hetter', k } });
    const sim = simulateCat(engine, { nSimulees: opts.nSimulees, seed: opts.seed, theta: opts.theta });
    const maxExposure = sim.summary.max_exposure;
    if (maxExposure < best.maxExposure) best = { k: k.slice(), iterations: it, maxExposure };
    if (maxExposure <= r && it > 1) return { k, iterations: it, maxExposure, converged: true };
    for (let j = 0; j < bank.n; j++) k[j] = sim.offered[j] > aim ? aim / sim.offered[j] : 1;
  }
  return { ...best, converged: false };
}
