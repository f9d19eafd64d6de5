import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { messages } from '../../../src/reports/messages.js';
import {
  churnBand,
  makeViewModel,
  type ReportViewModel,
  recommendations,
  trend,
} from '../../../src/reports/view-model.js';
import { emptyWeek, fullWeek, noTheta, SETTINGS } from './fixtures.js';

const withKpis = (vm: ReportViewModel, kpis: Partial<ReportViewModel['kpis']>): ReportViewModel => ({
  ...vm,
  kpis: { ...vm.kpis, ...kpis },
});
const kinds = (vm: ReportViewModel) => recommendations(vm).map((r) => r.kind);

describe('report view-model', () => {
  it('derives the empty-week and no-θ flags from the data', () => {
    assert.deepEqual(fullWeek().flags, { empty_week: false, no_theta: false });
    assert.deepEqual(emptyWeek().flags, { empty_week: true, no_theta: false });
    assert.deepEqual(noTheta().flags, { empty_week: false, no_theta: true });
    const { flags: _, ...input } = fullWeek();
    assert.throws(() => makeViewModel({ ...input, daily: input.daily.slice(1) }), /7 days/);
  });

  it('bands churn risk at 0.3 and 0.7', () => {
    assert.deepEqual([0, 0.29, 0.3, 0.69, 0.7, 1].map(churnBand), [
      'low',
      'low',
      'medium',
      'medium',
      'high',
      'high',
    ]);
  });

  it('compares weeks, treating a missing value as no comparison', () => {
    assert.equal(trend(0.5, 0.4), 'up');
    assert.equal(trend(0.4, 0.5), 'down');
    assert.equal(trend(0.5, 0.498), 'flat');
    assert.equal(trend(null, 0.5), 'none');
    assert.equal(trend(0.5, null), 'none');
  });
});

describe('recommendation rules', () => {
  it('full week: review (R_t 0.42), weakest topic with enough attempts, praise for E_t 0.27, each with its evidence', () => {
    assert.deepEqual(recommendations(fullWeek()), [
      { kind: 'review_missed', recovery: 0.42 },
      { kind: 'practise_topic', topic: '일차방정식', attempts: 14, correct: 6 },
      { kind: 'praise_efficiency', efficiency: 0.27 },
    ]);
  });

  it('a high churn risk asks to come back first and is never praised', () => {
    const vm = withKpis(fullWeek(), { S: 0.75, E_t: 0.9, I_t: 0.9 });
    const k = kinds(vm);
    assert.equal(k[0], 'come_back');
    assert.ok(!k.includes('praise_efficiency') && !k.includes('praise_improvement'), k.join());
    assert.deepEqual(kinds(emptyWeek()), ['come_back', 'regular_practice', 'review_missed']);
  });

  it('applies each KPI threshold and falls back to keep going', () => {
    const calm = { ...withKpis(fullWeek(), { S: 0.1, A_t: 0.8, R_t: 0.9, E_t: 0.1, I_t: 0.1 }), topics: [] };
    assert.deepEqual(kinds(calm), ['keep_going']);
    assert.deepEqual(kinds(withKpis(calm, { A_t: 0.49 })), ['regular_practice']);
    assert.deepEqual(kinds(withKpis(calm, { A_t: 0.5 })), ['keep_going']);
    assert.deepEqual(kinds(withKpis(calm, { R_t: 0.49 })), ['review_missed']);
    assert.deepEqual(kinds(withKpis(calm, { I_t: 0.2 })), ['praise_improvement']);
    assert.deepEqual(kinds(withKpis(calm, { E_t: 0.2 })), ['praise_efficiency']);
    assert.deepEqual(kinds(withKpis(calm, { S: 0.7 })), ['come_back']);
    // Missing KPIs trigger nothing: null is not 0.
    assert.deepEqual(kinds(withKpis(calm, { A_t: null, R_t: null, S: null })), ['keep_going']);
  });

  it('the engagement rules fire from the minimum of sessions in 4 weeks, not below', () => {
    const vm = { ...withKpis(fullWeek(), { S: 0.8, A_t: 0.3, R_t: null }), topics: [] };
    const at = (sessions: number, minSessions = SETTINGS.rules.minSessions) =>
      kinds({
        ...vm,
        activity: { ...vm.activity, sessions_28d: sessions },
        settings: { ...vm.settings, rules: { ...vm.settings.rules, minSessions } },
      });
    assert.equal(SETTINGS.rules.minSessions, 3);
    assert.deepEqual(at(3), ['come_back', 'regular_practice']);
    assert.deepEqual(at(2), ['keep_going']);
    // Configurable (REPORT_RULE_MIN_SESSIONS).
    assert.deepEqual(at(4, 5), ['keep_going']);
    assert.deepEqual(at(5, 5), ['come_back', 'regular_practice']);
  });

  it('the topic rule fires from the minimum of attempts in the topic, not below, and says what it is based on', () => {
    const vm = fullWeek();
    const topic = (attempts: number, correct: number, minTopicAttempts = SETTINGS.rules.minTopicAttempts) =>
      recommendations({
        ...vm,
        topics: [{ ...vm.topics[0], name: 'T', attempts, correct, accuracy: correct / attempts }],
        settings: { ...vm.settings, rules: { ...vm.settings.rules, minTopicAttempts } },
      }).find((r) => r.kind === 'practise_topic');
    assert.equal(SETTINGS.rules.minTopicAttempts, 10);
    assert.deepEqual(topic(10, 4), { kind: 'practise_topic', topic: 'T', attempts: 10, correct: 4 });
    // 2 of 5 wrong is not evidence enough.
    assert.equal(topic(9, 2), undefined);
    assert.equal(topic(5, 2), undefined);
    assert.deepEqual(topic(5, 2, 5), { kind: 'practise_topic', topic: 'T', attempts: 5, correct: 2 });
    assert.ok(
      messages('ko')
        .recommendation({ kind: 'practise_topic', topic: 'T', attempts: 12, correct: 5 })
        .includes('12문항 중 5문항 정답'),
    );
    assert.ok(
      messages('en')
        .recommendation({ kind: 'practise_topic', topic: 'T', attempts: 12, correct: 5 })
        .includes('5 of 12 items correct'),
    );
  });

  it('recommends the weakest topic only while it is below mastery', () => {
    const vm = fullWeek();
    const mastered = { ...vm, topics: vm.topics.map((t) => ({ ...t, correct: t.attempts, accuracy: 1 })) };
    assert.ok(!kinds(mastered).includes('practise_topic'));
    const tie = {
      ...vm,
      topics: [
        { ...vm.topics[0], topic_id: 'a', name: 'B', attempts: 10, correct: 5, accuracy: 0.5 },
        { ...vm.topics[0], topic_id: 'b', name: 'A', attempts: 12, correct: 6, accuracy: 0.5 },
      ],
    };
    assert.deepEqual(
      recommendations(tie).find((r) => r.kind === 'practise_topic'),
      { kind: 'practise_topic', topic: 'A', attempts: 12, correct: 6 },
    );
  });
});
