// Hand-built report view-models: a full week, an empty week, a learner without θ, in both locales.
// `syntheticViewModel(i)` varies them deterministically for the rendering benchmark.
import { loadConfig } from '../../../src/config.js';
import {
  type KpiValues,
  type Locale,
  makeViewModel,
  type ReportViewModel,
  type ReportViewModelInput,
  type TopicRow,
} from '../../../src/reports/view-model.js';

const WEEK = { start: '2026-11-16', end: '2026-11-22' };
const { score, rules } = loadConfig({}).reports;
/** The configured defaults: score 100 ± 20, rules from 10 topic attempts and 3 sessions. */
export const SETTINGS = { score, rules };
const days = (counts: [number, number][]) =>
  counts.map(([attempts, correct], i) => ({ date: `2026-11-${16 + i}`, attempts, correct }));

const TOPICS: TopicRow[] = [
  {
    topic_id: 't-frac',
    name: '분수의 덧셈',
    name_fallback: false,
    attempts: 18,
    correct: 15,
    accuracy: 15 / 18,
    rt_median: 21_400,
    improvement: 0.12,
  },
  {
    topic_id: 't-eq',
    name: '일차방정식',
    name_fallback: false,
    attempts: 14,
    correct: 6,
    accuracy: 6 / 14,
    rt_median: 48_900,
    improvement: -0.08,
  },
  {
    topic_id: 't-geo',
    name: '도형의 넓이',
    name_fallback: false,
    attempts: 9,
    correct: 7,
    accuracy: 7 / 9,
    rt_median: 33_000,
    improvement: null,
  },
  {
    topic_id: 't-prob',
    name: '확률과 통계 <기초> & "심화"',
    name_fallback: false,
    attempts: 6,
    correct: 3,
    accuracy: 0.5,
    rt_median: null,
    improvement: 0.3,
  },
];

const THIS: KpiValues = { I_t: 0.18, E_t: 0.27, R_t: 0.42, A_t: 0.63, P: 0.71, S: 0.22 };
const LAST: KpiValues = { I_t: 0.05, E_t: null, R_t: 0.55, A_t: 0.63, P: 0.58, S: 0.31 };

const EN_NAMES: Record<string, string> = {
  't-frac': 'Adding fractions',
  't-eq': 'Linear equations',
  't-geo': 'Area of shapes',
};

function input(locale: Locale): ReportViewModelInput {
  return {
    learner: {
      user_id: 'u-1001',
      display_name: locale === 'ko' ? '김서연' : 'Seoyeon Kim',
      locale,
      time_zone: 'Asia/Seoul',
    },
    week: WEEK,
    generated_at: '2026-11-23T04:00:00Z',
    settings: SETTINGS,
    scale_version: 'calib-2026-11-15',
    kpis: THIS,
    kpis_last_week: LAST,
    theta: { value: 0.42, se: 0.21 },
    theta_series: [
      { at: '2026-10-01T10:00:00Z', theta: -0.35, se: 0.42 },
      { at: '2026-10-09T10:00:00Z', theta: -0.2, se: 0.36 },
      { at: '2026-10-20T10:00:00Z', theta: 0.02, se: 0.3 },
      { at: '2026-10-31T10:00:00Z', theta: 0.1, se: 0.27 },
      { at: '2026-11-08T10:00:00Z', theta: 0.25, se: 0.24 },
      { at: '2026-11-17T10:00:00Z', theta: 0.33, se: 0.22 },
      { at: '2026-11-21T10:00:00Z', theta: 0.42, se: 0.21 },
    ],
    goal: { tau: 0.5 },
    activity: { sessions_28d: 9, last_active: '2026-11-21' },
    // English names where the topic has one; the last topic has none (the report says so).
    topics:
      locale === 'ko'
        ? TOPICS
        : TOPICS.map((t) =>
            EN_NAMES[t.topic_id] ? { ...t, name: EN_NAMES[t.topic_id] } : { ...t, name_fallback: true },
          ),
    daily: days([
      [12, 9],
      [0, 0],
      [15, 10],
      [8, 5],
      [0, 0],
      [12, 7],
      [0, 0],
    ]),
    targeting: [-1.6, -0.9, -0.5, -0.2, 0, 0.1, 0.3, 0.35, 0.5, 0.6, 0.8, 1.1, 1.4, 1.9, 2.2].map((b, i) => ({
      item_id: `i-${i}`,
      b,
    })),
  };
}

export function fullWeek(locale: Locale = 'ko'): ReportViewModel {
  return makeViewModel(input(locale));
}

/** No attempt this week: KPIs from earlier activity, a high churn risk. */
export function emptyWeek(locale: Locale = 'ko'): ReportViewModel {
  return makeViewModel({
    ...input(locale),
    kpis: { I_t: null, E_t: null, R_t: 0.3, A_t: 0.2, P: 0.62, S: 0.81 },
    activity: { sessions_28d: 4, last_active: '2026-11-12' },
    topics: [],
    daily: days(Array.from({ length: 7 }, () => [0, 0] as [number, number])),
    targeting: [],
  });
}

/** A new learner: attempts this week but no θ estimate yet, so no P and no I_t in θ mode. */
export function noTheta(locale: Locale = 'ko'): ReportViewModel {
  return makeViewModel({
    ...input(locale),
    scale_version: null,
    kpis: { I_t: null, E_t: null, R_t: null, A_t: 0.35, P: null, S: 0.1 },
    kpis_last_week: { I_t: null, E_t: null, R_t: null, A_t: null, P: null, S: null },
    theta: null,
    theta_series: [],
    topics: input(locale).topics.slice(0, 2),
  });
}

/** Deterministic variations for the benchmark: topic count, activity, θ path and locale vary with i. */
export function syntheticViewModel(i: number): ReportViewModel {
  const base = input(i % 3 === 0 ? 'en' : 'ko');
  const wobble = (k: number) => Math.sin(i * 12.9898 + k * 78.233) * 0.5 + 0.5;
  const topics = Array.from({ length: 2 + (i % 7) }, (_, k) => {
    const attempts = 3 + Math.round(wobble(k) * 20);
    const correct = Math.round(attempts * wobble(k + 10));
    return {
      topic_id: `t-${k}`,
      name: `${TOPICS[k % TOPICS.length].name} ${k}`,
      name_fallback: false,
      attempts,
      correct,
      accuracy: correct / attempts,
      rt_median: 10_000 + Math.round(wobble(k + 20) * 40_000),
      improvement: Math.round((wobble(k + 30) - 0.5) * 100) / 100,
    };
  });
  return makeViewModel({
    ...base,
    learner: { ...base.learner, user_id: `u-${String(i).padStart(6, '0')}` },
    kpis: { ...base.kpis, S: wobble(40), A_t: wobble(41), R_t: wobble(42) },
    theta_series: base.theta_series.map((p, k) => ({ ...p, theta: p.theta + wobble(50 + k) - 0.5 })),
    topics,
    daily: base.daily.map((d, k) => {
      const attempts = Math.round(wobble(60 + k) * 25);
      return { ...d, attempts, correct: Math.round(attempts * wobble(70 + k)) };
    }),
  });
}
