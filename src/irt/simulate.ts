// Seeded simulation of responses from known parameters (tests and benchmarks). Deterministic:
// mulberry32 uniforms, Box–Muller normals, Marsaglia–Tsang gammas; no Math.random.

import { InvalidInputError } from '../user-error.js';
import type { ItemParams, ModelName } from './models.js';
import type { IndexedResponses } from './responses.js';

/** Seeded uniform [0, 1) generator with normal, gamma and beta draws. */
export class Rng {
  private state: number;
  private spare = Number.NaN;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** mulberry32: 32-bit state, period 2^32, good enough for simulation. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal (Box–Muller, the second value of each pair kept for the next call). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const s = this.spare;
      this.spare = Number.NaN;
      return s;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Gamma(shape, 1) by Marsaglia–Tsang (shape ≥ 1). */
  gamma(shape: number): number {
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.normal();
      const v = (1 + c * x) ** 3;
      if (v <= 0) continue;
      const u = 1 - this.next();
      if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
  }

  /** Beta(α, β) with α, β ≥ 1. */
  beta(alpha: number, beta: number): number {
    const x = this.gamma(alpha);
    return x / (x + this.gamma(beta));
  }
}

export interface SimulateOptions {
  model: ModelName;
  nPersons: number;
  nItems: number;
  /** Items per person, drawn without replacement (sparse); default all items (dense). */
  perPerson?: number;
  seed: number;
  /** True item parameters; default a ~ logN(0, 0.3²) (1 for Rasch), b ~ N(0, 1), c ~ Beta(5, 17) for 3PL. */
  items?: readonly ItemParams[];
  /** Ability distribution N(thetaMean, thetaSd²); default N(0, 1). */
  thetaMean?: number;
  thetaSd?: number;
}

export interface Simulated {
  items: ItemParams[];
  theta: Float64Array;
  /** Person ids "p1"…, item ids "i1"…; each person's items in the order drawn. */
  responses: IndexedResponses & { correct: Uint8Array };
}

/** Draws true parameters (unless given), abilities and responses from one seeded stream. */
export function simulate(opts: SimulateOptions): Simulated {
  const { nPersons, nItems, model } = opts;
  const K = opts.perPerson ?? nItems;
  if (!(Number.isInteger(K) && K >= 1 && K <= nItems))
    throw new InvalidInputError(`perPerson must be an integer in 1..${nItems}`);
  if (opts.items && opts.items.length !== nItems)
    throw new InvalidInputError(`items must have ${nItems} entries`);
  const rng = new Rng(opts.seed);
  const items =
    opts.items?.map((p) => ({ ...p })) ??
    Array.from({ length: nItems }, () => {
      const a = model === 'Rasch' || model === '1PL' ? 1 : Math.exp(0.3 * rng.normal());
      const b = rng.normal();
      const c = model === '3PL' ? rng.beta(5, 17) : 0;
      return { a, b, c };
    });
  const mu = opts.thetaMean ?? 0;
  const sigma = opts.thetaSd ?? 1;
  const theta = new Float64Array(nPersons);
  for (let i = 0; i < nPersons; i++) theta[i] = mu + sigma * rng.normal();
  const n = nPersons * K;
  const person = new Int32Array(n);
  const item = new Int32Array(n);
  const correct = new Uint8Array(n);
  // Partial Fisher–Yates over a persistent permutation: K distinct items per person in O(K).
  const perm = Int32Array.from({ length: nItems }, (_, j) => j);
  let o = 0;
  for (let i = 0; i < nPersons; i++) {
    for (let r = 0; r < K; r++) {
      let j = r;
      if (K < nItems) {
        const s = r + Math.floor(rng.next() * (nItems - r));
        j = perm[s];
        perm[s] = perm[r];
        perm[r] = j;
      }
      const p = items[j];
      person[o] = i;
      item[o] = j;
      correct[o] = rng.next() < p.c + (1 - p.c) / (1 + Math.exp(-p.a * (theta[i] - p.b))) ? 1 : 0;
      o++;
    }
  }
  const personIds = Array.from({ length: nPersons }, (_, i) => `p${i + 1}`);
  const itemIds = Array.from({ length: nItems }, (_, j) => `i${j + 1}`);
  return { items, theta, responses: { personIds, itemIds, person, item, correct } };
}
