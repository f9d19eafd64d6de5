// The adaptive engine's selection rules, content balance, exclusions, stopping and replay.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CatBank, CatEngine, type CatItem, type CatSettings, type NextStep } from '../../../src/cat/index.js';
import { itemInformation, probability, Rng } from '../../../src/irt/index.js';
import { InvalidInputError } from '../../../src/user-error.js';
import { platformBank } from './helpers.js';

const bank200 = new CatBank(platformBank(200, 11));

/** Runs one session answering by a true θ; returns the served steps and the final step. */
function run(engine: CatEngine, sessionId: string, theta: number, seed: number) {
  const rng = new Rng(seed);
  const items: number[] = [];
  const correct: number[] = [];
  const steps: Extract<NextStep, { done: false }>[] = [];
  for (;;) {
    const s = engine.next({ sessionId, items, correct });
    if (s.done) return { steps, end: s, items, correct };
    steps.push(s);
    items.push(s.item);
    correct.push(rng.next() < probability(engine.bank.params[s.item], theta) ? 1 : 0);
  }
}

describe('selection rules', () => {
  test('no exposure control: the maximum-information item at the EAP θ (exact information within 1e-3 of the maximum)', () => {
    const engine = new CatEngine(bank200, { maxItems: 25 });
    for (const theta of [-1.5, 0.2, 1.8]) {
      const { steps, items } = run(engine, `s${theta}`, theta, 3);
      steps.forEach((s, r) => {
        const answered = new Set(items.slice(0, r));
        let best = 0;
        for (let j = 0; j < bank200.n; j++)
          if (!answered.has(j)) best = Math.max(best, itemInformation(bank200.params[j], s.theta));
        const got = itemInformation(bank200.params[s.item], s.theta);
        // The table is interpolated linearly every 0.05 in θ: its error is below 1e-3 of the maximum.
        assert.ok(got >= best * (1 - 1e-3), `position ${r + 1}: ${got} < ${best}`);
        assert.equal(s.rule, 'mfi');
        assert.equal(s.position, r + 1);
      });
    }
  });

  test('maximum information stops scanning at the information bound yet serves what a full scan of the table serves (ties, topics, the k best)', () => {
    // A 3PL bank with copies of items (exact ties) at scattered indices.
    const items = platformBank(400, 21, '3PL');
    for (let j = 0; j < 40; j++) items[(j * 97) % 400].params = { ...items[(j * 89 + 13) % 400].params };
    const bank = new CatBank(items);
    const topics = new Map(bank.topics.map((t, i) => [t, 1 + (i % 3)]));
    // The reference: every eligible item's interpolated table value, sorted (value desc, index asc).
    const ranked = (theta: number, eligible: (j: number) => boolean) => {
      const x = Math.min(bank.infoPoints - 1, Math.max(0, (theta - bank.infoLo) / bank.infoStep));
      const g = Math.min(bank.infoPoints - 2, Math.floor(x));
      const w = x - g;
      const value = (j: number) => {
        const i0 = bank.info[g * bank.n + j];
        return i0 + w * (bank.info[(g + 1) * bank.n + j] - i0);
      };
      const js: number[] = [];
      for (let j = 0; j < bank.n; j++) if (eligible(j)) js.push(j);
      return js.sort((i, j) => value(j) - value(i) || i - j);
    };
    const plain = new CatEngine(bank, { maxItems: 40 });
    const balanced = new CatEngine(bank, { maxItems: 40, topics });
    const rand = new CatEngine(bank, { maxItems: 40, exposure: { kind: 'randomesque', k: 5 } });
    const rng = new Rng(5);
    for (let s = 0; s < 60; s++) {
      // Random answered sets and responses put θ̂ all over the grid, ends included.
      const n = Math.floor(rng.next() * 40);
      const answered = new Set<number>();
      while (answered.size < n) answered.add(Math.floor(rng.next() * bank.n));
      const state = {
        sessionId: `b${s}`,
        items: [...answered],
        correct: [...answered].map(() => (rng.next() < (s % 3) / 2 ? 1 : 0)),
      };
      const theta = bank.scorer.eap(state.items, state.correct).theta;
      const best = ranked(theta, (j) => !answered.has(j));
      const a = plain.next(state);
      assert.equal(!a.done && a.item, best[0], `state ${s}`);
      const b = balanced.next(state);
      assert.ok(!b.done);
      assert.equal(
        b.item,
        ranked(theta, (j) => !answered.has(j) && bank.topics[bank.topicOf[j]] === b.topicId)[0],
      );
      const c = rand.next(state);
      assert.ok(!c.done && best.slice(0, 5).includes(c.item), `state ${s}`);
    }
  });

  test('ties go to the lowest bank index', () => {
    const same = { a: 1.5, b: 0, c: 0 };
    const items: CatItem[] = [
      { itemId: 'x', topicId: 't', params: { a: 0.5, b: 0, c: 0 } },
      { itemId: 'y', topicId: 't', params: same },
      { itemId: 'z', topicId: 't', params: same },
    ];
    const engine = new CatEngine(new CatBank(items), { maxItems: 3 });
    const first = engine.next({ sessionId: 'a', items: [], correct: [] });
    assert.equal(first.done === false && first.itemId, 'y');
    const second = engine.next({ sessionId: 'a', items: [1], correct: [1] });
    assert.equal(second.done === false && second.itemId, 'z');
  });

  test('KL index for the first items (Chang & Ying, θ̂ ± 3/√n), then Fisher information', () => {
    const engine = new CatEngine(bank200, { maxItems: 6, klItems: 2 });
    const { steps, items } = run(engine, 'kl', 0.5, 4);
    assert.deepEqual(
      steps.map((s) => s.rule),
      ['kl', 'kl', 'mfi', 'mfi', 'mfi', 'mfi'],
    );
    // Independent KL index by direct evaluation of the item curves on the same nodes.
    const nodes = bank200.scorer.nodes;
    steps.slice(0, 2).forEach((s, n) => {
      const delta = 3 / Math.sqrt(Math.max(1, n));
      const kl = (j: number) => {
        const p = bank200.params[j];
        const P = probability(p, s.theta);
        let sum = 0;
        for (const t of nodes) {
          if (Math.abs(t - s.theta) > delta + 1e-9) continue;
          const Pt = probability(p, t);
          sum += P * Math.log(P / Pt) + (1 - P) * Math.log((1 - P) / (1 - Pt));
        }
        return sum;
      };
      let best = -1;
      for (let j = 0; j < bank200.n; j++)
        if (!items.slice(0, n).includes(j) && (best < 0 || kl(j) > kl(best))) best = j;
      assert.ok(Math.abs(kl(s.item) - kl(best)) <= 1e-9 * kl(best), `position ${n + 1}`);
    });
  });

  test('a-stratified: stage s serves stratum s (ascending a), the item with b closest to θ̂', () => {
    const engine = new CatEngine(bank200, { maxItems: 12, aStrata: 4 });
    const { steps, items } = run(engine, 'ast', 0, 5);
    const strata = engine.stratumOf!;
    steps.forEach((s, n) => {
      const stage = Math.floor((n * 4) / 12);
      assert.equal(strata[s.item], stage);
      assert.equal(s.rule, 'a-stratified');
      const taken = new Set(items.slice(0, n));
      for (let j = 0; j < bank200.n; j++)
        if (strata[j] === stage && !taken.has(j))
          assert.ok(Math.abs(bank200.params[j].b - s.theta) >= Math.abs(bank200.params[s.item].b - s.theta));
    });
    // Strata by a: every a of stratum 0 is below every a of stratum 3.
    const aOf = (s: number) => bank200.params.filter((_, j) => strata[j] === s).map((p) => p.a);
    assert.ok(Math.max(...aOf(0)) <= Math.min(...aOf(3)));
  });
});

