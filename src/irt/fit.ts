// Item fit (infit/outfit, S-X²), model fit (M2, RMSEA, SRMSR, TLI, CFI) and reliability (marginal and
// empirical) of a calibration, with the conventions of R's mirt 1.46 (`itemfit`, `M2`,
// `marginal_rxx`, `empirical_rxx`; docs/irt.md → Fit and reliability). Pure.

import { bracketRoot, chiSquareCdf, chiSquareUpper, noncentralChiSquareCdf } from '../math/distributions.js';
import { choleskyFactor, choleskySolve } from '../math/linear-algebra.js';
import { InvalidInputError } from '../user-error.js';
import { benjaminiHochberg } from './drift.js';
import type { Calibration } from './estimate.js';
import { testInformation } from './information.js';
import { type ItemParams, itemModel, probability } from './models.js';
import { bookletDesign } from './posterior.js';
import { DEFAULT_GRID, gridNodes, normalWeights } from './quadrature.js';
import type { ResponseData } from './responses.js';
import { scorePersons } from './scoring.js';

/** What the fit statistics need of a calibration; items in the order of `data.itemIds`. */
export interface FitModel {
  model: 'Rasch' | '2PL' | '3PL';
  items: readonly ItemParams[];
  /** Estimated parameters of each item (0 for an item held fixed). */
  freeParams: readonly number[];
  latent: { mean: number; variance: number };
  /** Estimated latent parameters (Rasch: the variance; with anchors: mean and variance). */
  latentFree: number;
  /** EAP θ and posterior SD per person of `data` (computed on the grid below when absent). */
  abilities?: { theta: Float64Array; se: Float64Array };
}

export interface FitOptions {
  /** Grid of the S-X² and M2 integrals and of the EAPs: default 61 nodes on [-6, 6] (mirt's). */
  quadpts?: number;
  thetaLim?: readonly [number, number];
  /** Smallest expected count of an S-X² cell before it is merged with a neighbour; default 1. */
  mincell?: number;
  /** M2 is computed up to this many items (its covariance matrix has J(J+1)/2 rows); default 50. */
  maxM2Items?: number;
}

export interface ItemFit {
  itemId: string;
  infit: number;
  outfit: number;
  infitZ: number;
  outfitZ: number;
  /** S-X² and its df, p and RMSEA; null when undefined (see ModelFit.notes). */
  sx2: number | null;
  sx2Df: number | null;
  sx2P: number | null;
  sx2Rmsea: number | null;
}

export interface ModelFit {
  M2: number | null;
  df: number | null;
  p: number | null;
  RMSEA: number | null;
  RMSEA_5: number | null;
  RMSEA_95: number | null;
  SRMSR: number | null;
  TLI: number | null;
  CFI: number | null;
  marginal_rxx: number;
  empirical_rxx: number;
}

export interface FitResult {
  items: ItemFit[];
  model: ModelFit;
  /** Why a statistic is null. */
  notes: string[];
}

/** The FitModel of a calibration of `data` (its items, latent distribution and EAPs). */
export function calibrationFitModel(cal: Calibration): FitModel {
  const name = cal.model === '1PL' ? 'Rasch' : cal.model;
  if (name !== 'Rasch' && name !== '2PL' && name !== '3PL')
    throw new InvalidInputError(`fit statistics need a logistic model, got '${cal.model}'`);
  const perItem = name === 'Rasch' ? 1 : name === '2PL' ? 2 : 3;
  const freeParams = cal.items.map((it) => (it.fixed ? 0 : perItem));
  const itemFree = freeParams.reduce((s: number, n) => s + n, 0);
  return {
    model: name,
    items: cal.items,
    freeParams,
    latent: cal.latent,
    latentFree: cal.nFreeParams - itemFree,
    abilities: cal.abilities,
  };
}

/**
 * Item fit, model fit and reliability. S-X² needs complete data or booklets of complete data (then
 * computed within each booklet and summed), M2 complete data: on adaptive data summed scores and
 * pairwise margins are not comparable across persons, and they are null with a note. Infit/outfit
 * and both reliabilities are always computed.
 */
