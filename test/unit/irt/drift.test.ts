// Drift between calibrations and robust anchor screening, by simulation (seeded, CI-sized; the
// 20,000 × 200 × 30 version is `npm run bench -- irt --only drift`), plus the pieces on hand-checkable
// inputs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AnchorScreeningError,
  benjaminiHochberg,
  type Calibration,
  calibrate,
  calibrateLinked,
  calibrationDrift,
  fromIndexed,
  type ItemParams,
  itemDrift,
  screenAnchors,
  simulate,
  stockingLord,
} from '../../../src/irt/index.js';

const fitted = (sim: ReturnType<typeof simulate>): Calibration =>
  calibrate(fromIndexed(sim.responses), { model: '2PL', itemSE: true, abilities: false });

describe('Benjamini–Hochberg, Lord χ², area', () => {
  test('step-up rule: the largest i with p(i) ≤ i·q/m and every smaller p', () => {
    const p = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205];
    // thresholds i·0.05/8: 0.00625, 0.0125, 0.01875, … → only the first two pass.
    assert.deepEqual(benjaminiHochberg(p, 0.05), [true, true, false, false, false, false, false, false]);
    // All pass when p(i) ≤ i·q/m for the largest i (step-up: 0.04 ≤ 4·0.05/4).
    assert.deepEqual(benjaminiHochberg([0.04, 0.03, 0.02, 0.01], 0.05), [true, true, true, true]);
    assert.deepEqual(benjaminiHochberg([null, 0.001], 0.05), [false, true]);
  });

  test("Lord's χ² with diagonal covariances is Σ Δ²/(var₁ + var₂); identical items have area 0", () => {
    const cov = (va: number, vb: number) => ({ names: ['a', 'b'], matrix: [va, 0, 0, vb] });
    const before = [{ itemId: 'x', a: 1, b: 0, c: 0, cov: cov(0.01, 0.02) }];
    const after = [{ itemId: 'x', a: 1.2, b: 0.3, c: 0, cov: cov(0.03, 0.02) }];
    const [d] = itemDrift(before, after);
    assert.ok(Math.abs(d.lordChi2! - (0.2 ** 2 / 0.04 + 0.3 ** 2 / 0.04)) < 1e-12);
    assert.equal(d.df, 2);
    assert.ok(Math.abs(d.p! - Math.exp(-d.lordChi2! / 2)) < 1e-12); // χ²₂ upper tail = e^(−x/2)
    assert.equal(itemDrift(before, before)[0].area, 0);
    // Without covariances: no test, never flagged.
    const bare = itemDrift([{ itemId: 'x', a: 1, b: 0, c: 0 }], [{ itemId: 'x', a: 1, b: 2, c: 0 }]);
    assert.equal(bare[0].p, null);
    assert.equal(bare[0].flag, false);
  });
});

describe('drift by simulation (2PL, 2 × 2,000 persons, 40 items)', () => {
  const items = simulate({ model: '2PL', nPersons: 1, nItems: 40, seed: 101 }).items;
  const before = fitted(simulate({ model: '2PL', nPersons: 2000, nItems: 40, seed: 102, items }));
  const drifted = new Set([3, 11, 22, 35]); // 10 % of the items, b + 0.5
  const moved = items.map((p, j) => (drifted.has(j) ? { ...p, b: p.b + 0.5 } : p));
  // The second sample is abler and more spread: its free calibration is on another scale.
  const afterSim = simulate({
    model: '2PL',
    nPersons: 2000,
    nItems: 40,
    seed: 103,
    items: moved,
    thetaMean: 0.4,
    thetaSd: 1.2,
  });

  test('10 % shifted by 0.5 in b: all flagged, false flags ≤ 5 %', () => {
    const { items: d, linking } = calibrationDrift(before.items, fitted(afterSim).items);
    const flagged = new Set(d.flatMap((r, j) => (r.flag ? [j] : [])));
    for (const j of drifted)
      assert.ok(flagged.has(j), `item ${j + 1} not flagged (p ${d[j].p}, area ${d[j].area})`);
    const falseFlags = [...flagged].filter((j) => !drifted.has(j)).length;
    assert.ok(falseFlags <= 0.05 * 36, `${falseFlags} false flags`);
    // The shifted items were screened out of the linking.
    for (const j of drifted) assert.ok(!linking.kept.includes(`i${j + 1}`), `i${j + 1} kept`);
    for (const j of drifted) assert.ok(Math.abs(d[j].db - 0.5) < 0.25, `db ${d[j].db}`);
  });

  test('no drift: flag rate ≤ 5 %', () => {
    const same = simulate({ model: '2PL', nPersons: 2000, nItems: 40, seed: 104, items, thetaMean: -0.3 });
    const { items: d } = calibrationDrift(before.items, fitted(same).items);
    const n = d.filter((r) => r.flag).length;
    assert.ok(n <= 0.05 * 40, `${n} flagged`);
  });
});