describe('content balance and exclusions', () => {
  test('Kingsbury–Zara: every topic within one item of share × position, at every position', () => {
    const topics = new Map([
      [bank200.topics[0], 0.5],
      [bank200.topics[1], 0.3],
      [bank200.topics[2], 0.2],
    ]);
    const engine = new CatEngine(bank200, { maxItems: 30, topics });
    for (const theta of [-1, 0.5, 2]) {
      const { steps } = run(engine, `kz${theta}`, theta, 6);
      assert.equal(steps.length, 30);
      const count = new Map<string, number>();
      steps.forEach((s, n) => {
        count.set(s.topicId, (count.get(s.topicId) ?? 0) + 1);
        for (const [t, share] of topics) assert.ok(Math.abs((count.get(t) ?? 0) - share * (n + 1)) <= 1);
      });
      assert.deepEqual(
        [...topics.keys()].map((t) => count.get(t)),
        [15, 9, 6],
      );
    }
  });

  test('unavailable items (inactive, flagged, excluded) and per-session exclusions are never served', () => {
    const items = platformBank(60, 12);
    const unavailable = items.slice(0, 20).map((it) => it.itemId);
    const bank = new CatBank(items, { unavailable });
    const exclude = Array.from({ length: 20 }, (_, i) => 20 + i);
    const engine = new CatEngine(bank, { maxItems: 40 });
    const rng = new Rng(1);
    const served: number[] = [];
    const correct: number[] = [];
    for (;;) {
      const s = engine.next({ sessionId: 'ex', items: served, correct, exclude });
      if (s.done) {
        assert.equal(s.reason, 'no_items');
        assert.equal(s.nItems, 20);
        break;
      }
      served.push(s.item);
      correct.push(rng.next() < 0.5 ? 1 : 0);
    }
    assert.deepEqual(
      served.toSorted((x, y) => x - y),
      Array.from({ length: 20 }, (_, i) => 40 + i),
    );
  });
});