export function fitStatistics(data: ResponseData, fm: FitModel, opts: FitOptions = {}): FitResult {
  const nodes = gridNodes(opts.quadpts ?? DEFAULT_GRID.quadpts, opts.thetaLim ?? DEFAULT_GRID.thetaLim);
  const weights = normalWeights(nodes, fm.latent.mean, fm.latent.variance);
  const notes: string[] = [];
  const abilities =
    fm.abilities ??
    scorePersons(data, fm.items, {
      quadpts: nodes.length,
      thetaLim: [nodes[0], nodes[nodes.length - 1]],
      mean: fm.latent.mean,
      variance: fm.latent.variance,
    });
  const inout = infitOutfit(data, fm.items, abilities.theta);
  const complete = data.nObs === data.nPersons * data.nItems;
  const forms = complete ? [completeForm(data)] : bookletForms(data);
  const sx2 = forms ? sx2Table(data, fm, nodes, weights, opts.mincell ?? 1, forms) : null;
  if (!forms)
    notes.push(
      'S-X² needs complete data or booklets of complete data (adaptive or sparse data: summed scores are not comparable)',
    );
  else if (sx2?.some((s) => s.sx2 === null))
    notes.push('S-X² is null where no degrees of freedom remain after collapsing cells');
  if (!complete) notes.push('M2 needs complete data (every person answered every item)');
  const items = data.itemIds.map((itemId, j) => ({
    itemId,
    ...inout[j],
    ...(sx2?.[j] ?? { sx2: null, sx2Df: null, sx2P: null, sx2Rmsea: null }),
  }));
  const maxM2 = opts.maxM2Items ?? 50;
  let m2: Omit<ModelFit, 'marginal_rxx' | 'empirical_rxx'> | null = null;
  if (complete && data.nItems > maxM2)
    notes.push(
      `M2 is computed up to ${maxM2} items (its covariance matrix grows with J²), got ${data.nItems}`,
    );
  else if (complete) m2 = m2Fit(data, fm, nodes, weights, notes);
  return {
    items,
    model: {
      ...(m2 ?? {
        M2: null,
        df: null,
        p: null,
        RMSEA: null,
        RMSEA_5: null,
        RMSEA_95: null,
        SRMSR: null,
        TLI: null,
        CFI: null,
      }),
      marginal_rxx: marginalReliability(fm.items, fm.latent.variance),
      empirical_rxx: empiricalReliability(abilities.theta, abilities.se),
    },
    notes,
  };
}

/** The false discovery rate at which S-X² flags items as misfitting (Benjamini–Hochberg over a run). */
const MISFIT_FDR = 0.05;

/** Which items misfit: their S-X² p-values (null: not computed) significant after Benjamini–Hochberg. */
export function misfitFlags(sx2P: readonly (number | null)[]): boolean[] {
  return benjaminiHochberg(sx2P, MISFIT_FDR);
}

/**
 * Infit and outfit mean squares from each person's θ (mirt's `itemfit(…, 'infit')` through
 * `personfit`): outfit = mean of z², infit = Σ W z² / Σ W with z² = (x − P)²/W, W = P(1 − P); their
 * z by the Wilson–Hilferty cube root, (MS^{1/3} − 1)(3/q) + q/3, with q² = Σ C/W² / N² − 1/N (outfit)
 * or Σ (C − W²) / (Σ W)² (infit), C = E(x − P)⁴, q capped at √2 as mirt does (Wright & Masters 1982).
 */
