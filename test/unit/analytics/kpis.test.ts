import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type AbilityEstimate,
  churnRisk,
  computeKpis,
  efficiency,
  engagement,
  goalProbability,
  improvement,
  type KpiAttempt,
  type KpiSession,
  kpiAsOf,
  type LearnerKpiInput,
  median,
  normalCdf,
  recovery,
  window,
} from '../../../src/kpis/kpis.js';

// as_of Wednesday 2026-11-25. Windows:
//   W(as_of, 14) = [11-12, 11-26)      W(as_of − 14, 14) = [10-29, 11-12)
//   W(as_of, 28) = [10-29, 11-26)      W(as_of − 28, 28) = [10-01, 10-29)
//   W(as_of, 56) = [10-01, 11-26)
const AS_OF = '2026-11-25';
const settings = { asOf: AS_OF, useIrtTheta: true, defaultTarget: 0, churnHorizonDays: 14 };
const t = (iso: string) => Date.parse(iso.length === 10 ? `${iso}T12:00:00Z` : iso);

function att(at: string, o: Partial<Omit<KpiAttempt, 'at'>> = {}): KpiAttempt {
  return { sessionId: 's', itemId: 'i1', correct: true, responseTimeMs: 1000, hints: 0, ...o, at: t(at) };
}

function input(
  attempts: KpiAttempt[],
  o: Partial<Omit<LearnerKpiInput, 'attempts'>> & { sessionList?: Record<string, KpiSession> } = {},
): LearnerKpiInput {
  // Every session id used gets a session starting at its first attempt unless given.
  const sessions = new Map<string, KpiSession>(Object.entries(o.sessionList ?? {}));
  for (const a of attempts) {
    if (!sessions.has(a.sessionId)) sessions.set(a.sessionId, { startedAt: a.at, completedAt: null });
  }
  return {
    attempts,
    sessions: o.sessions ?? sessions,
    attemptedBefore: o.attemptedBefore ?? false,
    ability: o.ability ?? null,
    previousAbility: o.previousAbility ?? null,
    targetTheta: o.targetTheta ?? null,
  };
}

const close = (actual: number | null, expected: number, what = '') =>
  assert.ok(
    actual !== null && Math.abs(actual - expected) < 1e-12,
    `${what} expected ${expected}, got ${actual}`,
  );

describe('helpers', () => {
  test('median: odd count, even count (mean of the middle two), empty', () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 10]), 3.5); // sorted 1 3 4 10 → (3 + 4) / 2
    assert.equal(median([]), null);
  });

  test('W(end, n) is half-open on UTC midnights', () => {
    const w = window(AS_OF, 14);
    assert.equal(new Date(w.start).toISOString(), '2026-11-12T00:00:00.000Z');
    assert.equal(new Date(w.end).toISOString(), '2026-11-26T00:00:00.000Z');
  });

  test('as_of: a past week as of its Sunday, the current week as of today, never a future week', () => {
    assert.equal(kpiAsOf('2026-11-16', '2026-11-25'), '2026-11-22');
    assert.equal(kpiAsOf('2026-11-23', '2026-11-25'), '2026-11-25');
    assert.equal(kpiAsOf('2026-11-23', '2026-11-29'), '2026-11-29');
    assert.throws(() => kpiAsOf('2026-11-30', '2026-11-25'), /has not started yet/);
  });

  test('normal CDF agrees with reference values', () => {
    close(normalCdf(0), 0.5);
    close(normalCdf(1.96), 0.9750021048517795);
    close(normalCdf(-3), 0.0013498980316301);
    close(normalCdf(2), 0.9772498680518208);
  });
});

