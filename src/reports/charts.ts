// The report's charts as standalone SVG strings: Observable Plot rendered into a linkedom document,
// and a hand-drawn churn gauge (Plot has none). Pure and deterministic: no random ids (Plot's clip
// paths and markers, which use a global counter, are not used), fixed domains and tick formats.
// Every series differs by shape, lightness or a text label, so the charts also read in grey print.
import * as Plot from '@observablehq/plot';
import { parseHTML } from 'linkedom';
import type { KpiKey } from '../kpis/kpis.js';
import { FLAG_ORDER, type ItemFlag } from './item-flags.js';
import { formatNumber, formatPercent, localDateTime, type Messages } from './messages.js';
import {
  CHURN_HIGH,
  CHURN_MEDIUM,
  churnBand,
  type KpiValues,
  type ReportViewModel,
  type ScoreScale,
  type TargetItem,
  type ThetaPoint,
  topicOrder,
  toScore,
} from './view-model.js';

/** Drawing width of every chart in SVG units; the HTML scales it to the page, the PDF to 515 pt. */
export const CHART_WIDTH = 640;
const FONT_SIZE = 11;
/** The PDF embeds Noto Sans KR under this family name; browsers fall back to the system's Hangul fonts. */
export const CHART_FONT = 'Noto Sans KR';
const FONT_STACK = `${CHART_FONT}, Apple SD Gothic Neo, Malgun Gothic, Nanum Gothic, system-ui, sans-serif`;
const INK = '#1f2933';
const DARK = '#2f5d8c';
const LIGHT = '#c9d6e6';
const PALE = '#e9eff6';

const { document } = parseHTML('<!doctype html><html><body></body></html>');

export interface Chart {
  svg: string;
  width: number;
  height: number;
}

type PlotOptions = Plot.PlotOptions & { width: number; height: number };

function plot(options: PlotOptions): Chart {
  const el = Plot.plot({
    ...options,
    document: document as unknown as Plot.PlotOptions['document'],
    style: { fontSize: `${FONT_SIZE}px`, fontFamily: FONT_STACK, color: INK, background: 'white' },
  }) as unknown as { outerHTML: string };
  // The namespace makes each SVG a well-formed standalone XML document (pdfmake parses it as XML).
  const svg = mergeStrokes(el.outerHTML.replace(/^<svg /, '<svg xmlns="http://www.w3.org/2000/svg" '));
  return { svg, width: options.width, height: options.height };
}

const LINE = /^<line x1="(-?[\d.e-]+)" y1="(-?[\d.e-]+)" x2="(-?[\d.e-]+)" y2="(-?[\d.e-]+)" \/>$/;
const TICK = /^<path d="M0,0L(-?[\d.]+),(-?[\d.]+)" transform="translate\((-?[\d.e-]+),(-?[\d.e-]+)\)" \/>$/;
const round = (v: number) => String(Math.round(v * 100) / 100);

/**
 * Plot draws every grid line and tick mark as an element of its own; a group of them that carry no
 * attribute but their geometry becomes one path with the same strokes. The PDF converter's cost is
 * per element, so this makes the PDFs ~10% faster, and both formats smaller; the drawing is the same.
 */
export function mergeStrokes(svg: string): string {
  return svg.replace(
    /(<g [^>]*>)((?:<(?:line|path) [^>]*\/>)+)<\/g>/g,
    (group, open: string, body: string) => {
      const segments: string[] = [];
      for (const el of body.match(/<[^>]*\/>/g) ?? []) {
        // Attributes sorted by name, as the patterns expect them in a fixed order.
        const normal = el.replace(/^<(\w+) (.*) \/>$/, (_, tag: string, attrs: string) => {
          const list = attrs.match(/[\w-]+="[^"]*"/g) ?? [];
          const order = tag === 'line' ? ['x1', 'y1', 'x2', 'y2'] : ['d', 'transform'];
          list.sort((a, b) => order.indexOf(a.split('=')[0]) - order.indexOf(b.split('=')[0]));
          return `<${tag} ${list.join(' ')} />`;
        });
        const line = LINE.exec(normal);
        const tick = TICK.exec(normal);
        if (line)
          segments.push(`M${round(+line[1])},${round(+line[2])}L${round(+line[3])},${round(+line[4])}`);
        else if (tick) {
          const [x, y] = [+tick[3], +tick[4]];
          segments.push(`M${round(x)},${round(y)}L${round(x + +tick[1])},${round(y + +tick[2])}`);
        } else return group;
      }
      return `${open}<path fill="none" d="${segments.join('')}" /></g>`;
    },
  );
}

/** Rough width of a label in pixels: Hangul and other wide characters take about one em. */
function textWidth(s: string, size = FONT_SIZE): number {
  let w = 0;
  for (const ch of s) w += (ch.codePointAt(0) ?? 0) > 0x2e80 ? size : size * 0.6;
  return w;
}

/** `s` cut to `maxWidth` pixels (wide characters count double), with an ellipsis when cut. */
function truncate(s: string, maxWidth: number): string {
  if (textWidth(s) <= maxWidth) return s;
  const chars = [...s];
  while (chars.length > 1 && textWidth(`${chars.join('')}…`) > maxWidth) chars.pop();
  return `${chars.join('')}…`;
}

export function formatKpi(key: KpiKey, v: number): string {
  if (key === 'I_t') return formatNumber(v, 2, true);
  if (key === 'S') return formatNumber(v, 2);
  return formatPercent(v);
}

/**
 * Six KPI bars: I_t on [−1, 1] in a panel of its own, the five others on [0, 1]. This week is a bar,
 * last week a black tick; the printed value stands in a column at the right ("not enough data" for null).
 */