export function infitOutfit(
  data: ResponseData,
  items: readonly ItemParams[],
  theta: ArrayLike<number>,
): Pick<ItemFit, 'infit' | 'outfit' | 'infitZ' | 'outfitZ'>[] {
  const J = items.length;
  const z2Sum = new Float64Array(J);
  const wz2 = new Float64Array(J);
  const wSum = new Float64Array(J);
  const cOverW2 = new Float64Array(J);
  const cMinusW2 = new Float64Array(J);
  // By person: each item's sums still receive its persons in ascending order.
  for (let i = 0; i < data.nPersons; i++) {
    for (let o = data.personPtr[i]; o < data.personPtr[i + 1]; o++) {
      const j = data.personItem[o];
      const p = probability(items[j], theta[i]);
      const w = p * (1 - p);
      const r = data.personValue[o] - p;
      const c = w * ((1 - p) ** 3 + p ** 3);
      z2Sum[j] += (r * r) / w;
      wz2[j] += r * r;
      wSum[j] += w;
      cOverW2[j] += c / (w * w);
      cMinusW2[j] += c - w * w;
    }
  }
  return items.map((_, j) => {
    const n = data.itemN[j];
    const outfit = z2Sum[j] / n;
    const infit = wz2[j] / wSum[j];
    const qOut = Math.min(Math.sqrt(cOverW2[j] / (n * n) - 1 / n), Q_CAP);
    const qIn = Math.min(Math.sqrt(cMinusW2[j]) / wSum[j], Q_CAP);
    return {
      infit,
      outfit,
      infitZ: (Math.cbrt(infit) - 1) * (3 / qIn) + qIn / 3,
      outfitZ: (Math.cbrt(outfit) - 1) * (3 / qOut) + qOut / 3,
    };
  });
}

// biome-ignore lint/suspicious/noApproximativeNumericConstant: mirt caps q at this literal, not at √2.
const Q_CAP = 1.4142;

/** RMSEA of a χ² statistic as mirt computes it: √((X²/df − 1)/(N − 1)), 0 when X² < df. */
function rmsea(x2: number, df: number, n: number): number {
  return x2 / df - 1 > 0 ? Math.sqrt((x2 / df - 1) / (n - 1)) : 0;
}

/** Item response probabilities on the grid: P[j·Q + q]. */
function gridProbabilities(items: readonly ItemParams[], nodes: Float64Array): Float64Array {
  const Q = nodes.length;
  const P = new Float64Array(items.length * Q);
  items.forEach((it, j) => {
    for (let q = 0; q < Q; q++) P[j * Q + q] = probability(it, nodes[q]);
  });
  return P;
}

/**
 * Lord–Wingersky recursion (Lord & Wingersky 1984): L[s·Q + q] = P(summed score s | θ_q) over the
 * items of `which`.
 */
function summedScoreLikelihood(P: Float64Array, Q: number, which: readonly number[]): Float64Array {
  const n = which.length;
  let L = new Float64Array((n + 1) * Q).fill(1, 0, Q);
  let next = new Float64Array((n + 1) * Q);
  which.forEach((j, t) => {
    next.fill(0, 0, (t + 2) * Q);
    for (let s = 0; s <= t; s++) {
      for (let q = 0; q < Q; q++) {
        const l = L[s * Q + q];
        const p = P[j * Q + q];
        next[s * Q + q] += l * (1 - p);
        next[(s + 1) * Q + q] += l * p;
      }
    }
    [L, next] = [next, L];
  });
  return L;
}

type Sx2 = Pick<ItemFit, 'sx2' | 'sx2Df' | 'sx2P' | 'sx2Rmsea'>;

/** A group of persons who answered the same items, all of them: their summed scores are comparable. */
interface Form {
  /** Item indices, ascending. */
  items: number[];
  persons: Int32Array;
}

function completeForm(data: ResponseData): Form {
  return {
    items: Array.from({ length: data.nItems }, (_, j) => j),
    persons: Int32Array.from({ length: data.nPersons }, (_, i) => i),
  };
}

/**
 * The booklets of sparse data (persons grouped by identical item sets, posterior.ts), or null when
 * persons share item sets too little (adaptive data: most persons have a set of their own).
 */
function bookletForms(data: ResponseData): Form[] | null {
  const design = bookletDesign(data, data.nItems);
  if (!design) return null;
  const forms: Form[] = [];
  const members: number[][] = Array.from({ length: design.nBooklets }, () => []);
  for (let i = 0; i < data.nPersons; i++) members[design.patternBooklet[design.personPattern[i]]].push(i);
  for (let f = 0; f < design.nBooklets; f++) {
    const items = Array.from(design.bookletItem.subarray(design.bookletPtr[f], design.bookletPtr[f + 1]));
    // One item has no rest score to condition on.
    if (items.length >= 2)
      forms.push({ items: items.sort((x, y) => x - y), persons: Int32Array.from(members[f]) });
  }
  return forms.length > 0 ? forms : null;
}

