// Item fit, model fit and reliability against R mirt 1.46.1 (test/fixtures/mirt-fit-reference.md:
// itemfit infit/outfit/S-X², M2, marginal_rxx, empirical_rxx for LSAT7 and LSAT6 under Rasch and
// 2PL). From mirt's own parameter estimates (read from the same file) every statistic must agree to
// 1e-4 relative; from our own calibration (which stops at a slightly different point than mirt's EM)
// to 1 %.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  calibrate,
  calibrationFitModel,
  fitStatistics,
  fromIndexed,
  fromMatrix,
  normalCdf,
  simulate,
} from '../../../src/irt/index.js';
import { freqRows, LSAT6_CSV, LSAT7_CSV, type MirtFitReference, mirtFitReference } from './helpers.js';

/** |actual − expected| ≤ tol·|expected| (exact when expected is 0). */
function rel(actual: number | null, expected: number, tol: number, what: string): void {
  assert.ok(actual !== null, `${what}: null`);
  assert.ok(
    Math.abs(actual - expected) <= tol * Math.abs(expected) + 1e-12,
    `${what}: ${actual} vs ${expected}`,
  );
}

const cases = [
  ['LSAT7', LSAT7_CSV, 'Rasch'],
  ['LSAT7', LSAT7_CSV, '2PL'],
  ['LSAT6', LSAT6_CSV, 'Rasch'],
  ['LSAT6', LSAT6_CSV, '2PL'],
] as const;

function check(
  fit: ReturnType<typeof fitStatistics>,
  ref: MirtFitReference,
  tol: number,
  what: string,
): void {
  fit.items.forEach((it, j) => {
    const r = ref.itemStats[j];
    rel(it.outfit, r.outfit, tol, `${what} outfit ${j + 1}`);
    rel(it.outfitZ, r['z.outfit'], tol, `${what} z.outfit ${j + 1}`);
    rel(it.infit, r.infit, tol, `${what} infit ${j + 1}`);
    rel(it.infitZ, r['z.infit'], tol, `${what} z.infit ${j + 1}`);
    rel(it.sx2, r.S_X2, tol, `${what} S_X2 ${j + 1}`);
    assert.equal(it.sx2Df, r['df.S_X2'], `${what} df.S_X2 ${j + 1}`);
    rel(it.sx2Rmsea, r['RMSEA.S_X2'], tol, `${what} RMSEA.S_X2 ${j + 1}`);
    rel(it.sx2P, r['p.S_X2'], tol, `${what} p.S_X2 ${j + 1}`);
  });
  for (const [k, v] of Object.entries(ref.model)) {
    if (k === 'df') assert.equal(fit.model.df, v);
    else rel(fit.model[k as keyof typeof fit.model], v, tol, `${what} ${k}`);
  }
}

