// Two samples from the same item bank, the second with abilities shifted by +0.5: linking the second
// calibration to anchors taken from the first must recover A ≈ 1, B ≈ 0.5. With 3,000 persons per
// sample the latent mean and SD are known to ≈ ±0.03, and the anchors add their own estimation error,
// so we allow ±0.1 on both.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  calibrate,
  calibrateLinked,
  fromIndexed,
  meanSigma,
  simulate,
  stockingLord,
  transformItem,
} from '../../../src/irt/index.js';

const items = simulate({ model: '2PL', nPersons: 1, nItems: 40, seed: 5 }).items;
const base = simulate({ model: '2PL', nPersons: 3000, nItems: 40, seed: 31, items });
const shifted = simulate({ model: '2PL', nPersons: 3000, nItems: 40, seed: 32, items, thetaMean: 0.5 });
const ref = calibrate(fromIndexed(base.responses), { model: '2PL' });
const anchors = new Map(ref.items.slice(0, 10).map((i) => [i.itemId, { a: i.a, b: i.b, c: i.c }]));
const data = fromIndexed(shifted.responses);

describe('linking recovers a known shift of the ability distribution', () => {
  for (const linking of ['fixed', 'mean-sigma', 'stocking-lord'] as const) {
    test(linking, () => {
      const { calibration, linking: k } = calibrateLinked(data, { model: '2PL', anchors, linking });
      assert.equal(k.method, linking);
      assert.equal(k.nAnchors, 10);
      assert.deepEqual(k.anchors, [...anchors.keys()]);
      assert.ok(Math.abs(k.A - 1) < 0.1, `A = ${k.A}`);
      assert.ok(Math.abs(k.B - 0.5) < 0.1, `B = ${k.B}`);
      assert.ok(Math.abs(calibration.latent.mean - 0.5) < 0.1);
      const meanTheta = calibration.abilities!.theta.reduce((s, v) => s + v, 0) / data.nPersons;
      assert.ok(Math.abs(meanTheta - 0.5) < 0.1);
    });
  }

  test('fixed: anchors come out exactly at their given values; default method is fixed with ≥ 5 anchors', () => {
    const { calibration, linking } = calibrateLinked(data, { model: '2PL', anchors });
    assert.equal(linking.method, 'fixed');
    for (const it of calibration.items) {
      const given = anchors.get(it.itemId);
      assert.equal(it.fixed, !!given);
      if (given) assert.deepEqual({ a: it.a, b: it.b, c: it.c }, given);
    }
    assert.equal(calibration.nFreeParams, 30 * 2 + 2);
  });

  test('none, and the default with fewer than 5 anchors, leave the scale alone', () => {
    const few = new Map([...anchors].slice(0, 3));
    for (const r of [
      calibrateLinked(data, { model: '2PL', anchors, linking: 'none' }),
      calibrateLinked(data, { model: '2PL', anchors: few }),
    ]) {
      assert.deepEqual(
        { method: r.linking.method, A: r.linking.A, B: r.linking.B },
        { method: 'none', A: 1, B: 0 },
      );
    }
  });
});

describe('linking constants from known transformations', () => {
  const bank = simulate({ model: '3PL', nPersons: 1, nItems: 12, seed: 9 }).items;
  const A = 1.3;
  const B = -0.4;
  // `fresh` is the bank on a scale where θ_new = (θ_old − B)/A.
  const fresh = bank.map((p) => transformItem(p, 1 / A, -B / A));

  test('mean-sigma and Stocking–Lord recover exact A, B', () => {
    const ms = meanSigma(
      bank.map((p) => p.b),
      fresh.map((p) => p.b),
    );
    assert.ok(Math.abs(ms.A - A) < 1e-12 && Math.abs(ms.B - B) < 1e-12);
    const sl = stockingLord(bank, fresh);
    assert.ok(Math.abs(sl.A - A) < 1e-6 && Math.abs(sl.B - B) < 1e-6, JSON.stringify(sl));
  });

  test('transformItem round trip', () => {
    const back = transformItem(transformItem(bank[0], A, B), 1 / A, -B / A);
    assert.ok(Math.abs(back.a - bank[0].a) < 1e-12 && Math.abs(back.b - bank[0].b) < 1e-12);
  });
});
