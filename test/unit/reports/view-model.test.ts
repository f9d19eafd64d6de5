import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  churnBand,
  makeViewModel,
  type ReportViewModel,
  recommendations,
  trend,
} from '../../../src/reports/view-model.js';
import { emptyWeek, fullWeek, noTheta } from './fixtures.js';

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
  it('full week: review (R_t 0.42), weakest topic under 80%, praise for E_t 0.27', () => {
    assert.deepEqual(recommendations(fullWeek()), [
      { kind: 'review_missed' },
      { kind: 'practise_topic', topic: '일차방정식', accuracy: 6 / 14 },
      { kind: 'praise_efficiency' },
    ]);
  });

  it('a high churn risk asks to come back first and is never praised', () => {
    const vm = withKpis(fullWeek(), { S: 0.75, E_t: 0.9, I_t: 0.9 });
    const k = kinds(vm);
    assert.equal(k[0], 'come_back');
    assert.ok(!k.includes('praise_efficiency') && !k.includes('praise_improvement'), k.join());
    assert.deepEqual(kinds(emptyWeek()), ['come_back', 'regular_practice', 'review_missed']);
  });

  it('applies each threshold and falls back to keep going', () => {
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

  it('recommends the weakest topic only while it is below mastery', () => {
    const vm = fullWeek();
    const mastered = { ...vm, topics: vm.topics.map((t) => ({ ...t, correct: t.attempts, accuracy: 1 })) };
    assert.ok(!kinds(mastered).includes('practise_topic'));
    const tie = {
      ...vm,
      topics: [
        { ...vm.topics[0], topic_id: 'a', name: 'B', attempts: 4, correct: 2, accuracy: 0.5 },
        { ...vm.topics[0], topic_id: 'b', name: 'A', attempts: 8, correct: 4, accuracy: 0.5 },
      ],
    };
    assert.deepEqual(
      recommendations(tie).find((r) => r.kind === 'practise_topic'),
      {
        kind: 'practise_topic',
        topic: 'A',
        accuracy: 0.5,
      },
    );
  });
});
