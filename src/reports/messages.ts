// The report's one message catalogue: every label, sentence and axis title, in Korean (the default)
// and English. Wording changes happen here only; the renderers never hold text of their own.
import type { ChurnBand, KpiKey, Locale, Recommendation, Trend } from './view-model.js';

export interface Messages {
  locale: Locale;
  title: string;
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
  charts: {
    kpiThisWeek: string;
    kpiLastWeek: string;
    kpiValue: string;
    improvementAxis: string;
    thetaAxis: string;
    goalLine: (tau: string) => string;
    accuracyAxis: string;
    attemptsAxis: string;
    attempts: string;
    correct: string;
    difficultyAxis: string;
    thetaLine: (theta: string) => string;
    fitZone: string;
    weekdays: readonly string[];
    thetaCaption: string;
    dailyCaption: string;
    targetingCaption: string;
    topicsShown: (shown: number, total: number) => string;
  };
  ability: (theta: string, se: string, delta: string | null) => string;
  goal: (p: string, tau: string) => string;
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
  date: (isoDate: string) => string;
  /** Axis ticks of the θ trend. */
  shortDate: (d: Date) => string;
  /** Axis ticks of the daily chart: weekday and day of month. */
  shortWeekday: (isoDate: string) => string;
}

const pad = (n: number) => String(n).padStart(2, '0');
const ymd = (iso: string) => {
  const [y, m, d] = iso.slice(0, 10).split('-').map(Number);
  return { y, m, d, wd: new Date(Date.UTC(y, m - 1, d)).getUTCDay() };
};

