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
  /**
   * Per-person posterior windows carried between passes (2 bytes per person, 255 = none yet): enables
   * the windowed E-step of personPosterior. Only for tables that are concave in θ, Q ≤ 255.
   */
  windows?: Uint8Array;
}

/**
 * Posterior of person i over the Q nodes into `post` (sums to 1), from `table` laid out as
 * [(j·nCat + x)·Q + k] = log P(x | θ_k) and the log prior weights; returns the log marginal
 * likelihood. `win` receives the first and last node with non-zero posterior (see normalizeLog).
 *
 * `hint` (optional, 2 bytes per person: first and last node of the previous pass) enables the
 * windowed E-step, valid only when every row of the table and the log prior are concave in θ (the
 * logistic models without guessing): only the nodes of the previous window are summed, and the
 * window is widened node by node while an edge node is within 37 log units of the maximum or is
 * the maximum. By concavity every node outside is then more than 37 below the maximum — exactly
 * the nodes the full computation sets to 0 — so the result is bit-identical to the full one.
 */
export function personPosterior(
  data: PersonResponses,
  i: number,
  table: Float64Array,
  nCat: number,
  logPrior: Float64Array,
  post: Float64Array,
  win: Int32Array,
  hint?: Uint8Array,
): number {
  const Q = logPrior.length;
  const { personPtr, personItem, personValue } = data;
  const from = personPtr[i];
  const end = personPtr[i + 1];
  let a = 0;
  let b = Q - 1;
  if (hint && hint[2 * i] <= hint[2 * i + 1] && hint[2 * i + 1] < Q) {
    a = hint[2 * i];
    b = hint[2 * i + 1];
  }
  for (let k = a; k <= b; k++) post[k] = logPrior[k];
  addRows(personItem, personValue, from, end, table, nCat, Q, post, a, b);
  if (hint) {
    let max = Number.NEGATIVE_INFINITY;
    let km = a;
    for (let k = a; k <= b; k++) {
      if (post[k] > max) {
        max = post[k];
        km = k;
      }
    }
    while (a > 0 && (km === a || post[a] - max >= NEGLIGIBLE)) {
      a--;
      post[a] = nodeValue(personItem, personValue, from, end, table, nCat, Q, logPrior, a);
      if (post[a] > max) {
        max = post[a];
        km = a;
      }
    }
    while (b < Q - 1 && (km === b || post[b] - max >= NEGLIGIBLE)) {
      b++;
      post[b] = nodeValue(personItem, personValue, from, end, table, nCat, Q, logPrior, b);
      if (post[b] > max) {
        max = post[b];
        km = b;
      }
    }
  }
  const ll = normalizeLogRange(post, a, b, win);
  if (hint) {
    hint[2 * i] = win[0];
    hint[2 * i + 1] = win[1];
  }
  return ll;
}

/** post[k] += Σ_o table[row(o) + k] over the responses o ∈ [from, end) and the nodes k ∈ [k0, k1]. */
export function addRows(
  personItem: Int32Array,
  personValue: Uint8Array,
  from: number,
  end: number,
  table: Float64Array,
  nCat: number,
  Q: number,
  post: Float64Array,
  k0: number,
  k1: number,
): void {
  let o = from;
  // Eight (then four, two) responses per sweep over the nodes: fewer loads and stores of `post`.
  for (; o + 7 < end; o += 8) {
    const f1 = (personItem[o] * nCat + personValue[o]) * Q;
    const f2 = (personItem[o + 1] * nCat + personValue[o + 1]) * Q;
    const f3 = (personItem[o + 2] * nCat + personValue[o + 2]) * Q;
    const f4 = (personItem[o + 3] * nCat + personValue[o + 3]) * Q;
    const f5 = (personItem[o + 4] * nCat + personValue[o + 4]) * Q;
    const f6 = (personItem[o + 5] * nCat + personValue[o + 5]) * Q;
    const f7 = (personItem[o + 6] * nCat + personValue[o + 6]) * Q;
    const f8 = (personItem[o + 7] * nCat + personValue[o + 7]) * Q;
    for (let k = k0; k <= k1; k++)
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
    for (let k = k0; k <= k1; k++)
      post[k] += table[off1 + k] + table[off2 + k] + (table[off3 + k] + table[off4 + k]);
  }
  for (; o + 1 < end; o += 2) {
    const off1 = (personItem[o] * nCat + personValue[o]) * Q;
    const off2 = (personItem[o + 1] * nCat + personValue[o + 1]) * Q;
    for (let k = k0; k <= k1; k++) post[k] += table[off1 + k] + table[off2 + k];
  }
  if (o < end) {
    const off = (personItem[o] * nCat + personValue[o]) * Q;
    for (let k = k0; k <= k1; k++) post[k] += table[off + k];
  }
}

