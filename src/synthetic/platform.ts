// The synthetic platform: a deterministic, seeded, pure generator of topics, an item bank with known
// true IRT parameters, learners whose true ability grows week by week, and their sessions and
// attempts. No I/O: callers insert the rows. See docs/synthetic.md for the model and its parameters.
import { InvalidInputError } from '../user-error.js';

const SECOND_MS = 1_000;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** Asia/Seoul is UTC+9 all year (no daylight saving time). */
const KST_OFFSET_MS = 9 * HOUR_MS;

export type IrtModel = '2PL' | '3PL';

export interface GeneratePlatformOptions {
  seed: number;
  learners: number;
  weeks: number;
  /** Size of the item bank; at least `topics`. */
  items: number;
  /** Number of topics, 1..16; default 10. */
  topics?: number;
  /** Monday 00:00 UTC: the first day of week 0. */
  start: Date;
  /** Default '2PL'. */
  model?: IrtModel;
  /** Also write the true parameters into `item.meta.irt` (as prior parameters); default false. */
  priorMeta?: boolean;
}

export interface TopicRow {
  topic_id: string;
  name: string;
  /** The name in each report language. */
  name_ko: string;
  name_en: string;
  subject: string;
}

export interface ItemParams {
  a: number;
  b: number;
  /** 0 for 2PL. */
  c: number;
}

export interface ItemRow {
  item_id: string;
  topic_id: string;
  tags: string[];
  meta: { irt?: ItemParams };
}

export interface LearnerRow {
  user_id: string;
  display_name: string | null;
  locale: 'ko' | 'en';
  org_id: string | null;
}

export interface GoalRow {
  user_id: string;
  target_theta: number;
  /** UTC date `YYYY-MM-DD`. */
  target_date: string | null;
}

export type SessionStatus = 'open' | 'completed' | 'abandoned';

export interface SessionRow {
  session_id: string;
  user_id: string;
  exam_id: string | null;
  status: SessionStatus;
  started_at: Date;
  /** Set only for completed sessions. */
  completed_at: Date | null;
}

export interface AttemptRow {
  session_id: string;
  user_id: string;
  item_id: string;
  topic_id: string;
  correct: boolean;
  response_time_ms: number | null;
  hints: number;
  answered_at: Date;
  client_attempt_id: string;
}

export interface LearnerTruth {
  theta0: number;
  growthPerWeek: number;
  /** θ during UTC week w (constant within the week): theta0 + growthPerWeek·w, for every week. */
  thetaByWeek: number[];
  /** First week the learner may be active. */
  joinWeek: number;
  /** First week with no activity for good; null when the learner never churns. */
  churnWeek: number | null;
  /** Mean sessions per active week. */
  sessionsPerWeek: number;
}

/** Everything generated for one learner: the unit of streaming. */
export interface LearnerRecords {
  learner: LearnerRow;
  goal: GoalRow | null;
  truth: LearnerTruth;
  sessions: SessionRow[];
  attempts: AttemptRow[];
}

export interface PlatformStream {
  model: IrtModel;
  topics: TopicRow[];
  items: ItemRow[];
  itemTruth: Map<string, ItemParams>;
  /** Yields the learners in order; each call starts again and yields the same records. */
  learners(): Generator<LearnerRecords>;
}

export interface SyntheticPlatform {
  topics: TopicRow[];
  items: ItemRow[];
  learners: LearnerRow[];
  goals: GoalRow[];
  sessions: SessionRow[];
  attempts: AttemptRow[];
  truth: {
    model: IrtModel;
    items: Map<string, ItemParams>;
    learners: Map<string, LearnerTruth>;
    /** user_ids of learners with a churn week. */
    churned: string[];
  };
}

/** The true response model (logistic, D = 1, as mirt). */
export function probabilityCorrect(item: ItemParams, theta: number): number {
  return item.c + (1 - item.c) / (1 + Math.exp(-item.a * (theta - item.b)));
}

/** The learner's true θ at an instant inside the generated weeks. */
export function trueThetaAt(truth: LearnerTruth, start: Date, at: Date): number {
  const week = Math.floor((at.getTime() - start.getTime()) / WEEK_MS);
  if (week < 0 || week >= truth.thetaByWeek.length) {
    throw new InvalidInputError(`${at.toISOString()} is outside the generated weeks`);
  }
  return truth.thetaByWeek[week];
}