export function kpiChart(
  vm: ReportViewModel,
  m: Messages,
  text: (k: KpiKey, v: number | null) => string,
): Chart {
  // A value the table does not print as a number (P without a goal) gets no bar either.
  const shown = (k: KpiKey, v: number | null) => (k === 'P' && vm.goal === null ? null : v);
  const rows = (keys: KpiKey[]) =>
    keys.map((k) => ({
      label: m.kpiLabels[k],
      now: shown(k, vm.kpis[k]),
      before: shown(k, vm.kpis_last_week[k]),
      text: text(k, vm.kpis[k]),
    }));
  const unit = rows(['E_t', 'R_t', 'A_t', 'P', 'S']);
  const signed = rows(['I_t']);
  const marginLeft = Math.ceil(Math.max(...[...unit, ...signed].map((r) => textWidth(r.label)))) + 14;
  const marginRight = Math.ceil(Math.max(...[...unit, ...signed].map((r) => textWidth(r.text)), 40)) + 16;
  const panel = (data: typeof unit, domain: [number, number], label: string, height: number) =>
    plot({
      width: CHART_WIDTH,
      height,
      marginLeft,
      marginRight,
      marginTop: 6,
      marginBottom: 36,
      x: { domain, label, labelAnchor: 'center', labelArrow: 'none', grid: true },
      y: { domain: data.map((r) => r.label), label: null, padding: 0.3 },
      marks: [
        Plot.barX(
          data.filter((r) => r.now !== null),
          { x1: 0, x2: 'now', y: 'label', fill: DARK },
        ),
        Plot.tickX(
          data.filter((r) => r.before !== null),
          { x: 'before', y: 'label', stroke: INK, strokeWidth: 3, inset: -3 },
        ),
        Plot.ruleX([0], { stroke: INK }),
        Plot.text(data, { x: domain[1], y: 'label', text: 'text', textAnchor: 'start', dx: 10, fill: INK }),
      ],
    });
  const top = panel(signed, [-1, 1], m.charts.improvementAxis, 64);
  const bottom = panel(unit, [0, 1], m.charts.kpiValue, 150);
  const legendH = 22;
  const legend =
    `<g transform="translate(${marginLeft},6)" font-size="${FONT_SIZE}" fill="${INK}">` +
    `<rect width="18" height="10" fill="${DARK}"/>` +
    `<text x="24" y="9">${esc(m.charts.kpiThisWeek)}</text>` +
    `<rect x="${34 + textWidth(m.charts.kpiThisWeek)}" y="-3" width="3" height="16" fill="${INK}"/>` +
    `<text x="${44 + textWidth(m.charts.kpiThisWeek)}" y="9">${esc(m.charts.kpiLastWeek)}</text></g>`;
  return stack([top, bottom], legend, legendH);
}

/**
 * Stacks charts vertically in one SVG, below a hand-drawn header of `headerHeight`. Each chart's root
 * becomes a translated group that keeps the inherited presentation attributes (nested <svg> elements
 * would pick up the page's CSS sizing rules).
 */
function stack(parts: Chart[], header: string, headerHeight: number): Chart {
  let y = headerHeight;
  const body = parts
    .map((p) => {
      const open = p.svg.slice(0, p.svg.indexOf('>') + 1);
      const inherited = [...open.matchAll(/ (?:text-anchor|font-size|font-family|fill|style)="[^"]*"/g)].join(
        '',
      );
      const group = `<g transform="translate(0,${y})"${inherited}>${p.svg.slice(open.length, -'</svg>'.length)}</g>`;
      y += p.height;
      return group;
    })
    .join('');
  return {
    svg:
      `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${y}" viewBox="0 0 ${CHART_WIDTH} ${y}" ` +
      `font-family="${FONT_STACK}">${header}${body}</svg>`,
    width: CHART_WIDTH,
    height: y,
  };
}

/** Escapes text for hand-written SVG (Plot escapes its own). */
function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const DAY_MS = 86_400_000;

/**
 * θ over the 8 weeks ending with the report's Sunday: line and points, ±1 SE band and error bars, the
 * goal τ when one is set. With `scale` (the learner's edition) every value is drawn as a score.
 * Times are placed at the learner's wall clock, so the ticks name the learner's days.
 */
export function thetaChart(vm: ReportViewModel, m: Messages, scale: ScoreScale | null): Chart | null {
  if (vm.theta_series.length === 0) return null;
  const end = Date.parse(`${vm.week.end}T00:00:00Z`) + DAY_MS;
  return thetaHistoryChart(
    vm.theta_series,
    { from: new Date(end - 56 * DAY_MS), to: new Date(end) },
    vm.goal === null ? null : vm.goal.tau,
    m,
    { scale, timeZone: vm.learner.time_zone },
  );
}

/**
 * θ estimates over a time range (the report's 8 weeks, the dashboard's history) with ±1 SE and the
 * goal τ when one is set. `scale` draws every value as a score; `timeZone` places the times at that
 * wall clock (UTC otherwise).
 */
