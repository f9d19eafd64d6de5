// Linking a calibration to the scale of anchor items (spec/irt.md → Linking). The transformation
// θ' = Aθ + B maps the new scale onto the anchors' scale: a' = a/A, b' = A·b + B, se' = A·se.

import { InvalidInputError } from '../user-error.js';
import { type CalibrateOptions, type Calibration, calibrate } from './estimate.js';
import { type ItemParams, probability } from './models.js';
import { makeGrid } from './quadrature.js';
import type { ResponseData } from './responses.js';

export type LinkingMethod = 'fixed' | 'mean-sigma' | 'stocking-lord' | 'none';

/** Result of linking: θ' = A·θ + B; `anchors` lists the anchor items actually used. */
export interface LinkingConstants {
  method: LinkingMethod;
  A: number;
  B: number;
  nAnchors: number;
  anchors: string[];
  /** Anchors screened out before linking (LinkedCalibrateOptions.screen), with their robust z. */
  dropped?: DroppedAnchor[];
}

/** Default method: 'fixed' with at least this many usable anchors, otherwise 'none'. */
export const MIN_FIXED_ANCHORS = 5;

/** Mean-sigma: A = sd(b_anchor)/sd(b_new), B = mean(b_anchor) − A·mean(b_new) (population SDs). */
export function meanSigma(anchorB: readonly number[], newB: readonly number[]): { A: number; B: number } {
  if (anchorB.length !== newB.length || anchorB.length < 2)
    throw new InvalidInputError('mean-sigma needs at least 2 paired anchors');
  const mo = mean(anchorB);
  const mn = mean(newB);
  const A = sd(anchorB, mo) / sd(newB, mn);
  if (!Number.isFinite(A) || A <= 0)
    throw new InvalidInputError('mean-sigma: anchor difficulties have no spread');
  return { A, B: mo - A * mn };
}

function mean(x: readonly number[]): number {
  return x.reduce((s, v) => s + v, 0) / x.length;
}

function sd(x: readonly number[], m: number): number {
  return Math.sqrt(x.reduce((s, v) => s + (v - m) ** 2, 0) / x.length);
}

/** Item parameters on the target scale after θ' = Aθ + B. */
export function transformItem(p: ItemParams, A: number, B: number): ItemParams {
  return { a: p.a / A, b: A * p.b + B, c: p.c };
}

/**
 * Stocking–Lord: A, B minimising Σ_k w_k (Σ_j P(θ_k; anchor_j) − Σ_j P(θ_k; new_j transformed))² over
 * the N(0, 1)-weighted 61-node grid on [-6, 6] of the anchors' scale, by damped Gauss–Newton from
 * the mean-sigma solution (or A = 1, B = 0 when the anchors have no spread).
 */
