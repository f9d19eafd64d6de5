// The report's one message catalogue: every label, sentence and axis title, in Korean (the default)
// and English. Wording changes happen here only; the renderers never hold text of their own.

import type { KpiKey } from '../kpis/kpis.js';
import { plural } from '../plural.js';
import type { ChurnBand, Edition, Locale, Recommendation, Trend } from './view-model.js';

export interface Messages {
  locale: Locale;
  title: Record<Edition, string>;
  learner: string;
  week: string;
  generated: string;
  scaleVersion: string;
  scaleUnknown: string;
  notEnoughData: string;
  sections: {
    kpis: string;
    ability: string;
    goal: string;
    churn: string;
    topics: string;
    daily: string;
    targeting: string;
    recommendations: string;
  };
  kpiLabels: Record<KpiKey, string>;
  kpiHelp: Record<KpiKey, string>;
  kpiTable: { kpi: string; thisWeek: string; lastWeek: string; change: string };
  trend: Record<Trend, string>;
  emptyWeek: string;
  noTheta: string;
  /** The goal τ is not set: no probability is shown. */
  noGoal: string;
  noGoalShort: string;
  /** Marks topic names not in the report's language. */
  nameFallback: string;
  charts: {
    kpiThisWeek: string;
    kpiLastWeek: string;
    kpiValue: string;
    improvementAxis: string;
    thetaAxis: string;
    scoreAxis: string;
    goalLine: (tau: string) => string;
    goalScoreLine: (score: string) => string;
    accuracyAxis: string;
    attemptsAxis: string;
    attempts: string;
    correct: string;
    difficultyAxis: string;
    thetaLine: (theta: string) => string;
    fitZone: string;
    weekdays: readonly string[];
    /** The count axis of a cohort's KPI distribution (the dashboard). */
    learnersAxis: string;
    thetaCaption: string;
    scoreCaption: string;
    dailyCaption: string;
    targetingCaption: string;
    topicsShown: (shown: number, total: number) => string;
  };
  ability: (theta: string, se: string, score: string, delta: string | null) => string;
  /** The learner's edition: the score, its margin of error, its change, and what a change means. */
  score: (score: string, margin: string | null, delta: number | null, deltaText: string) => string;
  scaleMeaning: (mean: string, sd: string, lo: string, hi: string) => string;
  goal: (p: string, tau: string, score: string) => string;
  goalScore: (p: string, score: string) => string;
  goalNoTheta: string;
  churnBands: Record<ChurnBand, string>;
  churn: (s: string, band: string) => string;
  topicTable: {
    topic: string;
    attempts: string;
    correct: string;
    accuracy: string;
    rt: string;
    improvement: string;
  };
  noTopics: string;
  dailyTotal: (attempts: number, correct: number, days: number) => string;
  targeting: (inZone: number, total: number, easy: number, hard: number) => string;
  targetingNoTheta: (total: number) => string;
  /** Items were answered, but none has a calibrated difficulty on the report's scale yet. */
  noDifficulties: string;
  recommendation: (r: Recommendation) => string;
  seconds: (s: string) => string;
  points: (n: string) => string;
  date: (isoDate: string) => string;
  /** Axis ticks of the θ trend. */
  shortDate: (d: Date) => string;
  /** Axis ticks of the daily chart: weekday and day of month. */
  shortWeekday: (isoDate: string) => string;
  /** The dashboard's item-bank charts (staff): axes, legends and the item flags' names. */
  itemBank: {
    difficultyAxis: string;
    discriminationAxis: string;
    testInformationAxis: string;
    informationAxis: string;
    probabilityAxis: string;
    flags: Record<'ok' | 'drift' | 'misfit' | 'overexposed' | 'inactive', string>;
    otherTopics: string;
    /** Points beyond the axes, drawn at their edge. */
    clipped: (n: number) => string;
    bLine: (b: string) => string;
    guessing: (c: string) => string;
    seBars: string;
  };
}

const ymd = (iso: string) => {
  const [y, m, d] = iso.slice(0, 10).split('-').map(Number);
  return { y, m, d, wd: new Date(Date.UTC(y, m - 1, d)).getUTCDay() };
};