describe('stopping', () => {
  test('max_items, se_target (not before min_items), no_items; θ and SE are the EAP of the responses', () => {
    const capped = run(new CatEngine(bank200, { maxItems: 7 }), 'm', 0, 1);
    assert.equal(capped.end.done && capped.end.reason, 'max_items');
    assert.equal(capped.steps.length, 7);
    const eap = bank200.scorer.eap(capped.items, capped.correct);
    assert.equal(capped.end.theta, eap.theta);
    assert.equal(capped.end.se, eap.se);

    const precise = run(new CatEngine(bank200, { maxItems: 60, seTarget: 0.35, minItems: 3 }), 's', 0, 2);
    assert.equal(precise.end.done && precise.end.reason, 'se_target');
    assert.ok(precise.end.se <= 0.35);
    assert.ok(precise.steps.at(-1)!.se > 0.35, 'stops at the first position with SE ≤ target');

    const early = run(new CatEngine(bank200, { maxItems: 60, seTarget: 0.9, minItems: 5 }), 'e', 0, 2);
    assert.equal(early.steps.length, 5, 'SE 0.9 is reached after one item, min_items holds it to 5');
    assert.equal(early.end.done && early.end.reason, 'se_target');

    const small = new CatBank(platformBank(12, 13));
    const exhausted = run(new CatEngine(small, { maxItems: 20 }), 'x', 0, 3);
    assert.equal(exhausted.end.done && exhausted.end.reason, 'no_items');
    assert.equal(exhausted.steps.length, 12);
  });

  test('the start θ chooses the first item; later ones use the EAP', () => {
    const high = new CatEngine(bank200, { maxItems: 2, startTheta: 2.5 });
    const first = high.next({ sessionId: 'st', items: [], correct: [] });
    assert.ok(!first.done);
    let best = 0;
    for (let j = 1; j < bank200.n; j++)
      if (itemInformation(bank200.params[j], 2.5) > itemInformation(bank200.params[best], 2.5)) best = j;
    assert.equal(first.item, best);
    assert.ok(Math.abs(first.theta) < 1e-9, 'the reported θ is the prior mean before any response');
  });

  test('settings are validated', () => {
    const bad: CatSettings[] = [
      { maxItems: 0 },
      { maxItems: 5, minItems: 6 },
      { maxItems: 5, exposure: { kind: 'randomesque', k: 0 } },
      { maxItems: 5, exposure: { kind: 'sympson-hetter', k: new Float64Array(3) } },
      { maxItems: 5, topics: new Map([['no-such-topic', 1]]) },
    ];
    for (const s of bad) assert.throws(() => new CatEngine(bank200, s), InvalidInputError);
  });
});