/**
 * S-X² of Orlando & Thissen (2000) per item, within each form (complete data: one form). Rows are
 * the form's summed scores 1 … J_f − 1; expected proportions correct/incorrect at score s are
 * Σ_q P_j(θ_q) L^{−j}_{s−1}(θ_q) w_q / Σ_q L_s(θ_q) w_q (and Q_j with L^{−j}_s), times the number of
 * persons at s (mirt's `EAPsum(S_X2 = TRUE)`); cells are collapsed as mirt's `collapseCells`, per form.
 * Forms are independent groups of persons, so an item's X² and its cells-minus-rows add up over the
 * forms holding it; df = that sum − the item's free parameters − the free latent parameters (on
 * complete data exactly mirt's statistic).
 */
function sx2Table(
  data: ResponseData,
  fm: FitModel,
  nodes: Float64Array,
  weights: Float64Array,
  mincell: number,
  forms: readonly Form[],
): Sx2[] {
  const J = data.nItems;
  const P = gridProbabilities(fm.items, nodes);
  const x2 = new Float64Array(J);
  const dfCells = new Float64Array(J);
  const nPersons = new Float64Array(J);
  const inForm = new Uint8Array(J);
  for (const form of forms) {
    for (const t of formSx2(data, P, nodes.length, weights, mincell, form)) {
      x2[t.item] += t.x2;
      dfCells[t.item] += t.cellsMinusRows;
      nPersons[t.item] += form.persons.length;
      inForm[t.item] = 1;
    }
  }
  return Array.from({ length: J }, (_, j) => {
    if (!inForm[j]) return { sx2: null, sx2Df: null, sx2P: null, sx2Rmsea: null };
    const df = Math.max(0, dfCells[j] - fm.freeParams[j] - fm.latentFree);
    if (df === 0) return { sx2: null, sx2Df: 0, sx2P: null, sx2Rmsea: null };
    return {
      sx2: x2[j],
      sx2Df: df,
      sx2P: chiSquareUpper(x2[j], df),
      sx2Rmsea: rmsea(x2[j], df, nPersons[j]),
    };
  });
}

/** One form's S-X² terms per item: X² and the cells-minus-rows count after collapsing. */
function formSx2(
  data: ResponseData,
  P: Float64Array,
  Q: number,
  weights: Float64Array,
  mincell: number,
  form: Form,
): { item: number; x2: number; cellsMinusRows: number }[] {
  const { items } = form;
  const J = items.length;
  const Lall = summedScoreLikelihood(P, Q, items);
  const total = new Float64Array(J + 1);
  for (let s = 0; s <= J; s++) for (let q = 0; q < Q; q++) total[s] += Lall[s * Q + q] * weights[q];
  // Persons at each summed score, and per item of the form those of them correct on it (one pass
  // over the form's responses: every response of a form's person is to a form item).
  const position = new Int32Array(data.nItems);
  items.forEach((j, t) => {
    position[j] = t;
  });
  const nAt = new Float64Array(J + 1);
  const o1 = new Float64Array(J * (J + 1));
  for (const i of form.persons) {
    let score = 0;
    for (let o = data.personPtr[i]; o < data.personPtr[i + 1]; o++) score += data.personValue[o];
    nAt[score]++;
    for (let o = data.personPtr[i]; o < data.personPtr[i + 1]; o++)
      if (data.personValue[o]) o1[position[data.personItem[o]] * (J + 1) + score]++;
  }
  return items.map((j, t) => {
    const L = summedScoreLikelihood(
      P,
      Q,
      items.filter((k) => k !== j),
    );
    const rows: Cell[] = [];
    for (let s = 1; s < J; s++) {
      let e1 = 0;
      let e0 = 0;
      for (let q = 0; q < Q; q++) {
        e1 += L[(s - 1) * Q + q] * P[j * Q + q] * weights[q];
        e0 += L[s * Q + q] * (1 - P[j * Q + q]) * weights[q];
      }
      const correct = o1[t * (J + 1) + s];
      rows.push({ o: [nAt[s] - correct, correct], e: [(e0 / total[s]) * nAt[s], (e1 / total[s]) * nAt[s]] });
    }
    const cells = collapseCells(rows, mincell);
    let x2 = 0;
    let nCells = 0;
    for (const r of cells)
      for (let x = 0; x < 2; x++) {
        if (r.e[x] === 0) continue; // mirt: an expected count of exactly 0 is NA (no cell)
        x2 += (r.o[x] - r.e[x]) ** 2 / r.e[x];
        nCells++;
      }
    return { item: j, x2, cellsMinusRows: nCells - cells.length };
  });
}

