// Quadrature grid for the latent trait: equally spaced nodes, weights from a normal density
// normalised to sum to 1 (mirt's convention for unidimensional models).

import { InvalidInputError } from '../user-error.js';

/** mirt's default grid, used wherever a caller does not choose one: 61 nodes on [-6, 6]. */
export const DEFAULT_GRID: { readonly quadpts: number; readonly thetaLim: readonly [number, number] } = {
  quadpts: 61,
  thetaLim: [-6, 6],
};

/** Equally spaced nodes and normalised prior weights on a closed interval. */
export interface Grid {
  readonly nodes: Float64Array;
  readonly weights: Float64Array;
}

/** `quadpts` equally spaced nodes on [lo, hi] (both ends included); at least 2 points, lo < hi. */
export function gridNodes(quadpts: number, thetaLim: readonly [number, number]): Float64Array {
  const [lo, hi] = thetaLim;
  if (!Number.isInteger(quadpts) || quadpts < 2)
    throw new InvalidInputError(`quadpts must be an integer >= 2`);
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi))
    throw new InvalidInputError(`thetaLim must be finite with lo < hi`);
  const nodes = new Float64Array(quadpts);
  const step = (hi - lo) / (quadpts - 1);
  for (let k = 0; k < quadpts; k++) nodes[k] = lo + k * step;
  return nodes;
}

/**
 * Normal density N(mean, variance) at the nodes, normalised to sum to 1, written into `out`
 * (allocated when absent). The density is evaluated relative to the largest node value so that
 * the normalisation never underflows.
 */
export function normalWeights(
  nodes: Float64Array,
  mean: number,
  variance: number,
  out: Float64Array = new Float64Array(nodes.length),
): Float64Array {
  if (!(variance > 0 && Number.isFinite(variance)))
    throw new InvalidInputError(`variance must be positive and finite`);
  let sum = 0;
  for (let k = 0; k < nodes.length; k++) {
    const z = nodes[k] - mean;
    out[k] = Math.exp((-0.5 * z * z) / variance);
    sum += out[k];
  }
  for (let k = 0; k < nodes.length; k++) out[k] /= sum;
  return out;
}

/** Grid with N(mean, variance) weights; defaults are mirt's: 61 nodes on [-6, 6], N(0, 1). */
export function makeGrid(
  quadpts = DEFAULT_GRID.quadpts,
  thetaLim: readonly [number, number] = DEFAULT_GRID.thetaLim,
  mean = 0,
  variance = 1,
): Grid {
  const nodes = gridNodes(quadpts, thetaLim);
  return { nodes, weights: normalWeights(nodes, mean, variance) };
}