export function stockingLord(
  anchor: readonly ItemParams[],
  fresh: readonly ItemParams[],
): { A: number; B: number } {
  if (anchor.length !== fresh.length || anchor.length < 1)
    throw new InvalidInputError('stocking-lord needs paired anchors');
  const { nodes, weights } = makeGrid();
  const Q = nodes.length;
  const target = new Float64Array(Q);
  for (let k = 0; k < Q; k++) for (const p of anchor) target[k] += probability(p, nodes[k]);
  const loss = (A: number, B: number, jac?: Float64Array): number => {
    let f = 0;
    let gA = 0;
    let gB = 0;
    let hAA = 0;
    let hAB = 0;
    let hBB = 0;
    for (let k = 0; k < Q; k++) {
      let tcc = 0;
      let dA = 0;
      let dB = 0;
      for (const p of fresh) {
        // P = c + (1 − c)σ(z), z = (a/A)(θ − A·b − B).
        const z = (p.a / A) * (nodes[k] - A * p.b - B);
        const s = 1 / (1 + Math.exp(-z));
        const dz = (1 - p.c) * s * (1 - s);
        tcc += p.c + (1 - p.c) * s;
        dA += dz * ((-p.a * (nodes[k] - B)) / (A * A));
        dB += dz * (-p.a / A);
      }
      const r = target[k] - tcc;
      f += weights[k] * r * r;
      // Gauss–Newton pieces of f = Σ w r², r = target − tcc: ∇f = −2Σ w r ∂tcc, H ≈ 2Σ w ∂tcc ∂tccᵀ.
      gA += -2 * weights[k] * r * dA;
      gB += -2 * weights[k] * r * dB;
      hAA += 2 * weights[k] * dA * dA;
      hAB += 2 * weights[k] * dA * dB;
      hBB += 2 * weights[k] * dB * dB;
    }
    if (jac) jac.set([gA, gB, hAA, hAB, hBB]);
    return f;
  };
  let start = { A: 1, B: 0 };
  try {
    start = meanSigma(
      anchor.map((p) => p.b),
      fresh.map((p) => p.b),
    );
  } catch {
    // Fewer than 2 anchors or no spread in b: start from the identity.
  }
  let { A, B } = start;
  const jac = new Float64Array(5);
  let f = loss(A, B, jac);
  let lambda = 1e-3;
  for (let it = 0; it < 200; it++) {
    const [gA, gB, hAA, hAB, hBB] = jac;
    const a11 = hAA * (1 + lambda);
    const a22 = hBB * (1 + lambda);
    const det = a11 * a22 - hAB * hAB;
    const sA = -(a22 * gA - hAB * gB) / det;
    const sB = -(a11 * gB - hAB * gA) / det;
    const An = A + sA;
    const Bn = B + sB;
    const fn = An > 0 ? loss(An, Bn) : Number.POSITIVE_INFINITY;
    if (fn <= f) {
      const small = Math.abs(sA) < 1e-12 && Math.abs(sB) < 1e-12;
      A = An;
      B = Bn;
      f = loss(A, B, jac);
      lambda = Math.max(lambda / 10, 1e-12);
      if (small) break;
    } else {
      lambda *= 10;
      if (lambda > 1e12) break;
    }
  }
  return { A, B };
}

/** An item covariance matrix (IRT form: names of a, b, c, row-major) on the scale θ' = Aθ + B. */
export function transformCovariance(
  cov: { names: readonly string[]; matrix: readonly number[] },
  A: number,
): { names: string[]; matrix: number[] } {
  const n = cov.names.length;
  const f = cov.names.map((name) => scaleOf(name, A));
  return { names: [...cov.names], matrix: cov.matrix.map((x, i) => x * f[Math.floor(i / n)] * f[i % n]) };
}

export interface ScreenOptions {
  /** Anchors with |robust z| above this are dropped; default 1.645. */
  z?: number;
  /** Fewest anchors linking may rest on; default 5. */
  minAnchors?: number;
  /** Linking of the screened anchors; default 'stocking-lord'. */
  method?: 'mean-sigma' | 'stocking-lord';
}

export interface DroppedAnchor {
  itemId: string;
  /** b on the reference scale minus the linked new b, when it was dropped. */
  db: number;
  /** Its robust z, (db − median) / (0.74·IQR) over all common items. */
  z: number;
  /** Screening round (1 = first). */
  round: number;
}

export interface ScreenedLinking {
  method: 'mean-sigma' | 'stocking-lord';
  /** θ_reference = A·θ_new + B. */
  A: number;
  B: number;
  kept: string[];
  dropped: DroppedAnchor[];
}

/** Linking refused: fewer than the minimum anchors survive screening (or were there at all). */
export class AnchorScreeningError extends InvalidInputError {
  constructor(
    message: string,
    readonly dropped: DroppedAnchor[],
  ) {
    super(message);
    this.name = 'AnchorScreeningError';
  }
}

/** Quantile of sorted values with R's default (type 7) interpolation. */
function quantile(sorted: readonly number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  return sorted[lo] + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? sorted[lo]) - sorted[lo]);
}

