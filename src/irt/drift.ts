// Parameter drift between two calibrations of the same items on a common scale: Lord's χ² per item
// with both calibrations' covariance matrices, Benjamini–Hochberg control of the false discovery
// rate across the bank, and an ability-weighted area between the two ICCs as the effect size; and
// a drift check of a new free calibration after robust anchor screening (linking.ts). Pure.
// See docs/irt.md → Drift.

import { chiSquareUpper } from '../math/distributions.js';
import { invertSPD } from '../math/linear-algebra.js';
import {
  type ScreenedLinking,
  type ScreenOptions,
  screenAnchors,
  transformCovariance,
  transformItem,
} from './linking.js';
import { type ItemParams, probability } from './models.js';
import { DEFAULT_GRID, makeGrid } from './quadrature.js';

/** An item of one calibration: parameters and, when known, the covariance of its estimated ones. */
export interface DriftItem extends ItemParams {
  itemId: string;
  /** Covariance of the estimated IRT-form parameters (names among a, b, c; row-major). */
  cov?: { names: readonly string[]; matrix: readonly number[] };
}

export interface DriftOptions {
  /** False discovery rate of the Benjamini–Hochberg flag; default 0.05. */
  q?: number;
  /**
   * Smallest area between the ICCs (weighted by the ability distribution) that counts as drift;
   * default 0.02 (a shift of b by 0.1 for a central item of slope 1): a significant shift below it
   * is reported, not flagged.
   */
  minArea?: number;
  /** Ability distribution of the reference scale weighting the area; default N(0, 1). */
  latent?: { mean: number; variance: number };
}

export interface ItemDrift {
  itemId: string;
  /** after − before on the common scale (dc 0 when neither estimates c). */
  da: number;
  db: number;
  dc: number;
  /** Lord's χ² over the parameters both calibrations estimate; null without covariances. */
  lordChi2: number | null;
  df: number;
  p: number | null;
  /** Significant after Benjamini–Hochberg at level q. */
  qFlag: boolean;
  /** ∫ |P_before(θ) − P_after(θ)| g(θ) dθ over the ability distribution g. */
  area: number;
  /** Drift: qFlag and area ≥ minArea. */
  flag: boolean;
}

/**
 * Benjamini–Hochberg (1995) step-up rule: rejects the hypotheses with p ≤ p_(k), k the largest i with
 * p_(i) ≤ i·q/m. Null p-values are never rejected and do not count in m.
 */
export function benjaminiHochberg(p: readonly (number | null)[], q: number): boolean[] {
  const idx = p.flatMap((x, i) => (x === null || Number.isNaN(x) ? [] : [i])).sort((i, j) => p[i]! - p[j]!);
  const m = idx.length;
  let k = -1;
  idx.forEach((i, r) => {
    if (p[i]! <= ((r + 1) * q) / m) k = r;
  });
  const out = p.map(() => false);
  for (let r = 0; r <= k; r++) out[idx[r]] = true;
  return out;
}

/**
 * Lord's (1980, §14.4) χ² for the difference of an item's parameters between two calibrations on the
 * same scale: v = (after − before) over the parameters both estimate, χ² = vᵀ(Σ_before + Σ_after)⁻¹v
 * with df = their number (the linking constants are treated as known).
 */
function lordChi2(before: DriftItem, after: DriftItem): { chi2: number; df: number } | null {
  if (!before.cov || !after.cov) return null;
  const names = before.cov.names.filter((n) => after.cov!.names.includes(n));
  const k = names.length;
  if (k === 0) return null;
  const S = new Float64Array(k * k);
  for (const cov of [before.cov, after.cov]) {
    const n = cov.names.length;
    const pos = names.map((name) => cov.names.indexOf(name));
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) S[i * k + j] += cov.matrix[pos[i] * n + pos[j]];
  }
  const inv = invertSPD(S, k);
  if (!inv) return null;
  const v = names.map((n) => after[n as keyof ItemParams] - before[n as keyof ItemParams]);
  let chi2 = 0;
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) chi2 += v[i] * inv[i * k + j] * v[j];
  return { chi2, df: k };
}

/**
 * Drift of every item present in both lists (matched by id; `after` already on `before`'s scale):
 * differences, Lord's χ² and p, the Benjamini–Hochberg flag over the items with a p-value, and the
 * ability-weighted area between the two ICCs on the 61-node grid over [−6, 6].
 */
export function itemDrift(
  before: readonly DriftItem[],
  after: readonly DriftItem[],
  opts: DriftOptions = {},
): ItemDrift[] {
  const q = opts.q ?? 0.05;
  const minArea = opts.minArea ?? 0.02;
  const { nodes, weights } = makeGrid(
    DEFAULT_GRID.quadpts,
    DEFAULT_GRID.thetaLim,
    opts.latent?.mean ?? 0,
    opts.latent?.variance ?? 1,
  );
  const byId = new Map(after.map((it) => [it.itemId, it]));
  const pairs = before.flatMap((b) => {
    const a = byId.get(b.itemId);
    return a ? [[b, a] as const] : [];
  });
  const rows = pairs.map(([b, a]) => {
    const lord = lordChi2(b, a);
    let area = 0;
    for (let k = 0; k < nodes.length; k++)
      area += weights[k] * Math.abs(probability(a, nodes[k]) - probability(b, nodes[k]));
    return {
      itemId: b.itemId,
      da: a.a - b.a,
      db: a.b - b.b,
      dc: a.c - b.c,
      lordChi2: lord?.chi2 ?? null,
      df: lord?.df ?? 0,
      p: lord ? chiSquareUpper(lord.chi2, lord.df) : null,
      area,
    };
  });
  const flags = benjaminiHochberg(
    rows.map((r) => r.p),
    q,
  );
  return rows.map((r, i) => ({ ...r, qFlag: flags[i], flag: flags[i] && r.area >= minArea }));
}

/**
 * Drift of a new free calibration against a reference one: screen and link the common items
 * (screenAnchors), put the new items (and their covariances) on the reference scale, then itemDrift.
 */
export function calibrationDrift(
  before: readonly DriftItem[],
  after: readonly DriftItem[],
  opts: DriftOptions & ScreenOptions = {},
): { linking: ScreenedLinking; items: ItemDrift[] } {
  const params = (list: readonly DriftItem[]) => new Map(list.map((it) => [it.itemId, it as ItemParams]));
  const linking = screenAnchors(params(before), params(after), opts);
  const linked = after.map((it) => ({
    ...it,
    ...transformItem(it, linking.A, linking.B),
    ...(it.cov && { cov: transformCovariance(it.cov, linking.A) }),
  }));
  return { linking, items: itemDrift(before, linked, opts) };
}