describe('fit statistics against mirt 1.46.1', () => {
  for (const [name, file, itemtype] of cases) {
    const data = fromMatrix(freqRows(file));
    const ref = mirtFitReference(name, itemtype);
    test(`${name} ${itemtype}: from mirt's estimates, every statistic to 1e-4 relative`, () => {
      const fit = fitStatistics(data, {
        model: itemtype,
        items: ref.items,
        freeParams: ref.items.map(() => (itemtype === 'Rasch' ? 1 : 2)),
        latent: { mean: 0, variance: ref.variance },
        latentFree: itemtype === 'Rasch' ? 1 : 0,
      });
      assert.deepEqual(fit.notes, []);
      check(fit, ref, 1e-4, name);
    });
    test(`${name} ${itemtype}: from our calibration, to 1 %`, () => {
      const cal = calibrate(data, { model: itemtype });
      check(fitStatistics(data, calibrationFitModel(cal)), ref, 0.01, name);
    });
  }

  test('sparse data: S-X² and M2 null with the reason, infit/outfit and reliabilities computed', () => {
    const sim = simulate({ model: '2PL', nPersons: 600, nItems: 30, perPerson: 12, seed: 17 });
    const data = fromIndexed(sim.responses);
    const fit = fitStatistics(data, calibrationFitModel(calibrate(data, { model: '2PL' })));
    assert.ok(
      fit.items.every((it) => it.sx2 === null && Number.isFinite(it.infit) && Number.isFinite(it.outfitZ)),
    );
    assert.equal(fit.model.M2, null);
    assert.equal(fit.model.CFI, null);
    assert.match(fit.notes.join(' '), /complete data/);
    assert.ok(fit.model.marginal_rxx > 0 && fit.model.marginal_rxx < 1);
    assert.ok(fit.model.empirical_rxx > 0 && fit.model.empirical_rxx < 1);
  });

  // Three booklets of 20 items over 40 (items 0–9 only in the first, 10–19 in the first two, …), 800
  // persons each, 2PL; item 5 answered by a curve no 2PL has (high at both ends, low in the middle).
  const booklets = (() => {
    const sim = simulate({ model: '2PL', nPersons: 2400, nItems: 40, seed: 31 });
    const { person, item, correct } = sim.responses;
    const keep = Array.from(person.keys()).filter((t) => {
      const b = Math.floor(person[t]! / 800);
      return item[t]! >= 10 * b && item[t]! < 10 * b + 20;
    });
    const misfit = (theta: number) => (Math.abs(theta) > 1 ? 0.9 : 0.2);
    const u = simulate({ model: '2PL', nPersons: 2400, nItems: 1, seed: 32 }).theta; // noise source
    const responses = {
      ...sim.responses,
      person: Int32Array.from(keep, (t) => person[t]!),
      item: Int32Array.from(keep, (t) => item[t]!),
      correct: Uint8Array.from(keep, (t) =>
        item[t] === 5 ? Number(normalCdf(u[person[t]!]!) < misfit(sim.theta[person[t]!]!)) : correct[t]!,
      ),
    };
    return fromIndexed(responses);
  })();

  test('booklets of complete data: S-X² within each booklet, summed over the booklets holding the item', () => {
    const fm = calibrationFitModel(calibrate(booklets, { model: '2PL' }));
    const fit = fitStatistics(booklets, fm);
    assert.equal(fit.model.M2, null);
    assert.match(fit.notes.join(' '), /M2 needs complete data/);
    assert.doesNotMatch(fit.notes.join(' '), /S-X² needs/);
    for (const it of fit.items) assert.ok(it.sx2 !== null && it.sx2Df !== null && it.sx2Df > 0, it.itemId);
    // The misfitting item is caught; the others, drawn from the model, are not (α = 0.001 each).
    const p = new Map(fit.items.map((it) => [it.itemId, it.sx2P!]));
    assert.ok(p.get('i6')! < 1e-6, `misfit p ${p.get('i6')}`);
    for (const [id, pv] of p) if (id !== 'i6') assert.ok(pv > 0.001, `${id} p ${pv}`);

    // Each booklet alone, as complete data: an item of one booklet has that booklet's statistic; an
    // item of two has the sum of their X² and of their cells-minus-rows (df adds the 2PL's 2 back).
    const alone = [0, 1].map((b) => {
      const n = 800 * 20;
      const data = fromIndexed({
        personIds: booklets.personIds.slice(800 * b, 800 * (b + 1)),
        itemIds: booklets.itemIds.slice(10 * b, 10 * b + 20),
        person: Int32Array.from({ length: n }, (_, t) => Math.floor(t / 20)),
        item: Int32Array.from({ length: n }, (_, t) => t % 20),
        correct: Uint8Array.from(
          { length: n },
          (_, t) => booklets.personValue[booklets.personPtr[800 * b + Math.floor(t / 20)]! + (t % 20)]!,
        ),
      });
      const items = (xs: readonly number[]) => xs.slice(10 * b, 10 * b + 20);
      const model = { ...fm, items: fm.items.slice(10 * b, 10 * b + 20), freeParams: items(fm.freeParams) };
      return fitStatistics(data, { ...model, abilities: undefined }).items;
    });
    const close = (x: number, y: number) => Math.abs(x - y) < 1e-9 * Math.abs(y);
    for (let j = 0; j < 10; j++) {
      assert.equal(fit.items[j]!.sx2Df, alone[0]![j]!.sx2Df, `df ${j}`);
      assert.ok(close(fit.items[j]!.sx2!, alone[0]![j]!.sx2!), `X² ${j}`);
    }
    for (let j = 10; j < 20; j++) {
      const [x, y] = [alone[0]![j]!, alone[1]![j - 10]!];
      assert.equal(fit.items[j]!.sx2Df, x.sx2Df! + y.sx2Df! + 2, `df ${j}`);
      assert.ok(close(fit.items[j]!.sx2!, x.sx2! + y.sx2!), `X² ${j}`);
    }
  });

  // (Infit/outfit from EAPs sit below 1 even under the true model, EAPs being shrunk: not tested here.)
  test('simulated data that fit the model: S-X² and M2 not significant', () => {
    const sim = simulate({ model: '2PL', nPersons: 2000, nItems: 10, seed: 23 });
    const data = fromIndexed(sim.responses);
    const fit = fitStatistics(data, calibrationFitModel(calibrate(data, { model: '2PL' })));
    for (const it of fit.items) assert.ok(it.sx2P !== null && it.sx2P > 0.001, `S-X² p ${it.sx2P}`);
    assert.ok(fit.model.p !== null && fit.model.p > 0.01, `M2 p ${fit.model.p}`);
    assert.ok(fit.model.RMSEA !== null && fit.model.RMSEA < 0.03);
  });
});
