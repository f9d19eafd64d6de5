// The report template: which sections appear, in which order, with which text, tables and charts.
// `layoutReport` is the one place to change the report's structure; html.ts and pdf.ts only draw
// the layout it returns, so both formats always carry the same content.
import { createRequire } from 'node:module';
import { KPI_KEYS, type KpiKey } from '../kpis/kpis.js';
import {
  churnGauge,
  dailyChart,
  formatKpi,
  kpiChart,
  TOPIC_CHART_MAX,
  targetingChart,
  targetingFit,
  thetaChart,
  topicChart,
} from './charts.js';
import { renderHtml } from './html.js';
import type { Block, ReportLayout, Section } from './layout.js';
import { formatNumber, formatPercent, formatTimestamp, type Messages, messages } from './messages.js';
import { renderPdf } from './pdf.js';
import type { ReportFormat } from './storage.js';
import {
  churnBand,
  type Edition,
  type ReportViewModel,
  recommendations,
  topicOrder,
  toScore,
  trend,
} from './view-model.js';

/** The report's parts that differ by edition; everything else is shared. */
interface Ctx {
  vm: ReportViewModel;
  m: Messages;
  teacher: boolean;
}

function header({ vm, m, teacher }: Ctx): [string, string][] {
  const { user_id, display_name, time_zone } = vm.learner;
  return [
    [m.learner, display_name ? (teacher ? `${display_name} (${user_id})` : display_name) : user_id],
    [m.week, `${m.date(vm.week.start)} – ${m.date(vm.week.end)}`],
    [m.generated, formatTimestamp(vm.generated_at, time_zone)],
    ...(teacher ? [[m.scaleVersion, vm.scale_version ?? m.scaleUnknown] as [string, string]] : []),
  ];
}

/** A KPI's printed value; P without a goal is not a number (no default goal makes everyone succeed). */
function kpiText(c: Ctx, k: KpiKey, v: number | null): string {
  if (k === 'P' && c.vm.goal === null) return c.m.noGoalShort;
  return v === null ? c.m.notEnoughData : formatKpi(k, v);
}

function kpiSection(c: Ctx, withChart: boolean): Section {
  const { vm, m } = c;
  const value = (k: KpiKey, v: number | null) => kpiText(c, k, v);
  const rows = KPI_KEYS.map((k) => [
    c.teacher ? `${m.kpiLabels[k]} (${k})` : m.kpiLabels[k],
    value(k, vm.kpis[k]),
    value(k, vm.kpis_last_week[k]),
    k === 'P' && vm.goal === null ? m.trend.none : m.trend[trend(vm.kpis[k], vm.kpis_last_week[k])],
    m.kpiHelp[k],
  ]);
  const t = m.kpiTable;
  return {
    id: 'kpis',
    title: m.sections.kpis,
    blocks: [
      {
        kind: 'table',
        columns: [
          { title: t.kpi, numeric: false },
          { title: t.thisWeek, numeric: true },
          { title: t.lastWeek, numeric: true },
          { title: t.change, numeric: false },
          { title: '', numeric: false, muted: true },
        ],
        rows,
      },
      ...(withChart
        ? [
            {
              kind: 'chart',
              chart: kpiChart(vm, m, (k, v) => kpiText(c, k, v)),
              alt: m.sections.kpis,
              size: 0.85,
            } as const,
          ]
        : []),
    ],
  };
}

/** A score as printed: the scale's decimals, a true minus sign. */
function scoreText(vm: ReportViewModel, theta: number): string {
  return formatNumber(toScore(theta, vm.settings.score), vm.settings.score.decimals);
}