/** Collects the whole platform into arrays. Beyond a few thousand learners prefer streamPlatform. */
export function generatePlatform(opts: GeneratePlatformOptions): SyntheticPlatform {
  const stream = streamPlatform(opts);
  const out: SyntheticPlatform = {
    topics: stream.topics,
    items: stream.items,
    learners: [],
    goals: [],
    sessions: [],
    attempts: [],
    truth: { model: stream.model, items: stream.itemTruth, learners: new Map(), churned: [] },
  };
  for (const rec of stream.learners()) {
    out.learners.push(rec.learner);
    if (rec.goal) out.goals.push(rec.goal);
    for (const s of rec.sessions) out.sessions.push(s);
    for (const a of rec.attempts) out.attempts.push(a);
    out.truth.learners.set(rec.learner.user_id, rec.truth);
    if (rec.truth.churnWeek !== null) out.truth.churned.push(rec.learner.user_id);
  }
  return out;
}

/**
 * Builds the topics and the item bank at once and generates learners lazily, one at a time, each
 * from its own PRNG stream: memory stays bounded at any number of learners.
 */
export function streamPlatform(opts: GeneratePlatformOptions): PlatformStream {
  validate(opts);
  const bank = buildBank(opts);
  const padLen = Math.max(5, String(opts.learners).length);
  return {
    model: bank.model,
    topics: bank.topics,
    items: bank.items,
    itemTruth: bank.truth,
    *learners() {
      for (let i = 0; i < opts.learners; i++) yield generateLearner(opts, bank, i, padLen);
    },
  };
}

function validate(opts: GeneratePlatformOptions): void {
  const topics = opts.topics ?? DEFAULT_TOPICS;
  if (!Number.isSafeInteger(opts.seed)) throw new InvalidInputError('seed must be a safe integer');
  if (!Number.isInteger(opts.learners) || opts.learners < 0) {
    throw new InvalidInputError('learners must be an integer >= 0');
  }
  if (!Number.isInteger(opts.weeks) || opts.weeks < 1)
    throw new InvalidInputError('weeks must be an integer >= 1');
  if (!Number.isInteger(topics) || topics < 1 || topics > TOPIC_CATALOGUE.length) {
    throw new InvalidInputError(`topics must be an integer in 1..${TOPIC_CATALOGUE.length}`);
  }
  if (!Number.isInteger(opts.items) || opts.items < topics) {
    throw new InvalidInputError('items must be an integer >= topics');
  }
  const t = opts.start.getTime();
  if (Number.isNaN(t) || opts.start.getUTCDay() !== 1 || t % DAY_MS !== 0) {
    throw new InvalidInputError('start must be a Monday at 00:00 UTC');
  }
  if (opts.model !== undefined && opts.model !== '2PL' && opts.model !== '3PL') {
    throw new InvalidInputError("model must be '2PL' or '3PL'");
  }
}

// ---- PRNG ------------------------------------------------------------------------------------