/** One summed-score row of an S-X² table: observed and expected counts of categories 0 and 1. */
interface Cell {
  o: [number, number];
  e: [number, number];
}

/**
 * mirt's `collapseCells` for a dichotomous item: rows with no persons are dropped; a row holding a
 * single person is merged into the next (the last into the previous); then, while some expected
 * count is below `mincell` (and not 0), the first such row is merged into its neighbour — the
 * next for the first row, the previous for the last, otherwise the one with fewer observed persons
 * (the previous on a tie).
 */
function collapseCells(input: readonly Cell[], mincell: number): Cell[] {
  const add = (to: Cell, from: Cell) => {
    for (let x = 0; x < 2; x++) {
      to.o[x] += from.o[x];
      to.e[x] += from.e[x];
    }
  };
  const sum = (r: Cell) => r.o[0] + r.o[1];
  let rows = input.filter((r) => sum(r) > 0).map((r) => ({ o: [...r.o], e: [...r.e] }) as Cell);
  const kept: Cell[] = [];
  rows.forEach((r, j) => {
    if (j < rows.length - 1 && sum(r) === 1) add(rows[j + 1], r);
    else kept.push(r);
  });
  rows = kept;
  if (rows.length > 1 && sum(rows[rows.length - 1]) === 1) add(rows[rows.length - 2], rows.pop()!);
  const small = (r: Cell) => r.e.some((e) => e < mincell && e !== 0);
  while (rows.length > 1) {
    const w = rows.findIndex(small);
    if (w < 0) break;
    let to: number;
    if (w === 0) to = 1;
    else if (w === rows.length - 1) to = w - 1;
    else to = sum(rows[w - 1]) <= sum(rows[w + 1]) ? w - 1 : w + 1;
    add(rows[to], rows[w]);
    rows.splice(w, 1);
  }
  return rows;
}

/**
 * M2 of Maydeu-Olivares & Joe (2006) on the univariate and bivariate margins π (mirt's `M2`, binary
 * items): M2 = N (p − π)ᵀ C (p − π) with C = Ξ⁻¹ − Ξ⁻¹Δ(ΔᵀΞ⁻¹Δ)⁻¹ΔᵀΞ⁻¹ (equal to mirt's
 * Δc(Δcᵀ Ξ Δc)⁻¹Δcᵀ with Δc the orthogonal complement of Δ), Ξ the covariance of the margins and Δ their
 * derivatives in the free item parameters (mirt leaves the latent parameters out of Δ but counts them
 * in df). SRMSR from observed vs implied correlations; TLI and CFI against the independence model.
 */