/** The log posterior (unnormalised) of one node, with the additions grouped exactly as in addRows. */
function nodeValue(
  personItem: Int32Array,
  personValue: Uint8Array,
  from: number,
  end: number,
  table: Float64Array,
  nCat: number,
  Q: number,
  logPrior: Float64Array,
  k: number,
): number {
  let o = from;
  let v = logPrior[k];
  for (; o + 7 < end; o += 8) {
    v +=
      table[(personItem[o] * nCat + personValue[o]) * Q + k] +
      table[(personItem[o + 1] * nCat + personValue[o + 1]) * Q + k] +
      (table[(personItem[o + 2] * nCat + personValue[o + 2]) * Q + k] +
        table[(personItem[o + 3] * nCat + personValue[o + 3]) * Q + k]) +
      (table[(personItem[o + 4] * nCat + personValue[o + 4]) * Q + k] +
        table[(personItem[o + 5] * nCat + personValue[o + 5]) * Q + k] +
        (table[(personItem[o + 6] * nCat + personValue[o + 6]) * Q + k] +
          table[(personItem[o + 7] * nCat + personValue[o + 7]) * Q + k]));
  }
  for (; o + 3 < end; o += 4) {
    v +=
      table[(personItem[o] * nCat + personValue[o]) * Q + k] +
      table[(personItem[o + 1] * nCat + personValue[o + 1]) * Q + k] +
      (table[(personItem[o + 2] * nCat + personValue[o + 2]) * Q + k] +
        table[(personItem[o + 3] * nCat + personValue[o + 3]) * Q + k]);
  }
  for (; o + 1 < end; o += 2) {
    v +=
      table[(personItem[o] * nCat + personValue[o]) * Q + k] +
      table[(personItem[o + 1] * nCat + personValue[o + 1]) * Q + k];
  }
  if (o < end) v += table[(personItem[o] * nCat + personValue[o]) * Q + k];
  return v;
}

/** Below max − 37 a log value contributes less than 1e-16 (relative): it is set to exactly 0. */
const NEGLIGIBLE = -37;

/**
 * Turns log values into probabilities summing to 1, in place; returns log Σ exp(values). Values more
 * than 37 below the maximum (relative weight < 1e-16, below double rounding) become 0, which saves
 * their exponentials; `win` receives the first and last non-zero node.
 */
export function normalizeLog(post: Float64Array, win: Int32Array): number {
  return normalizeLogRange(post, 0, post.length - 1, win);
}

