// Calibration rows and the engine's reference EAP for the θ-update and queue tests.
import { type ItemParams, OnlineScorer } from '../../../src/irt/index.js';
import type { TestDatabase } from '../../helpers/db.js';

/** A succeeded calibration run with the given parameters and prior (what mirt-calibrate writes). */
export async function insertRun(
  database: TestDatabase,
  runId: string,
  fittedAt: string,
  items: Record<string, ItemParams>,
  prior = { mean: 0, variance: 1 },
  model: '2PL' | '3PL' = '2PL',
): Promise<void> {
  await database.db
    .insertInto('mirt_fit_meta')
    .values({
      run_id: runId,
      model,
      status: 'succeeded',
      model_spec: JSON.stringify({ model, quadpts: 61, theta_lim: [-6, 6] }),
      metrics: JSON.stringify({ latent_mean: prior.mean, latent_variance: prior.variance }),
      fitted_at: fittedAt,
    })
    .execute();
  await database.db
    .insertInto('mirt_item_params')
    .values(
      Object.entries(items).map(([item_id, p]) => ({
        item_id,
        version: runId,
        model,
        params: JSON.stringify({ ...p, d: -p.a * p.b }),
        fitted_at: fittedAt,
      })),
    )
    .execute();
}

/** The engine's EAP of responses to `items` under the calibration grid and prior. */
export function engineEap(
  items: ItemParams[],
  correct: number[],
  prior = { mean: 0, variance: 1 },
): { theta: number; se: number } {
  const scorer = new OnlineScorer(items, { quadpts: 61, thetaLim: [-6, 6], ...prior });
  return scorer.eap(
    items.map((_, j) => j),
    correct,
  );
}