describe('I_t improvement', () => {
  const recent4 = [
    att('2026-11-20', { correct: true }),
    att('2026-11-21', { correct: true }),
    att('2026-11-22', { correct: true }),
    att('2026-11-23', { correct: false }),
  ];
  const previous2 = [att('2026-11-01', { correct: false }), att('2026-11-05', { correct: false })];

  test('accuracy mode: (p_r − p_p) · exposure · (1 − min(0.5, 1.96·sqrt(p_r(1 − p_r)/n_r)))', () => {
    // p_r = 3/4, p_p = 0/2, exposure = 4/30, 1.96·sqrt(0.75·0.25/4) = 0.4243524…
    const expected = (0.75 - 0) * (4 / 30) * (1 - 1.96 * Math.sqrt((0.75 * 0.25) / 4));
    close(improvement(input([...recent4, ...previous2]), settings), expected);
    assert.ok(Math.abs(expected - 0.0575648) < 1e-6); // 0.75 · 0.13333 · 0.575648
  });

  test('null when either window has no attempt', () => {
    assert.equal(improvement(input(recent4), settings), null);
    assert.equal(improvement(input(previous2), settings), null);
    assert.equal(improvement(input([]), settings), null);
  });

  test('θ mode when both estimates were made inside their windows and n_r >= 5', () => {
    const recent5 = [...recent4, att('2026-11-24')];
    const ability: AbilityEstimate = { theta: 0.8, se: 0.1, fittedAt: t('2026-11-20') };
    const previousAbility: AbilityEstimate = { theta: 0.2, se: 0.2, fittedAt: t('2026-11-05') };
    // (0.8 − 0.2) · 5/30 · (1 − min(0.5, 1.96 · 0.1)) = 0.6 · 0.16667 · 0.804 = 0.0804
    close(improvement(input(recent5, { ability, previousAbility }), settings), 0.6 * (5 / 30) * (1 - 0.196));
    // se_r unknown → factor 1: 0.6 · 5/30 = 0.1
    close(improvement(input(recent5, { ability: { ...ability, se: null }, previousAbility }), settings), 0.1);
    // a big jump over 30 attempts clamps to 1
    const many = Array.from({ length: 30 }, () => att('2026-11-20'));
    const jump = { ability: { ...ability, theta: 5, se: null }, previousAbility };
    assert.equal(improvement(input(many, jump), settings), 1);
    // METRICS_USE_IRT_THETA=false → accuracy mode, which is null here (no previous attempt)
    assert.equal(
      improvement(input(recent5, { ability, previousAbility }), { ...settings, useIrtTheta: false }),
      null,
    );
  });

  test('falls back to accuracy mode: estimate made before its window, or fewer than 5 recent attempts', () => {
    const accuracy = improvement(input([...recent4, ...previous2]), settings);
    const ability: AbilityEstimate = { theta: 0.8, se: 0.1, fittedAt: t('2026-11-20') };
    // θ_p fitted 10-20: before W(as_of − 14, 14), so it is not "made inside the window"
    const stale: AbilityEstimate = { theta: 0.2, se: 0.2, fittedAt: t('2026-10-20') };
    const five = [...recent4, att('2026-11-24', { correct: false }), ...previous2];
    const expectedFive = 0.6 * (5 / 30) * (1 - 1.96 * Math.sqrt((0.6 * 0.4) / 5)); // p_r = 3/5
    close(improvement(input(five, { ability, previousAbility: stale }), settings), expectedFive);
    // only 4 recent attempts: accuracy mode even with two good estimates
    const fresh: AbilityEstimate = { theta: 0.2, se: 0.2, fittedAt: t('2026-11-05') };
    assert.equal(
      improvement(input([...recent4, ...previous2], { ability, previousAbility: fresh }), settings),
      accuracy,
    );
  });
});

describe('E_t efficiency', () => {
  test('median times of correct attempts with a known time; even counts average the middle two', () => {
    const attempts = [
      // recent 28 days: correct known 4000, 6000 → m_r = 5000; the wrong and the unknown are ignored
      att('2026-11-10', { responseTimeMs: 4000 }),
      att('2026-11-11', { responseTimeMs: 6000 }),
      att('2026-11-12', { responseTimeMs: 100, correct: false }),
      att('2026-11-13', { responseTimeMs: null }),
      // previous 28 days: 8000, 10000, 12000, 9000 → sorted 8000 9000 10000 12000 → m_p = 9500
      att('2026-10-02', { responseTimeMs: 8000 }),
      att('2026-10-10', { responseTimeMs: 10000 }),
      att('2026-10-20', { responseTimeMs: 12000 }),
      att('2026-10-28', { responseTimeMs: 9000 }),
    ];
    close(efficiency(input(attempts), settings), (9500 - 5000) / 9500); // 0.47368…
  });

  test('slower than before clamps to 0; null for an empty set or m_p <= 0', () => {
    const slower = [att('2026-11-10', { responseTimeMs: 9000 }), att('2026-10-10', { responseTimeMs: 3000 })];
    assert.equal(efficiency(input(slower), settings), 0);
    assert.equal(efficiency(input([att('2026-11-10', { responseTimeMs: 9000 })]), settings), null);
    // the previous window's only correct attempt has no known time: empty set, not 0
    const unknown = [att('2026-11-10'), att('2026-10-10', { responseTimeMs: null })];
    assert.equal(efficiency(input(unknown), settings), null);
    const zero = [att('2026-11-10', { responseTimeMs: 0 }), att('2026-10-10', { responseTimeMs: 0 })];
    assert.equal(efficiency(input(zero), settings), null);
  });
});

