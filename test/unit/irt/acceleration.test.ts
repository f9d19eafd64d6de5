// SQUAREM acceleration: same fixed point as plain EM, fewer cycles, honest convergence reporting.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  calibrate,
  fromIndexed,
  fromMatrix,
  PARALLEL_MIN_OBS,
  prepareEstepThreads,
  simulate,
} from '../../../src/irt/index.js';
import { lsat7Rows } from './helpers.js';

describe('SQUAREM acceleration', () => {
  test('2PL sparse: same optimum as plain EM (tight tol), fewer cycles at the default tol', () => {
    const sim = simulate({ model: '2PL', nPersons: 3000, nItems: 60, perPerson: 20, seed: 31 });
    const data = fromIndexed(sim.responses);
    const plain = calibrate(data, { model: '2PL', accelerate: 'none' });
    const sq = calibrate(data, { model: '2PL' });
    assert.equal(plain.converged, true);
    assert.equal(sq.converged, true);
    assert.ok(sq.iterations < plain.iterations, `${sq.iterations} vs ${plain.iterations}`);
    const plainT = calibrate(data, { model: '2PL', accelerate: 'none', tol: 1e-8, maxCycles: 5000 });
    const sqT = calibrate(data, { model: '2PL', tol: 1e-8, maxCycles: 5000 });
    assert.equal(sqT.converged, true);
    assert.ok(Math.abs(sqT.logLik - plainT.logLik) < 1e-6, `${sqT.logLik} vs ${plainT.logLik}`);
    for (let j = 0; j < sqT.items.length; j++) {
      assert.ok(Math.abs(sqT.items[j].a - plainT.items[j].a) < 1e-5);
      assert.ok(Math.abs(sqT.items[j].d - plainT.items[j].d) < 1e-5);
    }
  });

  test('Rasch LSAT7 (latent variance in the extrapolated state): same optimum as plain EM', () => {
    const data = fromMatrix(lsat7Rows());
    const plain = calibrate(data, { model: 'Rasch', accelerate: 'none', tol: 1e-9, maxCycles: 5000 });
    const sq = calibrate(data, { model: 'Rasch', tol: 1e-9, maxCycles: 5000 });
    assert.equal(sq.converged, true);
    assert.ok(Math.abs(sq.latent.variance - plain.latent.variance) < 1e-6);
    assert.ok(Math.abs(sq.logLik - plain.logLik) < 1e-8);
    assert.ok(sq.iterations < plain.iterations);
  });

  test('maxCycles counts every EM cycle; converged ⇔ last change below tol', () => {
    const sim = simulate({ model: '2PL', nPersons: 1000, nItems: 20, seed: 32 });
    const data = fromIndexed(sim.responses);
    for (const mc of [1, 2, 3, 4, 5, 7]) {
      const cal = calibrate(data, { model: '2PL', maxCycles: mc });
      assert.ok(cal.iterations <= mc);
      assert.equal(cal.converged, cal.maxChange < 1e-4);
    }
  });
});