function m2Fit(
  data: ResponseData,
  fm: FitModel,
  nodes: Float64Array,
  weights: Float64Array,
  notes: string[],
): Omit<ModelFit, 'marginal_rxx' | 'empirical_rxx'> | null {
  const J = data.nItems;
  const N = data.nPersons;
  const Q = nodes.length;
  const P = gridProbabilities(fm.items, nodes);
  // Derivatives of P_j(θ_q) in the free internal parameters of the item model.
  const model = itemModel(fm.model);
  const m = model.free.length;
  const v = new Float64Array(model.nPar);
  const score = new Float64Array(2 * Q * m);
  const dP: { item: number; values: Float64Array }[] = [];
  fm.items.forEach((it, j) => {
    if (fm.freeParams[j] === 0) return;
    model.fromParams(it, v);
    model.score(v, nodes, score);
    for (let p = 0; p < m; p++) {
      const values = new Float64Array(Q);
      for (let q = 0; q < Q; q++) values[q] = P[j * Q + q] * score[(Q + q) * m + p];
      dP.push({ item: j, values });
    }
  });
  const observed = observedMargins(data);
  const fitted = m2Core(P, Q, J, weights, dP, observed, N);
  if (!fitted) {
    notes.push('M2: the margins covariance or ΔᵀΞ⁻¹Δ is singular (a parameter at a boundary?)');
    return null;
  }
  const nFree = fm.freeParams.reduce((s, n) => s + n, 0) + fm.latentFree;
  const df = observed.length - nFree;
  if (df <= 0) {
    notes.push(`M2: no degrees of freedom (${observed.length} margins, ${nFree} parameters)`);
    return null;
  }
  const M2 = fitted.M2;
  const ci = (target: number, hi: number) => {
    const lambda = bracketRoot((l) => noncentralChiSquareCdf(M2, df, l) - target, 0, hi);
    return lambda === null ? 0 : Math.sqrt(lambda / (N * df));
  };
  // The independence model (mirt's null model: slopes 0, intercepts at their ML values, i.e. the
  // observed proportions): one node of weight 1, derivatives in the logit intercepts.
  const pNull = observed.subarray(0, J);
  const dNull = Array.from(pNull, (p, j) => ({ item: j, values: Float64Array.of(p * (1 - p)) }));
  const nullFit = m2Core(pNull, 1, J, Float64Array.of(1), dNull, observed, N);
  const dfNull = observed.length - J;
  let TLI: number | null = null;
  let CFI: number | null = null;
  if (nullFit && nullFit.M2 > M2) {
    TLI = (nullFit.M2 / dfNull - M2 / df) / (nullFit.M2 / dfNull - 1);
    CFI = Math.min(1, Math.max(0, 1 - (M2 - df) / (nullFit.M2 - dfNull)));
  } else notes.push('TLI/CFI: the independence model fits no worse than the model');
  return {
    M2,
    df,
    p: 1 - chiSquareCdf(M2, df),
    RMSEA: rmsea(M2, df, N),
    // mirt's RMSEA.CI: noncentrality λ with P(χ²_df(λ) ≤ M2) = 0.95 / 0.05, RMSEA = √(λ/(N df)).
    RMSEA_5: ci(0.95, M2),
    RMSEA_95: ci(0.05, Math.max(N, 5 * M2)),
    SRMSR: fitted.SRMSR,
    TLI,
    CFI,
  };
}

/** Observed univariate proportions, then the bivariate ones in pair order (0,1), (0,2), …, (1,2), … */
function observedMargins(data: ResponseData): Float64Array {
  const J = data.nItems;
  const out = new Float64Array(J + (J * (J - 1)) / 2);
  const x = new Uint8Array(J);
  for (let i = 0; i < data.nPersons; i++) {
    x.fill(0);
    for (let o = data.personPtr[i]; o < data.personPtr[i + 1]; o++)
      x[data.personItem[o]] = data.personValue[o];
    let t = J;
    for (let a = 0; a < J; a++) {
      out[a] += x[a];
      for (let b = a + 1; b < J; b++) out[t++] += x[a] & x[b];
    }
  }
  for (let t = 0; t < out.length; t++) out[t] /= data.nPersons;
  return out;
}

/**
 * M2 and SRMSR of item curves P[j·Q + q] on a grid with weights w against the observed margins;
 * null when Ξ or ΔᵀΞ⁻¹Δ is not positive definite.
 */