function abilitySection(c: Ctx): Section {
  const { vm, m, teacher } = c;
  const scale = vm.settings.score;
  const chart = thetaChart(vm, m, teacher ? null : scale);
  const blocks: Block[] = [];
  if (vm.theta === null) {
    blocks.push({ kind: 'paragraph', text: m.noTheta, note: true });
  } else {
    const first = vm.theta_series.length > 1 ? vm.theta_series[0] : undefined;
    if (teacher) {
      const delta = first ? formatNumber(vm.theta.value - first.theta, 2, true) : null;
      const se = vm.theta.se === null ? m.notEnoughData : formatNumber(vm.theta.se);
      blocks.push({
        kind: 'paragraph',
        text: m.ability(formatNumber(vm.theta.value), se, scoreText(vm, vm.theta.value), delta),
      });
    } else {
      // The change between two rounded scores, so the sentence agrees with the numbers shown.
      const delta = first ? toScore(vm.theta.value, scale) - toScore(first.theta, scale) : null;
      const margin = vm.theta.se === null ? null : formatNumber(scale.sd * vm.theta.se, scale.decimals);
      const deltaText = delta === null ? '' : formatNumber(Math.abs(delta), scale.decimals);
      blocks.push({
        kind: 'paragraph',
        text: m.score(scoreText(vm, vm.theta.value), margin, delta, deltaText),
      });
    }
  }
  if (!teacher && vm.theta !== null) {
    const n = (x: number) => formatNumber(x, scale.decimals);
    blocks.push({
      kind: 'paragraph',
      text: m.scaleMeaning(n(scale.mean), n(scale.sd), n(scale.mean - scale.sd), n(scale.mean + scale.sd)),
    });
  }
  if (chart)
    blocks.push({
      kind: 'chart',
      chart,
      alt: m.sections.ability,
      caption: teacher ? m.charts.thetaCaption : m.charts.scoreCaption,
      size: 1,
    });
  return { id: 'ability', title: m.sections.ability, blocks };
}

function goalSection({ vm, m, teacher }: Ctx): Section {
  const p = vm.kpis.P;
  const text =
    vm.goal === null
      ? m.noGoal
      : vm.theta === null
        ? m.goalNoTheta
        : p === null
          ? `${m.kpiLabels.P}: ${m.notEnoughData}`
          : teacher
            ? m.goal(formatPercent(p), formatNumber(vm.goal.tau), scoreText(vm, vm.goal.tau))
            : m.goalScore(formatPercent(p), scoreText(vm, vm.goal.tau));
  return {
    id: 'goal',
    title: m.sections.goal,
    blocks: [{ kind: 'paragraph', text, note: vm.goal === null || vm.theta === null }],
  };
}

function churnSection({ vm, m }: Ctx): Section {
  const s = vm.kpis.S;
  const text =
    s === null
      ? `${m.kpiLabels.S}: ${m.notEnoughData}`
      : m.churn(formatNumber(s), m.churnBands[churnBand(s)]);
  return {
    id: 'churn',
    title: m.sections.churn,
    blocks: [
      { kind: 'paragraph', text },
      { kind: 'chart', chart: churnGauge(s, m), alt: m.sections.churn, size: 0.32 },
    ],
  };
}

function topicSection({ vm, m }: Ctx): Section {
  const chart = topicChart(vm, m);
  const shown = vm.topics.filter((t) => t.accuracy !== null).length;
  if (!chart)
    return { id: 'topics', title: m.sections.topics, blocks: [{ kind: 'paragraph', text: m.noTopics }] };
  const t = m.topicTable;
  const dash = '–';
  const rows = [...vm.topics]
    .sort(topicOrder)
    .map((r) => [
      r.name_fallback ? `${r.name} *` : r.name,
      String(r.attempts),
      String(r.correct),
      r.accuracy === null ? dash : formatPercent(r.accuracy),
      r.rt_median === null ? dash : m.seconds((r.rt_median / 1000).toFixed(1)),
      r.improvement === null ? dash : formatNumber(r.improvement, 2, true),
    ]);
  return {
    id: 'topics',
    title: m.sections.topics,
    blocks: [
      {
        kind: 'chart',
        chart,
        alt: m.sections.topics,
        caption: shown > TOPIC_CHART_MAX ? m.charts.topicsShown(TOPIC_CHART_MAX, shown) : undefined,
        size: 1,
      },
      {
        kind: 'table',
        columns: [
          { title: t.topic, numeric: false },
          { title: t.attempts, numeric: true },
          { title: t.correct, numeric: true },
          { title: t.accuracy, numeric: true },
          { title: t.rt, numeric: true },
          { title: t.improvement, numeric: true },
        ],
        rows,
      },
      ...(vm.topics.some((r) => r.name_fallback)
        ? [{ kind: 'paragraph', text: m.nameFallback, note: false } as const]
        : []),
    ],
  };
}