const ko: Messages = {
  locale: 'ko',
  title: '주간 학습 보고서',
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
    E_t: '정답 응답 시간이 빨라진 정도',
    R_t: '전에 틀린 문항을 다시 맞힌 비율',
    A_t: '학습 빈도·간격·힌트·학습 시간의 종합',
    P: '목표 능력에 도달했을 확률',
    S: '학습을 그만둘 위험 (높을수록 나쁨)',
  },
  kpiTable: { kpi: '지표', thisWeek: '이번 주', lastWeek: '지난주', change: '변화' },
  trend: { up: '↑ 상승', down: '↓ 하락', flat: '→ 변화 없음', none: '비교 불가' },
  emptyWeek: '이번 주에는 푼 문항이 없습니다. 아래는 지난 기록에 근거한 지표입니다.',
  noTheta: '아직 능력 추정치가 없습니다. 문항을 더 풀면 능력(θ)이 추정됩니다.',
  charts: {
    kpiThisWeek: '이번 주',
    kpiLastWeek: '지난주',
    kpiValue: '값',
    improvementAxis: '향상도 (−1~1)',
    thetaAxis: '능력 θ',
    goalLine: (tau) => `목표 τ = ${tau}`,
    accuracyAxis: '정확도',
    attemptsAxis: '문항 수',
    attempts: '시도',
    correct: '정답',
    difficultyAxis: '문항 난이도 b (능력 θ와 같은 척도)',
    thetaLine: (theta) => `현재 θ = ${theta}`,
    fitZone: '적합 구간 θ±1',
    weekdays: ['일', '월', '화', '수', '목', '금', '토'],
    thetaCaption: '실선과 점: 능력 추정치 · 음영과 세로 막대: ±1 표준오차 · 점선: 목표 τ',
    dailyCaption: '연한 테두리 막대: 시도한 문항 · 진한 안쪽 막대: 맞힌 문항 · 숫자: 정답/시도',
    targetingCaption:
      '막대: 난이도 구간별 문항 수 (±4 밖은 양 끝 구간에) · 굵은 세로선: 현재 능력 θ · 연한 영역: θ±1 (알맞은 난이도)',
    topicsShown: (shown, total) =>
      `주제 ${total}개 중 정확도가 낮은 ${shown}개만 그렸습니다. 전체는 아래 표에 있습니다.`,
  },
  ability: (theta, se, delta) =>
    `현재 능력 추정치는 θ = ${theta} (표준오차 ${se})입니다.` +
    (delta === null ? '' : ` 8주 전 첫 추정치보다 ${delta} 달라졌습니다.`),
  goal: (p, tau) => `목표 능력 τ = ${tau}에 이미 도달했을 확률은 ${p}입니다.`,
  goalNoTheta: '능력 추정치가 없어 목표 달성 확률을 계산할 수 없습니다.',
  churnBands: { low: '낮음', medium: '보통', high: '높음' },
  // No particle after the number: 로/으로 would depend on how the number is read.
  churn: (s, band) => `이탈 위험 지수 ${s}: 「${band}」 단계입니다.`,
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
        return '최근 학습이 뜸합니다. 이번 주에 짧게라도 다시 시작해 보세요.';
      case 'regular_practice':
        return '매일 조금씩 규칙적으로 학습하는 습관을 만들어 보세요.';
      case 'review_missed':
        return '전에 틀린 문항을 다시 풀어 보며 복습하세요.';
      case 'practise_topic':
        return `정확도가 가장 낮은 주제 「${r.topic}」(${Math.round(r.accuracy * 100)}%)를 더 연습하세요.`;
      case 'praise_efficiency':
        return '정답을 내는 속도가 빨라졌습니다. 잘하고 있어요!';
      case 'praise_improvement':
        return '능력이 눈에 띄게 향상되었습니다. 훌륭합니다!';
      case 'keep_going':
        return '지금처럼 꾸준히 학습을 이어 가세요.';
    }
  },
  seconds: (s) => `${s}초`,
  date: (iso) => {
    const { y, m, d, wd } = ymd(iso);
    return `${y}년 ${m}월 ${d}일(${ko.charts.weekdays[wd]})`;
  },
  shortDate: (d) => `${d.getUTCMonth() + 1}/${d.getUTCDate()}`,
  shortWeekday: (iso) => {
    const { m, d, wd } = ymd(iso);
    return `${ko.charts.weekdays[wd]} ${m}/${d}`;
  },
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const en: Messages = {
  locale: 'en',
  title: 'Weekly learning report',
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
    I_t: 'change in ability, last 2 weeks vs the 2 before (−1 to 1)',
    E_t: 'how much faster correct answers became',
    R_t: 'share of previously missed items now answered correctly',
    A_t: 'frequency, regularity, hints and time spent',
    P: 'probability the goal ability is reached',
    S: 'risk of dropping out (higher is worse)',
  },
  kpiTable: { kpi: 'Indicator', thisWeek: 'This week', lastWeek: 'Last week', change: 'Change' },
  trend: { up: '↑ up', down: '↓ down', flat: '→ no change', none: 'no comparison' },
  emptyWeek: 'No items were answered this week. The indicators below come from earlier activity.',
  noTheta: 'No ability estimate yet: θ is estimated once more items have been answered.',
  charts: {
    kpiThisWeek: 'This week',
    kpiLastWeek: 'Last week',
    kpiValue: 'Value',
    improvementAxis: 'Improvement (−1 to 1)',
    thetaAxis: 'Ability θ',
    goalLine: (tau) => `Goal τ = ${tau}`,
    accuracyAxis: 'Accuracy',
    attemptsAxis: 'Items',
    attempts: 'Attempted',
    correct: 'Correct',
    difficultyAxis: 'Item difficulty b (same scale as ability θ)',
    thetaLine: (theta) => `Current θ = ${theta}`,
    fitZone: 'Fit zone θ±1',
    weekdays: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'],
    thetaCaption:
      'Line and points: ability estimates · shading and vertical bars: ±1 standard error · dashed: goal τ',
    dailyCaption:
      'Pale outlined bars: items attempted · dark inner bars: items correct · numbers: correct/attempted',
    targetingCaption:
      'Bars: items per difficulty range (beyond ±4 in the end ranges) · thick vertical line: current ability θ · pale area: θ±1 (fitting difficulty)',
    topicsShown: (shown, total) =>
      `The ${shown} weakest of ${total} topics are drawn; the table below lists all.`,
  },
  ability: (theta, se, delta) =>
    `The current ability estimate is θ = ${theta} (standard error ${se}).` +
    (delta === null ? '' : ` It changed by ${delta} since the first estimate of the last 8 weeks.`),
  goal: (p, tau) => `The probability that the goal ability τ = ${tau} has been reached is ${p}.`,
  goalNoTheta: 'Without an ability estimate the goal-attainment probability cannot be computed.',
  churnBands: { low: 'low', medium: 'medium', high: 'high' },
  churn: (s, band) => `The churn risk is ${s}: ${band}.`,
  topicTable: {
    topic: 'Topic',
    attempts: 'Attempted',
    correct: 'Correct',
    accuracy: 'Accuracy',
    rt: 'Median time',
    improvement: 'Improvement',
  },
  noTopics: 'No topic was practised this week.',
  dailyTotal: (a, c, days) => `${a} items answered on ${days} days this week, ${c} correct.`,
  targeting: (inZone, total, easy, hard) =>
    `${inZone} of this week's ${total} items were at a fitting difficulty (θ±1); ${easy} easier, ${hard} harder.`,
  targetingNoTheta: (total) =>
    `Difficulties of this week's ${total} items. Without an ability estimate their fit cannot be judged.`,
  noDifficulties:
    "The difficulties of this week's items have not been calibrated yet, so their fit cannot be shown.",
  recommendation: (r) => {
    switch (r.kind) {
      case 'come_back':
        return 'You have not practised much lately. Come back this week, even for a short session.';
      case 'regular_practice':
        return 'Build a habit: practise a little every day.';
      case 'review_missed':
        return 'Review the items you missed before.';
      case 'practise_topic':
        return `Practise your weakest topic, “${r.topic}” (${Math.round(r.accuracy * 100)}%).`;
      case 'praise_efficiency':
        return 'You answer correctly faster than before. Well done!';
      case 'praise_improvement':
        return 'Your ability has clearly improved. Great work!';
      case 'keep_going':
        return 'Keep practising steadily.';
    }
  },
  seconds: (s) => `${s} s`,
  date: (iso) => {
    const { y, m, d, wd } = ymd(iso);
    return `${en.charts.weekdays[wd]} ${d} ${MONTHS[m - 1]} ${y}`;
  },
  shortDate: (d) => `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`,
  shortWeekday: (iso) => {
    const { d, wd } = ymd(iso);
    return `${en.charts.weekdays[wd]} ${d}`;
  },
};

/** The catalogue of a locale; anything but 'en' gets Korean, the default. */
export function messages(locale: string | null | undefined): Messages {
  return locale === 'en' ? en : ko;
}

/** `YYYY-MM-DD HH:MM UTC` for timestamps: the same in both languages and free of the host's time zone. */
export function formatTimestamp(iso: string): string {
  const t = new Date(iso);
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())} ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())} UTC`;
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