const ko: Messages = {
  locale: 'ko',
  title: { learner: '주간 학습 보고서', teacher: '주간 학습 보고서 (교사용)' },
  learner: '학습자',
  week: '기간',
  generated: '작성 시각',
  scaleVersion: '척도 버전',
  scaleUnknown: '없음',
  notEnoughData: '데이터 부족',
  sections: {
    kpis: '핵심 지표',
    ability: '능력 추이',
    goal: '목표',
    churn: '이탈 위험',
    topics: '주제별 정확도',
    daily: '요일별 활동',
    targeting: '문항 난이도 적합성',
    recommendations: '추천',
  },
  kpiLabels: {
    I_t: '향상도',
    E_t: '효율성',
    R_t: '회복률',
    A_t: '참여도',
    P: '목표 달성 확률',
    S: '이탈 위험',
  },
  kpiHelp: {
    I_t: '최근 2주와 그 전 2주의 능력 변화 (−1~1)',
    E_t: '정답을 내는 시간이 지난 4주보다 빨라진 정도 (0% = 빨라지지 않음)',
    R_t: '전에 틀린 문항을 다시 맞힌 비율',
    A_t: '학습 빈도·간격·힌트·학습 시간의 종합',
    P: '목표 점수에 이미 도달했을 확률',
    S: '학습을 그만둘 위험 (높을수록 나쁨)',
  },
  kpiTable: { kpi: '지표', thisWeek: '이번 주', lastWeek: '지난주', change: '변화' },
  trend: { up: '↑ 상승', down: '↓ 하락', flat: '→ 변화 없음', none: '비교 불가' },
  emptyWeek: '이번 주에는 푼 문항이 없습니다. 아래는 지난 기록에 근거한 지표입니다.',
  noTheta: '아직 점수를 계산할 만큼 문항을 풀지 않았습니다. 문항을 더 풀면 점수가 나옵니다.',
  noGoal:
    '아직 목표 점수가 정해지지 않아 목표 달성 확률은 보여 드리지 않습니다. 선생님과 목표를 정해 보세요.',
  noGoalShort: '목표 없음',
  nameFallback: '* 한국어 이름이 없어 등록된 이름을 그대로 씁니다.',
  charts: {
    kpiThisWeek: '이번 주',
    kpiLastWeek: '지난주',
    kpiValue: '값',
    improvementAxis: '향상도 (−1~1)',
    thetaAxis: '능력 θ',
    scoreAxis: '점수',
    goalLine: (tau) => `목표 τ = ${tau}`,
    goalScoreLine: (score) => `목표 ${score}점`,
    accuracyAxis: '정확도',
    attemptsAxis: '문항 수',
    attempts: '시도',
    correct: '정답',
    difficultyAxis: '문항 난이도 b (능력 θ와 같은 척도)',
    thetaLine: (theta) => `현재 θ = ${theta}`,
    fitZone: '적합 구간 θ±1',
    weekdays: ['일', '월', '화', '수', '목', '금', '토'],
    learnersAxis: '학습자 수',
    thetaCaption: '실선과 점: 능력 추정치 θ · 음영과 세로 막대: ±1 표준오차 · 점선: 목표 τ',
    scoreCaption: '선과 점: 그날의 점수 · 음영과 세로 막대: 점수의 오차 범위 · 점선: 목표 점수',
    dailyCaption: '연한 테두리 막대: 시도한 문항 · 진한 안쪽 막대: 맞힌 문항 · 숫자: 정답/시도',
    targetingCaption:
      '막대: 난이도 구간별 문항 수 (±4 밖은 양 끝 구간에) · 굵은 세로선: 현재 능력 θ · 연한 영역: θ±1 (알맞은 난이도)',
    topicsShown: (shown, total) =>
      `주제 ${total}개 중 정확도가 낮은 ${shown}개만 그렸습니다. 전체는 아래 표에 있습니다.`,
  },
  ability: (theta, se, score, delta) =>
    `현재 능력 추정치는 θ = ${theta} (표준오차 ${se}), 점수로 ${score}점입니다.` +
    (delta === null ? '' : ` 8주 동안의 첫 추정치보다 θ가 ${delta} 달라졌습니다.`),
  score: (score, margin, delta, deltaText) =>
    `현재 점수는 ${score}점입니다${margin === null ? '' : ` (오차 ±${margin}점)`}.` +
    (delta === null
      ? ''
      : delta === 0
        ? ' 8주 동안의 첫 점수와 같습니다.'
        : ` 8주 동안의 첫 점수보다 ${deltaText}점 ${delta > 0 ? '올랐습니다' : '내려갔습니다'}.`),
  scaleMeaning: (mean, sd, lo, hi) =>
    `점수는 전체 학습자의 평균이 ${mean}점이 되도록 맞춘 척도이며, 학습자의 약 3분의 2가 ${lo}~${hi}점 사이에 있습니다. ${sd}점 오르면 학습자들 사이의 보통 차이만큼 오른 것입니다.`,
  goal: (p, tau, score) => `목표 능력 τ = ${tau} (${score}점)에 이미 도달했을 확률 P는 ${p}입니다.`,
  goalScore: (p, score) =>
    `목표 점수 ${score}점에 이미 도달했을 확률은 ${p}입니다. 100번 중 ${p.replace('%', '')}번 정도는 지금 실력이 목표 이상이라는 뜻입니다.`,
  goalNoTheta: '점수가 아직 없어 목표 달성 확률을 계산할 수 없습니다.',
  churnBands: { low: '낮음', medium: '보통', high: '높음' },
  // No particle after the number: 로/으로 would depend on how the number is read.
  churn: (s, band) => `학습을 그만둘 위험은 ${band} 단계입니다 (지수 ${s}, 0~1).`,
  topicTable: {
    topic: '주제',
    attempts: '시도',
    correct: '정답',
    accuracy: '정확도',
    rt: '응답 시간(중앙값)',
    improvement: '향상',
  },
  noTopics: '이번 주에 푼 주제가 없습니다.',
  dailyTotal: (a, c, days) => `이번 주 ${days}일 동안 ${a}문항을 풀어 ${c}문항을 맞혔습니다.`,
  targeting: (inZone, total, easy, hard) =>
    `이번 주 문항 ${total}개 중 ${inZone}개가 능력에 알맞은 난이도(θ±1)였습니다. 쉬운 문항 ${easy}개, 어려운 문항 ${hard}개.`,
  targetingNoTheta: (total) =>
    `이번 주 문항 ${total}개의 난이도입니다. 능력 추정치가 없어 적합성은 판단할 수 없습니다.`,
  noDifficulties: '이번 주에 푼 문항의 난이도가 아직 추정되지 않아 적합성을 보여 줄 수 없습니다.',
  recommendation: (r) => {
    switch (r.kind) {
      case 'come_back':
        return `최근 학습이 뜸합니다. 이번 주에 짧게라도 다시 시작해 보세요. (근거: 최근 4주 학습 ${r.sessions}회${r.last_active ? `, 마지막 학습 ${ko.date(r.last_active)}` : ''})`;
      case 'regular_practice':
        return `매일 조금씩 규칙적으로 학습하는 습관을 만들어 보세요. (근거: 최근 4주 학습 ${r.sessions}회, 참여도 낮음)`;
      case 'review_missed':
        return `전에 틀린 문항을 다시 풀어 보며 복습하세요. (근거: 전에 틀린 문항을 다시 풀어 ${formatPercent(r.recovery)}만 맞힘)`;
      case 'practise_topic':
        return `정확도가 가장 낮은 주제 ‘${r.topic}’ 문제를 더 연습하세요. (근거: 이번 주 ${r.attempts}문항 중 ${r.correct}문항 정답)`;
      case 'praise_efficiency':
        return `정답을 내는 속도가 빨라졌습니다. 잘하고 있어요! (근거: 정답 시간 ${formatPercent(r.efficiency)} 단축)`;
      case 'praise_improvement':
        return `실력이 눈에 띄게 늘었습니다. 훌륭합니다! (근거: 향상도 ${formatNumber(r.improvement, 2, true)})`;
      case 'keep_going':
        return '지금처럼 꾸준히 학습을 이어 가세요.';
    }
  },
  seconds: (s) => `${s}초`,
  points: (n) => `${n}점`,
  date: (iso) => {
    const { y, m, d, wd } = ymd(iso);
    return `${y}년 ${m}월 ${d}일(${ko.charts.weekdays[wd]})`;
  },
  shortDate: (d) => `${d.getUTCMonth() + 1}/${d.getUTCDate()}`,
  shortWeekday: (iso) => {
    const { m, d, wd } = ymd(iso);
    return `${ko.charts.weekdays[wd]} ${m}/${d}`;
  },
  itemBank: {
    difficultyAxis: '난이도 b',
    discriminationAxis: '변별도 a',
    testInformationAxis: '검사 정보량',
    informationAxis: '문항 정보량',
    probabilityAxis: '정답 확률',
    flags: {
      ok: '이상 없음',
      drift: '모수 변화',
      misfit: '부적합',
      overexposed: '과다 노출',
      inactive: '비활성',
    },
    otherTopics: '그 밖의 주제',
    clipped: (n) => `축 밖의 문항 ${n}개는 가장자리에 그렸습니다`,
    bLine: (b) => `b = ${b}`,
    guessing: (c) => `추측 c = ${c}`,
    seBars: '세로 막대: ±1 표준오차',
  },
};

