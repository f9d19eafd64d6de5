// Item and test information against the textbook closed forms and against the definition
// I(θ) = E[(∂ log L / ∂θ)²] = P′² / (P·Q), with P′ by central differences.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { probability } from '../../../src/irt/index.js';
import { itemInformation, testInformation } from '../../../src/irt/information.js';

const thetas = [-4, -2.5, -1, -0.3, 0, 0.7, 1.5, 3, 4.5];

/** P′² / (P·Q) with P′ by a central difference (h = 1e-5: error ~1e-10 relative). */
function numerical(p: { a: number; b: number; c: number }, theta: number): number {
  const h = 1e-5;
  const d = (probability(p, theta + h) - probability(p, theta - h)) / (2 * h);
  const P = probability(p, theta);
  return (d * d) / (P * (1 - P));
}

describe('item information', () => {
  test('Rasch: P·Q; maximum 1/4 at θ = b', () => {
    for (const t of thetas) {
      const P = 1 / (1 + Math.exp(-(t - 0.4)));
      assert.ok(Math.abs(itemInformation({ a: 1, b: 0.4, c: 0 }, t) - P * (1 - P)) < 1e-15);
    }
    assert.equal(itemInformation({ a: 1, b: 0.4, c: 0 }, 0.4), 0.25);
  });

  test('2PL: a²·P·Q (relative 1e-13)', () => {
    for (const a of [0.35, 1.2, 3]) {
      for (const t of thetas) {
        const P = 1 / (1 + Math.exp(-a * (t + 1.1)));
        const want = a * a * P * (1 - P);
        assert.ok(Math.abs(itemInformation({ a, b: -1.1, c: 0 }, t) - want) <= 1e-13 * want);
      }
    }
  });

  test('3PL: equals P′²/(P·Q) by numerical differentiation (relative 1e-7), and its maximum is where Birnbaum puts it', () => {
    for (const p of [
      { a: 1.7, b: 0.5, c: 0.2 },
      { a: 0.6, b: -1, c: 0.25 },
      { a: 2.5, b: 2, c: 0.05 },
    ]) {
      for (const t of thetas) {
        const want = numerical(p, t);
        assert.ok(
          Math.abs(itemInformation(p, t) - want) <= 1e-7 * want + 1e-15,
          `${JSON.stringify(p)} θ=${t}`,
        );
      }
      // Birnbaum (1968): the maximum is at θ = b + ln((1 + √(1 + 8c)) / 2) / a.
      const tMax = p.b + Math.log((1 + Math.sqrt(1 + 8 * p.c)) / 2) / p.a;
      const at = itemInformation(p, tMax);
      for (const dt of [-0.01, 0.01]) assert.ok(itemInformation(p, tMax + dt) < at);
    }
  });

  test('test information is the sum over items at each θ', () => {
    const bank = [
      { a: 1, b: 0, c: 0 },
      { a: 2, b: 1, c: 0 },
      { a: 1.4, b: -0.5, c: 0.2 },
    ];
    const info = testInformation(bank, thetas);
    assert.equal(info.length, thetas.length);
    thetas.forEach((t, i) => {
      const want = bank.reduce((s, p) => s + numerical(p, t), 0);
      assert.ok(Math.abs(info[i] - want) <= 1e-7 * want);
    });
  });
});
