// The six weekly KPIs of spec/kpis.md as pure functions over one learner's plain data: no I/O, no
// clock. Each function applies its own windows to the attempts it is given, so an input may hold
// more than a KPI needs. A KPI whose data condition fails is null, never 0.
import { normalCdf } from '../math/normal.js';
import { InvalidInputError } from '../user-error.js';

/** The six weekly KPIs of spec/kpis.md, in their order of presentation: the one definition of the set. */
export const KPI_KEYS = ['I_t', 'E_t', 'R_t', 'A_t', 'P', 'S'] as const;
export type KpiKey = (typeof KPI_KEYS)[number];
/** A learner's week: each KPI, or null when its data condition failed. */
export type Kpis = Record<KpiKey, number | null>;

const DAY_MS = 86_400_000;

/** The longest window any KPI looks at: S over W(asOf, 56) (E_t and R_t use 28 + 28 days). */
export const KPI_HISTORY_DAYS = 56;

export interface KpiAttempt {
  sessionId: string;
  itemId: string;
  correct: boolean;
  /** null = unknown (never 0). */
  responseTimeMs: number | null;
  hints: number;
  /** answered_at, epoch milliseconds. */
  at: number;
}

export interface KpiSession {
  /** started_at, epoch milliseconds. */
  startedAt: number;
  /** completed_at of a completed session, epoch milliseconds; null for open or abandoned ones. */
  completedAt: number | null;
}

/** One mirt_ability row. */
export interface AbilityEstimate {
  theta: number;
  se: number | null;
  /** fitted_at, epoch milliseconds. */
  fittedAt: number;
}

export interface LearnerKpiInput {
  /** At least the learner's attempts in W(asOf, 56). */
  attempts: readonly KpiAttempt[];
  /** The sessions of those attempts, by session id. */
  sessions: ReadonlyMap<string, KpiSession>;
  /** Whether the learner has an attempt before W(asOf, 56). */
  attemptedBefore: boolean;
  /** The learner's θ as of the end of asOf: the latest estimate fitted before asOf + 1 at 00:00. */
  ability: AbilityEstimate | null;
  /** The learner's θ as of the end of asOf − 14. */
  previousAbility: AbilityEstimate | null;
  /** learner_goal.target_theta; null when the learner has no goal. */
  targetTheta: number | null;
}

export interface KpiSettings {
  /** The day the KPIs are as of (YYYY-MM-DD, UTC). */
  asOf: string;
  /** METRICS_USE_IRT_THETA */
  useIrtTheta: boolean;
  /** METRICS_DEFAULT_TARGET */
  defaultTarget: number;
  /** METRICS_CHURN_HORIZON_DAYS */
  churnHorizonDays: number;
}

/** A half-open interval of epoch milliseconds. */
export interface Window {
  start: number;
  end: number;
}

export const dayStart = (day: string): number => Date.parse(`${day}T00:00:00Z`);

/** W(end, n): the n whole UTC days ending with day `end`, [end − n + 1 at 00:00, end + 1 at 00:00). */
export function window(end: string, n: number): Window {
  return windowBefore(end, 0, n);
}

/** W(end − back, n). UTC days are all 24 hours long: plain arithmetic (this runs per learner). */
function windowBefore(end: string, back: number, n: number): Window {
  const next = dayStart(end) + (1 - back) * DAY_MS;
  return { start: next - n * DAY_MS, end: next };
}

const dayText = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const inside = (t: number, w: Window) => t >= w.start && t < w.end;
const clamp = (x: number) => Math.min(1, Math.max(0, x));
const clampSigned = (x: number) => Math.min(1, Math.max(-1, x));

/** as_of(w) = min(w + 6, today): a past week as of its Sunday, the current week as of today. */
export function kpiAsOf(weekStart: string, today: string): string {
  if (weekStart > today) {
    throw new InvalidInputError(
      `week ${weekStart} has not started yet (today is ${today}); KPIs exist up to today`,
    );
  }
  const sunday = dayText(dayStart(weekStart) + 6 * DAY_MS);
  return sunday < today ? sunday : today;
}

/** The median; an even count takes the mean of the two middle values. null for no values. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort(); // typed arrays sort numerically
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

// The standard normal CDF lives with the other distribution functions of the IRT engine.
export { normalCdf };

const attemptsIn = (input: LearnerKpiInput, w: Window) => input.attempts.filter((a) => inside(a.at, w));
const shareCorrect = (attempts: readonly KpiAttempt[]) =>
  attempts.reduce((n, a) => n + (a.correct ? 1 : 0), 0) / attempts.length;
const madeIn = (estimate: AbilityEstimate | null, w: Window) =>
  estimate && inside(estimate.fittedAt, w) ? estimate : null;

/** The distinct sessions of some attempts, with their start times in ascending order. */
function sessionsOf(input: LearnerKpiInput, attempts: readonly KpiAttempt[]) {
  const ids = [...new Set(attempts.map((a) => a.sessionId))];
  const sessions = ids.map((id) => {
    const s = input.sessions.get(id);
    if (!s) throw new Error(`session ${id} of the learner's attempts is missing from the KPI input`);
    return { id, ...s };
  });
  return sessions.sort((a, b) => a.startedAt - b.startedAt);
}

/** Mean gap in days between consecutive session starts (sessions sorted by start); null below 2. */
function meanGapDays(sessions: readonly KpiSession[]): number | null {
  if (sessions.length < 2) return null;
  return (sessions.at(-1)!.startedAt - sessions[0]!.startedAt) / (sessions.length - 1) / DAY_MS;
}