/**
 * Links `fresh` (a free calibration) onto the scale of `reference` over their common items after
 * robust screening (Huynh & Meyer 2010): link on the kept anchors, compute every common item's
 * db = b_reference − (A·b_fresh + B) and its robust z = (db − median)/(0.74·IQR) (0.74·IQR estimates
 * the SD of a normal), drop the kept anchors with |z| > opts.z, relink, and repeat until none is
 * dropped.
 * Throws AnchorScreeningError when fewer than opts.minAnchors remain.
 */
export function screenAnchors(
  reference: ReadonlyMap<string, ItemParams>,
  fresh: ReadonlyMap<string, ItemParams>,
  opts: ScreenOptions = {},
): ScreenedLinking {
  const zMax = opts.z ?? 1.645;
  const minAnchors = opts.minAnchors ?? 5;
  const method = opts.method ?? 'stocking-lord';
  let kept = [...reference.keys()].filter((id) => fresh.has(id));
  const dropped: DroppedAnchor[] = [];
  const refuse = (why: string) => {
    throw new AnchorScreeningError(
      `linking refused: ${why}, fewer than the minimum of ${minAnchors} anchors` +
        (dropped.length
          ? ` (dropped: ${dropped.map((d) => `${d.itemId} z=${d.z.toFixed(2)}`).join(', ')})`
          : ''),
      dropped,
    );
  };
  if (kept.length < minAnchors) refuse(`${kept.length} common items`);
  const common = kept;
  for (let round = 1; ; round++) {
    const { A, B } = linkOn(kept);
    // db of every common item under the current linking; median and IQR over all of them (robust to
    // the moved ones by construction: recomputing them on the kept anchors only would shrink the IQR
    // by truncation and peel off sound anchors round after round).
    const db = common.map((id) => reference.get(id)!.b - transformItem(fresh.get(id)!, A, B).b);
    const sorted = [...db].sort((x, y) => x - y);
    const med = quantile(sorted, 0.5);
    const scale = 0.74 * (quantile(sorted, 0.75) - quantile(sorted, 0.25));
    const out = common.flatMap((id, i) => {
      const z = scale > 0 ? (db[i] - med) / scale : 0;
      return kept.includes(id) && Math.abs(z) > zMax ? [{ itemId: id, db: db[i], z, round }] : [];
    });
    if (out.length === 0) return { method, A, B, kept, dropped };
    dropped.push(...out);
    kept = kept.filter((id) => !out.some((d) => d.itemId === id));
    if (kept.length < minAnchors) refuse(`${kept.length} anchors left after screening`);
  }

  function linkOn(ids: readonly string[]): { A: number; B: number } {
    const ref = ids.map((id) => reference.get(id)!);
    const fr = ids.map((id) => fresh.get(id)!);
    return method === 'mean-sigma'
      ? meanSigma(
          ref.map((p) => p.b),
          fr.map((p) => p.b),
        )
      : stockingLord(ref, fr);
  }
}

export interface LinkedCalibrateOptions extends CalibrateOptions {
  /** Current parameters of anchor items, by item id. */
  anchors?: ReadonlyMap<string, ItemParams>;
  /** Default: 'fixed' when at least MIN_FIXED_ANCHORS anchors are usable, else 'none'. */
  linking?: LinkingMethod;
  /**
   * Screen the anchors before linking (screenAnchors, against a free calibration of the same data):
   * anchors that moved are dropped and recorded; fewer than `minAnchors` left throws
   * AnchorScreeningError. Off by default.
   */
  screen?: ScreenOptions;
}

export interface LinkedCalibration {
  calibration: Calibration;
  linking: LinkingConstants;
  /**
   * With `screen`: the free calibration the anchors were judged by, put on the anchors' scale by the
   * screened linking (every item estimated freely, anchors included: what drift is tested on).
   */
  screened?: Calibration;
}