/** normalizeLog restricted to the nodes [a, b]; every other node of `post` is set to 0. */
export function normalizeLogRange(post: Float64Array, a: number, b: number, win: Int32Array): number {
  const Q = post.length;
  let max = Number.NEGATIVE_INFINITY;
  for (let k = a; k <= b; k++) if (post[k] > max) max = post[k];
  let sum = 0;
  let lo = Q;
  let hi = -1;
  for (let k = a; k <= b; k++) {
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
  for (let k = 0; k < a; k++) post[k] = 0;
  for (let k = b + 1; k < Q; k++) post[k] = 0;
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

/**
 * Adds person i's posterior (its nodes lo..hi with mass) to the expected counts of each of its
 * responses, four responses per sweep. Cells receive persons in order: the sums do not depend on
 * how persons are split between threads.
 */
export function scatterPosterior(
  data: PersonResponses,
  i: number,
  post: Float64Array,
  lo: number,
  hi: number,
  nCat: number,
  counts: Float64Array,
): void {
  const Q = post.length;
  const { personPtr, personItem, personValue } = data;
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
  for (; o < end; o++) {
    const off = (personItem[o] * nCat + personValue[o]) * Q;
    for (let k = lo; k <= hi; k++) counts[off + k] += post[k];
  }
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
  return posteriorRange(data, 0, data.nPersons, table, nCat, logPrior, nodes, sinks);
}

/** posteriorPass over the persons [from, to) only (one thread's share of a parallel pass). */
export function posteriorRange(
  data: PersonResponses,
  from: number,
  to: number,
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
  let logLik = 0;
  for (let i = from; i < to; i++) {
    logLik += personPosterior(data, i, table, nCat, logPrior, post, win, sinks.windows);
    const lo = win[0];
    const hi = win[1];
    if (nk) for (let k = lo; k <= hi; k++) nk[k] += post[k];
    if (counts) scatterPosterior(data, i, post, lo, hi, nCat, counts);
    if (theta) {
      posteriorMoments(post, nodes, mom);
      theta[i] = mom[0];
      if (se) se[i] = mom[1];
    }
  }
  return logLik;
}

/**
 * Persons grouped by identical item sets ("booklets"; dense data is one booklet) with their correct
 * responses listed separately. For dichotomous items the log posterior of a person is then
 * base_b(θ) + Σ_{correct j} [log P_j(θ) − log Q_j(θ)] with base_b = log prior + Σ_{j ∈ b} log Q_j,
 * and the expected counts are S1_j = Σ post over persons correct on j, S0_j = N_j − S1_j with N_j the
 * posterior mass of the booklets containing j: the E-step touches only the correct responses.
 */
export interface BookletDesign {
  nBooklets: number;
  /** Distinct response patterns (booklet and set of correct items) and their frequencies. */
  nPatterns: number;
  patternBooklet: Int32Array;
  patternWeight: Float64Array;
  personPattern: Int32Array;
  /** Items of booklet b: bookletItem[bookletPtr[b] .. bookletPtr[b+1]). */
  bookletPtr: Int32Array;
  bookletItem: Int32Array;
  /** The correct items of each pattern as CSR data (value 0: row j of the log-odds table). */
  correct: PersonResponses;
}

/**
 * Booklet design of dichotomous data, or null when persons share item sets too little (fewer than 4
 * persons per booklet on average) for the grouped E-step to pay.
 */
export function bookletDesign(data: PersonResponses, nItems: number): BookletDesign | null {
  const { nPersons, personPtr, personItem, personValue } = data;
  // Order-independent hash of each person's item set, verified against the booklet's first person.
  const h1 = new Uint32Array(nItems);
  const h2 = new Uint32Array(nItems);
  let s = 0x9e3779b9;
  for (let j = 0; j < nItems; j++) {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + j) >>> 0;
    h1[j] = s;
    s = (Math.imul(s ^ (s >>> 12), 0x297a2d39) + 0x6b43a9b5) >>> 0;
    h2[j] = s;
  }
  const index = new Map<string, number>();
  const first: number[] = [];
  const personBooklet = new Int32Array(nPersons);
  const stamp = new Int32Array(nItems).fill(-1);
  for (let i = 0; i < nPersons; i++) {
    let a = 0;
    let b = 0;
    for (let o = personPtr[i]; o < personPtr[i + 1]; o++) {
      a = (a + h1[personItem[o]]) >>> 0;
      b ^= h2[personItem[o]];
    }
    const key = `${personPtr[i + 1] - personPtr[i]}:${a}:${b}`;
    let id = index.get(key);
    if (id !== undefined) {
      // Verify (hash collisions are possible in principle): same size and every item in the set.
      const f = first[id];
      for (let o = personPtr[f]; o < personPtr[f + 1]; o++) stamp[personItem[o]] = i;
      for (let o = personPtr[i]; o < personPtr[i + 1]; o++) if (stamp[personItem[o]] !== i) return null;
    } else {
      id = first.length;
      index.set(key, id);
      first.push(i);
      // Give up early when most persons open a booklet of their own (adaptive/sparse designs).
      if (first.length * 4 > nPersons || (i >= 255 && first.length * 2 > i + 1)) return null;
    }
    personBooklet[i] = id;
  }
  const nBooklets = first.length;
  const bookletPtr = new Int32Array(nBooklets + 1);
  for (let b = 0; b < nBooklets; b++)
    bookletPtr[b + 1] = bookletPtr[b] + personPtr[first[b] + 1] - personPtr[first[b]];
  const bookletItem = new Int32Array(bookletPtr[nBooklets]);
  for (let b = 0; b < nBooklets; b++)
    bookletItem.set(personItem.subarray(personPtr[first[b]], personPtr[first[b] + 1]), bookletPtr[b]);
  // Collapse identical response patterns (same booklet, same correct items) into one with a weight.
  const patIndex = new Map<string, number>();
  const patFirst: number[] = [];
  const patternBookletList: number[] = [];
  const weights: number[] = [];
  const personPattern = new Int32Array(nPersons);
  let nPatCorrect = 0;
  for (let i = 0; i < nPersons; i++) {
    let a = 0;
    let b = 0;
    let n1 = 0;
    for (let o = personPtr[i]; o < personPtr[i + 1]; o++) {
      if (personValue[o] !== 1) continue;
      a = (a + h1[personItem[o]]) >>> 0;
      b ^= h2[personItem[o]];
      n1++;
    }
    const key = `${personBooklet[i]}:${n1}:${a}:${b}`;
    let id = patIndex.get(key);
    if (id !== undefined) {
      const f = patFirst[id];
      for (let o = personPtr[f]; o < personPtr[f + 1]; o++)
        if (personValue[o] === 1) stamp[personItem[o]] = -2 - i;
      for (let o = personPtr[i]; o < personPtr[i + 1]; o++)
        if (personValue[o] === 1 && stamp[personItem[o]] !== -2 - i) return null;
      weights[id]++;
    } else {
      id = patFirst.length;
      patIndex.set(key, id);
      patFirst.push(i);
      patternBookletList.push(personBooklet[i]);
      weights.push(1);
      nPatCorrect += n1;
    }
    personPattern[i] = id;
  }
  const nPatterns = patFirst.length;
  const cPtr = new Int32Array(nPatterns + 1);
  const cItem = new Int32Array(nPatCorrect);
  let c = 0;
  for (let t = 0; t < nPatterns; t++) {
    const f = patFirst[t];
    for (let o = personPtr[f]; o < personPtr[f + 1]; o++)
      if (personValue[o] === 1) cItem[c++] = personItem[o];
    cPtr[t + 1] = c;
  }
  return {
    nBooklets,
    nPatterns,
    patternBooklet: Int32Array.from(patternBookletList),
    patternWeight: Float64Array.from(weights),
    personPattern,
    bookletPtr,
    bookletItem,
    correct: {
      nPersons: nPatterns,
      personPtr: cPtr,
      personItem: cItem,
      personValue: new Uint8Array(nPatCorrect),
    },
  };
}

/** Work arrays of the grouped E-step, reused across cycles. */
export interface GroupedState {
  design: BookletDesign;
  /** Log-odds table: [j·Q + k] = log P(1 | θ_k) − log P(0 | θ_k). */
  logOdds: Float64Array;
  /** Per booklet: log prior + Σ_{j ∈ b} log P(0 | θ_k), and the posterior mass per node. */
  base: Float64Array;
  mass: Float64Array;
  /** N_jk of the pass (posterior mass of the persons who answered j). */
  total: Float64Array;
}

export function groupedState(design: BookletDesign, nItems: number, Q: number): GroupedState {
  return {
    design,
    logOdds: new Float64Array(nItems * Q),
    base: new Float64Array(design.nBooklets * Q),
    mass: new Float64Array(design.nBooklets * Q),
    total: new Float64Array(nItems * Q),
  };
}

/**
 * posteriorPass for dichotomous items through the booklet design (same sinks, same results up to
 * rounding): log posterior = base of the booklet + log-odds rows of the correct responses; counts
 * of category 1 scattered for the correct responses only, category 0 from the booklet masses.
 */
export function groupedPass(
  state: GroupedState,
  table: Float64Array,
  logPrior: Float64Array,
  nodes: Float64Array,
  sinks: PosteriorSinks,
): number {
  const Q = nodes.length;
  const { design, logOdds, base, mass, total } = state;
  const { nBooklets, bookletPtr, bookletItem, correct, patternBooklet, patternWeight, personPattern } =
    design;
  const nItems = logOdds.length / Q;
  for (let j = 0; j < nItems; j++) {
    const r0 = 2 * j * Q;
    for (let k = 0; k < Q; k++) logOdds[j * Q + k] = table[r0 + Q + k] - table[r0 + k];
  }
  for (let b = 0; b < nBooklets; b++) {
    const row = base.subarray(b * Q, (b + 1) * Q);
    row.set(logPrior);
    for (let q = bookletPtr[b]; q < bookletPtr[b + 1]; q++) {
      const r0 = 2 * bookletItem[q] * Q;
      for (let k = 0; k < Q; k++) row[k] += table[r0 + k];
    }
  }
  mass.fill(0);
  const post = new Float64Array(Q);
  const win = new Int32Array(2);
  const mom = new Float64Array(2);
  const { counts, nk, theta, se } = sinks;
  const correctCounts = counts?.subarray(Q);
  const patTheta = theta ? new Float64Array(correct.nPersons) : undefined;
  const patSe = theta ? new Float64Array(correct.nPersons) : undefined;
  let logLik = 0;
  for (let t = 0; t < correct.nPersons; t++) {
    const b = patternBooklet[t];
    const w = patternWeight[t];
    logLik +=
      w *
      personPosterior(correct, t, logOdds, 1, base.subarray(b * Q, (b + 1) * Q), post, win, sinks.windows);
    const lo = win[0];
    const hi = win[1];
    if (patTheta && patSe) {
      posteriorMoments(post, nodes, mom);
      patTheta[t] = mom[0];
      patSe[t] = mom[1];
    }
    if (w !== 1) for (let k = lo; k <= hi; k++) post[k] *= w;
    const m0 = b * Q;
    for (let k = lo; k <= hi; k++) mass[m0 + k] += post[k];
    // Category 1 of item j is row 2j + 1: the value-0 rows of `correct` with nCat 2, shifted by one row.
    if (correctCounts) scatterPosterior(correct, t, post, lo, hi, 2, correctCounts);
  }
  if (theta && patTheta && patSe) {
    for (let i = 0; i < personPattern.length; i++) {
      theta[i] = patTheta[personPattern[i]];
      if (se) se[i] = patSe[personPattern[i]];
    }
  }
  if (nk) for (let b = 0; b < nBooklets; b++) for (let k = 0; k < Q; k++) nk[k] += mass[b * Q + k];
  if (counts) {
    total.fill(0);
    for (let b = 0; b < nBooklets; b++) {
      for (let q = bookletPtr[b]; q < bookletPtr[b + 1]; q++) {
        const t0 = bookletItem[q] * Q;
        for (let k = 0; k < Q; k++) total[t0 + k] += mass[b * Q + k];
      }
    }
    // S0 = N − S1, never below 0 (the subtraction can leave −1e-13 where everyone is correct).
    for (let j = 0; j < nItems; j++) {
      const r0 = 2 * j * Q;
      for (let k = 0; k < Q; k++) {
        const s0 = total[j * Q + k] - counts[r0 + Q + k];
        counts[r0 + k] += Math.max(s0, 0);
      }
    }
  }
  return logLik;
}