/** English count with its noun: "1 day", "2 days". */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const en: Messages = {
  locale: 'en',
  title: { learner: 'Weekly learning report', teacher: "Weekly learning report (teacher's edition)" },
  learner: 'Learner',
  week: 'Week',
  generated: 'Generated',
  scaleVersion: 'Scale version',
  scaleUnknown: 'none',
  notEnoughData: 'not enough data',
  sections: {
    kpis: 'Key indicators',
    ability: 'Ability trend',
    goal: 'Goal',
    churn: 'Churn risk',
    topics: 'Accuracy by topic',
    daily: 'Daily activity',
    targeting: 'Item difficulty fit',
    recommendations: 'Recommendations',
  },
  kpiLabels: {
    I_t: 'Improvement',
    E_t: 'Efficiency',
    R_t: 'Recovery',
    A_t: 'Engagement',
    P: 'Goal-attainment probability',
    S: 'Churn risk',
  },
  kpiHelp: {
    I_t: 'ability change, 2 weeks vs the 2 before (−1 to 1)',
    E_t: 'speed-up of correct answers (0% = none)',
    R_t: 'earlier misses now answered correctly',
    A_t: 'frequency, regularity, hints and time spent',
    P: 'probability the goal score is already reached',
    S: 'risk of dropping out (higher is worse)',
  },
  kpiTable: { kpi: 'Indicator', thisWeek: 'This week', lastWeek: 'Last week', change: 'Change' },
  trend: { up: '↑ up', down: '↓ down', flat: '→ no change', none: 'no comparison' },
  emptyWeek: 'No items were answered this week. The indicators below come from earlier activity.',
  noTheta: 'Not enough items answered yet for a score. It appears once more items have been answered.',
  noGoal:
    'No goal score has been set yet, so no probability of reaching it is shown. Set one with your teacher.',
  noGoalShort: 'no goal set',
  nameFallback: '* no English name yet: shown as registered.',
  charts: {
    kpiThisWeek: 'This week',
    kpiLastWeek: 'Last week',
    kpiValue: 'Value',
    improvementAxis: 'Improvement (−1 to 1)',
    thetaAxis: 'Ability θ',
    scoreAxis: 'Score',
    goalLine: (tau) => `Goal τ = ${tau}`,
    goalScoreLine: (score) => `Goal ${score}`,
    accuracyAxis: 'Accuracy',
    attemptsAxis: 'Items',
    attempts: 'Attempted',
    correct: 'Correct',
    difficultyAxis: 'Item difficulty b (same scale as ability θ)',
    thetaLine: (theta) => `Current θ = ${theta}`,
    fitZone: 'Fit zone θ±1',
    weekdays: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'],
    learnersAxis: 'Learners',
    thetaCaption:
      'Line and points: ability estimates θ · shading and vertical bars: ±1 standard error · dashed: goal τ',
    scoreCaption:
      "Line and points: the day's score · shading and vertical bars: its margin of error · dashed: goal score",
    dailyCaption:
      'Pale outlined bars: items attempted · dark inner bars: items correct · numbers: correct/attempted',
    targetingCaption:
      'Bars: items per difficulty range (beyond ±4 in the end ranges) · thick vertical line: current ability θ · pale area: θ±1 (fitting difficulty)',
    topicsShown: (shown, total) =>
      `The ${shown} weakest of ${total} topics are drawn; the table below lists all.`,
  },
  ability: (theta, se, score, delta) =>
    `The current ability estimate is θ = ${theta} (standard error ${se}), a score of ${score}.` +
    (delta === null ? '' : ` θ changed by ${delta} since the first estimate of the last 8 weeks.`),
  score: (score, margin, delta, deltaText) =>
    `Your score is ${score}${margin === null ? '' : ` (give or take ${margin})`}.` +
    (delta === null
      ? ''
      : delta === 0
        ? ' It is the same as your first score of the last 8 weeks.'
        : ` It went ${delta > 0 ? 'up' : 'down'} ${deltaText} ${Math.abs(delta) === 1 ? 'point' : 'points'} since your first score of the last 8 weeks.`),
  scaleMeaning: (mean, sd, lo, hi) =>
    `Scores are set so that learners average ${mean}, and about two in three learners score between ${lo} and ${hi}. Going up ${sd} points is as large as the usual difference between learners.`,
  goal: (p, tau, score) =>
    `The probability P that the goal τ = ${tau} (score ${score}) has been reached is ${p}.`,
  goalScore: (p, score) =>
    `The probability that you have already reached your goal score of ${score} is ${p}: about ${p.replace('%', '')} times in 100, your current level is at or above the goal.`,
  goalNoTheta: 'Without a score yet, the probability of reaching the goal cannot be computed.',
  churnBands: { low: 'low', medium: 'medium', high: 'high' },
  churn: (s, band) => `The risk of dropping out is ${band} (index ${s}, from 0 to 1).`,
  topicTable: {
    topic: 'Topic',
    attempts: 'Attempted',
    correct: 'Correct',
    accuracy: 'Accuracy',
    rt: 'Median time',
    improvement: 'Improvement',
  },
  noTopics: 'No topic was practised this week.',
  dailyTotal: (a, c, days) =>
    `${plural(a, 'item', 'items')} answered on ${plural(days, 'day', 'days')} this week, ${c} correct.`,
  targeting: (inZone, total, easy, hard) =>
    `${inZone} of this week's ${total} items were at a fitting difficulty (θ±1); ${easy} easier, ${hard} harder.`,
  targetingNoTheta: (total) =>
    `Difficulties of this week's ${total} items. Without an ability estimate their fit cannot be judged.`,
  noDifficulties:
    "The difficulties of this week's items have not been calibrated yet, so their fit cannot be shown.",
  recommendation: (r) => {
    switch (r.kind) {
      case 'come_back':
        return `You have not practised much lately. Come back this week, even for a short session. (Based on: ${plural(r.sessions, 'session', 'sessions')} in the last 4 weeks${r.last_active ? `, last on ${en.date(r.last_active)}` : ''})`;
      case 'regular_practice':
        return `Build a habit: practise a little every day. (Based on: ${plural(r.sessions, 'session', 'sessions')} in the last 4 weeks, low engagement)`;
      case 'review_missed':
        return `Review the items you missed before. (Based on: only ${formatPercent(r.recovery)} of earlier misses answered correctly on a retry)`;
      case 'practise_topic':
        return `Practise your weakest topic, “${r.topic}”. (Based on: ${r.correct} of ${plural(r.attempts, 'item', 'items')} correct this week)`;
      case 'praise_efficiency':
        return `You answer correctly faster than before. Well done! (Based on: correct answers ${formatPercent(r.efficiency)} faster)`;
      case 'praise_improvement':
        return `You have clearly improved. Great work! (Based on: improvement ${formatNumber(r.improvement, 2, true)})`;
      case 'keep_going':
        return 'Keep practising steadily.';
    }
  },
  seconds: (s) => `${s} s`,
  points: (n) => n,
  date: (iso) => {
    const { y, m, d, wd } = ymd(iso);
    return `${en.charts.weekdays[wd]} ${d} ${MONTHS[m - 1]} ${y}`;
  },
  shortDate: (d) => `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`,
  shortWeekday: (iso) => {
    const { d, wd } = ymd(iso);
    return `${en.charts.weekdays[wd]} ${d}`;
  },
  itemBank: {
    difficultyAxis: 'Difficulty b',
    discriminationAxis: 'Discrimination a',
    testInformationAxis: 'Test information',
    informationAxis: 'Item information',
    probabilityAxis: 'P(correct)',
    flags: {
      ok: 'no flag',
      drift: 'drift',
      misfit: 'misfit',
      overexposed: 'over-exposed',
      inactive: 'inactive',
    },
    otherTopics: 'other topics',
    clipped: (n) => `${plural(n, 'item', 'items')} beyond the axes drawn at the edge`,
    bLine: (b) => `b = ${b}`,
    guessing: (c) => `guessing c = ${c}`,
    seBars: 'vertical bars: ±1 standard error',
  },
};

/** The catalogue of a locale; anything but 'en' gets Korean, the default. */
export function messages(locale: string | null | undefined): Messages {
  return locale === 'en' ? en : ko;
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();
/** The wall clock of an instant in a time zone, as `YYYY-MM-DDTHH:MM`. */
export function localDateTime(iso: string, timeZone: string): string {
  let f = zoneFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    zoneFormats.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

/** `YYYY-MM-DD HH:MM (zone)`: the learner's wall clock, naming the zone; free of the host's zone. */
export function formatTimestamp(iso: string, timeZone: string): string {
  return `${localDateTime(iso, timeZone).replace('T', ' ')} (${timeZone})`;
}

/** Numbers with a true minus sign, so negative values read clearly in print. */
export function formatNumber(x: number, digits = 2, signed = false): string {
  const s = Math.abs(x).toFixed(digits);
  if (Number(s) === 0) return (0).toFixed(digits);
  return (x < 0 ? '−' : signed ? '+' : '') + s;
}

export function formatPercent(x: number): string {
  return `${Math.round(x * 100)}%`;
}