function fmix32(x: number): number {
  let h = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Independent streams per (seed, purpose, index), so a learner does not depend on the others. */
function streamSeed(seed: number, purpose: number, index: number): number {
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  let h = fmix32((seed >>> 0) ^ 0x243f6a88);
  h = fmix32(h ^ hi);
  h = fmix32(h ^ Math.imul(purpose + 1, 0x9e3779b1));
  return fmix32(h ^ Math.imul(index + 1, 0x85ebca77));
}

/** xoshiro128** seeded through splitmix32. */
class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    let x = seed >>> 0;
    const split = () => {
      x = (x + 0x9e3779b9) >>> 0;
      return fmix32(x);
    };
    this.s0 = split();
    this.s1 = split();
    this.s2 = split();
    this.s3 = split();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const s1 = this.s1;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Box–Muller, keeping the second variate. */
  normal(mean = 0, sd = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + sd * z;
    }
    const u = 1 - this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const phi = 2 * Math.PI * this.next();
    this.spareNormal = r * Math.sin(phi);
    return mean + sd * r * Math.cos(phi);
  }

  /** Knuth's method: λ here is a few sessions per week. */
  poisson(lambda: number): number {
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  /** Beta with integer shapes, as a ratio of Gamma(α), Gamma(β) sums of exponentials. */
  betaInt(alpha: number, beta: number): number {
    let x = 0;
    for (let i = 0; i < alpha; i++) x -= Math.log(1 - this.next());
    let y = 0;
    for (let i = 0; i < beta; i++) y -= Math.log(1 - this.next());
    return x / (x + y);
  }

  /** Index drawn from a cumulative-weight table. */
  pickCumulative(cum: readonly number[]): number {
    const u = this.next() * cum[cum.length - 1];
    let i = 0;
    while (cum[i] <= u) i++;
    return i;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

const STREAM_BANK = 1;
const STREAM_LEARNER = 2;

// ---- Catalogue -------------------------------------------------------------------------------

const DEFAULT_TOPICS = 10;

/** 수능 (CSAT) preparation areas; `difficulty` shifts the topic's mean item difficulty. */
const TOPIC_CATALOGUE: readonly (TopicRow & { difficulty: number })[] = [
  {
    topic_id: 'math-calculus',
    name: '수학 — 미적분',
    name_ko: '수학 — 미적분',
    name_en: 'Mathematics — Calculus',
    subject: 'Mathematics',
    difficulty: 0.5,
  },
  {
    topic_id: 'kor-reading',
    name: '국어 — 독서',
    name_ko: '국어 — 독서',
    name_en: 'Korean — Reading',
    subject: 'Korean',
    difficulty: 0.1,
  },
  {
    topic_id: 'eng-reading',
    name: '영어 — 독해',
    name_ko: '영어 — 독해',
    name_en: 'English — Reading',
    subject: 'English',
    difficulty: -0.1,
  },
  {
    topic_id: 'math-prob-stats',
    name: '수학 — 확률과 통계',
    name_ko: '수학 — 확률과 통계',
    name_en: 'Mathematics — Probability and Statistics',
    subject: 'Mathematics',
    difficulty: 0.1,
  },
  {
    topic_id: 'kor-literature',
    name: '국어 — 문학',
    name_ko: '국어 — 문학',
    name_en: 'Korean — Literature',
    subject: 'Korean',
    difficulty: -0.2,
  },
  {
    topic_id: 'eng-grammar',
    name: '영어 — 어법·어휘',
    name_ko: '영어 — 어법·어휘',
    name_en: 'English — Grammar and Vocabulary',
    subject: 'English',
    difficulty: 0.2,
  },
  {
    topic_id: 'math-1',
    name: '수학 — 수학 I',
    name_ko: '수학 — 수학 I',
    name_en: 'Mathematics — Math I',
    subject: 'Mathematics',
    difficulty: 0.0,
  },
  {
    topic_id: 'sci-physics-1',
    name: '과학탐구 — 물리학 I',
    name_ko: '과학탐구 — 물리학 I',
    name_en: 'Science — Physics I',
    subject: 'Science',
    difficulty: 0.4,
  },
  {
    topic_id: 'hist-modern',
    name: '한국사 — 근현대사',
    name_ko: '한국사 — 근현대사',
    name_en: 'Korean History — Modern and Contemporary',
    subject: 'Korean History',
    difficulty: -0.5,
  },
  {
    topic_id: 'math-2',
    name: '수학 — 수학 II',
    name_ko: '수학 — 수학 II',
    name_en: 'Mathematics — Math II',
    subject: 'Mathematics',
    difficulty: 0.2,
  },
  {
    topic_id: 'sci-chemistry-1',
    name: '과학탐구 — 화학 I',
    name_ko: '과학탐구 — 화학 I',
    name_en: 'Science — Chemistry I',
    subject: 'Science',
    difficulty: 0.3,
  },
  {
    topic_id: 'soc-ethics',
    name: '사회탐구 — 생활과 윤리',
    name_ko: '사회탐구 — 생활과 윤리',
    name_en: 'Social Studies — Ethics and Ideas',
    subject: 'Social Studies',
    difficulty: -0.3,
  },
  {
    topic_id: 'kor-language-media',
    name: '국어 — 언어와 매체',
    name_ko: '국어 — 언어와 매체',
    name_en: 'Korean — Language and Media',
    subject: 'Korean',
    difficulty: 0.0,
  },
  {
    topic_id: 'math-geometry',
    name: '수학 — 기하',
    name_ko: '수학 — 기하',
    name_en: 'Mathematics — Geometry',
    subject: 'Mathematics',
    difficulty: 0.6,
  },
  {
    topic_id: 'sci-biology-1',
    name: '과학탐구 — 생명과학 I',
    name_ko: '과학탐구 — 생명과학 I',
    name_en: 'Science — Life Science I',
    subject: 'Science',
    difficulty: 0.2,
  },
  {
    topic_id: 'eng-listening',
    name: '영어 — 듣기',
    name_ko: '영어 — 듣기',
    name_en: 'English — Listening',
    subject: 'English',
    difficulty: -0.6,
  },
];

const ORGS = [
  'org-seoul-daechi',
  'org-seoul-mokdong',
  'org-seoul-nowon',
  'org-busan-haeundae',
  'org-daegu-suseong',
  'org-incheon-songdo',
];
// Repeats approximate the frequency of the commonest Korean surnames.
const KO_SURNAMES = [...'김김김김이이이박박최정강조윤장임한오서신권황안송홍'];
const KO_SYLLABLES = [...'민서지현준우예은도하윤수연유진시아채주원건소다재태린'];
const EN_FIRST = ['Emma', 'Liam', 'Olivia', 'Noah', 'Ava', 'Ethan', 'Mia', 'Lucas', 'Sophia', 'Daniel'];
const EN_LAST = ['Kim', 'Lee', 'Park', 'Choi', 'Jung', 'Smith', 'Brown', 'Garcia', 'Wilson', 'Taylor'];

// ---- Item bank -------------------------------------------------------------------------------

interface Bank {
  model: IrtModel;
  topics: TopicRow[];
  items: ItemRow[];
  truth: Map<string, ItemParams>;
  a: Float64Array;
  b: Float64Array;
  c: Float64Array;
  topicOf: Int32Array;
  /** Per topic: item indices sorted by b, and those b values, for nearest-difficulty lookup. */
  byTopic: { idx: Int32Array; b: Float64Array }[];
  /** Stamp per item of the last session that used it: avoids a Set per session. */
  usedStamp: Int32Array;
  stamp: number;
}

const ANCHOR_SHARE = 0.1;

function buildBank(opts: GeneratePlatformOptions): Bank {
  const rng = new Rng(streamSeed(opts.seed, STREAM_BANK, 0));
  const model = opts.model ?? '2PL';
  const nTopics = opts.topics ?? DEFAULT_TOPICS;
  const topicDefs = TOPIC_CATALOGUE.slice(0, nTopics);
  const topics = topicDefs.map(({ difficulty: _, ...topic }) => topic);
  const topicMeanB = topicDefs.map((t) => t.difficulty + rng.normal(0, 0.15));

  const n = opts.items;
  const anchors = new Uint8Array(n);
  const order = Array.from({ length: n }, (_, i) => i);
  const nAnchors = Math.round(n * ANCHOR_SHARE);
  // Partial Fisher–Yates: the first nAnchors of a random permutation.
  for (let i = 0; i < nAnchors; i++) {
    const j = i + rng.int(n - i);
    [order[i], order[j]] = [order[j], order[i]];
    anchors[order[i]] = 1;
  }

  const a = new Float64Array(n);
  const b = new Float64Array(n);
  const c = new Float64Array(n);
  const topicOf = new Int32Array(n);
  const items: ItemRow[] = [];
  const truth = new Map<string, ItemParams>();
  const idWidth = Math.max(4, String(n).length);
  for (let i = 0; i < n; i++) {
    const t = i % nTopics;
    topicOf[i] = t;
    // Rounded so the truth is what a reader sees in meta and logs.
    a[i] = round3(Math.min(3, Math.max(0.35, 1.2 * Math.exp(rng.normal(0, 0.3)))));
    b[i] = round3(Math.min(3.5, Math.max(-3.5, rng.normal(topicMeanB[t], 0.9))));
    c[i] = model === '3PL' ? round3(rng.betaInt(5, 17)) : 0;
    const params = { a: a[i], b: b[i], c: c[i] };
    const item_id = `itm-${String(i + 1).padStart(idWidth, '0')}`;
    truth.set(item_id, params);
    items.push({
      item_id,
      topic_id: topics[t].topic_id,
      tags: anchors[i] ? ['anchor'] : [],
      meta: opts.priorMeta ? { irt: { ...params } } : {},
    });
  }

  const byTopic = topics.map((_, t) => {
    const idx = Int32Array.from(order.filter((i) => topicOf[i] === t).sort((x, y) => b[x] - b[y] || x - y));
    return { idx, b: Float64Array.from(idx, (i) => b[i]) };
  });
  return { model, topics, items, truth, a, b, c, topicOf, byTopic, usedStamp: new Int32Array(n), stamp: 0 };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The unused item of topic t whose b is nearest to target, or -1 when the topic is exhausted. */
function nearestUnused(bank: Bank, t: number, target: number): number {
  const { idx, b } = bank.byTopic[t];
  let lo = 0;
  let hi = idx.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (b[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  let left = lo - 1;
  let right = lo;
  while (left >= 0 || right < idx.length) {
    const takeRight = left < 0 || (right < idx.length && b[right] - target <= target - b[left]);
    const pos = takeRight ? right++ : left--;
    if (bank.usedStamp[idx[pos]] !== bank.stamp) return idx[pos];
  }
  return -1;
}

// ---- Learners --------------------------------------------------------------------------------

const JOIN_LATE_SHARE = 0.15;
const CHURN_SHARE = 0.2;
const GOAL_SHARE = 0.4;
const REVIEW_SHARE = 0.12;
const RT_NULL_SHARE = 0.03;
const MAX_HINTS = 3;

// Relative session propensity per KST weekday, Monday first: weekends are busiest, Friday quietest.
const DAY_CUM = cumulative([1.0, 1.0, 1.0, 0.95, 0.75, 1.5, 1.6]);
// Relative propensity per KST hour: school hours are quiet on weekdays; evenings peak at 21:00.
const WEEKDAY_HOUR_CUM = cumulative([
  0.6, 0.3, 0.1, 0, 0, 0, 0.1, 0.3, 0.2, 0.2, 0.2, 0.2, 0.4, 0.3, 0.4, 0.7, 1.1, 1.4, 1.5, 2, 2.6, 3, 2.6,
  1.4,
]);
const WEEKEND_HOUR_CUM = cumulative([
  0.6, 0.3, 0.1, 0, 0, 0, 0, 0.2, 0.5, 1, 1.4, 1.5, 1.2, 1.4, 1.6, 1.6, 1.5, 1.4, 1.3, 1.6, 2, 2.2, 1.8, 1.1,
]);

function cumulative(ws: number[]): number[] {
  let s = 0;
  return ws.map((w) => {
    s += w;
    return s;
  });
}

interface Profile {
  theta: number[];
  speed: number;
  logHintiness: number;
  topicCum: number[];
  /** Recently missed items, revisited in review questions (this is what R_t measures). */
  missed: number[];
}

function generateLearner(
  opts: GeneratePlatformOptions,
  bank: Bank,
  index: number,
  padLen: number,
): LearnerRecords {
  const rng = new Rng(streamSeed(opts.seed, STREAM_LEARNER, index));
  const user_id = `u-${String(index + 1).padStart(padLen, '0')}`;
  const locale = rng.chance(0.08) ? 'en' : 'ko';
  const display_name = rng.chance(0.03) ? null : personName(rng, locale);
  const org_id = rng.chance(0.15) ? null : rng.pick(ORGS);
  const learner: LearnerRow = { user_id, display_name, locale, org_id };

  const theta0 = round3(rng.normal(-0.25, 1));
  const growthPerWeek = round3(rng.normal(0.06, 0.05));
  const sessionsPerWeek = round3(Math.min(12, Math.max(0.2, 2.2 * Math.exp(rng.normal(0, 0.55)))));
  const weeks = opts.weeks;
  const joinWeek = weeks > 1 && rng.chance(JOIN_LATE_SHARE) ? rng.between(1, Math.floor(weeks / 2)) : 0;
  const churnWeek =
    weeks - joinWeek >= 2 && rng.chance(CHURN_SHARE) ? rng.between(joinWeek + 1, weeks - 1) : null;
  const thetaByWeek = Array.from({ length: weeks }, (_, w) => theta0 + growthPerWeek * w);
  const truth: LearnerTruth = { theta0, growthPerWeek, thetaByWeek, joinWeek, churnWeek, sessionsPerWeek };

  const goal: GoalRow | null = rng.chance(GOAL_SHARE)
    ? {
        user_id,
        target_theta: Math.round((theta0 + 0.3 + 1.2 * rng.next()) * 10) / 10,
        target_date: rng.chance(0.3)
          ? null
          : isoDate(opts.start.getTime() + (weeks + rng.between(0, 8)) * WEEK_MS),
      }
    : null;

  const profile: Profile = {
    theta: thetaByWeek,
    speed: rng.normal(0, 0.25),
    logHintiness: rng.normal(0, 0.5),
    topicCum: cumulative(bank.topics.map(() => Math.exp(rng.normal(0, 1)))),
    missed: [],
  };

  const sessions: SessionRow[] = [];
  const attempts: AttemptRow[] = [];
  const startMs = opts.start.getTime();
  for (let w = joinWeek; w < (churnWeek ?? weeks); w++) {
    const weekStart = startMs + w * WEEK_MS;
    const weekEnd = weekStart + WEEK_MS;
    // A week-level mood: busy and quiet weeks around the learner's mean.
    const n = rng.poisson(sessionsPerWeek * Math.exp(rng.normal(0, 0.3)));
    const offsets = Array.from({ length: n }, () => sessionOffset(rng)).sort((x, y) => x - y);
    let prevEnd = -Infinity;
    for (const offset of offsets) {
      const draft = draftSession(rng, bank, profile, w);
      // Sessions of one learner never overlap and stay inside their UTC week.
      let started = Math.max(weekStart + offset, prevEnd + 5 * MINUTE_MS);
      if (started + draft.durationMs >= weekEnd) started = weekEnd - draft.durationMs - SECOND_MS;
      if (started < prevEnd + MINUTE_MS) continue;
      prevEnd = started + draft.durationMs;
      const session_id = `${user_id}-s${String(sessions.length + 1).padStart(3, '0')}`;
      sessions.push({
        session_id,
        user_id,
        exam_id: draft.examId,
        status: draft.status,
        started_at: new Date(started),
        completed_at: draft.status === 'completed' ? new Date(prevEnd) : null,
      });
      for (let j = 0; j < draft.answers.length; j++) {
        const ans = draft.answers[j];
        attempts.push({
          session_id,
          user_id,
          item_id: bank.items[ans.item].item_id,
          topic_id: bank.items[ans.item].topic_id,
          correct: ans.correct,
          response_time_ms: ans.rtMs,
          hints: ans.hints,
          answered_at: new Date(started + ans.atMs),
          client_attempt_id: `${session_id}-a${j + 1}`,
        });
        if (!ans.correct) remember(profile.missed, ans.item);
      }
    }
  }
  return { learner, goal, truth, sessions, attempts };
}

function remember(missed: number[], item: number): void {
  if (missed.includes(item)) return;
  missed.push(item);
  if (missed.length > 40) missed.shift();
}

function personName(rng: Rng, locale: 'ko' | 'en'): string {
  if (locale === 'en') return `${rng.pick(EN_FIRST)} ${rng.pick(EN_LAST)}`;
  return rng.pick(KO_SURNAMES) + rng.pick(KO_SYLLABLES) + rng.pick(KO_SYLLABLES);
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * Offset of a session start from the UTC week start. Day and hour are drawn in Seoul time; the
 * instant is wrapped into the same UTC week, which keeps the weekly KST pattern cyclically intact.
 */
function sessionOffset(rng: Rng): number {
  const day = rng.pickCumulative(DAY_CUM);
  const hour = rng.pickCumulative(day >= 5 ? WEEKEND_HOUR_CUM : WEEKDAY_HOUR_CUM);
  const kst = day * DAY_MS + hour * HOUR_MS + rng.int(60) * MINUTE_MS + rng.int(60) * SECOND_MS;
  const utc = kst - KST_OFFSET_MS;
  return utc < 0 ? utc + WEEK_MS : utc;
}

interface Answer {
  item: number;
  correct: boolean;
  rtMs: number | null;
  hints: number;
  /** Offset of answered_at from the session start. */
  atMs: number;
}

interface Draft {
  examId: string | null;
  status: SessionStatus;
  answers: Answer[];
  /** From start to completed_at (completed) or to when the learner left (otherwise). */
  durationMs: number;
}

const EXAM_KINDS = [
  { examId: 'adaptive-practice', share: 0.6, topics: [1, 3], items: [10, 30] },
  { examId: 'topic-drill', share: 0.25, topics: [1, 1], items: [10, 25] },
  { examId: 'mock-exam', share: 0.15, topics: [3, 3], items: [25, 40] },
] as const;
const EXAM_CUM = cumulative(EXAM_KINDS.map((k) => k.share));

function draftSession(rng: Rng, bank: Bank, p: Profile, week: number): Draft {
  const kind = EXAM_KINDS[rng.pickCumulative(EXAM_CUM)];
  // Old app versions did not send an exam id.
  const examId = rng.chance(0.02) ? null : kind.examId;
  const r = rng.next();
  const status: SessionStatus = r < 0.9 ? 'completed' : r < 0.97 ? 'abandoned' : 'open';
  const planned = Math.min(bank.items.length, rng.between(kind.items[0], kind.items[1]));
  const count =
    status === 'completed' ? planned : status === 'abandoned' ? rng.int(planned) : 1 + rng.int(planned);

  const nTopics = Math.min(bank.topics.length, rng.between(kind.topics[0], kind.topics[1]));
  const sessionTopics: number[] = [];
  while (sessionTopics.length < nTopics) {
    const t = rng.pickCumulative(p.topicCum);
    if (!sessionTopics.includes(t)) sessionTopics.push(t);
  }

  bank.stamp++;
  const theta = p.theta[week];
  const answers: Answer[] = [];
  let elapsed = 0;
  for (let j = 0; j < count; j++) {
    const item = chooseItem(rng, bank, p, sessionTopics, theta);
    bank.usedStamp[item] = bank.stamp;
    const a = bank.a[item];
    const b = bank.b[item];
    const c = bank.c[item];
    const correct = rng.next() < c + (1 - c) / (1 + Math.exp(-a * (theta - b)));
    const gap = b - theta;
    let hints = 0;
    if (rng.chance(1 / (1 + Math.exp(-(1.3 * gap - 1.6 + p.logHintiness))))) {
      hints = 1;
      while (hints < MAX_HINTS && rng.chance(0.35)) hints++;
    }
    // Log-normal time: harder-than-ability items, hints and wrong answers all take longer.
    const logRt =
      Math.log(35_000) + 0.3 * gap + p.speed + 0.15 * hints + (correct ? 0 : 0.1) + rng.normal(0, 0.4);
    const rt = Math.round(Math.min(10 * MINUTE_MS, Math.max(1_500, Math.exp(logRt))));
    elapsed += rt + rng.between(500, 5_000);
    answers.push({ item, correct, rtMs: rng.chance(RT_NULL_SHARE) ? null : rt, hints, atMs: elapsed });
  }
  // Even an empty session takes a moment before it is abandoned.
  const durationMs =
    status === 'completed'
      ? elapsed + rng.between(2_000, 20_000)
      : Math.max(elapsed, rng.between(5_000, 60_000));
  return { examId, status, answers, durationMs };
}

function chooseItem(rng: Rng, bank: Bank, p: Profile, sessionTopics: number[], theta: number): number {
  if (p.missed.length > 0 && rng.chance(REVIEW_SHARE)) {
    const item = rng.pick(p.missed);
    if (bank.usedStamp[item] !== bank.stamp) return item;
  }
  // The platform targets a noisy ability estimate, not the truth.
  const target = theta + rng.normal(0, 0.7);
  const first = rng.int(sessionTopics.length);
  for (let k = 0; k < sessionTopics.length; k++) {
    const item = nearestUnused(bank, sessionTopics[(first + k) % sessionTopics.length], target);
    if (item >= 0) return item;
  }
  // Every item of the session's topics is used: widen to the whole bank (count <= bank size).
  for (let t = 0; ; t++) {
    const item = nearestUnused(bank, t, target);
    if (item >= 0) return item;
  }
}
