// The data of one weekly learner report, computed once (from the database by the job, by hand in tests)
// and rendered to HTML and PDF. Pure: no I/O. Dates are the learner's local `YYYY-MM-DD`, times
// ISO 8601 instants (shown in `learner.time_zone`).
import type { KpiKey } from '../kpis/kpis.js';

export const LOCALES = ['ko', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

/** The learner's edition speaks plain words; the teacher's adds θ, its SE, the scale version, targeting. */
export const EDITIONS = ['learner', 'teacher'] as const;
export type Edition = (typeof EDITIONS)[number];

/** The reported score: mean + sd × θ, rounded to `decimals` (REPORT_SCORE_*). */
export interface ScoreScale {
  mean: number;
  sd: number;
  decimals: number;
}

/** The least data a recommendation needs (REPORT_RULE_*). */
export interface RuleMinimums {
  /** Attempts in a topic this week before it is named the weakest. */
  minTopicAttempts: number;
  /** Sessions in the last 28 days before the engagement rules (come back, practise regularly) fire. */
  minSessions: number;
}

export interface ReportSettings {
  score: ScoreScale;
  rules: RuleMinimums;
}

export function toScore(theta: number, scale: ScoreScale): number {
  const f = 10 ** scale.decimals;
  return Math.round((scale.mean + scale.sd * theta) * f) / f;
}

/** Display order of the KPIs everywhere in the report. */
/** A KPI is null when its data condition failed (kpis.md); it is never defaulted to 0. */
export type KpiValues = Record<KpiKey, number | null>;

export interface ThetaPoint {
  at: string;
  theta: number;
  se: number | null;
}

export interface TopicRow {
  topic_id: string;
  /** In the report's language when the topic has a name in it, else its catalogue name. */
  name: string;
  /** The name is not in the report's language (the report says so). */
  name_fallback: boolean;
  attempts: number;
  correct: number;
  /** correct / attempts; null without attempts. */
  accuracy: number | null;
  /** Median response time in milliseconds; null when no time is known. */
  rt_median: number | null;
  /** The topic's accuracy change (features_topic_daily.improvement), [−1, 1]. */
  improvement: number | null;
}

export interface DailyActivity {
  date: string;
  attempts: number;
  correct: number;
}

export interface TargetItem {
  item_id: string;
  /** IRT difficulty on the same scale as θ. */
  b: number;
}

export interface ReportViewModel {
  learner: { user_id: string; display_name: string | null; locale: Locale; time_zone: string };
  /** The ISO week: Monday and Sunday, as days in the learner's time zone. */
  week: { start: string; end: string };
  generated_at: string;
  settings: ReportSettings;
  /** The calibration run the abilities and difficulties come from. */
  scale_version: string | null;
  kpis: KpiValues;
  kpis_last_week: KpiValues;
  /** The learner's θ as of the end of the week, null before any estimate. */
  theta: { value: number; se: number | null } | null;
  /** Estimates of the last 8 weeks, oldest first. */
  theta_series: ThetaPoint[];
  /** The learner's goal τ (learner_goal.target_theta); null when none was set. */
  goal: { tau: number } | null;
  /** The evidence of the engagement rules: sessions in the 28 days ending with the week, last attempt. */
  activity: { sessions_28d: number; last_active: string | null };
  topics: TopicRow[];
  /** Exactly the 7 days Monday..Sunday. */
  daily: DailyActivity[];
  /** The items answered this week. */
  targeting: TargetItem[];
  flags: { empty_week: boolean; no_theta: boolean };
}

export type ReportViewModelInput = Omit<ReportViewModel, 'flags'>;

/** Completes a view-model: derives the flags, so they cannot disagree with the data. */
export function makeViewModel(input: ReportViewModelInput): ReportViewModel {
  if (input.daily.length !== 7) throw new Error(`daily activity must have 7 days, got ${input.daily.length}`);
  return {
    ...input,
    flags: {
      empty_week: input.daily.every((d) => d.attempts === 0),
      no_theta: input.theta === null,
    },
  };
}

export const emptyKpis = (): KpiValues => ({ I_t: null, E_t: null, R_t: null, A_t: null, P: null, S: null });

/** Churn-risk bands of reports.md: < 0.3 low, < 0.7 medium, otherwise high (high is bad). */
export type ChurnBand = 'low' | 'medium' | 'high';
export const CHURN_MEDIUM = 0.3;
export const CHURN_HIGH = 0.7;
export function churnBand(s: number): ChurnBand {
  return s < CHURN_MEDIUM ? 'low' : s < CHURN_HIGH ? 'medium' : 'high';
}

/** Thresholds of the recommendation rules (docs/reports.md). */
export const RULES = {
  /** A_t below this → practise regularly. */
  engagementLow: 0.5,
  /** R_t below this → review the items missed before. */
  recoveryLow: 0.5,
  /** The weakest topic is recommended only while its accuracy is below this. */
  topicMastered: 0.8,
  /** E_t at or above this is praised (answers clearly faster than the 4 weeks before). */
  efficiencyHigh: 0.2,
  /** I_t at or above this is praised. */
  improvementHigh: 0.2,
} as const;

/** Each recommendation carries the evidence it is based on, which the report prints with it. */
export type Recommendation =
  | { kind: 'come_back'; sessions: number; last_active: string | null }
  | { kind: 'regular_practice'; sessions: number }
  | { kind: 'review_missed'; recovery: number }
  | { kind: 'practise_topic'; topic: string; attempts: number; correct: number }
  | { kind: 'praise_efficiency'; efficiency: number }
  | { kind: 'praise_improvement'; improvement: number }
  | { kind: 'keep_going' };

/** Display order of topics in the chart and the table: highest accuracy first, then by name. */
export function topicOrder(a: TopicRow, b: TopicRow): number {
  return (
    (b.accuracy ?? -1) - (a.accuracy ?? -1) ||
    a.name.localeCompare(b.name) ||
    a.topic_id.localeCompare(b.topic_id)
  );
}

/** The weakest topic by accuracy (ties: more attempts first, then name), among topics with `minAttempts`. */
export function weakestTopic(topics: readonly TopicRow[], minAttempts: number): TopicRow | undefined {
  return topics
    .filter((t) => t.accuracy !== null && t.attempts > 0 && t.attempts >= minAttempts)
    .sort((a, b) => a.accuracy! - b.accuracy! || b.attempts - a.attempts || a.name.localeCompare(b.name))[0];
}

/**
 * The recommendation rules of reports.md, most urgent first. A high churn risk is never praised. A rule
 * fires only with enough data (ReportSettings.rules): the engagement rules with `minSessions` sessions
 * in the last 28 days, the topic rule with `minTopicAttempts` attempts in the topic this week.
 */
export function recommendations(vm: ReportViewModel): Recommendation[] {
  const { S, A_t, R_t, E_t, I_t } = vm.kpis;
  const { minSessions, minTopicAttempts } = vm.settings.rules;
  const sessions = vm.activity.sessions_28d;
  const highChurn = S !== null && churnBand(S) === 'high';
  const out: Recommendation[] = [];
  if (sessions >= minSessions) {
    if (highChurn) out.push({ kind: 'come_back', sessions, last_active: vm.activity.last_active });
    if (A_t !== null && A_t < RULES.engagementLow) out.push({ kind: 'regular_practice', sessions });
  }
  if (R_t !== null && R_t < RULES.recoveryLow) out.push({ kind: 'review_missed', recovery: R_t });
  const weak = weakestTopic(vm.topics, minTopicAttempts);
  if (weak && weak.accuracy! < RULES.topicMastered) {
    out.push({ kind: 'practise_topic', topic: weak.name, attempts: weak.attempts, correct: weak.correct });
  }
  if (!highChurn) {
    if (E_t !== null && E_t >= RULES.efficiencyHigh) out.push({ kind: 'praise_efficiency', efficiency: E_t });
    if (I_t !== null && I_t >= RULES.improvementHigh)
      out.push({ kind: 'praise_improvement', improvement: I_t });
  }
  if (out.length === 0) out.push({ kind: 'keep_going' });
  return out;
}

/** Direction of change between two weeks; 'none' when either value is missing. */
export type Trend = 'up' | 'down' | 'flat' | 'none';
export function trend(now: number | null, before: number | null): Trend {
  if (now === null || before === null) return 'none';
  const d = now - before;
  // Half a percentage point is below what the report prints, so it counts as no change.
  return Math.abs(d) < 0.005 ? 'flat' : d > 0 ? 'up' : 'down';
}
