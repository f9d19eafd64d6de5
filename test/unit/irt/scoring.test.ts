import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  calibrate,
  fromIndexed,
  OnlineScorer,
  scorePersons,
  scorePositional,
  simulate,
} from '../../../src/irt/index.js';
import { InvalidInputError } from '../../../src/user-error.js';

describe('positional scoring (R service /irt/score contract)', () => {
  const items = [
    { a: 1.2, b: -0.5 },
    { a: 0.8, b: 0.3 },
    { a: 1.0, b: 1.0 },
  ];

  test('EAP on 81 nodes over [-4, 4] reproduces the reference to 4 decimals', () => {
    const out = scorePositional(items, [
      [1, 1, 0],
      [0, 0, null],
      [1, 1, 1],
    ]);
    const expected = [
      [0.374, 0.7893],
      [-0.7714, 0.8395],
      [1.0084, 0.8058],
    ];
    out.forEach((s, i) => {
      assert.ok(Math.abs(s.theta - expected[i][0]) < 5e-5, `theta ${i}: ${s.theta}`);
      assert.ok(Math.abs(s.se - expected[i][1]) < 5e-5, `se ${i}: ${s.se}`);
    });
  });

  test('ML is bounded to the grid range; MAP shrinks towards the prior mean', () => {
    const ml = scorePositional(
      items,
      [
        [1, 1, 1],
        [0, 0, 0],
        [1, 0, 1],
      ],
      { method: 'ml' },
    );
    assert.equal(ml[0].theta, 4);
    assert.equal(ml[1].theta, -4);
    const map = scorePositional(items, [[1, 0, 1]], { method: 'map' });
    assert.ok(Math.abs(map[0].theta) < Math.abs(ml[2].theta));
    assert.ok(map[0].se < ml[2].se);
  });

  test('a response other than 0, 1 or null is rejected with its position', () => {
    // An input error (the API's 400, the CLI's one line), not a bug.
    assert.throws(
      () => scorePositional(items, [[1, 2, 0]]),
      (err: unknown) => err instanceof InvalidInputError && /row 1, item 2/.test(err.message),
    );
  });
});

describe('EAP, MAP and ML on calibrated data', () => {
  const sim = simulate({ model: '2PL', nPersons: 400, nItems: 40, seed: 7 });
  const data = fromIndexed(sim.responses);
  const cal = calibrate(data, { model: '2PL' });

  test('calibration EAP equals scorePersons on the fitted parameters', () => {
    // Equal up to the rounding of d = −a·b between the internal (a, d) and the reported (a, b).
    const s = scorePersons(data, cal.items);
    for (let i = 0; i < data.nPersons; i++) {
      assert.ok(Math.abs(s.theta[i] - cal.abilities!.theta[i]) < 1e-12);
      assert.ok(Math.abs(s.se[i] - cal.abilities!.se[i]) < 1e-12);
    }
  });

  test('MAP and ML track the true abilities; ML SE from the test information', () => {
    for (const method of ['map', 'ml'] as const) {
      const s = scorePersons(data, cal.items, { method });
      let err = 0;
      for (let i = 0; i < data.nPersons; i++) err += (s.theta[i] - sim.theta[i]) ** 2;
      // 40 items of mean information ≈ 0.2 each: SE ≈ 0.35, so RMSE well below 0.5.
      assert.ok(Math.sqrt(err / data.nPersons) < 0.5, method);
      assert.ok(s.se.every((v) => v > 0.2 && v < 1.5));
    }
  });

  test('online EAP equals the batch EAP (to summation-order rounding)', () => {
    const scorer = new OnlineScorer(cal.items);
    const batch = scorePersons(data, cal.items);
    for (const i of [0, 17, 399]) {
      const from = data.personPtr[i];
      const to = data.personPtr[i + 1];
      const r = scorer.eap(data.personItem.subarray(from, to), data.personValue.subarray(from, to));
      assert.ok(Math.abs(r.theta - batch.theta[i]) < 1e-12);
      assert.ok(Math.abs(r.se - batch.se[i]) < 1e-12);
    }
    assert.ok(Math.abs(scorer.eap([], []).theta) < 1e-12);
    assert.throws(() => scorer.eap([0], [2]), /correct must be 0 or 1/);
    assert.throws(() => scorer.eap([40], [1]), /unknown item/);
  });
});