export function thetaHistoryChart(
  series: readonly ThetaPoint[],
  range: { from: Date; to: Date },
  goalTau: number | null,
  m: Messages,
  opts: { scale?: ScoreScale | null; timeZone?: string } = {},
): Chart {
  const scale = opts.scale ?? null;
  const y = (theta: number) => (scale ? toScore(theta, scale) : theta);
  const unit = scale ? scale.sd : 1;
  const digits = scale ? scale.decimals : 1;
  const data = series.map((p) => ({
    at: opts.timeZone ? new Date(`${localDateTime(p.at, opts.timeZone)}:00Z`) : new Date(p.at),
    theta: y(p.theta),
    lo: y(p.se === null ? p.theta : p.theta - p.se),
    hi: y(p.se === null ? p.theta : p.theta + p.se),
  }));
  const tau = goalTau === null ? null : y(goalTau);
  const goalLabel = (v: number) =>
    scale ? m.charts.goalScoreLine(formatNumber(v, digits)) : m.charts.goalLine(formatNumber(v));
  const ys = [...data.flatMap((d) => [d.lo, d.hi]), ...(tau === null ? [] : [tau])];
  const pad = 0.25 * unit;
  const step = 0.5 * unit;
  const goal =
    tau === null
      ? []
      : [
          Plot.ruleY([tau], { stroke: INK, strokeDasharray: '6,4', strokeWidth: 1.5 }),
          // The goal's label stands in the right margin, where no data point can cover it.
          Plot.text([tau], {
            y: (d: number) => d,
            frameAnchor: 'right',
            text: () => goalLabel(tau),
            textAnchor: 'start',
            dx: 6,
            fill: INK,
          }),
        ];
  return plot({
    width: CHART_WIDTH,
    height: 200,
    marginLeft: 50,
    marginRight: 20 + Math.ceil(textWidth(goalLabel(tau ?? 0))),
    marginTop: 20,
    x: {
      type: 'utc',
      domain: [range.from, range.to],
      label: null,
      ticks: 8,
      tickFormat: (d: Date) => m.shortDate(d),
    },
    y: {
      domain: [
        Math.floor((Math.min(...ys) - pad) / step) * step,
        Math.ceil((Math.max(...ys) + pad) / step) * step,
      ],
      label: scale ? m.charts.scoreAxis : m.charts.thetaAxis,
      labelArrow: 'none',
      grid: true,
      tickFormat: (v: number) => formatNumber(v, digits),
    },
    marks: [
      Plot.areaY(data, { x: 'at', y1: 'lo', y2: 'hi', fill: LIGHT, fillOpacity: 0.7 }),
      Plot.ruleX(data, { x: 'at', y1: 'lo', y2: 'hi', stroke: DARK, strokeWidth: 1.5 }),
      ...goal,
      Plot.lineY(data, { x: 'at', y: 'theta', stroke: DARK, strokeWidth: 2 }),
      Plot.dot(data, { x: 'at', y: 'theta', r: 3.5, fill: 'white', stroke: DARK, strokeWidth: 2 }),
    ],
  });
}

/** The topic chart keeps to half a page: beyond this many topics it shows the weakest (the table has all). */
export const TOPIC_CHART_MAX = 15;

/** Accuracy per topic this week, best first, each bar labelled with its percentage and counts. */
export function topicChart(vm: ReportViewModel, m: Messages): Chart | null {
  const data = vm.topics
    .filter((t) => t.accuracy !== null)
    // About 18 Hangul or 30 Latin characters: English names are longer than Korean ones.
    .map((t) => ({ ...t, label: truncate(t.name, 200) }))
    .sort(topicOrder)
    // The weakest topics when there are too many to draw; the table lists all.
    .slice(-TOPIC_CHART_MAX);
  if (data.length === 0) return null;
  // Distinct ids can share a (truncated) name: the y domain is keyed by id, the label looked up.
  const labels = new Map(data.map((t) => [t.topic_id, t.label]));
  return plot({
    width: CHART_WIDTH,
    height: 46 + 24 * data.length,
    marginLeft: Math.ceil(Math.max(...data.map((t) => textWidth(t.label)))) + 14,
    marginRight: 86,
    marginBottom: 36,
    x: {
      domain: [0, 1],
      label: m.charts.accuracyAxis,
      labelAnchor: 'center',
      labelArrow: 'none',
      grid: true,
      tickFormat: (v: number) => formatPercent(v),
    },
    y: {
      domain: data.map((t) => t.topic_id),
      label: null,
      padding: 0.25,
      tickFormat: (id: string) => labels.get(id) ?? id,
    },
    marks: [
      Plot.barX(data, { x1: 0, x2: 'accuracy', y: 'topic_id', fill: DARK }),
      Plot.ruleX([0], { stroke: INK }),
      Plot.text(data, {
        x: 1,
        y: 'topic_id',
        text: (t: (typeof data)[number]) => `${formatPercent(t.accuracy!)} (${t.correct}/${t.attempts})`,
        textAnchor: 'start',
        dx: 8,
        fill: INK,
      }),
    ],
  });
}

/** Attempts per day Monday..Sunday: a pale outlined bar for attempts, a narrower dark bar for correct. */
export function dailyChart(vm: ReportViewModel, m: Messages): Chart {
  const data = vm.daily.map((d) => ({ ...d, label: m.shortWeekday(d.date) }));
  const max = Math.max(1, ...data.map((d) => d.attempts));
  return plot({
    width: CHART_WIDTH,
    height: 200,
    marginLeft: 50,
    marginTop: 24,
    x: { domain: data.map((d) => d.label), label: null, padding: 0.25 },
    y: {
      domain: [0, max],
      nice: true,
      label: m.charts.attemptsAxis,
      labelArrow: 'none',
      grid: true,
      tickFormat: (v: number) => (Number.isInteger(v) ? String(v) : ''),
    },
    marks: [
      Plot.barY(data, { x: 'label', y: 'attempts', fill: PALE, stroke: INK, strokeWidth: 1 }),
      Plot.barY(data, { x: 'label', y: 'correct', fill: DARK, insetLeft: 10, insetRight: 10 }),
      Plot.text(data, {
        x: 'label',
        y: 'attempts',
        text: (d: (typeof data)[number]) => (d.attempts ? `${d.correct}/${d.attempts}` : '0'),
        dy: -8,
        fill: INK,
      }),
      Plot.ruleY([0], { stroke: INK }),
    ],
  });
}

const BIN = 0.5;

/** Histogram of this week's item difficulties b, with the learner's θ and the fit zone θ±1 behind it. */
/** Difficulties beyond ±B_LIMIT (degenerate estimates of items nearly everyone gets right or wrong) are drawn at the edge. */
export const B_LIMIT = 4;