describe('robust anchor screening', () => {
  // 20 anchors with known parameters; the new sample is on the scale θ_new = (θ − 0.5)/1.2, so the
  // true linking constants are A = 1.2, B = 0.5; three anchors moved by 1.0 in b.
  const items = simulate({ model: '2PL', nPersons: 1, nItems: 20, seed: 201 }).items;
  const moved = [2, 9, 15];
  const truth = items.map((p, j) => (moved.includes(j) ? { ...p, b: p.b + 1 } : p));
  const sim = simulate({
    model: '2PL',
    nPersons: 3000,
    nItems: 20,
    seed: 202,
    items: truth,
    thetaMean: 0.5,
    thetaSd: 1.2,
  });
  const cal = fitted(sim);
  const reference = new Map(items.map((p, j) => [`i${j + 1}`, p]));
  const fresh = new Map<string, ItemParams>(cal.items.map((it) => [it.itemId, it]));

  test('3 of 20 anchors shifted by 1.0: all three dropped, A and B within 0.05 of the truth', () => {
    const r = screenAnchors(reference, fresh);
    const dropped = r.dropped.map((d) => d.itemId);
    for (const j of moved) assert.ok(dropped.includes(`i${j + 1}`), `i${j + 1} kept: ${dropped}`);
    // |z| > 1.645 also drops ~10 % of sound anchors by chance (a normal tail), no more.
    assert.ok(dropped.length <= moved.length + 3, `dropped ${dropped}`);
    assert.ok(Math.abs(r.A - 1.2) < 0.05, `A ${r.A}`);
    assert.ok(Math.abs(r.B - 0.5) < 0.05, `B ${r.B}`);
    for (const d of r.dropped.filter((x) => moved.includes(Number(x.itemId.slice(1)) - 1)))
      assert.ok(d.z < -1.645 && d.db < -0.5, JSON.stringify(d));
    // Linking on every anchor (no screening) is pulled off by the moved ones.
    const all = stockingLord(items, [...fresh.values()]);
    assert.ok(Math.abs(all.B - 0.5) > 0.05, `unscreened B ${all.B}`);
  });

  test('calibrateLinked with screen: moved anchors are not held fixed, and are recorded', () => {
    const { linking } = calibrateLinked(fromIndexed(sim.responses), {
      model: '2PL',
      anchors: reference,
      linking: 'fixed',
      screen: {},
    });
    for (const j of moved) assert.ok(!linking.anchors.includes(`i${j + 1}`));
    assert.ok(moved.every((j) => linking.dropped!.some((d) => d.itemId === `i${j + 1}`)));
    assert.ok(
      Math.abs(linking.A - 1.2) < 0.05 && Math.abs(linking.B - 0.5) < 0.05,
      `${linking.A} ${linking.B}`,
    );
  });

  test('refuses to link when fewer than the minimum anchors remain', () => {
    assert.throws(() => screenAnchors(reference, fresh, { minAnchors: 18 }), AnchorScreeningError);
    assert.throws(
      () => screenAnchors(new Map([...reference].slice(0, 4)), fresh),
      /linking refused: 4 common items/,
    );
  });
});