function m2Core(
  P: Float64Array,
  Q: number,
  J: number,
  w: Float64Array,
  dP: readonly { item: number; values: Float64Array }[],
  observed: Float64Array,
  N: number,
): { M2: number; SRMSR: number } | null {
  // Margins as item sets: [a] then [a, b] for a < b.
  const sets: number[][] = [];
  for (let a = 0; a < J; a++) sets.push([a]);
  for (let a = 0; a < J; a++) for (let b = a + 1; b < J; b++) sets.push([a, b]);
  const M = sets.length;
  const prod = new Float64Array(Q);
  const moment = (items: readonly number[]) => {
    let s = 0;
    for (let q = 0; q < Q; q++) {
      let p = w[q];
      for (const j of items) p *= P[j * Q + q];
      s += p;
    }
    return s;
  };
  const e = Float64Array.from(sets, (s) => moment(s));
  const Xi = new Float64Array(M * M);
  for (let r = 0; r < M; r++)
    for (let c = 0; c <= r; c++) {
      const union = [...new Set([...sets[r], ...sets[c]])];
      Xi[r * M + c] = Xi[c * M + r] = moment(union) - e[r] * e[c];
    }
  const K = dP.length;
  const delta = new Float64Array(M * K);
  dP.forEach(({ item, values }, k) => {
    sets.forEach((set, r) => {
      if (!set.includes(item)) return;
      for (let q = 0; q < Q; q++) {
        prod[q] = w[q] * values[q];
        for (const j of set) if (j !== item) prod[q] *= P[j * Q + q];
      }
      delta[r * K + k] = prod.reduce((s, x) => s + x, 0);
    });
  });
  const L = choleskyFactor(Xi, M);
  if (!L) return null;
  const resid = Float64Array.from(observed, (p, r) => p - e[r]);
  const xr = new Float64Array(M);
  choleskySolve(L, resid, xr, M);
  // ΔᵀΞ⁻¹Δ and ΔᵀΞ⁻¹r.
  const col = new Float64Array(M);
  const xd = new Float64Array(M);
  const A = new Float64Array(K * K);
  const b = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    for (let r = 0; r < M; r++) col[r] = delta[r * K + k];
    choleskySolve(L, col, xd, M);
    for (let l = 0; l < K; l++) {
      let s = 0;
      for (let r = 0; r < M; r++) s += delta[r * K + l] * xd[r];
      A[l * K + k] = s;
    }
    let s = 0;
    for (let r = 0; r < M; r++) s += xd[r] * resid[r];
    b[k] = s;
  }
  let quad = 0;
  for (let r = 0; r < M; r++) quad += resid[r] * xr[r];
  if (K > 0) {
    const LA = choleskyFactor(A, K);
    if (!LA) return null;
    const y = new Float64Array(K);
    choleskySolve(LA, b, y, K);
    for (let k = 0; k < K; k++) quad -= b[k] * y[k];
  }
  // SRMSR: root mean square of observed minus implied correlations over the item pairs.
  let ss = 0;
  for (let r = J; r < M; r++) {
    const [i, j] = sets[r];
    const corr = (pij: number, pi: number, pj: number) =>
      (pij - pi * pj) / Math.sqrt(pi * (1 - pi) * pj * (1 - pj));
    ss += (corr(observed[r], observed[i], observed[j]) - corr(e[r], e[i], e[j])) ** 2;
  }
  return { M2: Math.abs(N * quad), SRMSR: Math.sqrt(ss / (M - J)) };
}

/**
 * mirt's `marginal_rxx`: ∫ I(θ)/(I(θ) + σ²) φ(θ) dθ with I the test information, σ² the latent
 * variance and φ the standard normal density (mirt's default `density = dnorm`, whatever σ²), by
 * composite Simpson on [−10, 10] (the tails beyond carry < 1e-22).
 */
export function marginalReliability(items: readonly ItemParams[], variance: number): number {
  const n = 2000;
  const h = 20 / n;
  const thetas = Float64Array.from({ length: n + 1 }, (_, k) => -10 + k * h);
  const info = testInformation(items, thetas);
  let s = 0;
  for (let k = 0; k <= n; k++) {
    const f = (info[k] / (info[k] + variance)) * Math.exp(-0.5 * thetas[k] ** 2);
    s += f * (k === 0 || k === n ? 1 : k % 2 === 1 ? 4 : 2);
  }
  return (s * h) / 3 / Math.sqrt(2 * Math.PI);
}

/** mirt's `empirical_rxx`: var(θ̂) / (var(θ̂) + mean(SE²)), var with n − 1. */
export function empiricalReliability(theta: ArrayLike<number>, se: ArrayLike<number>): number {
  const n = theta.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += theta[i];
  mean /= n;
  let v = 0;
  let e2 = 0;
  for (let i = 0; i < n; i++) {
    v += (theta[i] - mean) ** 2;
    e2 += se[i] * se[i];
  }
  v /= n - 1;
  return v / (v + e2 / n);
}