function dailySection({ vm, m }: Ctx): Section {
  const attempts = vm.daily.reduce((s, d) => s + d.attempts, 0);
  const correct = vm.daily.reduce((s, d) => s + d.correct, 0);
  const days = vm.daily.filter((d) => d.attempts > 0).length;
  return {
    id: 'daily',
    title: m.sections.daily,
    blocks: [
      { kind: 'paragraph', text: m.dailyTotal(attempts, correct, days) },
      {
        kind: 'chart',
        chart: dailyChart(vm, m),
        alt: m.sections.daily,
        caption: m.charts.dailyCaption,
        size: 1,
      },
    ],
  };
}

function targetingSection({ vm, m }: Ctx): Section {
  const chart = targetingChart(vm, m);
  const n = vm.targeting.length;
  // The section exists only for a week with attempts, so no items means no calibrated difficulties.
  let text = m.noDifficulties;
  if (n > 0 && vm.theta) {
    const fit = targetingFit(vm.targeting, vm.theta.value);
    text = m.targeting(fit.inZone, n, fit.easy, fit.hard);
  } else if (n > 0) {
    text = m.targetingNoTheta(n);
  }
  const blocks: Block[] = [{ kind: 'paragraph', text }];
  if (chart)
    blocks.push({
      kind: 'chart',
      chart,
      alt: m.sections.targeting,
      caption: m.charts.targetingCaption,
      size: 1,
    });
  return { id: 'targeting', title: m.sections.targeting, blocks };
}

function recommendationSection({ vm, m }: Ctx): Section {
  return {
    id: 'recommendations',
    title: m.sections.recommendations,
    blocks: [{ kind: 'list', items: recommendations(vm).map(m.recommendation) }],
  };
}

/**
 * The report's content for a view-model in one edition. An empty week gets the short report: no
 * per-week sections and no KPI chart (the table says which values are missing), so it fits on one
 * page. The learner's edition leaves out the targeting detail and every statistical symbol.
 */
export function layoutReport(vm: ReportViewModel, edition: Edition = 'learner'): ReportLayout {
  const m = messages(vm.learner.locale);
  const c: Ctx = { vm, m, teacher: edition === 'teacher' };
  const sections = vm.flags.empty_week
    ? [kpiSection(c, false), goalSection(c), churnSection(c), recommendationSection(c)]
    : [
        kpiSection(c, true),
        abilitySection(c),
        goalSection(c),
        churnSection(c),
        topicSection(c),
        dailySection(c),
        ...(c.teacher ? [targetingSection(c)] : []),
        recommendationSection(c),
      ];
  return {
    locale: m.locale,
    edition,
    title: m.title[edition],
    meta: header(c),
    notice: vm.flags.empty_week ? m.emptyWeek : null,
    sections,
    generatedAt: vm.generated_at,
    subject: `${vm.learner.user_id} ${vm.week.start} ${edition}`,
  };
}

const require = createRequire(import.meta.url);
/** Noto Sans KR from npm (covers Hangul, Latin, Greek θ/τ and the arrows), so `npm ci` is enough. */
export const REPORT_FONTS = {
  normal: require.resolve('@expo-google-fonts/noto-sans-kr/400Regular/NotoSansKR_400Regular.ttf'),
  bold: require.resolve('@expo-google-fonts/noto-sans-kr/700Bold/NotoSansKR_700Bold.ttf'),
};

export interface RenderedReport {
  edition: Edition;
  format: ReportFormat;
  bytes: Buffer;
}

/**
 * Renders a report in several editions and formats, one layout per edition (its charts drawn once for
 * every format); the batch job's entry point.
 */
export async function renderReports(
  vm: ReportViewModel,
  editions: readonly Edition[],
  formats: readonly ReportFormat[],
): Promise<RenderedReport[]> {
  const out: RenderedReport[] = [];
  for (const edition of editions) {
    const layout = layoutReport(vm, edition);
    for (const format of formats) {
      const bytes =
        format === 'html'
          ? Buffer.from(renderHtml(layout, REPORT_FONTS.normal), 'utf8')
          : await renderPdf(layout, REPORT_FONTS);
      out.push({ edition, format, bytes });
    }
  }
  return out;
}

/** Renders one report in one edition and format (the CLI, tests). */
export async function renderReport(
  vm: ReportViewModel,
  format: ReportFormat,
  edition: Edition = 'learner',
): Promise<Buffer> {
  return (await renderReports(vm, [edition], [format]))[0].bytes;
}