describe('exposure control and replay', () => {
  test('randomesque: uniform among the k best (position 1: each of the 5 best in 20 % ± 4 SE)', () => {
    const engine = new CatEngine(bank200, { maxItems: 1, exposure: { kind: 'randomesque', k: 5 } });
    const info = bank200.params
      .map((p, j) => [itemInformation(p, 0), j] as const)
      .sort((x, y) => y[0] - x[0]);
    const top5 = new Set(info.slice(0, 5).map(([, j]) => j));
    const count = new Map<number, number>();
    const N = 2000;
    for (let i = 0; i < N; i++) {
      const s = engine.next({ sessionId: `r${i}`, items: [], correct: [] });
      assert.ok(!s.done && top5.has(s.item));
      if (!s.done) count.set(s.item, (count.get(s.item) ?? 0) + 1);
    }
    const sd = Math.sqrt(N * 0.2 * 0.8);
    for (const j of top5)
      assert.ok(Math.abs((count.get(j) ?? 0) - N * 0.2) <= 4 * sd, `item ${j}: ${count.get(j)}`);
  });

  test('Sympson–Hetter: k = 1 everywhere is maximum information; k = 0 for an item keeps it out', () => {
    const ones = new Float64Array(bank200.n).fill(1);
    const plain = run(new CatEngine(bank200, { maxItems: 15 }), 'sh', 0.3, 9);
    const sh1 = run(
      new CatEngine(bank200, { maxItems: 15, exposure: { kind: 'sympson-hetter', k: ones } }),
      'sh',
      0.3,
      9,
    );
    assert.deepEqual(sh1.items, plain.items);
    const k = ones.slice();
    k[plain.items[0]] = 0;
    k[plain.items[3]] = 0;
    for (let i = 0; i < 50; i++) {
      const r = run(
        new CatEngine(bank200, { maxItems: 15, exposure: { kind: 'sympson-hetter', k } }),
        `sh${i}`,
        0.3,
        i,
      );
      assert.ok(!r.items.includes(plain.items[0]) && !r.items.includes(plain.items[3]));
    }
  });

  test('replay: the same session id gives the same sequence; other ids give other sequences', () => {
    const k = new Float64Array(bank200.n).fill(0.5);
    for (const settings of [
      { maxItems: 20, exposure: { kind: 'randomesque', k: 5 } },
      { maxItems: 20, exposure: { kind: 'sympson-hetter', k } },
    ] as CatSettings[]) {
      const a = run(new CatEngine(bank200, settings), 'session-42', 0.4, 8);
      const b = run(new CatEngine(bank200, settings), 'session-42', 0.4, 8);
      assert.deepEqual(b.items, a.items);
      // Replaying from the stored responses at any position gives the stored next item.
      const engine = new CatEngine(bank200, settings);
      for (let r = 0; r < a.items.length; r++) {
        const s = engine.next({
          sessionId: 'session-42',
          items: a.items.slice(0, r),
          correct: a.correct.slice(0, r),
        });
        assert.equal(!s.done && s.item, a.items[r]);
      }
      const others = Array.from({ length: 5 }, (_, i) => run(engine, `other-${i}`, 0.4, 8).items.join());
      assert.ok(others.some((o) => o !== a.items.join()));
    }
  });
});