/**
 * Calibrates and links to the anchors present (not excluded) in `data`. 'fixed' holds them at their
 * values and estimates the latent mean and variance; it reports A = latent SD and B = latent mean,
 * the map from the standard-normal scale of a free calibration. 'mean-sigma' and 'stocking-lord'
 * calibrate freely, then transform items, latent distribution and abilities by (A, B).
 */
export function calibrateLinked(data: ResponseData, opts: LinkedCalibrateOptions = {}): LinkedCalibration {
  const { anchors: anchorMap, linking, screen, ...rest } = opts;
  let used = data.itemIds.filter((id) => anchorMap?.has(id));
  const method = linking ?? (used.length >= MIN_FIXED_ANCHORS ? 'fixed' : 'none');
  if (method !== 'none' && used.length === 0)
    throw new InvalidInputError(`linking '${method}' needs anchors present in the data`);
  let dropped: DroppedAnchor[] | undefined;
  let screened: Calibration | undefined;
  if (screen && method !== 'none') {
    // The anchors' movement is judged against a free calibration of the same data.
    const free = calibrate(data, { ...rest, abilities: false });
    const r = screenAnchors(
      new Map(used.map((id) => [id, anchorMap!.get(id)!])),
      new Map(free.items.map((it) => [it.itemId, it])),
      { minAnchors: MIN_FIXED_ANCHORS, ...screen },
    );
    used = r.kept;
    dropped = r.dropped;
    screened = applyLinking(free, r.A, r.B);
  }
  const anchorParams = used.map((id) => anchorMap!.get(id)!);
  if (method === 'fixed') {
    const cal = calibrate(data, { ...rest, fixed: new Map(used.map((id, i) => [id, anchorParams[i]])) });
    const linkConst = {
      method,
      A: Math.sqrt(cal.latent.variance),
      B: cal.latent.mean,
      nAnchors: used.length,
      anchors: used,
      ...(dropped && { dropped }),
    };
    return { calibration: cal, linking: linkConst, ...(screened && { screened }) };
  }
  const cal = calibrate(data, rest);
  if (method === 'none')
    return { calibration: cal, linking: { method, A: 1, B: 0, nAnchors: 0, anchors: [] } };
  const byId = new Map(cal.items.map((it) => [it.itemId, it]));
  const fresh = used.map((id) => byId.get(id)!);
  const { A, B } =
    method === 'mean-sigma'
      ? meanSigma(
          anchorParams.map((p) => p.b),
          fresh.map((p) => p.b),
        )
      : stockingLord(anchorParams, fresh);
  return {
    calibration: applyLinking(cal, A, B),
    linking: { method, A, B, nAnchors: used.length, anchors: used, ...(dropped && { dropped }) },
    ...(screened && { screened }),
  };
}

/** Factor of each IRT-form parameter under θ' = Aθ + B: a' = a/A, b' = A·b + B, c' = c. */
function scaleOf(name: string, A: number): number {
  return name === 'a' ? 1 / A : name === 'b' ? A : 1;
}

/** The calibration expressed on the scale θ' = Aθ + B (SEs and covariances by the same linear maps). */
export function applyLinking(cal: Calibration, A: number, B: number): Calibration {
  const items = cal.items.map((it) => {
    const p = transformItem(it, A, B);
    const se = it.se && {
      ...it.se,
      ...(it.se.a !== undefined && { a: it.se.a / A }),
      ...(it.se.b !== undefined && { b: A * it.se.b }),
    };
    const cov = it.cov && transformCovariance(it.cov, A);
    return { ...it, ...p, d: -p.a * p.b, ...(se && { se }), ...(cov && { cov }) };
  });
  const abilities = cal.abilities && {
    theta: cal.abilities.theta.map((t) => A * t + B),
    se: cal.abilities.se.map((s) => A * s),
  };
  return {
    ...cal,
    items,
    latent: { mean: A * cal.latent.mean + B, variance: A * A * cal.latent.variance },
    abilities,
  };
}
