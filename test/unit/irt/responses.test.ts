import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  calibrate,
  fromIndexed,
  fromMatrix,
  fromTriples,
  InvalidResponseError,
  simulate,
} from '../../../src/irt/index.js';

describe('data checks', () => {
  test('duplicates: the latest response counts; CSR and CSC agree', () => {
    const d = fromTriples(
      [
        { userId: 'u1', itemId: 'i1', correct: 0 },
        { userId: 'u2', itemId: 'i1', correct: 0 },
        { userId: 'u1', itemId: 'i2', correct: 1 },
        { userId: 'u2', itemId: 'i2', correct: 0 },
        { userId: 'u1', itemId: 'i1', correct: 1 },
      ],
      { minItemResponses: 1 },
    );
    assert.equal(d.duplicatesDropped, 1);
    assert.equal(d.nObs, 4);
    // u1 keeps i2 and its later i1 (= 1), in input order.
    assert.deepEqual([...d.personPtr], [0, 2, 4]);
    assert.deepEqual([...d.personItem], [1, 0, 0, 1]);
    assert.deepEqual([...d.personValue], [1, 1, 0, 0]);
    assert.deepEqual([...d.itemN], [2, 2]);
  });

  test('input already in person order and the same responses interleaved give the same data', () => {
    const { responses } = simulate({ model: '2PL', nPersons: 300, nItems: 40, perPerson: 12, seed: 5 });
    // A repeated answer (the latest counts) inside person 0's run keeps the input in person order.
    const person = Int32Array.from([0, ...responses.person]);
    const item = Int32Array.from([responses.item[3]!, ...responses.item]);
    const correct = Uint8Array.from([1 - responses.correct[3]!, ...responses.correct]);
    const grouped = { ...responses, person, item, correct };
    // Round robin over persons: response r of every person, then r + 1, … (each person's order kept).
    const order = Array.from(person.keys()).sort((s, t) => {
      const rank = (u: number) => u - person.indexOf(person[u]!);
      return rank(s) - rank(t) || person[s]! - person[t]!;
    });
    const interleaved = {
      ...responses,
      person: Int32Array.from(order, (t) => person[t]!),
      item: Int32Array.from(order, (t) => item[t]!),
      correct: Uint8Array.from(order, (t) => correct[t]!),
    };
    const a = fromIndexed(grouped);
    const b = fromIndexed(interleaved);
    // Handing the arrays over: used as they are only when nothing is reordered, dropped or excluded.
    const sim = { ...responses, correct: Uint8Array.from(responses.correct) };
    const adopted = fromIndexed(sim, { adoptInput: true });
    assert.equal(adopted.personItem, sim.item);
    assert.equal(adopted.personValue, sim.correct);
    assert.deepEqual(adopted, fromIndexed(sim));
    const notAdopted = fromIndexed(grouped, { adoptInput: true });
    assert.notEqual(notAdopted.personItem, grouped.item, 'a duplicate: copied');
    assert.deepEqual(notAdopted, a);
    assert.notEqual(fromIndexed(interleaved, { adoptInput: true }).personItem, interleaved.item);
    assert.equal(a.duplicatesDropped, 1);
    for (const key of ['personPtr', 'personItem', 'personValue', 'itemN'] as const)
      assert.deepEqual(a[key], b[key], key);
    assert.deepEqual([a.personIds, a.itemIds, a.nObs], [b.personIds, b.itemIds, b.nObs]);
  });

  test('non-0/1 and non-finite values are errors naming the response', () => {
    for (const bad of [2, -1, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () =>
          fromTriples([
            { userId: 'u', itemId: 'i', correct: 1 },
            { userId: 'u', itemId: 'j', correct: bad },
          ]),
        (e: unknown) => e instanceof InvalidResponseError && e.index === 1 && /response 2/.test(e.message),
      );
    }
  });

  test('item exclusions with reasons; persons left with nothing are excluded', () => {
    const rows = Array.from({ length: 30 }, (_, i) => [
      1,
      i % 2,
      0,
      i < 10 ? (i % 3 === 0 ? 1 : 0) : null,
      i % 3 === 0 ? 1 : 0,
    ]);
    rows.push([null, null, null, null, null]);
    rows.push([1, null, 0, null, null]);
    const d = fromMatrix(rows);
    assert.deepEqual(
      d.excludedItems.map((e) => [e.itemId, e.reason, e.n]),
      [
        ['Item.1', 'all-correct', 31],
        ['Item.3', 'all-incorrect', 31],
        ['Item.4', 'too-few-responses', 10],
      ],
    );
    assert.deepEqual(d.itemIds, ['Item.2', 'Item.5']);
    assert.deepEqual(d.excludedPersons, [
      { personId: '31', reason: 'no-responses' },
      { personId: '32', reason: 'no-remaining-responses' },
    ]);
    assert.equal(d.nPersons, 30);
  });

  test('one response per person still calibrates (Rasch)', () => {
    const sim = simulate({ model: 'Rasch', nPersons: 2000, nItems: 10, perPerson: 1, seed: 3 });
    const cal = calibrate(fromIndexed(sim.responses), { model: 'Rasch' });
    assert.equal(cal.nObs, 2000);
    assert.ok(cal.items.every((i) => Number.isFinite(i.b)));
    assert.equal(cal.converged, cal.maxChange < 1e-4);
  });
});

describe('convergence is reported honestly', () => {
  test('3PL without prior stopped by maxCycles reports converged: false', () => {
    const sim = simulate({ model: '3PL', nPersons: 300, nItems: 10, seed: 3 });
    const cal = calibrate(fromIndexed(sim.responses), { model: '3PL', maxCycles: 20 });
    assert.equal(cal.converged, false);
    assert.equal(cal.iterations, 20);
    assert.ok(cal.maxChange >= 1e-4);
  });

  test('converged ⇔ last change below tol', () => {
    const sim = simulate({ model: '3PL', nPersons: 300, nItems: 10, seed: 4 });
    const cal = calibrate(fromIndexed(sim.responses), { model: '3PL' });
    assert.equal(cal.converged, cal.maxChange < 1e-4);
    assert.ok(cal.iterations <= 500);
  });
});