export function targetingChart(vm: ReportViewModel, m: Messages): Chart | null {
  const items = vm.targeting;
  if (items.length === 0) return null;
  const theta = vm.theta?.value ?? null;
  const clip = (b: number) => Math.min(B_LIMIT, Math.max(-B_LIMIT, b));
  const bs = items.map((i) => clip(i.b));
  const reach = theta === null ? bs : [...bs, clip(theta - 1.5), clip(theta + 1.5)];
  const lo = Math.floor(Math.min(...reach) / BIN) * BIN;
  // The upper edge is a bin boundary strictly above the largest value, so it falls inside a bin.
  const hi = Math.max(lo + BIN, (Math.floor(Math.max(...reach) / BIN) + 1) * BIN);
  const thresholds = Array.from({ length: Math.round((hi - lo) / BIN) + 1 }, (_, i) => lo + i * BIN);
  const zone = theta === null ? [] : [Plot.rectX([0], { x1: theta - 1, x2: theta + 1, fill: PALE })];
  // The θ line is drawn over the bars so a full bin cannot hide it.
  const line =
    theta === null
      ? []
      : [
          Plot.ruleX([theta], { stroke: INK, strokeWidth: 2 }),
          Plot.text([theta], {
            x: (d: number) => d,
            frameAnchor: 'top',
            text: () => `${m.charts.thetaLine(formatNumber(theta))} · ${m.charts.fitZone}`,
            textAnchor: theta > (lo + hi) / 2 ? 'end' : 'start',
            dx: theta > (lo + hi) / 2 ? -6 : 6,
            dy: -12,
            fill: INK,
          }),
        ];
  return plot({
    width: CHART_WIDTH,
    height: 200,
    marginLeft: 50,
    marginTop: 28,
    marginBottom: 36,
    x: {
      domain: [lo, hi],
      label: m.charts.difficultyAxis,
      labelAnchor: 'center',
      labelArrow: 'none',
      tickFormat: (v: number) => formatNumber(v, 1),
    },
    // The axis reaches past the fullest bin (Plot's default stops at it, below the last tick's label).
    y: {
      // Headroom above the fullest bin for the θ label.
      domain: [0, Math.max(1, ...binCounts(bs, thresholds)) * 1.2],
      nice: true,
      label: m.charts.attemptsAxis,
      labelArrow: 'none',
      grid: true,
      tickFormat: (v: number) => (Number.isInteger(v) ? String(v) : ''),
    },
    marks: [
      ...zone,
      Plot.rectY(
        bs,
        Plot.binX<Plot.RectYOptions>(
          { y: 'count' },
          { x: (b: number) => b, thresholds, fill: DARK, stroke: 'white', inset: 0.5 },
        ),
      ),
      ...line,
      Plot.ruleY([0], { stroke: INK }),
    ],
  });
}

/** Items per bin [t_i, t_i+1) of `thresholds`. */
function binCounts(values: readonly number[], thresholds: readonly number[]): number[] {
  const counts = thresholds.slice(1).map(() => 0);
  for (const v of values) {
    const i = thresholds.findIndex((t, k) => k > 0 && v < t) - 1;
    if (i >= 0) counts[i]++;
  }
  return counts;
}

/** Counts of this week's items inside, below and above the fit zone θ±1. */
export function targetingFit(items: readonly TargetItem[], theta: number) {
  let inZone = 0;
  let easy = 0;
  let hard = 0;
  for (const { b } of items) {
    if (b < theta - 1) easy++;
    else if (b > theta + 1) hard++;
    else inZone++;
  }
  return { inZone, easy, hard };
}

/** The KPIs on [0, 1], in the order and lightness of the report (I_t has its own scale and is left out). */
const TREND_KEYS = ['E_t', 'R_t', 'A_t', 'P', 'S'] as const;
const TREND_STYLE: Record<(typeof TREND_KEYS)[number], { stroke: string; dash: string }> = {
  E_t: { stroke: DARK, dash: 'none' },
  R_t: { stroke: '#7a9cc6', dash: '6,3' },
  A_t: { stroke: INK, dash: '2,3' },
  P: { stroke: '#2e7d5b', dash: 'none' },
  S: { stroke: '#b3261e', dash: '8,3,2,3' },
};

/**
 * The five [0, 1] KPIs over weeks (the dashboard's learner page): one line per KPI, each differing
 * by colour and dash and named at its last point, so the chart also reads without colour.
 */
export function kpiTrendChart(weeks: readonly { week_start: string; kpis: KpiValues }[], m: Messages): Chart {
  const data = weeks.flatMap((w) =>
    TREND_KEYS.flatMap((k) =>
      w.kpis[k] === null ? [] : [{ week: new Date(`${w.week_start}T00:00:00Z`), key: k, value: w.kpis[k]! }],
    ),
  );
  const height = 240;
  const [marginTop, marginBottom] = [24, 30];
  const last = TREND_KEYS.flatMap((k) => {
    const points = data.filter((d) => d.key === k);
    return points.length ? [{ ...points[points.length - 1]!, label: m.kpiLabels[k] }] : [];
  });
  // End labels are pushed apart to a line's height, so close values do not print over each other.
  const gap = (FONT_SIZE + 2) / (height - marginTop - marginBottom);
  last.sort((a, b) => a.value - b.value);
  const labelY = last.map((d) => d.value);
  for (let i = 1; i < labelY.length; i++) labelY[i] = Math.max(labelY[i]!, labelY[i - 1]! + gap);
  const overflow = Math.max(0, (labelY[labelY.length - 1] ?? 0) - 1);
  const labels = last.map((d, i) => ({ ...d, y: labelY[i]! - overflow }));
  const marginRight = Math.ceil(Math.max(40, ...labels.map((d) => textWidth(d.label)))) + 16;
  const dates = weeks.map((w) => new Date(`${w.week_start}T00:00:00Z`));
  return plot({
    width: CHART_WIDTH,
    height,
    marginLeft: 50,
    marginRight,
    marginTop,
    marginBottom,
    x: {
      type: 'utc',
      domain: dates.length ? [dates[0]!, dates[dates.length - 1]!] : undefined,
      label: null,
      ticks: Math.min(8, Math.max(1, dates.length)),
      tickFormat: (d: Date) => m.shortDate(d),
    },
    y: {
      domain: [0, 1],
      label: m.charts.kpiValue,
      labelArrow: 'none',
      grid: true,
      tickFormat: (v: number) => formatPercent(v),
    },
    marks: [
      ...TREND_KEYS.map((k) =>
        Plot.lineY(
          data.filter((d) => d.key === k),
          {
            x: 'week',
            y: 'value',
            stroke: TREND_STYLE[k].stroke,
            strokeDasharray: TREND_STYLE[k].dash,
            strokeWidth: 2,
          },
        ),
      ),
      ...TREND_KEYS.map((k) =>
        Plot.dot(
          data.filter((d) => d.key === k),
          { x: 'week', y: 'value', r: 3, fill: 'white', stroke: TREND_STYLE[k].stroke, strokeWidth: 1.5 },
        ),
      ),
      Plot.text(labels, { x: 'week', y: 'y', text: 'label', textAnchor: 'start', dx: 8, fill: INK }),
    ],
  });
}