describe('R_t recovery', () => {
  test('accuracy on the items missed in the 28 days before', () => {
    const attempts = [
      att('2026-10-05', { itemId: 'i1', correct: false }),
      att('2026-10-06', { itemId: 'i2', correct: false }),
      att('2026-10-07', { itemId: 'i2', correct: true }),
      att('2026-10-08', { itemId: 'i3', correct: true }),
      // K = {i1, i2}; recent attempts on K: i1 ✓, i1 ✗, i2 ✓ → 2/3 (i3 does not count)
      att('2026-11-01', { itemId: 'i1', correct: true }),
      att('2026-11-02', { itemId: 'i1', correct: false }),
      att('2026-11-03', { itemId: 'i2', correct: true }),
      att('2026-11-04', { itemId: 'i3', correct: false }),
    ];
    close(recovery(input(attempts), settings), 2 / 3);
  });

  test('null when nothing was missed, or nothing missed was tried again', () => {
    assert.equal(recovery(input([att('2026-10-05'), att('2026-11-01', { correct: false })]), settings), null);
    const notRetried = [
      att('2026-10-05', { itemId: 'i1', correct: false }),
      att('2026-11-01', { itemId: 'i2' }),
    ];
    assert.equal(recovery(input(notRetried), settings), null);
  });
});

describe('A_t engagement', () => {
  test('sessions, regularity, hints and dwell time over 28 days', () => {
    const sessionList: Record<string, KpiSession> = {
      // completed: 20 minutes = 1200 s
      s1: { startedAt: t('2026-11-01T10:00:00Z'), completedAt: t('2026-11-01T10:20:00Z') },
      // open: sum of its known response times 60 s + 30 s = 90 s
      s2: { startedAt: t('2026-11-03T10:00:00Z'), completedAt: null },
      // abandoned without any known time: no duration
      s3: { startedAt: t('2026-11-07T10:00:00Z'), completedAt: null },
    };
    const attempts = [
      att('2026-11-01T10:05:00Z', { sessionId: 's1', hints: 2 }),
      att('2026-11-03T10:01:00Z', { sessionId: 's2', responseTimeMs: 60000, hints: 1 }),
      att('2026-11-03T10:02:00Z', { sessionId: 's2', responseTimeMs: null }),
      att('2026-11-03T10:03:00Z', { sessionId: 's2', responseTimeMs: 30000 }),
      att('2026-11-07T10:01:00Z', { sessionId: 's3', responseTimeMs: null, hints: 3 }),
      // before the window (its session does not count)
      att('2026-10-10', { sessionId: 'old' }),
    ];
    const sc = 3 / 28;
    const gapNorm = 1 / 3; // starts 11-01, 11-03, 11-07: mean gap (6 days) / 2 = 3 days
    const hintsNorm = 1 - 6 / 5 / 3; // 6 hints over 5 attempts
    const dwellNorm = (1200 + 90) / 2 / 900;
    const expected = 0.35 * sc + 0.25 * gapNorm + 0.2 * hintsNorm + 0.2 * dwellNorm;
    close(engagement(input(attempts, { sessionList }), settings), expected);
  });

  test('one session: gap 0.5; same start: gap 1; no known duration: dwell 0.5; empty window: null', () => {
    const one = [att('2026-11-10T08:00:00Z', { responseTimeMs: 1_800_000 })];
    // one open session lasting 1800 s → dwell clamp(2) = 1; hints 0 → 1
    close(engagement(input(one), settings), 0.35 / 28 + 0.25 * 0.5 + 0.2 + 0.2);
    const sameStart: Record<string, KpiSession> = {
      a: { startedAt: t('2026-11-10T08:00:00Z'), completedAt: null },
      b: { startedAt: t('2026-11-10T08:00:00Z'), completedAt: null },
    };
    const unknownTimes = [
      att('2026-11-10T08:01:00Z', { sessionId: 'a', responseTimeMs: null }),
      att('2026-11-10T08:02:00Z', { sessionId: 'b', responseTimeMs: null }),
    ];
    close(
      engagement(input(unknownTimes, { sessionList: sameStart }), settings),
      0.35 * (2 / 28) + 0.25 + 0.2 + 0.1,
    );
    assert.equal(engagement(input([att('2026-10-10')]), settings), null);
  });
});