describe('E-step variants and the mirt-compatible path', () => {
  test('booklet-grouped E-step (dense data) gives the per-person E-step results up to rounding', () => {
    const sim = simulate({ model: '2PL', nPersons: 1500, nItems: 25, seed: 41 });
    const data = fromIndexed(sim.responses);
    const grouped = calibrate(data, { model: '2PL' });
    const persons = calibrate(data, { model: '2PL', groupedEstep: false });
    assert.equal(grouped.iterations, persons.iterations);
    assert.ok(Math.abs(grouped.logLik - persons.logLik) < 1e-8);
    for (let j = 0; j < grouped.items.length; j++) {
      assert.ok(Math.abs(grouped.items[j].a - persons.items[j].a) < 1e-9);
      assert.ok(Math.abs(grouped.items[j].d - persons.items[j].d) < 1e-9);
    }
    for (let i = 0; i < data.nPersons; i++)
      assert.ok(Math.abs(grouped.abilities!.theta[i] - persons.abilities!.theta[i]) < 1e-9);
  });

  test('3PL (not log-concave) and sparse designs take the per-person path and still converge', () => {
    const sim = simulate({ model: '3PL', nPersons: 2000, nItems: 40, perPerson: 20, seed: 42 });
    const cal = calibrate(fromIndexed(sim.responses), {
      model: '3PL',
      priors: { c: { alpha: 5, beta: 17 } },
    });
    assert.equal(cal.converged, true);
  });

  test('mirtCompat converges near the maximum on simulated data; refuses banks too large for its BFGS', () => {
    const sim = simulate({ model: '2PL', nPersons: 2000, nItems: 30, seed: 43 });
    const data = fromIndexed(sim.responses);
    const compat = calibrate(data, { model: '2PL', mirtCompat: true });
    const tight = calibrate(data, { model: '2PL', tol: 1e-8, maxCycles: 5000 });
    assert.equal(compat.converged, true);
    assert.ok(compat.logLik <= tight.logLik + 1e-9 && tight.logLik - compat.logLik < 1e-2);
    for (let j = 0; j < compat.items.length; j++)
      assert.ok(Math.abs(compat.items[j].a - tight.items[j].a) < 2e-2);
    const big = simulate({ model: '2PL', nPersons: 2000, nItems: 2100, perPerson: 50, seed: 44 });
    assert.throws(
      () => calibrate(fromIndexed(big.responses), { model: '2PL', mirtCompat: true }),
      /limited to 4000/,
    );
  });
});

describe('worker-thread E-step', () => {
  test('threads: 2 equals one thread up to rounding and is bit-identical across runs', () => {
    const sim = simulate({ model: '2PL', nPersons: 3000, nItems: 60, perPerson: 20, seed: 45 });
    const data = fromIndexed(sim.responses);
    const one = calibrate(data, { model: '2PL', threads: 1 });
    const two = calibrate(data, { model: '2PL', threads: 2 });
    const again = calibrate(data, { model: '2PL', threads: 2 });
    assert.equal(two.iterations, one.iterations);
    assert.ok(Math.abs(two.logLik - one.logLik) < 1e-8);
    for (let j = 0; j < one.items.length; j++) {
      assert.ok(Math.abs(two.items[j].a - one.items[j].a) < 1e-9);
      assert.ok(Math.abs(two.items[j].d - one.items[j].d) < 1e-9);
    }
    for (let i = 0; i < data.nPersons; i++)
      assert.ok(Math.abs(two.abilities!.theta[i] - one.abilities!.theta[i]) < 1e-9);
    assert.deepEqual(again.items, two.items);
    assert.equal(again.logLik, two.logLik);
    // Three threads: the started workers are reused and one more is added; same results to rounding.
    const three = calibrate(data, { model: '2PL', threads: 3 });
    assert.ok(Math.abs(three.logLik - one.logLik) < 1e-8);
    for (let j = 0; j < one.items.length; j++) assert.ok(Math.abs(three.items[j].a - one.items[j].a) < 1e-9);
  });

  test(`from ${PARALLEL_MIN_OBS} responses the default is two threads, whatever the machine`, () => {
    const sim = simulate({ model: '2PL', nPersons: 4000, nItems: 100, perPerson: 25, seed: 46 });
    const data = fromIndexed(sim.responses);
    assert.equal(data.nObs, PARALLEL_MIN_OBS);
    // What the CLI starts ahead of a calibration is what the calibration then uses.
    assert.deepEqual([prepareEstepThreads(PARALLEL_MIN_OBS - 1), prepareEstepThreads(data.nObs)], [1, 2]);
    const byDefault = calibrate(data, { model: '2PL', abilities: false });
    const two = calibrate(data, { model: '2PL', abilities: false, threads: 2 });
    const one = calibrate(data, { model: '2PL', abilities: false, threads: 1 });
    assert.deepEqual(byDefault.items, two.items);
    assert.equal(byDefault.logLik, two.logLik);
    assert.deepEqual([byDefault.threads, two.threads, one.threads], [2, 2, 1]);
    // One thread sums the expected counts in another order: equal to rounding, not bit for bit
    // (deterministic data: this holds on every run, it tells the default from one thread).
    assert.notEqual(one.logLik, two.logLik);
    assert.ok(Math.abs(one.logLik - two.logLik) < 1e-7);
  });
});
