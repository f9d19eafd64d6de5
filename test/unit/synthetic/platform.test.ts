import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type AttemptRow,
  type GeneratePlatformOptions,
  generatePlatform,
  probabilityCorrect,
  type SyntheticPlatform,
  streamPlatform,
  trueThetaAt,
} from '../../../src/synthetic/platform.js';
import { InvalidInputError } from '../../../src/user-error.js';

const WEEK_MS = 7 * 86_400_000;
const start = new Date('2025-03-03T00:00:00Z'); // a Monday
const base: GeneratePlatformOptions = { seed: 20250303, learners: 300, weeks: 6, items: 150, start };
const p2 = generatePlatform(base);
const p3 = generatePlatform({ ...base, seed: 99, model: '3PL' });

function thetaOf(p: SyntheticPlatform, a: AttemptRow): number {
  return trueThetaAt(p.truth.learners.get(a.user_id)!, start, a.answered_at);
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

describe('determinism', () => {
  const small: GeneratePlatformOptions = { seed: 1, learners: 40, weeks: 4, items: 80, start };

  test('the same seed gives identical output', () => {
    assert.deepStrictEqual(generatePlatform(small), generatePlatform(small));
  });

  test('a different seed gives different output', () => {
    const a = generatePlatform(small);
    const b = generatePlatform({ ...small, seed: 2 });
    assert.notDeepStrictEqual(a.truth.items, b.truth.items);
    assert.notDeepStrictEqual(a.attempts, b.attempts);
  });

  test('streaming yields exactly the collected rows, and again on a second pass', () => {
    const all = generatePlatform(small);
    const stream = streamPlatform(small);
    const first = [...stream.learners()];
    assert.deepStrictEqual(first, [...stream.learners()]);
    assert.deepStrictEqual(
      first.flatMap((r) => r.attempts),
      all.attempts,
    );
    assert.deepStrictEqual(
      first.flatMap((r) => r.sessions),
      all.sessions,
    );
    assert.deepStrictEqual(stream.items, all.items);
  });

  test('a learner does not depend on how many learners are generated', () => {
    const more = generatePlatform({ ...small, learners: 80 });
    const fewer = generatePlatform(small);
    const firstUser = fewer.learners[0].user_id;
    assert.deepStrictEqual(
      more.attempts.filter((a) => a.user_id === firstUser),
      fewer.attempts.filter((a) => a.user_id === firstUser),
    );
  });
});

describe('catalogue and item bank', () => {
  test('10 Korean exam-prep topics by default, with English subjects', () => {
    assert.equal(p2.topics.length, 10);
    assert.equal(new Set(p2.topics.map((t) => t.topic_id)).size, 10);
    for (const t of p2.topics) {
      assert.match(t.name, /^[가-힣]+ — \S/);
      assert.match(t.subject, /^[A-Za-z ]+$/);
    }
    assert.equal(generatePlatform({ ...base, learners: 0, topics: 12 }).topics.length, 12);
  });

  test('items are spread over every topic, ~10% anchors, empty meta by default', () => {
    assert.equal(p2.items.length, 150);
    assert.equal(new Set(p2.items.map((i) => i.item_id)).size, 150);
    const perTopic = new Map<string, number>();
    for (const i of p2.items) perTopic.set(i.topic_id, (perTopic.get(i.topic_id) ?? 0) + 1);
    assert.deepStrictEqual([...perTopic.values()], Array(10).fill(15));
    assert.equal(p2.items.filter((i) => i.tags.includes('anchor')).length, 15);
    assert.ok(p2.items.every((i) => Object.keys(i.meta).length === 0));
  });

  test('priorMeta writes the true parameters into meta.irt', () => {
    const p = generatePlatform({ ...base, learners: 0, priorMeta: true, model: '3PL' });
    for (const i of p.items) assert.deepStrictEqual(i.meta.irt, p.truth.items.get(i.item_id));
  });

  test('2PL truth: c = 0, a lognormal around 1.2, topics differ in difficulty', () => {
    const params = [...p2.truth.items.values()];
    assert.ok(params.every((q) => q.c === 0 && q.a > 0));
    assert.ok(Math.abs(median(params.map((q) => q.a)) - 1.2) < 0.15);
    const meanB = p2.topics.map((t) => {
      const bs = p2.items
        .filter((i) => i.topic_id === t.topic_id)
        .map((i) => p2.truth.items.get(i.item_id)!.b);
      return bs.reduce((s, b) => s + b, 0) / bs.length;
    });
    assert.ok(Math.max(...meanB) - Math.min(...meanB) > 0.5);
  });

  test('3PL truth: c ~ Beta(5, 17), mean 5/22', () => {
    const cs = [...p3.truth.items.values()].map((q) => q.c);
    assert.ok(cs.every((c) => c > 0 && c < 0.7));
    // sd of Beta(5,17) is 0.087; the mean of 150 draws has sd 0.007.
    assert.ok(Math.abs(cs.reduce((s, c) => s + c, 0) / cs.length - 5 / 22) < 0.03);
  });
});

describe('learners and goals', () => {
  test('ids are unique, locales mostly ko with some en, goals for some learners', () => {
    assert.equal(new Set(p2.learners.map((l) => l.user_id)).size, 300);
    const en = p2.learners.filter((l) => l.locale === 'en').length;
    assert.ok(en > 0 && en < 60, `en learners: ${en}`);
    assert.ok(p2.learners.every((l) => l.locale === 'ko' || l.locale === 'en'));
    assert.ok(p2.goals.length > 60 && p2.goals.length < 200, `goals: ${p2.goals.length}`);
    const ids = new Set(p2.learners.map((l) => l.user_id));
    assert.ok(p2.goals.every((g) => ids.has(g.user_id) && Number.isFinite(g.target_theta)));
    assert.equal(new Set(p2.goals.map((g) => g.user_id)).size, p2.goals.length);
  });

  test('true ability grows: later weeks are higher on average', () => {
    const truths = [...p2.truth.learners.values()];
    const meanAt = (w: number) => truths.reduce((s, t) => s + t.thetaByWeek[w], 0) / truths.length;
    assert.ok(meanAt(5) - meanAt(0) > 0.15);
    // And in what the data actually exercises: the θ behind the attempts.
    const early = p2.attempts.filter((a) => a.answered_at.getTime() < start.getTime() + 2 * WEEK_MS);
    const late = p2.attempts.filter((a) => a.answered_at.getTime() >= start.getTime() + 4 * WEEK_MS);
    const meanTheta = (as: AttemptRow[]) => as.reduce((s, a) => s + thetaOf(p2, a), 0) / as.length;
    assert.ok(meanTheta(late) > meanTheta(early));
  });
});

describe('referential integrity and time', () => {
  for (const [label, p] of [
    ['2PL', p2],
    ['3PL', p3],
  ] as const) {
    test(`${label}: every attempt points at an existing session, learner and item`, () => {
      const sessions = new Map(p.sessions.map((s) => [s.session_id, s]));
      assert.equal(sessions.size, p.sessions.length);
      const users = new Set(p.learners.map((l) => l.user_id));
      const items = new Map(p.items.map((i) => [i.item_id, i]));
      const clientIds = new Set<string>();
      for (const a of p.attempts) {
        const s = sessions.get(a.session_id);
        assert.ok(s, a.session_id);
        assert.equal(a.user_id, s.user_id);
        assert.ok(users.has(a.user_id));
        assert.equal(a.topic_id, items.get(a.item_id)?.topic_id);
        assert.ok(a.answered_at >= s.started_at);
        if (s.completed_at) assert.ok(a.answered_at <= s.completed_at);
        const key = `${a.session_id}\u0000${a.client_attempt_id}`;
        assert.ok(!clientIds.has(key), 'client_attempt_id unique per session');
        clientIds.add(key);
        assert.ok(Number.isInteger(a.hints) && a.hints >= 0 && a.hints <= 3);
        if (a.response_time_ms !== null)
          assert.ok(Number.isInteger(a.response_time_ms) && a.response_time_ms >= 0);
      }
      for (const s of p.sessions) {
        assert.ok(users.has(s.user_id));
        assert.equal(s.completed_at !== null, s.status === 'completed');
        if (s.completed_at) assert.ok(s.completed_at >= s.started_at);
      }
    });
  }

  test('sessions lie inside the weeks and a learner never has two at once', () => {
    const end = start.getTime() + base.weeks * WEEK_MS;
    const lastAnswer = new Map<string, number>();
    for (const a of p2.attempts) {
      lastAnswer.set(a.session_id, Math.max(lastAnswer.get(a.session_id) ?? 0, a.answered_at.getTime()));
    }
    const byUser = new Map<string, [number, number][]>();
    for (const s of p2.sessions) {
      const from = s.started_at.getTime();
      const to = s.completed_at?.getTime() ?? lastAnswer.get(s.session_id) ?? from;
      assert.ok(from >= start.getTime() && to < end, s.session_id);
      const spans = byUser.get(s.user_id) ?? [];
      spans.push([from, to]);
      byUser.set(s.user_id, spans);
    }
    for (const spans of byUser.values()) {
      spans.sort((x, y) => x[0] - y[0]);
      for (let i = 1; i < spans.length; i++) assert.ok(spans[i][0] > spans[i - 1][1]);
    }
  });

  test('sessions: all three statuses, 10–40 distinct items when completed', () => {
    const statuses = new Set(p2.sessions.map((s) => s.status));
    assert.deepStrictEqual([...statuses].sort(), ['abandoned', 'completed', 'open']);
    const completed = p2.sessions.filter((s) => s.status === 'completed').length;
    assert.ok(completed / p2.sessions.length > 0.85);
    const bySession = new Map<string, string[]>();
    for (const a of p2.attempts)
      bySession.set(a.session_id, [...(bySession.get(a.session_id) ?? []), a.item_id]);
    for (const s of p2.sessions) {
      const items = bySession.get(s.session_id) ?? [];
      assert.equal(new Set(items).size, items.length, `repeated item in ${s.session_id}`);
      if (s.status === 'completed') assert.ok(items.length >= 10 && items.length <= 40);
    }
  });

  test('churners have no session from their churn week on; late joiners none before joining', () => {
    assert.ok(p2.truth.churned.length > 20, `churned: ${p2.truth.churned.length}`);
    for (const s of p2.sessions) {
      const t = p2.truth.learners.get(s.user_id)!;
      const week = Math.floor((s.started_at.getTime() - start.getTime()) / WEEK_MS);
      if (t.churnWeek !== null) assert.ok(week < t.churnWeek, s.session_id);
      assert.ok(week >= t.joinWeek, s.session_id);
    }
    const churned = new Set(p2.truth.churned);
    for (const [id, t] of p2.truth.learners) assert.equal(churned.has(id), t.churnWeek !== null);
  });

  test('more sessions on weekends and in Seoul evenings', () => {
    const perDay = Array(7).fill(0);
    let evening = 0;
    for (const s of p2.sessions) {
      const kst = new Date(s.started_at.getTime() + 9 * 3_600_000);
      perDay[kst.getUTCDay()]++;
      if (kst.getUTCHours() >= 18) evening++;
    }
    const weekend = (perDay[0] + perDay[6]) / 2;
    const weekday = (perDay[1] + perDay[2] + perDay[3] + perDay[4] + perDay[5]) / 5;
    assert.ok(weekend > 1.3 * weekday, `weekend ${weekend} vs weekday ${weekday}`);
    // 6 of 24 hours carry over 40% of sessions.
    assert.ok(evening / p2.sessions.length > 0.4);
  });
});

describe('responses follow the model', () => {
  // Given the past, each response is Bernoulli(p) with p the true model probability, so the count
  // correct has mean Σp and variance Σp(1−p) (martingale CLT). 4 sd leaves a 6e-5 false alarm rate
  // while a 1-point bias in the correct rate (~7 sd at these sizes) fails.
  function checkCalibration(p: SyntheticPlatform) {
    const bins = Array.from({ length: 10 }, () => ({ n: 0, obs: 0, exp: 0, v: 0 }));
    for (const a of p.attempts) {
      const pc = probabilityCorrect(p.truth.items.get(a.item_id)!, thetaOf(p, a));
      const bin = bins[Math.min(9, Math.floor(pc * 10))];
      bin.n++;
      bin.obs += a.correct ? 1 : 0;
      bin.exp += pc;
      bin.v += pc * (1 - pc);
    }
    const total = bins.reduce((s, b) => ({
      n: s.n + b.n,
      obs: s.obs + b.obs,
      exp: s.exp + b.exp,
      v: s.v + b.v,
    }));
    assert.ok(total.n > 50_000);
    assert.ok(Math.abs(total.obs - total.exp) <= 4 * Math.sqrt(total.v), JSON.stringify(total));
    for (const b of bins.filter((x) => x.n > 0)) {
      assert.ok(Math.abs(b.obs - b.exp) <= 4 * Math.sqrt(b.v) + 1, JSON.stringify(b));
    }
  }

  test('2PL: observed correctness matches Σ P(correct), overall and per probability decile', () => {
    checkCalibration(p2);
  });

  test('3PL: observed correctness matches Σ P(correct), overall and per probability decile', () => {
    checkCalibration(p3);
  });

  test('~3% of response times are unknown (null)', () => {
    const nulls = p2.attempts.filter((a) => a.response_time_ms === null).length / p2.attempts.length;
    assert.ok(nulls > 0.02 && nulls < 0.04, `null share ${nulls}`);
  });

  test('hard items (b − θ > 1) draw more hints and longer times than easy ones (b − θ < −1)', () => {
    const hard: AttemptRow[] = [];
    const easy: AttemptRow[] = [];
    for (const a of p2.attempts) {
      const gap = p2.truth.items.get(a.item_id)!.b - thetaOf(p2, a);
      if (gap > 1) hard.push(a);
      else if (gap < -1) easy.push(a);
    }
    const hintRate = (as: AttemptRow[]) => as.filter((a) => a.hints > 0).length / as.length;
    assert.ok(hintRate(hard) > 2 * hintRate(easy));
    const rts = (as: AttemptRow[]) =>
      as.flatMap((a) => (a.response_time_ms === null ? [] : [a.response_time_ms]));
    assert.ok(median(rts(hard)) > 1.3 * median(rts(easy)));
  });

  test('learners revisit items they missed (what R_t measures)', () => {
    const missed = new Set<string>();
    let revisits = 0;
    for (const a of p2.attempts) {
      const key = `${a.user_id}\u0000${a.item_id}`;
      if (missed.has(key)) revisits++;
      if (!a.correct) missed.add(key);
    }
    assert.ok(revisits > p2.attempts.length * 0.05);
  });
});

describe('validation', () => {
  test('rejects a start that is not Monday 00:00 UTC, too few items, too many topics', () => {
    assert.throws(
      () => generatePlatform({ ...base, start: new Date('2025-03-04T00:00:00Z') }),
      InvalidInputError,
    );
    assert.throws(
      () => generatePlatform({ ...base, start: new Date('2025-03-03T09:00:00Z') }),
      InvalidInputError,
    );
    assert.throws(() => generatePlatform({ ...base, items: 5 }), InvalidInputError);
    assert.throws(() => generatePlatform({ ...base, topics: 17 }), InvalidInputError);
    assert.throws(() => generatePlatform({ ...base, seed: 1.5 }), InvalidInputError);
  });

  test('trueThetaAt refuses instants outside the generated weeks', () => {
    const t = p2.truth.learners.get(p2.learners[0].user_id)!;
    assert.throws(() => trueThetaAt(t, start, new Date(start.getTime() - 1)), InvalidInputError);
    assert.throws(() => trueThetaAt(t, start, new Date(start.getTime() + 6 * WEEK_MS)), InvalidInputError);
    assert.equal(trueThetaAt(t, start, start), t.theta0);
  });
});
