// Fisher information of dichotomous logistic items (Rasch, 2PL, 3PL) in θ, in closed form. Small and
// general on purpose: the dashboard's information curves, marginal reliability and adaptive item
// selection all read it.

import type { ItemParams } from './models.js';

/**
 * I_j(θ) = P′² / (P Q) of P = c + (1 − c)σ(a(θ − b)), i.e. a² (P − c)² Q / ((1 − c)² P)
 * (Birnbaum 1968, eq. 20.4.16; Lord 1980, eq. 5-9); for c = 0 it is a² P Q.
 */
export function itemInformation(params: ItemParams, theta: number): number {
  const { a, b, c } = params;
  const s = 1 / (1 + Math.exp(-a * (theta - b)));
  if (c === 0) return a * a * s * (1 - s);
  const p = c + (1 - c) * s;
  // (P − c)/(1 − c) = s and Q = (1 − c)(1 − s): I = a² s² (1 − c)(1 − s) / P.
  return (a * a * s * s * (1 - c) * (1 - s)) / p;
}

/** Test information Σ_j I_j(θ) at each θ of `thetas` (the SE of θ at a point is 1/√I). */
export function testInformation(bank: readonly ItemParams[], thetas: ArrayLike<number>): Float64Array {
  const out = new Float64Array(thetas.length);
  for (let k = 0; k < thetas.length; k++) {
    let s = 0;
    for (const p of bank) s += itemInformation(p, thetas[k]);
    out[k] = s;
  }
  return out;
}