describe('P goal-attainment probability', () => {
  const ability: AbilityEstimate = { theta: 0.5, se: 0.25, fittedAt: t('2026-11-20') };
  test('1 − Φ((τ − μ)/σ) with the default target or the learner goal', () => {
    // τ = 0: 1 − Φ(−2) = Φ(2)
    close(goalProbability(input([], { ability }), settings), 0.9772498680518208);
    // τ = 1: 1 − Φ(2)
    close(goalProbability(input([], { ability, targetTheta: 1 }), settings), 1 - 0.9772498680518208);
    // METRICS_DEFAULT_TARGET = 0.5: 1 − Φ(0) = 0.5
    close(goalProbability(input([], { ability }), { ...settings, defaultTarget: 0.5 }), 0.5);
  });

  test('null without θ, or with se null or <= 0', () => {
    assert.equal(goalProbability(input([]), settings), null);
    assert.equal(goalProbability(input([], { ability: { ...ability, se: null } }), settings), null);
    assert.equal(goalProbability(input([], { ability: { ...ability, se: 0 } }), settings), null);
  });
});

describe('S churn risk', () => {
  test('0.6·clamp(d/H) + 0.25·clamp(gap/7) + 0.15·clamp(1 − sessions/10)', () => {
    const attempts = [
      att('2026-11-10T09:00:00Z', { sessionId: 'a' }),
      att('2026-11-20T09:00:00Z', { sessionId: 'b' }),
    ];
    // d = 11-25 − 11-20 = 5; gap = 10 days → clamp(10/7) = 1; 2 sessions → 1 − 0.2 = 0.8
    close(churnRisk(input(attempts), settings), 0.6 * (5 / 14) + 0.25 * 1 + 0.15 * 0.8);
    // one session: gap 0
    close(churnRisk(input([attempts[1]!]), settings), 0.6 * (5 / 14) + 0 + 0.15 * 0.9);
  });

  test('d counts whole UTC days: 23:59:59.999 the day before is 1 day, midnight of as_of is 0', () => {
    const late = input([att('2026-11-24T23:59:59.999Z')]);
    close(churnRisk(late, settings), 0.6 * (1 / 14) + 0.15 * 0.9);
    const midnight = input([att('2026-11-25T00:00:00.000Z')]);
    close(churnRisk(midnight, settings), 0.15 * 0.9);
    // the next midnight is after as_of: outside every window
    assert.equal(churnRisk(input([att('2026-11-26T00:00:00.000Z')]), settings), null);
  });

  test('S = 1 for a learner silent for the whole window; null for one who never answered', () => {
    assert.equal(churnRisk(input([], { attemptedBefore: true }), settings), 1);
    assert.equal(churnRisk(input([]), settings), null);
  });
});

test('computeKpis returns the six keys, null where the data condition fails', () => {
  const kpis = computeKpis(input([att('2026-11-20')]), settings);
  assert.deepEqual(Object.keys(kpis).sort(), ['A_t', 'E_t', 'I_t', 'P', 'R_t', 'S']);
  assert.deepEqual([kpis.I_t, kpis.E_t, kpis.R_t, kpis.P], [null, null, null, null]);
  assert.ok(kpis.A_t !== null && kpis.S !== null);
});
