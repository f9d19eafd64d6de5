// The bounded quasi-Newton minimiser behind the mirt-compatible M-step with estimated latent
// parameters (src/math/optimize.ts). Its agreement with R's L-BFGS-B is tested end to end by the LSAT7 Rasch
// fit (lsat7.test.ts); here its own contract: minima inside and on the box, the stopping rules.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { itemModel } from '../../../src/irt/models.js';
import { gridNodes } from '../../../src/irt/quadrature.js';
import { boundedLimitedMemoryBfgs } from '../../../src/math/optimize.js';
import { NumericalFailure } from '../../../src/user-error.js';

// Rosenbrock's function and its gradient (minimum 0 at (1, 1)).
const rosenbrock = (x: Float64Array) => 100 * (x[1] - x[0] * x[0]) ** 2 + (1 - x[0]) ** 2;
const rosenbrockGrad = (x: Float64Array, g: Float64Array) => {
  g[0] = -400 * x[0] * (x[1] - x[0] * x[0]) - 2 * (1 - x[0]);
  g[1] = 200 * (x[1] - x[0] * x[0]);
};
const box = (n: number, lo: number, hi: number) => ({
  lower: new Float64Array(n).fill(lo),
  upper: new Float64Array(n).fill(hi),
});

describe('boundedLimitedMemoryBfgs', () => {
  test('Rosenbrock inside a box: reaches (1, 1) and stops on the relative-reduction test', () => {
    const x = Float64Array.from([-1.2, 1]);
    const { lower, upper } = box(2, -5, 5);
    const r = boundedLimitedMemoryBfgs(x, lower, upper, rosenbrock, rosenbrockGrad, 200, 10);
    assert.equal(r.stop, 'converged');
    assert.ok(Math.abs(x[0] - 1) < 1e-5 && Math.abs(x[1] - 1) < 1e-5, `${x}`);
    assert.ok(r.value < 1e-10, `${r.value}`);
  });

  test('a minimum outside the box ends on the bounds, with the projected gradient zero there', () => {
    // (x − 3)² + (y + 1)² + xy/10 on [0, 2]²: the constrained minimum is (2, 0).
    const fn = (x: Float64Array) => (x[0] - 3) ** 2 + (x[1] + 1) ** 2 + (x[0] * x[1]) / 10;
    const gr = (x: Float64Array, g: Float64Array) => {
      g[0] = 2 * (x[0] - 3) + x[1] / 10;
      g[1] = 2 * (x[1] + 1) + x[0] / 10;
    };
    const x = Float64Array.from([0.5, 1.5]);
    const { lower, upper } = box(2, 0, 2);
    const r = boundedLimitedMemoryBfgs(x, lower, upper, fn, gr, 100);
    assert.equal(r.stop, 'converged');
    assert.deepEqual(Array.from(x), [2, 0]);
  });

  test('a start outside the box is projected onto it first', () => {
    const fn = (x: Float64Array) => (x[0] - 1) ** 2;
    const gr = (x: Float64Array, g: Float64Array) => {
      g[0] = 2 * (x[0] - 1);
    };
    const x = Float64Array.from([10]);
    const calls: number[] = [];
    boundedLimitedMemoryBfgs(
      x,
      Float64Array.from([-2]),
      Float64Array.from([3]),
      (v) => {
        calls.push(v[0]);
        return fn(v);
      },
      gr,
      50,
    );
    assert.equal(calls[0], 3);
    assert.ok(Math.abs(x[0] - 1) < 1e-6, `${x[0]}`);
  });

  test("the iteration limit is R's: maxit + 1 iterations, then it stops where it is", () => {
    const x = Float64Array.from([-1.2, 1]);
    const { lower, upper } = box(2, -5, 5);
    const r = boundedLimitedMemoryBfgs(x, lower, upper, rosenbrock, rosenbrockGrad, 3);
    assert.equal(r.stop, 'maxit');
    assert.equal(r.iterations, 4);
    assert.ok(rosenbrock(x) < rosenbrock(Float64Array.from([-1.2, 1])));
  });

  test('a non-finite objective at the start is an error, not a silent result', () => {
    assert.throws(
      () =>
        boundedLimitedMemoryBfgs(
          Float64Array.from([0]),
          Float64Array.from([-1]),
          Float64Array.from([1]),
          () => Number.NaN,
          (_x, g) => g.fill(0),
          10,
        ),
      (err: unknown) => err instanceof NumericalFailure && /not finite at the start/.test(err.message),
    );
  });
});

describe('mirt-compatible item objective', () => {
  test('stays finite far from the data: the linear predictor is bounded at ±35 as in mirt', () => {
    const model = itemModel('2PL');
    const nodes = gridNodes(61, [-6, 6]);
    const counts = new Float64Array(2 * 61).fill(1);
    const v = new Float64Array(3);
    model.fromParams({ a: 1, b: -100, c: 0 }, v); // d = 100: P = 1 - 1e-44 without the bound
    const f = model.emObjective!(v, nodes, counts);
    assert.ok(Number.isFinite(f), `${f}`);
    // At the bound, log(1 − P) = log(1 − 1/(1 + e^-35)) ≈ −35 for each of the 61 nodes.
    assert.ok(Math.abs(f - 61 * Math.log(1 - 1 / (1 + Math.exp(-35)))) < 1e-6 * Math.abs(f), `${f}`);
  });
});