/**
 * A half-circle gauge for S on [0, 1] with the bands low / medium / high. The bands differ by
 * lightness and by hatching (none, single, crossed); each is named on the dial.
 */
export function churnGauge(s: number | null, m: Messages): Chart {
  const width = 320;
  const height = 190;
  const cx = 160;
  const cy = 140;
  const rOut = 118;
  const rIn = 78;
  // v = 0 at the left end of the arc, 1 at the right.
  const pt = (v: number, r: number) => {
    const a = Math.PI * (1 - v);
    return `${(cx + r * Math.cos(a)).toFixed(2)},${(cy - r * Math.sin(a)).toFixed(2)}`;
  };
  const band = (from: number, to: number, fill: string) =>
    `<path d="M${pt(from, rOut)} A${rOut},${rOut} 0 0 1 ${pt(to, rOut)} L${pt(to, rIn)} ` +
    `A${rIn},${rIn} 0 0 0 ${pt(from, rIn)} Z" fill="${fill}" stroke="${INK}" stroke-width="1"/>`;
  const label = (v: number, r: number, text: string, anchor = 'middle') => {
    const [x, y] = pt(v, r).split(',');
    return `<text x="${x}" y="${y}" text-anchor="${anchor}" dominant-baseline="middle">${esc(text)}</text>`;
  };
  const defs =
    '<defs>' +
    `<pattern id="rp-gauge-hatch" width="7" height="7" patternUnits="userSpaceOnUse">` +
    `<rect width="7" height="7" fill="#f3c77b"/><path d="M0,7 L7,0 M-1,1 L1,-1 M6,8 L8,6" stroke="${INK}" stroke-width="1"/></pattern>` +
    `<pattern id="rp-gauge-cross" width="7" height="7" patternUnits="userSpaceOnUse">` +
    `<rect width="7" height="7" fill="#d9665b"/><path d="M0,7 L7,0 M-1,1 L1,-1 M6,8 L8,6 M0,0 L7,7 M-1,6 L1,8 M6,-1 L8,1" stroke="${INK}" stroke-width="1"/></pattern>` +
    '</defs>';
  const mid = (rOut + rIn) / 2;
  const dial =
    band(0, CHURN_MEDIUM, '#dcefd5') +
    band(CHURN_MEDIUM, CHURN_HIGH, 'url(#rp-gauge-hatch)') +
    band(CHURN_HIGH, 1, 'url(#rp-gauge-cross)') +
    `<g font-size="${FONT_SIZE}" fill="${INK}">` +
    label(CHURN_MEDIUM / 2, rOut + 14, m.churnBands.low) +
    label((CHURN_MEDIUM + CHURN_HIGH) / 2, rOut + 12, m.churnBands.medium) +
    label((CHURN_HIGH + 1) / 2, rOut + 14, m.churnBands.high) +
    `<text x="${pt(0, mid).split(',')[0]}" y="${cy + 16}" text-anchor="middle">0</text>` +
    `<text x="${pt(1, mid).split(',')[0]}" y="${cy + 16}" text-anchor="middle">1</text>` +
    '</g>';
  const needle =
    s === null
      ? `<text x="${cx}" y="${cy + 36}" text-anchor="middle" font-size="16" fill="${INK}">${esc(m.notEnoughData)}</text>`
      : // A wide dark needle (its base ±90° from its direction) outlined in white, so it stands out on the hatched bands.
        `<path d="M${pt(s, rOut + 2)} L${pt(s + 0.5, 6)} L${pt(s - 0.5, 6)} Z" fill="${INK}" stroke="white" stroke-width="1.5" stroke-linejoin="round"/>` +
        `<circle cx="${cx}" cy="${cy}" r="10" fill="${INK}" stroke="white" stroke-width="1.5"/>` +
        `<text x="${cx}" y="${cy + 36}" text-anchor="middle" font-size="18" font-weight="bold" fill="${INK}">` +
        `${formatNumber(s)} · ${esc(m.churnBands[churnBand(s)])}</text>`;
  return {
    svg:
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="${FONT_STACK}">${defs}${dial}${needle}</svg>`,
    width,
    height,
  };
}

// ---- the dashboard's item bank (staff) -----------------------------------------------------------

/** Discriminations above this (near-Guttman estimates) are drawn at the top edge of the scatter. */
export const A_LIMIT = 4;

type Shape = 'circle' | 'square' | 'triangle' | 'diamond' | 'ring';
interface PointStyle {
  color: string;
  shape: Shape;
}

/** Each flag differs by shape as well as colour, so the scatter reads in grey too. */
const FLAG_STYLE: Record<ItemFlag | 'ok', PointStyle> = {
  ok: { color: '#9aa5b1', shape: 'circle' },
  inactive: { color: INK, shape: 'ring' },
  overexposed: { color: '#6a3d9a', shape: 'diamond' },
  misfit: { color: '#c25e00', shape: 'square' },
  drift: { color: '#b3261e', shape: 'triangle' },
};

/** Topics by colour (Observable's ten, the tenth grey kept for "other topics"). */
const TOPIC_COLORS = [
  '#4269d0',
  '#efb118',
  '#ff725c',
  '#6cc5b0',
  '#3ca951',
  '#ff8ab7',
  '#a463f2',
  '#97bbf5',
  '#9c6b4e',
];
const OTHER_COLOR = '#9498a0';

const R = 2.6;
/** One point of a shape at (x, y) as a path segment: thousands of points stay one element per group. */
function mark(shape: Shape, x: number, y: number): string {
  const [px, py] = [round(x), round(y)];
  switch (shape) {
    case 'circle':
    case 'square':
      return `M${px} ${py}h0`;
    case 'triangle':
      return `M${px} ${round(y - 3.6)}l3.2 5.6h-6.4z`;
    case 'diamond':
      return `M${px} ${round(y - 3.6)}l3.6 3.6-3.6 3.6-3.6-3.6z`;
    case 'ring':
      return `M${round(x - R)} ${py}a${R} ${R} 0 1 0 ${2 * R} 0a${R} ${R} 0 1 0 ${-2 * R} 0`;
  }
}

/** The attributes that draw a group of marks of one style. */
function markPaint(s: PointStyle, opacity: number): string {
  if (s.shape === 'circle' || s.shape === 'square')
    return `fill="none" stroke="${s.color}" stroke-width="${2 * R}" stroke-linecap="${s.shape === 'circle' ? 'round' : 'square'}" stroke-opacity="${opacity}"`;
  if (s.shape === 'ring') return `fill="white" stroke="${s.color}" stroke-width="1.4"`;
  return `fill="${s.color}" stroke="white" stroke-width="0.6"`;
}

/** A legend entry's marker at (x, y). */
function legendMark(s: PointStyle, x: number, y: number): string {
  return `<path d="${mark(s.shape, x, y)}" ${markPaint(s, 1)}/>`;
}

/**
 * Legend entries (marker, label, count) flowing left to right in rows across the chart; a text-only
 * entry (no style) closes it. Returns the SVG and its height.
 */
function legendRows(
  entries: readonly { style: PointStyle | null; label: string }[],
  left: number,
): { svg: string; height: number } {
  const rowH = 18;
  let [x, y] = [left, 12];
  const parts: string[] = [];
  for (const e of entries) {
    const w = (e.style ? 14 : 0) + textWidth(e.label) + 18;
    if (x + w > CHART_WIDTH - 8 && x > left) [x, y] = [left, y + rowH];
    if (e.style) parts.push(legendMark(e.style, x + 4, y - 4));
    parts.push(`<text x="${round(x + (e.style ? 14 : 0))}" y="${y}">${esc(e.label)}</text>`);
    x += w;
  }
  return {
    svg: `<g font-size="${FONT_SIZE}" fill="${INK}">${parts.join('')}</g>`,
    height: y + 8,
  };
}

export interface ScatterItem {
  a: number;
  b: number;
}

/**
 * Items as points of difficulty b (x) × discrimination a (y), grouped by style; `groups` in drawing
 * order, each with its legend label. Plot draws the frame; the points are drawn by hand as one path per
 * group (a Plot dot per item made a 5,000-item bank 800 KB and 300 ms).
 */
function itemScatter(
  groups: readonly { style: PointStyle; label: string; items: readonly ScatterItem[]; opacity: number }[],
  m: Messages,
): Chart {
  const ib = m.itemBank;
  const all = groups.flatMap((g) => g.items);
  const aTop = Math.min(A_LIMIT, Math.max(2.5, Math.ceil(Math.max(0, ...all.map((i) => i.a)) * 2) / 2));
  const [width, height] = [CHART_WIDTH, 350];
  // The top margin keeps the y axis's label clear of its highest tick.
  const margin = { left: 50, right: 16, top: 26, bottom: 40 };
  const frame = plot({
    width,
    height,
    marginLeft: margin.left,
    marginRight: margin.right,
    marginTop: margin.top,
    marginBottom: margin.bottom,
    x: {
      domain: [-B_LIMIT, B_LIMIT],
      label: ib.difficultyAxis,
      labelAnchor: 'center',
      labelArrow: 'none',
      grid: true,
      tickFormat: (v: number) => formatNumber(v, 0),
    },
    y: {
      domain: [0, aTop],
      label: ib.discriminationAxis,
      labelArrow: 'none',
      grid: true,
      tickFormat: (v: number) => formatNumber(v, 1),
    },
    marks: [Plot.ruleY([0], { stroke: INK }), Plot.ruleX([0], { stroke: INK, strokeOpacity: 0.3 })],
  });
  const sx = (b: number) =>
    margin.left + ((b + B_LIMIT) / (2 * B_LIMIT)) * (width - margin.left - margin.right);
  const sy = (a: number) => height - margin.bottom - (a / aTop) * (height - margin.top - margin.bottom);
  let clipped = 0;
  const layers = groups
    .filter((g) => g.items.length > 0)
    .map((g) => {
      const d = g.items
        .map((i) => {
          const b = Math.min(B_LIMIT, Math.max(-B_LIMIT, i.b));
          const a = Math.min(aTop, Math.max(0, i.a));
          if (b !== i.b || a !== i.a) clipped++;
          return mark(g.style.shape, sx(b), sy(a));
        })
        .join('');
      return `<path d="${d}" ${markPaint(g.style, g.opacity)}/>`;
    })
    .join('');
  const withPoints = { ...frame, svg: frame.svg.replace(/<\/svg>$/, `<g>${layers}</g></svg>`) };
  const legend = legendRows(
    [
      ...groups.map((g) => ({ style: g.style, label: `${g.label} (${g.items.length})` })),
      ...(clipped ? [{ style: null, label: ib.clipped(clipped) }] : []),
    ],
    margin.left,
  );
  return stack([withPoints], legend.svg, legend.height);
}

/** The bank's items coloured and shaped by flag (an item with several shows the worst, FLAG_ORDER). */
export function itemScatterByFlag(
  items: readonly (ScatterItem & { flags: readonly ItemFlag[] })[],
  m: Messages,
): Chart {
  const worst = (flags: readonly ItemFlag[]) =>
    FLAG_ORDER.reduce<ItemFlag | 'ok'>((w, f) => (flags.includes(f) ? f : w), 'ok');
  const keys = ['ok', ...FLAG_ORDER] as const;
  return itemScatter(
    keys.map((k) => ({
      style: FLAG_STYLE[k],
      label: m.itemBank.flags[k],
      items: items.filter((i) => worst(i.flags) === k),
      opacity: k === 'ok' ? 0.55 : 1,
    })),
    m,
  );
}

/** The bank's items coloured by topic: the nine largest topics, the rest as "other topics". */
export function itemScatterByTopic(
  items: readonly (ScatterItem & { topic_id: string })[],
  topicName: (topicId: string) => string,
  m: Messages,
): Chart {
  const counts = new Map<string, number>();
  for (const i of items) counts.set(i.topic_id, (counts.get(i.topic_id) ?? 0) + 1);
  const named = [...counts]
    .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
    .slice(0, TOPIC_COLORS.length)
    .map(([id]) => id);
  const shown = new Set(named);
  return itemScatter(
    [
      ...named.map((id, k) => ({
        style: { color: TOPIC_COLORS[k]!, shape: 'circle' as const },
        label: truncate(topicName(id), 160),
        items: items.filter((i) => i.topic_id === id),
        opacity: 0.7,
      })),
      {
        style: { color: OTHER_COLOR, shape: 'circle' },
        label: m.itemBank.otherTopics,
        items: items.filter((i) => !shown.has(i.topic_id)),
        opacity: 0.7,
      },
    ],
    m,
  );
}

/** Information over θ (the bank's, or an item's), with the area beneath. */
function informationPanel(
  curve: readonly { theta: number; info: number }[],
  label: string,
  m: Messages,
  height: number,
): Chart {
  const top = Math.max(...curve.map((p) => p.info), 0);
  return plot({
    width: CHART_WIDTH,
    height,
    marginLeft: 50,
    marginRight: 16,
    marginTop: 26,
    marginBottom: 36,
    x: {
      domain: [curve[0]?.theta ?? -B_LIMIT, curve[curve.length - 1]?.theta ?? B_LIMIT],
      label: m.charts.thetaAxis,
      labelAnchor: 'center',
      labelArrow: 'none',
      grid: true,
      tickFormat: (v: number) => formatNumber(v, 0),
    },
    y: {
      domain: [0, top > 0 ? top * 1.1 : 1],
      nice: true,
      label,
      labelArrow: 'none',
      grid: true,
      tickFormat: (v: number) => formatNumber(v, top >= 10 ? 0 : 1),
    },
    marks: [
      Plot.areaY(curve, { x: 'theta', y: 'info', fill: LIGHT, fillOpacity: 0.7 }),
      Plot.lineY(curve, { x: 'theta', y: 'info', stroke: DARK, strokeWidth: 2 }),
      Plot.ruleY([0], { stroke: INK }),
    ],
  });
}

/** The bank's test information Σ I_j(θ) over θ (the standard error of θ there is 1/√I). */
export function testInformationChart(curve: readonly { theta: number; info: number }[], m: Messages): Chart {
  return informationPanel(curve, m.itemBank.testInformationAxis, m, 220);
}

/**
 * An item's characteristic curve P(θ), with its difficulty b (dashed) and guessing floor c (dotted,
 * when above 0), above its information curve.
 */
export function itemCurveChart(
  curve: readonly { theta: number; p: number; info: number }[],
  params: { b: number; c: number },
  m: Messages,
): Chart {
  const ib = m.itemBank;
  const b = Math.min(B_LIMIT, Math.max(-B_LIMIT, params.b));
  const icc = plot({
    width: CHART_WIDTH,
    height: 200,
    marginLeft: 50,
    marginRight: 16,
    marginTop: 20,
    marginBottom: 30,
    x: {
      domain: [curve[0]?.theta ?? -B_LIMIT, curve[curve.length - 1]?.theta ?? B_LIMIT],
      label: null,
      grid: true,
      tickFormat: (v: number) => formatNumber(v, 0),
    },
    y: {
      domain: [0, 1],
      label: ib.probabilityAxis,
      labelArrow: 'none',
      grid: true,
      tickFormat: (v: number) => formatPercent(v),
    },
    marks: [
      Plot.ruleX([b], { stroke: INK, strokeDasharray: '6,4' }),
      Plot.text([b], {
        x: (d: number) => d,
        frameAnchor: 'top',
        text: () => ib.bLine(formatNumber(params.b)),
        textAnchor: b > 0 ? 'end' : 'start',
        dx: b > 0 ? -6 : 6,
        dy: -10,
        fill: INK,
      }),
      ...(params.c > 0
        ? [
            Plot.ruleY([params.c], { stroke: INK, strokeDasharray: '2,3' }),
            Plot.text([params.c], {
              y: (d: number) => d,
              frameAnchor: 'right',
              text: () => ib.guessing(formatNumber(params.c)),
              textAnchor: 'end',
              dy: -8,
              fill: INK,
            }),
          ]
        : []),
      Plot.lineY(curve, { x: 'theta', y: 'p', stroke: DARK, strokeWidth: 2.5 }),
      Plot.ruleY([0], { stroke: INK }),
    ],
  });
  const info = informationPanel(curve, ib.informationAxis, m, 170);
  return stack([icc, info], '', 0);
}

/**
 * An item's b and a over its calibration runs (oldest to newest), each with ±1 SE bars when the run
 * estimated one; Rasch runs fix a at 1.
 */
export function itemHistoryChart(
  history: readonly { at: Date; a: number; b: number; se_a: number | null; se_b: number | null }[],
  m: Messages,
): Chart {
  const ib = m.itemBank;
  const times = history.map((h) => h.at.getTime());
  const [from, to] = [Math.min(...times), Math.max(...times)];
  // A single run still gets a day of width on either side.
  const pad = Math.max(DAY_MS, (to - from) * 0.05);
  const panel = (key: 'a' | 'b', label: string, height: number, showDates: boolean) => {
    const data = history.map((h) => {
      const se = key === 'a' ? h.se_a : h.se_b;
      const v = h[key];
      return { at: h.at, v, lo: se === null ? v : v - se, hi: se === null ? v : v + se };
    });
    const lo = Math.min(...data.map((d) => d.lo));
    const hi = Math.max(...data.map((d) => d.hi));
    const span = Math.max(0.5, hi - lo);
    return plot({
      width: CHART_WIDTH,
      height,
      marginLeft: 50,
      marginRight: 16,
      marginTop: 12,
      marginBottom: showDates ? 30 : 12,
      // The dates are named once, under the lower panel.
      x: {
        type: 'utc',
        domain: [new Date(from - pad), new Date(to + pad)],
        label: null,
        ticks: 6,
        tickFormat: (d: Date) => m.shortDate(d),
        ...(showDates ? {} : { axis: null }),
      },
      y: {
        domain: [lo - span * 0.15, hi + span * 0.15],
        nice: true,
        label,
        labelArrow: 'none',
        grid: true,
        tickFormat: (v: number) => formatNumber(v, 1),
      },
      marks: [
        Plot.ruleX(data, { x: 'at', y1: 'lo', y2: 'hi', stroke: DARK, strokeWidth: 1.5 }),
        Plot.lineY(data, { x: 'at', y: 'v', stroke: DARK, strokeWidth: 2 }),
        Plot.dot(data, { x: 'at', y: 'v', r: 3.5, fill: 'white', stroke: DARK, strokeWidth: 2 }),
      ],
    });
  };
  const header = `<g font-size="${FONT_SIZE}" fill="${INK}"><text x="50" y="13">${esc(ib.seBars)}</text></g>`;
  return stack(
    [panel('b', ib.difficultyAxis, 130, false), panel('a', ib.discriminationAxis, 150, true)],
    header,
    20,
  );
}

/** The bins of a cohort's KPI distribution: 10 of equal width over the KPI's domain. */
export const DISTRIBUTION_BINS = 10;
export const kpiDomain = (key: KpiKey): [number, number] => (key === 'I_t' ? [-1, 1] : [0, 1]);

/**
 * A cohort's distribution of one KPI (the dashboard): learners per bin, as bars over the KPI's
 * domain. Small: six of them stand side by side on a page.
 */
export function kpiDistributionChart(key: KpiKey, counts: readonly number[], m: Messages): Chart {
  const [lo, hi] = kpiDomain(key);
  const width = (hi - lo) / counts.length;
  const data = counts.map((n, i) => ({ x1: lo + i * width, x2: lo + (i + 1) * width, n }));
  const top = Math.max(1, ...counts);
  return plot({
    width: 300,
    height: 158,
    marginLeft: 34,
    marginRight: 14,
    marginTop: 24,
    marginBottom: 30,
    x: {
      domain: [lo, hi],
      label: null,
      ticks: 5,
      tickFormat: (v: number) => (key === 'I_t' ? formatNumber(v, 1, true) : formatPercent(v)),
    },
    y: {
      domain: [0, top],
      label: m.charts.learnersAxis,
      labelArrow: 'none',
      grid: true,
      ticks: Math.min(4, top),
      tickFormat: (v: number) => (Number.isInteger(v) ? String(v) : ''),
    },
    marks: [
      Plot.rectY(data, { x1: 'x1', x2: 'x2', y: 'n', fill: DARK, inset: 1 }),
      Plot.ruleY([0], { stroke: INK }),
    ],
  });
}

export interface TopicWeekCell {
  topic_id: string;
  topic: string;
  week_start: string;
  /** Correct over attempted in the week; null without attempts. */
  accuracy: number | null;
  /** The mean of the days' improvement figures in the week ([−1, 1]); null when none was computed. */
  improvement: number | null;
}

/**
 * A learner's topics × weeks as a heat map of accuracy or improvement (the dashboard). Each cell
 * prints its value, so the map reads without colour; darker is higher (accuracy) or further from
 * zero (improvement, blue above and red below).
 */
export function topicWeekHeatmap(
  cells: readonly TopicWeekCell[],
  metric: 'accuracy' | 'improvement',
  m: Messages,
): Chart | null {
  const data = cells.flatMap((c) =>
    c[metric] === null ? [] : [{ ...c, value: c[metric]!, label: truncate(c.topic, 160) }],
  );
  if (data.length === 0) return null;
  const topics = [...new Map(cells.map((c) => [c.topic_id, truncate(c.topic, 160)])).entries()];
  // Every week from the first to the last, so a week without practice shows as an empty column.
  const seen = cells.map((c) => Date.parse(`${c.week_start}T00:00:00Z`));
  const weeks: string[] = [];
  for (let t = Math.min(...seen); t <= Math.max(...seen); t += 7 * 86_400_000)
    weeks.push(new Date(t).toISOString().slice(0, 10));
  const labels = new Map(topics);
  const dark = (v: number) => (metric === 'accuracy' ? v >= 0.6 : Math.abs(v) >= 0.5);
  return plot({
    width: CHART_WIDTH,
    height: 40 + 26 * topics.length,
    marginLeft: Math.ceil(Math.max(...topics.map(([, l]) => textWidth(l)))) + 12,
    marginTop: 28,
    marginBottom: 8,
    x: {
      domain: weeks,
      axis: 'top',
      label: null,
      tickFormat: (w: string) => m.shortDate(new Date(`${w}T00:00:00Z`)),
    },
    y: { domain: topics.map(([id]) => id), label: null, tickFormat: (id: string) => labels.get(id) ?? id },
    color:
      metric === 'accuracy'
        ? { type: 'linear', domain: [0, 1], range: [PALE, DARK] }
        : { type: 'linear', domain: [-1, 0, 1], range: ['#b03a2e', '#f7f7f7', DARK] },
    marks: [
      Plot.cell(data, { x: 'week_start', y: 'topic_id', fill: 'value', inset: 1 }),
      // Light text on dark cells, dark text on light ones.
      ...[true, false].map((onDark) =>
        Plot.text(
          data.filter((d) => dark(d.value) === onDark),
          {
            x: 'week_start',
            y: 'topic_id',
            text: (d: (typeof data)[number]) =>
              metric === 'accuracy' ? formatPercent(d.value) : formatNumber(d.value, 2, true),
            fill: onDark ? 'white' : INK,
          },
        ),
      ),
    ],
  });
}
