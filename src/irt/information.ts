// Fisher information of the logistic items in the engine's parameterisation
// (P = c + (1 − c)·σ(a(θ − b)), D = 1 as mirt). Lord (1980, eq. 5-27 / Birnbaum):
// I(θ) = P′² / (P·Q) = a² · (Q / P) · ((P − c) / (1 − c))², which is a²·P·Q for Rasch (a = 1) and 2PL.

import { type ItemParams, probability } from './models.js';

/** Fisher information of one item at θ (closed form for Rasch, 2PL and 3PL). */
export function itemInformation(params: ItemParams, theta: number): number {
  const p = probability(params, theta);
  const s = (p - params.c) / (1 - params.c);
  return (params.a * params.a * (1 - p) * s * s) / p;
}

/** Test information Σ_j I_j(θ) of a bank at each θ of `thetas`. */
export function testInformation(bank: readonly ItemParams[], thetas: ArrayLike<number>): Float64Array {
  const out = new Float64Array(thetas.length);
  for (let t = 0; t < thetas.length; t++) {
    let sum = 0;
    for (const item of bank) sum += itemInformation(item, thetas[t]);
    out[t] = sum;
  }
  return out;
}
