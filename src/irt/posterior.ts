// The E-step kernel shared by calibration and scoring: per person, the log-likelihood on the grid
// is the sum of table rows of its observed responses (O(responses × nodes)), then normalised.

/** The CSR part of ResponseData the posterior needs. */
export interface PersonResponses {
  nPersons: number;
  personPtr: Int32Array;
  personItem: Int32Array;
  personValue: Uint8Array;
}

/** What a posterior pass accumulates; every field is optional. */
export interface PosteriorSinks {
  /** Expected category counts, at [(j·nCat + x)·Q + k] (added to). */
  counts?: Float64Array;
  /** Expected number of persons at each node (added to). */
  nk?: Float64Array;
  /** Posterior mean (EAP) and standard deviation per person (written). */
  theta?: Float64Array;
  se?: Float64Array;
}

/**
 * Posterior of person i over the Q nodes into `post` (sums to 1), from `table` laid out as
 * [(j·nCat + x)·Q + k] = log P(x | θ_k) and the log prior weights; returns the log marginal
 * likelihood. `win` receives the first and last node with non-zero posterior (see normalizeLog).
 */
export function personPosterior(
  data: PersonResponses,
  i: number,
  table: Float64Array,
  nCat: number,
  logPrior: Float64Array,
  post: Float64Array,
  win: Int32Array,
): number {
  const Q = logPrior.length;
  const { personPtr, personItem, personValue } = data;
  post.set(logPrior);
  const end = personPtr[i + 1];
  let o = personPtr[i];
  // Four (then two) responses per sweep over the nodes: fewer loads and stores of `post`.
  for (; o + 7 < end; o += 8) {
    const f1 = (personItem[o] * nCat + personValue[o]) * Q;
    const f2 = (personItem[o + 1] * nCat + personValue[o + 1]) * Q;
    const f3 = (personItem[o + 2] * nCat + personValue[o + 2]) * Q;
    const f4 = (personItem[o + 3] * nCat + personValue[o + 3]) * Q;
    const f5 = (personItem[o + 4] * nCat + personValue[o + 4]) * Q;
    const f6 = (personItem[o + 5] * nCat + personValue[o + 5]) * Q;
    const f7 = (personItem[o + 6] * nCat + personValue[o + 6]) * Q;
    const f8 = (personItem[o + 7] * nCat + personValue[o + 7]) * Q;
    for (let k = 0; k < Q; k++)
      post[k] +=
        table[f1 + k] +
        table[f2 + k] +
        (table[f3 + k] + table[f4 + k]) +
        (table[f5 + k] + table[f6 + k] + (table[f7 + k] + table[f8 + k]));
  }
  for (; o + 3 < end; o += 4) {
    const off1 = (personItem[o] * nCat + personValue[o]) * Q;
    const off2 = (personItem[o + 1] * nCat + personValue[o + 1]) * Q;
    const off3 = (personItem[o + 2] * nCat + personValue[o + 2]) * Q;
    const off4 = (personItem[o + 3] * nCat + personValue[o + 3]) * Q;
    for (let k = 0; k < Q; k++)
      post[k] += table[off1 + k] + table[off2 + k] + (table[off3 + k] + table[off4 + k]);
  }
  for (; o + 1 < end; o += 2) {
    const off1 = (personItem[o] * nCat + personValue[o]) * Q;
    const off2 = (personItem[o + 1] * nCat + personValue[o + 1]) * Q;
    for (let k = 0; k < Q; k++) post[k] += table[off1 + k] + table[off2 + k];
  }
  if (o < end) {
    const off = (personItem[o] * nCat + personValue[o]) * Q;
    for (let k = 0; k < Q; k++) post[k] += table[off + k];
  }
  return normalizeLog(post, win);
}

/** Below max − 37 a log value contributes less than 1e-16 (relative): it is set to exactly 0. */
const NEGLIGIBLE = -37;

/**
 * Turns log values into probabilities summing to 1, in place; returns log Σ exp(values). Values more
 * than 37 below the maximum (relative weight < 1e-16, below double rounding) become 0, which saves
 * their exponentials; `win` receives the first and last non-zero node.
 */
export function normalizeLog(post: Float64Array, win: Int32Array): number {
  const Q = post.length;
  let max = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < Q; k++) if (post[k] > max) max = post[k];
  let sum = 0;
  let lo = Q;
  let hi = -1;
  for (let k = 0; k < Q; k++) {
    const d = post[k] - max;
    if (d < NEGLIGIBLE) {
      post[k] = 0;
      continue;
    }
    const e = Math.exp(d);
    post[k] = e;
    sum += e;
    if (lo === Q) lo = k;
    hi = k;
  }
  const inv = 1 / sum;
  for (let k = lo; k <= hi; k++) post[k] *= inv;
  win[0] = lo;
  win[1] = hi;
  return max + Math.log(sum);
}

/** Posterior mean and standard deviation of a normalised posterior on the nodes. */
export function posteriorMoments(post: Float64Array, nodes: Float64Array, out: Float64Array): void {
  let m = 0;
  for (let k = 0; k < nodes.length; k++) m += post[k] * nodes[k];
  let v = 0;
  for (let k = 0; k < nodes.length; k++) {
    const z = nodes[k] - m;
    v += post[k] * z * z;
  }
  out[0] = m;
  out[1] = Math.sqrt(v);
}

/** One pass over all persons in order; fills the requested sinks and returns the total log-likelihood. */
export function posteriorPass(
  data: PersonResponses,
  table: Float64Array,
  nCat: number,
  logPrior: Float64Array,
  nodes: Float64Array,
  sinks: PosteriorSinks,
): number {
  const Q = nodes.length;
  const post = new Float64Array(Q);
  const win = new Int32Array(2);
  const mom = new Float64Array(2);
  const { counts, nk, theta, se } = sinks;
  const { personPtr, personItem, personValue } = data;
  let logLik = 0;
  for (let i = 0; i < data.nPersons; i++) {
    logLik += personPosterior(data, i, table, nCat, logPrior, post, win);
    const lo = win[0];
    const hi = win[1];
    if (nk) for (let k = lo; k <= hi; k++) nk[k] += post[k];
    if (counts) {
      // Only the nodes with posterior mass, two responses per sweep (as in personPosterior).
      const end = personPtr[i + 1];
      let o = personPtr[i];
      for (; o + 3 < end; o += 4) {
        const off1 = (personItem[o] * nCat + personValue[o]) * Q;
        const off2 = (personItem[o + 1] * nCat + personValue[o + 1]) * Q;
        const off3 = (personItem[o + 2] * nCat + personValue[o + 2]) * Q;
        const off4 = (personItem[o + 3] * nCat + personValue[o + 3]) * Q;
        for (let k = lo; k <= hi; k++) {
          const p = post[k];
          counts[off1 + k] += p;
          counts[off2 + k] += p;
          counts[off3 + k] += p;
          counts[off4 + k] += p;
        }
      }
      for (; o + 1 < end; o += 2) {
        const off1 = (personItem[o] * nCat + personValue[o]) * Q;
        const off2 = (personItem[o + 1] * nCat + personValue[o + 1]) * Q;
        for (let k = lo; k <= hi; k++) {
          const p = post[k];
          counts[off1 + k] += p;
          counts[off2 + k] += p;
        }
      }
      if (o < end) {
        const off = (personItem[o] * nCat + personValue[o]) * Q;
        for (let k = lo; k <= hi; k++) counts[off + k] += post[k];
      }
    }
    if (theta) {
      posteriorMoments(post, nodes, mom);
      theta[i] = mom[0];
      if (se) se[i] = mom[1];
    }
  }
  return logLik;
}
