// The report template: which sections appear, in which order, with which text, tables and charts.
// `layoutReport` is the one place to change the report's structure; html.ts and pdf.ts only draw
// the layout it returns, so both formats always carry the same content.
import { createRequire } from 'node:module';
import {
  type Chart,
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
import { formatNumber, formatPercent, formatTimestamp, type Messages, messages } from './messages.js';
import { renderPdf } from './pdf.js';
import type { ReportFormat } from './storage.js';
import {
  churnBand,
  KPI_KEYS,
  type Locale,
  type ReportViewModel,
  recommendations,
  topicOrder,
  trend,
} from './view-model.js';

export const SECTION_IDS = [
  'kpis',
  'ability',
  'goal',
  'churn',
  'topics',
  'daily',
  'targeting',
  'recommendations',
] as const;
export type SectionId = (typeof SECTION_IDS)[number];

export type Block =
  | { kind: 'paragraph'; text: string; note?: boolean }
  /** `muted` columns hold explanations, drawn smaller and lighter. */
  | { kind: 'table'; columns: { title: string; numeric: boolean; muted?: boolean }[]; rows: string[][] }
  /** `size` is the chart's share of the text width. */
  | { kind: 'chart'; chart: Chart; alt: string; caption?: string; size: number }
  | { kind: 'list'; items: string[] };

export interface Section {
  id: SectionId;
  title: string;
  blocks: Block[];
}

export interface ReportLayout {
  locale: Locale;
  title: string;
  /** Label/value pairs of the header. */
  meta: [string, string][];
  /** A notice under the header (the empty week). */
  notice: string | null;
  sections: Section[];
  /** For the PDF's metadata. */
  generatedAt: string;
}

function header(vm: ReportViewModel, m: Messages): [string, string][] {
  const { user_id, display_name } = vm.learner;
  return [
    [m.learner, display_name ? `${display_name} (${user_id})` : user_id],
    [m.week, `${m.date(vm.week.start)} – ${m.date(vm.week.end)}`],
    [m.generated, formatTimestamp(vm.generated_at)],
    [m.scaleVersion, vm.scale_version ?? m.scaleUnknown],
  ];
}

function kpiSection(vm: ReportViewModel, m: Messages, withChart: boolean): Section {
  const value = (k: (typeof KPI_KEYS)[number], v: number | null) =>
    v === null ? m.notEnoughData : formatKpi(k, v);
  const rows = KPI_KEYS.map((k) => [
    `${m.kpiLabels[k]} (${k})`,
    value(k, vm.kpis[k]),
    value(k, vm.kpis_last_week[k]),
    m.trend[trend(vm.kpis[k], vm.kpis_last_week[k])],
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
        ? [{ kind: 'chart', chart: kpiChart(vm, m), alt: m.sections.kpis, size: 0.85 } as const]
        : []),
    ],
  };
}

function abilitySection(vm: ReportViewModel, m: Messages): Section {
  const chart = thetaChart(vm, m);
  const blocks: Block[] = [];
  if (vm.theta === null) {
    blocks.push({ kind: 'paragraph', text: m.noTheta, note: true });
  } else {
    const first = vm.theta_series[0];
    const delta =
      first && vm.theta_series.length > 1 ? formatNumber(vm.theta.value - first.theta, 2, true) : null;
    const se = vm.theta.se === null ? m.notEnoughData : formatNumber(vm.theta.se);
    blocks.push({ kind: 'paragraph', text: m.ability(formatNumber(vm.theta.value), se, delta) });
  }
  if (chart)
    blocks.push({ kind: 'chart', chart, alt: m.sections.ability, caption: m.charts.thetaCaption, size: 1 });
  return { id: 'ability', title: m.sections.ability, blocks };
}

function goalSection(vm: ReportViewModel, m: Messages): Section {
  const p = vm.kpis.P;
  const text =
    vm.theta === null
      ? m.goalNoTheta
      : p === null
        ? `${m.kpiLabels.P}: ${m.notEnoughData}`
        : m.goal(formatPercent(p), formatNumber(vm.goal.tau));
  return {
    id: 'goal',
    title: m.sections.goal,
    blocks: [{ kind: 'paragraph', text, note: vm.theta === null }],
  };
}

function churnSection(vm: ReportViewModel, m: Messages): Section {
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
      { kind: 'chart', chart: churnGauge(s, m), alt: m.sections.churn, size: 0.45 },
    ],
  };
}

function topicSection(vm: ReportViewModel, m: Messages): Section {
  const chart = topicChart(vm, m);
  const shown = vm.topics.filter((t) => t.accuracy !== null).length;
  if (!chart)
    return { id: 'topics', title: m.sections.topics, blocks: [{ kind: 'paragraph', text: m.noTopics }] };
  const t = m.topicTable;
  const dash = '–';
  const rows = [...vm.topics]
    .sort(topicOrder)
    .map((r) => [
      r.name,
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
    ],
  };
}

function dailySection(vm: ReportViewModel, m: Messages): Section {
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

function targetingSection(vm: ReportViewModel, m: Messages): Section {
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

function recommendationSection(vm: ReportViewModel, m: Messages): Section {
  return {
    id: 'recommendations',
    title: m.sections.recommendations,
    blocks: [{ kind: 'list', items: recommendations(vm).map(m.recommendation) }],
  };
}

/**
 * The report's content for a view-model. An empty week gets the short report: no per-week sections
 * and no KPI chart (the table says which values are missing), so it fits on one page.
 */
export function layoutReport(vm: ReportViewModel): ReportLayout {
  const m = messages(vm.learner.locale);
  const sections = vm.flags.empty_week
    ? [kpiSection(vm, m, false), goalSection(vm, m), churnSection(vm, m), recommendationSection(vm, m)]
    : [
        kpiSection(vm, m, true),
        abilitySection(vm, m),
        goalSection(vm, m),
        churnSection(vm, m),
        topicSection(vm, m),
        dailySection(vm, m),
        targetingSection(vm, m),
        recommendationSection(vm, m),
      ];
  return {
    locale: m.locale,
    title: m.title,
    meta: header(vm, m),
    notice: vm.flags.empty_week ? m.emptyWeek : null,
    sections,
    generatedAt: vm.generated_at,
  };
}

const require = createRequire(import.meta.url);
/** Noto Sans KR from npm (covers Hangul, Latin, Greek θ/τ and the arrows), so `npm ci` is enough. */
export const REPORT_FONTS = {
  normal: require.resolve('@expo-google-fonts/noto-sans-kr/400Regular/NotoSansKR_400Regular.ttf'),
  bold: require.resolve('@expo-google-fonts/noto-sans-kr/700Bold/NotoSansKR_700Bold.ttf'),
};

/** Renders a report in several formats from one layout (the charts are drawn once); the batch job's entry point. */
export async function renderReports(
  vm: ReportViewModel,
  formats: readonly ReportFormat[],
): Promise<Map<ReportFormat, Buffer>> {
  const layout = layoutReport(vm);
  const out = new Map<ReportFormat, Buffer>();
  for (const format of formats) {
    out.set(
      format,
      format === 'html' ? Buffer.from(renderHtml(layout), 'utf8') : await renderPdf(layout, REPORT_FONTS),
    );
  }
  return out;
}

/** Renders one report in one format (the CLI, tests). */
export async function renderReport(vm: ReportViewModel, format: ReportFormat): Promise<Buffer> {
  return (await renderReports(vm, [format])).get(format)!;
}