/** I_t: θ change over 14 days when both estimates were made in their windows, else accuracy change. */
export function improvement(input: LearnerKpiInput, s: KpiSettings): number | null {
  const recentWindow = window(s.asOf, 14);
  const previousWindow = windowBefore(s.asOf, 14, 14);
  const recent = attemptsIn(input, recentWindow);
  const exposure = Math.min(1, recent.length / 30);
  if (s.useIrtTheta && recent.length >= 5) {
    const thetaR = madeIn(input.ability, recentWindow);
    const thetaP = madeIn(input.previousAbility, previousWindow);
    if (thetaR && thetaP) {
      const confidence = thetaR.se === null ? 1 : 1 - Math.min(0.5, 1.96 * thetaR.se);
      return clampSigned((thetaR.theta - thetaP.theta) * exposure * confidence);
    }
  }
  const previous = attemptsIn(input, previousWindow);
  if (recent.length === 0 || previous.length === 0) return null;
  const pR = shareCorrect(recent);
  const pP = shareCorrect(previous);
  const confidence = 1 - Math.min(0.5, 1.96 * Math.sqrt((pR * (1 - pR)) / recent.length));
  return clampSigned((pR - pP) * exposure * confidence);
}

/** E_t: relative drop of the median time of correct answers, 28 days against the 28 before. */
export function efficiency(input: LearnerKpiInput, s: KpiSettings): number | null {
  const times = (w: Window) =>
    attemptsIn(input, w)
      .filter((a) => a.correct && a.responseTimeMs !== null)
      .map((a) => a.responseTimeMs!);
  const mR = median(times(window(s.asOf, 28)));
  const mP = median(times(windowBefore(s.asOf, 28, 28)));
  if (mR === null || mP === null || mP <= 0) return null;
  return clamp((mP - mR) / mP);
}

/** R_t: accuracy in the last 28 days on the items missed at least once in the 28 days before. */
export function recovery(input: LearnerKpiInput, s: KpiSettings): number | null {
  const missed = new Set(
    attemptsIn(input, windowBefore(s.asOf, 28, 28))
      .filter((a) => !a.correct)
      .map((a) => a.itemId),
  );
  if (missed.size === 0) return null;
  const retried = attemptsIn(input, window(s.asOf, 28)).filter((a) => missed.has(a.itemId));
  return retried.length === 0 ? null : shareCorrect(retried);
}

/** A_t: session count, regularity, hint use and dwell time over the last 28 days. */
export function engagement(input: LearnerKpiInput, s: KpiSettings): number | null {
  const attempts = attemptsIn(input, window(s.asOf, 28));
  if (attempts.length === 0) return null;
  const sessions = sessionsOf(input, attempts);
  const sc = clamp(sessions.length / 28);
  const gap = meanGapDays(sessions);
  const gapNorm = gap === null ? 0.5 : gap === 0 ? 1 : clamp(1 / gap);
  const hintsNorm = clamp(1 - attempts.reduce((n, a) => n + a.hints, 0) / attempts.length / 3);
  // An unfinished session's duration is the sum of its known response times up to as_of.
  const asOfEnd = window(s.asOf, 1).end;
  const knownTime = new Map<string, number>();
  for (const a of input.attempts) {
    if (a.at < asOfEnd && a.responseTimeMs !== null) {
      knownTime.set(a.sessionId, (knownTime.get(a.sessionId) ?? 0) + a.responseTimeMs);
    }
  }
  const durations: number[] = [];
  for (const session of sessions) {
    const ms =
      session.completedAt !== null ? session.completedAt - session.startedAt : knownTime.get(session.id);
    if (ms !== undefined) durations.push(ms / 1000);
  }
  const dwellNorm =
    durations.length === 0 ? 0.5 : clamp(durations.reduce((t, d) => t + d, 0) / durations.length / 900);
  return clamp(0.35 * sc + 0.25 * gapNorm + 0.2 * hintsNorm + 0.2 * dwellNorm);
}

/** P: probability that θ is above the target, from θ and se as of the end of as_of. */
export function goalProbability(input: LearnerKpiInput, s: KpiSettings): number | null {
  const a = input.ability;
  if (!a || a.se === null || !(a.se > 0)) return null;
  const target = input.targetTheta ?? s.defaultTarget;
  // 1 − Φ(z) = Φ(−z), without the cancellation of 1 − Φ for large z.
  return normalCdf(-(target - a.theta) / a.se);
}

/** S: days since the last attempt, session irregularity and scarcity over the last 56 days. */
export function churnRisk(input: LearnerKpiInput, s: KpiSettings): number | null {
  const attempts = attemptsIn(input, window(s.asOf, KPI_HISTORY_DAYS));
  if (attempts.length === 0) return input.attemptedBefore ? 1 : null;
  const last = attempts.reduce((t, a) => Math.max(t, a.at), Number.NEGATIVE_INFINITY);
  const d = (dayStart(s.asOf) - dayStart(dayText(last))) / DAY_MS;
  const sessions = sessionsOf(input, attempts);
  const gap = meanGapDays(sessions) ?? 0;
  return clamp(
    0.6 * clamp(d / s.churnHorizonDays) + 0.25 * clamp(gap / 7) + 0.15 * clamp(1 - sessions.length / 10),
  );
}

export function computeKpis(input: LearnerKpiInput, s: KpiSettings): Kpis {
  return {
    I_t: improvement(input, s),
    E_t: efficiency(input, s),
    R_t: recovery(input, s),
    A_t: engagement(input, s),
    P: goalProbability(input, s),
    S: churnRisk(input, s),
  };
}
