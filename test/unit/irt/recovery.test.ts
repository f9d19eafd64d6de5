// Parameter recovery on data simulated by the engine's seeded simulator. Bounds are about twice the
// RMSE expected from the sample size (asymptotic SEs): a 2PL item with n responses has
// SE(a) ≈ SE(b) ≈ 2.5/√n for a ≈ 1 and |b| ≤ 2, i.e. ≈ 0.06 at n = 2,000 and 0.08 at n = 1,000.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { calibrate, fromIndexed, fromMatrix, fromTriples, simulate } from '../../../src/irt/index.js';
import { rmse } from './helpers.js';

function recovery(sim: ReturnType<typeof simulate>, cal: ReturnType<typeof calibrate>) {
  const pick = (k: 'a' | 'b' | 'c') => [cal.items.map((i) => i[k]), sim.items.map((i) => i[k])] as const;
  return { a: rmse(...pick('a')), b: rmse(...pick('b')), c: rmse(...pick('c')) };
}

describe('parameter recovery', () => {
  test('2PL dense, 2,000 persons × 30 items: RMSE a < 0.15, b < 0.15', () => {
    const sim = simulate({ model: '2PL', nPersons: 2000, nItems: 30, seed: 11 });
    const cal = calibrate(fromIndexed(sim.responses), { model: '2PL' });
    assert.equal(cal.converged, true);
    const r = recovery(sim, cal);
    assert.ok(r.a < 0.15 && r.b < 0.15, JSON.stringify(r));
  });

  test('2PL sparse, 5,000 persons × 100 items, 20 each (≈1,000 per item): RMSE a < 0.2, b < 0.2', () => {
    const sim = simulate({ model: '2PL', nPersons: 5000, nItems: 100, perPerson: 20, seed: 12 });
    const data = fromIndexed(sim.responses);
    assert.equal(data.nObs, 100_000);
    const cal = calibrate(data, { model: '2PL' });
    assert.equal(cal.converged, true);
    const r = recovery(sim, cal);
    assert.ok(r.a < 0.2 && r.b < 0.2, JSON.stringify(r));
  });

  test('3PL with Beta(5,17) prior on c, 3,000 × 30: RMSE a < 0.3, b < 0.5, c < 0.12', () => {
    // b and c trade off in the lower asymptote, so b is much less precise than in the 2PL; the prior
    // keeps c near its mean 0.23 (true c ~ Beta(5, 17), sd 0.09).
    const sim = simulate({ model: '3PL', nPersons: 3000, nItems: 30, seed: 13 });
    const cal = calibrate(fromIndexed(sim.responses), {
      model: '3PL',
      priors: { c: { alpha: 5, beta: 17 } },
    });
    assert.equal(cal.converged, true);
    const r = recovery(sim, cal);
    assert.ok(r.a < 0.3 && r.b < 0.5 && r.c < 0.12, JSON.stringify(r));
  });

  test('abilities: EAP correlates with the truth', () => {
    const sim = simulate({ model: '2PL', nPersons: 1000, nItems: 30, seed: 14 });
    const cal = calibrate(fromIndexed(sim.responses), { model: '2PL' });
    const t = cal.abilities!.theta;
    const mx = t.reduce((s, v) => s + v, 0) / t.length;
    const my = sim.theta.reduce((s, v) => s + v, 0) / t.length;
    let sxy = 0;
    let sxx = 0;
    let syy = 0;
    t.forEach((v, i) => {
      sxy += (v - mx) * (sim.theta[i] - my);
      sxx += (v - mx) ** 2;
      syy += (sim.theta[i] - my) ** 2;
    });
    assert.ok(sxy / Math.sqrt(sxx * syy) > 0.9);
  });
});

describe('determinism and representations', () => {
  const sim = simulate({ model: '2PL', nPersons: 600, nItems: 25, seed: 21 });

  test('same input gives bit-identical output; the simulator is seeded', () => {
    const again = simulate({ model: '2PL', nPersons: 600, nItems: 25, seed: 21 });
    assert.deepEqual(again.responses.correct, sim.responses.correct);
    const a = calibrate(fromIndexed(sim.responses), { model: '2PL', itemSE: true });
    const b = calibrate(fromIndexed(again.responses), { model: '2PL', itemSE: true });
    assert.deepEqual(a, b);
  });

  test('sparse triples and the dense matrix of the same data give the same estimates', () => {
    const { person, item, correct, personIds, itemIds } = sim.responses;
    const rows = personIds.map(() => new Array<number | null>(itemIds.length).fill(null));
    for (let t = 0; t < person.length; t++) rows[person[t]][item[t]] = correct[t];
    const dense = calibrate(fromMatrix(rows, { personIds, itemIds }), { model: '2PL' });
    // Triples in a different order (items reversed within each person, persons interleaved).
    const triples = Array.from(person, (_, t) => t)
      .sort((x, y) => item[y] - item[x] || person[x] - person[y])
      .map((t) => ({ userId: personIds[person[t]], itemId: itemIds[item[t]], correct: correct[t] }));
    const sparse = calibrate(fromTriples(triples), { model: '2PL' });
    const byId = new Map(sparse.items.map((i) => [i.itemId, i]));
    for (const it of dense.items) {
      assert.ok(Math.abs(it.a - byId.get(it.itemId)!.a) < 1e-9);
      assert.ok(Math.abs(it.b - byId.get(it.itemId)!.b) < 1e-9);
    }
    assert.ok(Math.abs(dense.logLik - sparse.logLik) < 1e-8);
  });
});
