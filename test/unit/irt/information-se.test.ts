// Item/test information in closed form, and item standard errors that include the priors' curvature
// and stay finite when a 3PL lower asymptote sits at its bound (issue 17, item 5).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  calibrate,
  fromIndexed,
  fromMatrix,
  itemInformation,
  probability,
  simulate,
  testInformation,
} from '../../../src/irt/index.js';
import { freqRows, LSAT6_CSV, LSAT7_CSV } from './helpers.js';

describe('information', () => {
  test('I(θ) = P′²/(PQ): 2PL a²/4 at θ = b; 3PL against a numerical derivative; test = Σ items', () => {
    assert.equal(itemInformation({ a: 1.5, b: 0.3, c: 0 }, 0.3), 1.5 ** 2 / 4);
    const item = { a: 1.3, b: -0.4, c: 0.2 };
    for (const t of [-3, -0.4, 0, 1.7]) {
      const h = 1e-5;
      const dp = (probability(item, t + h) - probability(item, t - h)) / (2 * h);
      const p = probability(item, t);
      const expected = (dp * dp) / (p * (1 - p));
      assert.ok(Math.abs(itemInformation(item, t) - expected) < 1e-8 * expected, `θ ${t}`);
    }
    const bank = [item, { a: 0.8, b: 1, c: 0 }];
    const info = testInformation(bank, [0, 1]);
    assert.equal(info[1], itemInformation(bank[0], 1) + itemInformation(bank[1], 1));
  });
});

describe('item standard errors', () => {
  // Beta(5, 17): SD √(αβ/((α+β)²(α+β+1))) = 0.0874.
  const priorSd = Math.sqrt((5 * 17) / (22 ** 2 * 23));

  for (const [name, file] of [
    ['LSAT7', LSAT7_CSV],
    ['LSAT6', LSAT6_CSV],
  ] as const) {
    test(`${name} 3PL: SEs finite for every item; c at its bound reported without an SE`, () => {
      const cal = calibrate(fromMatrix(freqRows(file)), { model: '3PL', itemSE: true });
      assert.ok(
        cal.items.some((it) => it.boundary?.includes('c')),
        'some c at 0 (the case that gave NaN)',
      );
      for (const it of cal.items) {
        for (const k of ['a', 'b', 'd'])
          assert.ok(Number.isFinite(it.se![k]) && it.se![k] > 0, `${it.itemId} se_${k}`);
        if (it.boundary?.includes('c')) assert.equal(it.se!.c, undefined);
        else assert.ok(Number.isFinite(it.se!.c));
      }
    });

    test(`${name} 3PL with a Beta(5,17) prior: se_c within the prior's own (Laplace) width`, () => {
      const cal = calibrate(fromMatrix(freqRows(file)), {
        model: '3PL',
        itemSE: true,
        priors: { c: { alpha: 5, beta: 17 } },
      });
      for (const it of cal.items) {
        // With five items the data barely inform c: the SE is the prior's curvature width at ĉ,
        // c(1−c)/√((α+β−2)c(1−c)) (0.0894 at the mode, 2 % above the SD), never more.
        const laplace = Math.sqrt((it.c * (1 - it.c)) / 20);
        assert.ok(it.se!.c <= laplace * (1 + 1e-9), `${it.itemId}: ${it.se!.c} vs ${laplace}`);
        assert.ok(it.se!.c < 1.03 * priorSd);
      }
    });
  }

  // Every se_c is at most the prior's Laplace width at ĉ (what remains when the data carry no
  // information on c). That width is 0.0894 at the prior's mode, 2 % above its SD (0.0874), so "every
  // se_c below the SD" cannot hold for an item whose c the data do not inform (docs/decisions.md).
  test('simulated 3PL (2,000 × 20) with a Beta(5,17) prior: every se_c within the prior width', () => {
    const sim = simulate({ model: '3PL', nPersons: 2000, nItems: 20, seed: 4 });
    const cal = calibrate(fromIndexed(sim.responses), {
      model: '3PL',
      itemSE: true,
      priors: { c: { alpha: 5, beta: 17 } },
      abilities: false,
    });
    for (const it of cal.items) {
      const laplace = Math.sqrt((it.c * (1 - it.c)) / 20);
      assert.ok(it.se!.c <= laplace * (1 + 1e-9) && it.se!.c < 1.05 * priorSd, `${it.itemId}: ${it.se!.c}`);
    }
    // Without the prior the same fit has some c at the bound, all SEs still finite.
    const free = calibrate(fromIndexed(sim.responses), { model: '3PL', itemSE: true, abilities: false });
    for (const it of free.items) assert.ok(Number.isFinite(it.se!.a) && Number.isFinite(it.se!.b));
  });

  // Against the engine's own simulator: 100 samples of 1,000 persons from one fixed 2PL bank of 10
  // items. The reported SE of each a and b must match the spread of the estimates over the samples
  // (the SD of 100 estimates is itself known to ±7 %), and ±1.96 SE must cover the truth ~95 % of the time.
  test('2PL: the SEs are the spread of the estimates over simulated samples, and cover the truth', () => {
    const bank = simulate({ model: '2PL', nPersons: 1, nItems: 10, seed: 41 }).items;
    const reps = Array.from({ length: 100 }, (_, r) => {
      const sim = simulate({ model: '2PL', nPersons: 1000, nItems: 10, seed: 1000 + r, items: bank });
      return calibrate(fromIndexed(sim.responses), { model: '2PL', itemSE: true, abilities: false }).items;
    });
    const ratios: number[] = [];
    let covered = 0;
    for (let j = 0; j < bank.length; j++) {
      for (const key of ['a', 'b'] as const) {
        const est = reps.map((items) => items[j]![key]);
        const mean = est.reduce((x, y) => x + y, 0) / est.length;
        const sd = Math.sqrt(est.reduce((x, y) => x + (y - mean) ** 2, 0) / (est.length - 1));
        const se = reps.reduce((x, items) => x + items[j]!.se![key]!, 0) / reps.length;
        ratios.push(se / sd);
        covered += reps.filter(
          (items) => Math.abs(items[j]![key] - bank[j]![key]) <= 1.96 * items[j]!.se![key]!,
        ).length;
      }
    }
    for (const r of ratios) assert.ok(r > 0.8 && r < 1.25, `SE / SD ${r.toFixed(3)}`);
    const meanRatio = ratios.reduce((x, y) => x + y, 0) / ratios.length;
    assert.ok(Math.abs(meanRatio - 1) < 0.06, `mean SE / SD ${meanRatio.toFixed(3)}`);
    const coverage = covered / (ratios.length * reps.length);
    assert.ok(coverage > 0.93 && coverage < 0.97, `coverage ${coverage}`);
  });

  test('2PL: covariance diagonal equals the squared SEs; no prior, no boundary', () => {
    const cal = calibrate(fromMatrix(freqRows(LSAT7_CSV)), { model: '2PL', itemSE: true });
    for (const it of cal.items) {
      assert.deepEqual(it.cov!.names, ['a', 'b']);
      assert.ok(Math.abs(it.cov!.matrix[0] - it.se!.a ** 2) < 1e-15);
      assert.ok(Math.abs(it.cov!.matrix[3] - it.se!.b ** 2) < 1e-15);
      assert.equal(it.boundary, undefined);
    }
  });
});
