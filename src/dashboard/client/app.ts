// The dashboard's page script (docs/dashboard.md): sign-in by the link's #token= fragment (kept in
// session storage, the address bar cleared), hash routes for the cohort and learner pages, all data
// from the JSON routes. Elements are built with the DOM API, never from HTML strings, and styled by
// classes only (the Content-Security-Policy forbids inline styles and scripts).

import {
  cohortDistributions,
  csvButton,
  distributionSection,
  heatmapSection,
  topicFilter,
} from './cohort-extras.js';
import { itemBankPage, itemPage } from './item-bank.js';
import { pipelinePage } from './pipeline.js';

type Locale = 'ko' | 'en';
type Kpis = Record<'I_t' | 'E_t' | 'R_t' | 'A_t' | 'P' | 'S', number | null>;
type Catalogue = Record<string, string> & {
  kpiLabels: Record<keyof Kpis, string>;
  kpiHelp: Record<keyof Kpis, string>;
  churnBands: Record<'low' | 'medium' | 'high', string>;
  statusNames: Record<string, string>;
  itemFlags: Record<'ok' | 'drift' | 'misfit' | 'overexposed' | 'inactive', string>;
};

interface OverviewLearner {
  user_id: string;
  display_name: string | null;
  kpis: Kpis | null;
  churn_band: 'low' | 'medium' | 'high' | null;
  theta: number | null;
  theta_change: number | null;
  last_active_at: string | null;
  open_alerts: number;
  days_inactive: number | null;
}

interface Overview {
  cohort: { cohort_id: string; name: string };
  week_start: string | null;
  total: number;
  learners: OverviewLearner[];
}

interface LearnerPage {
  learner: { user_id: string; display_name: string | null; locale: Locale };
  cohorts: { cohort_id: string; name: string }[];
  kpi_weeks: { week_start: string; kpis: Kpis }[];
  theta_history: { at: string; theta: number; se: number | null }[];
  sessions: {
    session_id: string;
    status: string;
    started_at: string;
    attempts: number;
    correct: number;
  }[];
  reports: {
    id: string;
    week_start: string;
    edition: 'learner' | 'teacher';
    format: string;
    generated_at: string;
  }[];
  alerts: { detected_on: string; days_inactive: number }[];
}

export const API = '/api/seedtest';
const TOKEN_KEY = 'seedtest.token';
const LANG_KEY = 'seedtest.lang';
const PAGE_SIZE = 50;
const KPI_ORDER = ['I_t', 'E_t', 'R_t', 'A_t', 'P', 'S'] as const;

export class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

const main = document.getElementById('main') as HTMLElement;
const langSelect = document.getElementById('lang') as HTMLSelectElement;
const signOut = document.getElementById('sign-out') as HTMLButtonElement;
// The staff pages' links: analysts and admins only (the routes refuse anyone else anyway).
const pipelineLink = document.getElementById('nav-pipeline') as HTMLAnchorElement;
const itemsLink = document.getElementById('nav-items') as HTMLAnchorElement;
export let catalogues: Record<Locale, Catalogue>;
export let lang: Locale = localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'ko';
/** Blob URLs of the charts on screen, released when the page changes. */
let chartUrls: string[] = [];

export const t = (key: string, vars: Record<string, string | number> = {}): string =>
  (catalogues[lang][key] ?? key).replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));

export type Child = Node | string | null | undefined | false;

export function h(
  tag: string,
  attrs: Record<string, string | boolean> = {},
  ...children: Child[]
): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false) continue;
    el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

// ---- sign-in ------------------------------------------------------------------------------------

/** Moves a token from the link's fragment into session storage and clears it from the address bar. */
function takeTokenFromLink(): void {
  const m = /^#token=([\w.-]+)/.exec(location.hash);
  if (!m?.[1]) return;
  sessionStorage.setItem(TOKEN_KEY, m[1]);
  history.replaceState(null, '', `${location.pathname}#/`);
}

export const token = () => sessionStorage.getItem(TOKEN_KEY);

/** The token's subject and scopes, read for routing only (the server verifies the token). */
export function claims(): { sub: string; scopes: string[] } {
  try {
    const part = (token() ?? '').split('.')[1] ?? '';
    const json = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as {
      sub?: string;
      scope?: string;
    };
    return { sub: json.sub ?? '', scopes: (json.scope ?? '').split(/\s+/).filter(Boolean) };
  } catch {
    return { sub: '', scopes: [] };
  }
}

/** Operators (analysis:run, admin) see the pipeline page; admins may start runs on it. */
export const isOperator = () => claims().scopes.some((s) => s === 'analysis:run' || s === 'admin');

/** Teachers, analysts and admins have the cohort pages; a learner only her own page. */
const isStaff = () =>
  claims().scopes.some((s) => s === 'cohort:view' || s === 'analysis:run' || s === 'admin');

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(`${API}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${token()}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  if (!res.ok) throw new HttpError(res.status);
  return (await res.json()) as T;
}

// ---- formatting (the viewer's language and time zone) -------------------------------------------

// A true minus sign, as the report prints it: easier to read than a hyphen in a column of numbers.
export const number = (v: number, digits = 2) =>
  new Intl.NumberFormat(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits })
    .format(v)
    .replace('-', '−');
export const percent = (v: number) => new Intl.NumberFormat(lang, { style: 'percent' }).format(v);
const signed = (v: number) => `${v > 0 ? '+' : v < 0 ? '−' : ''}${number(Math.abs(v))}`;
export const dateTime = (iso: string) =>
  new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
/** "3 days ago": what a teacher scans a column for; the exact time is in the cell's title. */
export function ago(iso: string): string {
  const days = Math.round((Date.now() - Date.parse(iso)) / 86_400_000);
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
  return Math.abs(days) < 1
    ? rtf.format(Math.round((Date.parse(iso) - Date.now()) / 3_600_000), 'hour')
    : rtf.format(-days, 'day');
}
// A week or day is a calendar date: formatted in UTC so it never shifts by the viewer's zone.
const day = (ymd: string) =>
  new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeZone: 'UTC' }).format(
    new Date(`${ymd}T00:00:00Z`),
  );

function kpiText(key: keyof Kpis, v: number | null | undefined): string {
  if (v === null || v === undefined) return t('none');
  return key === 'I_t' ? signed(v) : key === 'S' ? number(v) : percent(v);
}

function band(b: OverviewLearner['churn_band'], s: number | null | undefined): HTMLElement {
  if (!b || s === null || s === undefined) return h('span', { class: 'band band-none' }, t('none'));
  return h('span', { class: `band band-${b}` }, `${catalogues[lang].churnBands[b]} ${number(s)}`);
}

// ---- pages --------------------------------------------------------------------------------------

export function message(
  title: string,
  text: string,
  kind: 'info' | 'error' = 'info',
  id?: string,
): HTMLElement {
  return h(
    'div',
    { class: `message ${kind}`, role: kind === 'error' ? 'alert' : 'status', ...(id ? { id } : {}) },
    h('h1', {}, title),
    h('p', {}, text),
  );
}

function show(...children: Child[]): void {
  for (const url of chartUrls) URL.revokeObjectURL(url);
  chartUrls = [];
  main.replaceChildren(...children.filter((c): c is Node | string => !!c));
  main.setAttribute('aria-busy', 'false');
}

/** Puts a page on screen unless a later navigation has started (responses can arrive out of order). */
export type Paint = (...children: Child[]) => void;

export function failure(paint: Paint, err: unknown): void {
  const status = err instanceof HttpError ? err.status : 0;
  if (status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    paint(message(t('signInTitle'), t('signInText'), 'error', 'signin'));
  } else if (status === 403 || status === 404) {
    // Not a dead end: the start page is the teacher's classes or the learner's own page.
    const [title, text, id] =
      status === 403
        ? [t('forbiddenTitle'), t('forbiddenText'), 'forbidden']
        : [t('notFoundTitle'), '', 'not-found'];
    const box = message(title, text, 'error', id);
    box.append(h('p', {}, h('a', { href: '#/' }, t('home'))));
    paint(box);
  } else paint(message(t('errorTitle'), String(err), 'error'));
}

async function home(paint: Paint): Promise<void> {
  if (!isStaff()) {
    location.replace(`#/learners/${encodeURIComponent(claims().sub)}`);
    return;
  }
  const list = await api<{ cohorts: { cohort_id: string; name: string; members: number }[] }>(
    '/cohorts?limit=500',
  );
  if (list.cohorts.length === 1) {
    location.replace(`#/cohorts/${encodeURIComponent(list.cohorts[0]!.cohort_id)}`);
    return;
  }
  paint(
    h('h1', {}, t('cohorts')),
    list.cohorts.length === 0
      ? h('p', {}, t('noCohorts'))
      : h(
          'ul',
          { class: 'plain', id: 'cohort-list' },
          ...list.cohorts.map((c) =>
            h(
              'li',
              {},
              h('a', { href: `#/cohorts/${encodeURIComponent(c.cohort_id)}` }, c.name),
              h('span', { class: 'muted' }, `${c.members} ${t('learners')}`),
            ),
          ),
        ),
  );
}

interface CohortState {
  sort: string;
  order: 'asc' | 'desc';
  filter: string;
  topic: string;
  offset: number;
}

const SORTABLE: { key: string; label: () => string; num: boolean; help?: () => string }[] = [
  { key: 'name', label: () => t('learner'), num: false },
  { key: 'risk', label: () => catalogues[lang].kpiLabels.S, num: false },
  {
    key: 'p',
    label: () => t('pShort'),
    num: true,
    help: () => `${catalogues[lang].kpiLabels.P}: ${catalogues[lang].kpiHelp.P}`,
  },
  { key: 'theta', label: () => t('theta'), num: true },
  { key: 'theta_change', label: () => t('thetaChange'), num: true },
];

/** The table's sort and filters (shared by the page and its CSV export). */
const tableQuery = (s: CohortState): Record<string, string> => ({
  sort: s.sort,
  order: s.order,
  filter: s.filter,
  ...(s.topic ? { topic: s.topic } : {}),
});

function cohortQuery(s: CohortState): string {
  return new URLSearchParams({
    ...tableQuery(s),
    limit: String(PAGE_SIZE),
    offset: String(s.offset),
  }).toString();
}

async function cohortPage(paint: Paint, cohortId: string, state: CohortState): Promise<void> {
  const [data, dist] = await Promise.all([
    api<Overview>(`/cohorts/${encodeURIComponent(cohortId)}/learners?${cohortQuery(state)}`),
    cohortDistributions(cohortId, state.topic),
  ]);
  const rerender = (next: Partial<CohortState>) =>
    void cohortPage(paint, cohortId, { ...state, ...next }).catch((err: unknown) => failure(paint, err));
  const headerCell = (col: (typeof SORTABLE)[number]) => {
    const active = state.sort === col.key;
    const button = h('button', { type: 'button', class: 'sort' }, col.label());
    button.addEventListener('click', () =>
      rerender({ sort: col.key, order: active && state.order === 'desc' ? 'asc' : 'desc', offset: 0 }),
    );
    return h(
      'th',
      {
        scope: 'col',
        class: col.num ? 'num' : '',
        'aria-sort': active ? (state.order === 'desc' ? 'descending' : 'ascending') : 'none',
        title: col.help?.() ?? false,
        'data-sort': col.key,
      },
      button,
    );
  };
  const kpiHead = (k: 'I_t' | 'E_t' | 'R_t' | 'A_t') =>
    h(
      'th',
      { scope: 'col', class: 'num', title: catalogues[lang].kpiHelp[k] },
      catalogues[lang].kpiLabels[k],
    );
  const lastActiveHead = headerCell({ key: 'last_active', label: () => t('lastActive'), num: false });
  const alertsHead = headerCell({ key: 'alerts', label: () => t('alerts'), num: false });
  const [nameHead, riskHead, pHead, thetaHead, changeHead] = SORTABLE.map(headerCell);
  const rows = data.learners.map((l) => {
    const change = l.theta_change;
    return h(
      'tr',
      { 'data-user': l.user_id },
      h(
        'th',
        { scope: 'row' },
        h('a', { href: `#/learners/${encodeURIComponent(l.user_id)}` }, l.display_name ?? l.user_id),
      ),
      h('td', {}, band(l.churn_band, l.kpis?.S)),
      h('td', { class: 'num' }, kpiText('P', l.kpis?.P)),
      h('td', { class: 'num' }, l.theta === null ? t('none') : number(l.theta)),
      h(
        'td',
        { class: `num ${change === null ? '' : change > 0 ? 'up' : change < 0 ? 'down' : ''}` },
        change === null ? t('none') : signed(change),
      ),
      ...(['I_t', 'E_t', 'R_t', 'A_t'] as const).map((k) =>
        h('td', { class: 'num' }, kpiText(k, l.kpis?.[k])),
      ),
      l.last_active_at
        ? h(
            'td',
            { title: dateTime(l.last_active_at) },
            h('time', { datetime: l.last_active_at }, ago(l.last_active_at)),
          )
        : h('td', {}, t('never')),
      h(
        'td',
        {},
        l.open_alerts > 0
          ? h('span', { class: 'alert' }, t('days', { n: l.days_inactive ?? 0 }))
          : h('span', { class: 'muted' }, t('none')),
      ),
    );
  });
  const filter = h(
    'select',
    { id: 'filter' },
    ...(['all', 'at_risk', 'inactive'] as const).map((f) =>
      h(
        'option',
        { value: f, selected: state.filter === f },
        t(f === 'all' ? 'filterAll' : f === 'at_risk' ? 'filterAtRisk' : 'filterInactive'),
      ),
    ),
  ) as HTMLSelectElement;
  filter.addEventListener('change', () => rerender({ filter: filter.value, offset: 0 }));
  const from = data.total === 0 ? 0 : state.offset + 1;
  const to = state.offset + data.learners.length;
  const prev = h('button', { type: 'button', disabled: state.offset === 0 }, t('previous'));
  prev.addEventListener('click', () => rerender({ offset: Math.max(0, state.offset - PAGE_SIZE) }));
  const next = h('button', { type: 'button', disabled: to >= data.total }, t('next'));
  next.addEventListener('click', () => rerender({ offset: state.offset + PAGE_SIZE }));
  const sortedBy = [
    ...SORTABLE,
    { key: 'last_active', label: () => t('lastActive') },
    { key: 'alerts', label: () => t('alerts') },
  ]
    .find((c) => c.key === state.sort)
    ?.label();
  paint(
    h('h1', {}, data.cohort.name),
    h('p', { class: 'sub' }, data.week_start ? `${t('weekOf')} ${day(data.week_start)}` : t('noWeek')),
    h(
      'div',
      { class: 'controls' },
      h('label', { for: 'filter' }, t('filter')),
      filter,
      ...topicFilter(dist, state.topic, (topic) => rerender({ topic, offset: 0 })),
      csvButton(cohortId, tableQuery(state), paint),
    ),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'learners' },
        h(
          'caption',
          {},
          `${t('showing', { from, to, total: data.total })} · ${t('sortedBy', { column: sortedBy ?? '' })}`,
        ),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            nameHead,
            riskHead,
            pHead,
            thetaHead,
            changeHead,
            kpiHead('I_t'),
            kpiHead('E_t'),
            kpiHead('R_t'),
            kpiHead('A_t'),
            lastActiveHead,
            alertsHead,
          ),
        ),
        h('tbody', {}, ...rows),
      ),
    ),
    data.total > PAGE_SIZE && h('div', { class: 'pager' }, prev, next),
    await distributionSection(dist),
  );
}

export async function chartFigure(
  title: string,
  chart: { points: number; svg: string },
  key: string,
): Promise<HTMLElement> {
  // An SVG drawn as an image keeps its own presentation attributes out of the page's CSP.
  const url = URL.createObjectURL(new Blob([chart.svg], { type: 'image/svg+xml' }));
  chartUrls.push(url);
  const img = h('img', {
    src: url,
    alt: t('chartAlt', { title, n: chart.points }),
    'data-points': String(chart.points),
  });
  return h('figure', { 'data-chart': key }, h('figcaption', {}, title), img);
}

/** A stored report's bytes, fetched with the page's token (never in a URL). */
async function fetchReport(id: string): Promise<Response> {
  const res = await fetch(`${API}/reports/${encodeURIComponent(id)}/download`, {
    headers: { authorization: `Bearer ${token()}` },
  });
  if (!res.ok) throw new HttpError(res.status);
  return res;
}

async function downloadReport(id: string, name: string): Promise<void> {
  const url = URL.createObjectURL(await (await fetchReport(id)).blob());
  const a = h('a', { href: url, download: name });
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The nonce this page was served with (assets.ts): the one <style> of a shown report may use it. */
const styleNonce = (document.querySelector('script[nonce]') as HTMLScriptElement | null)?.nonce ?? '';

/**
 * The report file as the frame gets it. The frame inherits the page's policy, which allows styles by
 * the page's nonce only: every <style> element (the file's and the charts') is marked with it, and
 * each style attribute (the charts' SVG) becomes a class of one more marked <style>, !important as an
 * inline style is. On the text, not a parsed document: parsing here would apply the page's policy to
 * the file's styles and report each as a violation. The file is ours (attribute values escaped).
 */
function framedReport(html: string): string {
  const rules: string[] = [];
  const tags = html.replace(/<[a-zA-Z][^<>]*\sstyle="([^"]*)"[^<>]*>/g, (tag, style: string) => {
    const name = `inline-style-${rules.length}`;
    const decls = style
      .split(';')
      .map((d) => d.trim())
      .filter((d) => d.length > 0);
    rules.push(`.${name} { ${decls.map((d) => `${d} !important`).join('; ')} }`);
    const rest = tag.replace(/\sstyle="[^"]*"/, '');
    return / class="/.test(rest)
      ? rest.replace(/ class="/, ` class="${name} `)
      : rest.replace(/^<[a-zA-Z]+/, `$& class="${name}"`);
  });
  return tags
    .replace('</head>', `<style>${rules.join('\n')}</style>\n</head>`)
    .replace(/<style(?=[\s>])/g, `<style nonce="${styleNonce}"`);
}

/**
 * Shows a stored HTML report in the page: a modal dialog holding a sandboxed frame (no scripts, an
 * opaque origin) whose document is the file (framedReport), its embedded font a data: URL.
 */
async function openReport(id: string, title: string): Promise<void> {
  const html = await (await fetchReport(id)).text();
  const frame = h('iframe', { sandbox: '', title, id: 'report-frame' }) as HTMLIFrameElement;
  frame.srcdoc = framedReport(html);
  const close = h('button', { type: 'button', class: 'close' }, t('close'));
  const dialog = h(
    'dialog',
    { id: 'report-view', 'aria-label': title },
    h('div', { class: 'dialog-bar' }, h('h2', {}, title), close),
    frame,
  ) as HTMLDialogElement;
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

async function learnerPage(paint: Paint, userId: string): Promise<void> {
  const path = `/learners/${encodeURIComponent(userId)}`;
  const [d, charts, heatmaps] = await Promise.all([
    api<LearnerPage>(`${path}/overview`),
    api<{ charts: { key: 'kpi_trend' | 'theta'; points: number; svg: string }[] }>(
      `${path}/charts?locale=${lang}`,
    ),
    heatmapSection(userId),
  ]);
  const latest = d.kpi_weeks[d.kpi_weeks.length - 1];
  const cards = KPI_ORDER.map((k) =>
    h(
      'div',
      { class: 'card', title: catalogues[lang].kpiHelp[k] },
      h('div', { class: 'label' }, catalogues[lang].kpiLabels[k]),
      h('div', { class: 'value' }, kpiText(k, latest?.kpis[k])),
    ),
  );
  const figures = await Promise.all(
    charts.charts.map((c) => chartFigure(t(c.key === 'theta' ? 'thetaHistory' : 'kpiTrend'), c, c.key)),
  );
  const cohort = d.cohorts[0];
  const reportItems = d.reports.map((r) => {
    const label = `${t('weekOf')} ${day(r.week_start)}${r.edition === 'teacher' ? ` · ${t('teacherEdition')}` : ''}`;
    const button = h('button', { type: 'button' }, t('download', { format: r.format.toUpperCase() }));
    button.addEventListener(
      'click',
      () =>
        void downloadReport(
          r.id,
          `report-${d.learner.user_id}-${r.week_start}-${r.edition}.${r.format}`,
        ).catch((err: unknown) => failure(paint, err)),
    );
    const open =
      r.format === 'html' ? h('button', { type: 'button', class: 'open-report' }, t('openReport')) : null;
    open?.addEventListener(
      'click',
      () => void openReport(r.id, `${t('reports')} · ${label}`).catch((err: unknown) => failure(paint, err)),
    );
    return h('li', {}, h('span', {}, label), open, button);
  });
  paint(
    cohort && isStaff()
      ? h(
          'a',
          {
            class: 'crumb',
            href: `#/cohorts/${encodeURIComponent(cohort.cohort_id)}`,
            'aria-label': `${t('back')}: ${cohort.name}`,
          },
          `← ${cohort.name}`,
        )
      : null,
    h('h1', {}, d.learner.display_name ?? d.learner.user_id),
    h(
      'p',
      { class: 'sub' },
      [d.learner.user_id, ...d.cohorts.map((c) => c.name)].join(' · '),
      latest ? ` · ${t('weekOf')} ${day(latest.week_start)}` : '',
    ),
    d.alerts.length > 0 &&
      h('p', { class: 'alert', role: 'status' }, t('daysInactive', { n: d.alerts[0]!.days_inactive })),
    h('h2', {}, t('thisWeek')),
    h('div', { class: 'cards' }, ...cards),
    h('div', { class: 'charts', id: 'charts' }, ...figures),
    heatmaps,
    h('h2', {}, t('sessions')),
    d.sessions.length === 0
      ? h('p', { class: 'muted' }, t('noSessions'))
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { id: 'sessions' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { scope: 'col' }, t('started')),
                h('th', { scope: 'col' }, t('status')),
                h('th', { scope: 'col', class: 'num' }, t('attempts')),
                h('th', { scope: 'col', class: 'num' }, t('correct')),
              ),
            ),
            h(
              'tbody',
              {},
              ...d.sessions.map((s) =>
                h(
                  'tr',
                  {},
                  h('td', {}, dateTime(s.started_at)),
                  h('td', {}, catalogues[lang].statusNames[s.status] ?? s.status),
                  h('td', { class: 'num' }, String(s.attempts)),
                  h('td', { class: 'num' }, String(s.correct)),
                ),
              ),
            ),
          ),
        ),
    h('h2', {}, t('reports')),
    reportItems.length === 0
      ? h('p', { class: 'muted' }, t('noReports'))
      : h('ul', { class: 'plain', id: 'reports' }, ...reportItems),
  );
}

// ---- routing ------------------------------------------------------------------------------------

function applyLanguage(): void {
  document.documentElement.lang = lang;
  langSelect.value = lang;
  for (const el of document.querySelectorAll<HTMLElement>('[data-i18n]'))
    el.textContent = t(el.dataset.i18n ?? '');
  document.title = t('appTitle');
}

/** Counts navigations: only the latest may paint. */
let navigation = 0;

async function route(): Promise<void> {
  const current = ++navigation;
  const paint: Paint = (...children) => {
    if (current === navigation) show(...children);
  };
  takeTokenFromLink();
  main.setAttribute('aria-busy', 'true');
  signOut.hidden = !token();
  if (!token()) {
    paint(message(t('signInTitle'), t('signInText'), 'info', 'signin'));
    return;
  }
  const [, page, id] = /^#\/(cohorts|learners|items)\/([^/]+)$/.exec(location.hash) ?? [];
  pipelineLink.hidden = !isOperator();
  itemsLink.hidden = !isOperator();
  try {
    if (location.hash === '#/pipeline') await pipelinePage(paint);
    else if (location.hash === '#/items') await itemBankPage(paint);
    else if (page === 'items' && id) await itemPage(paint, decodeURIComponent(id));
    else if (page === 'cohorts' && id)
      await cohortPage(paint, decodeURIComponent(id), {
        sort: 'risk',
        order: 'desc',
        filter: 'all',
        topic: '',
        offset: 0,
      });
    else if (page === 'learners' && id) await learnerPage(paint, decodeURIComponent(id));
    else await home(paint);
  } catch (err) {
    failure(paint, err);
  }
}

async function start(): Promise<void> {
  catalogues = (await (await fetch('/dashboard/i18n.json')).json()) as Record<Locale, Catalogue>;
  applyLanguage();
  langSelect.addEventListener('change', () => {
    lang = langSelect.value === 'en' ? 'en' : 'ko';
    localStorage.setItem(LANG_KEY, lang);
    applyLanguage();
    void route();
  });
  signOut.addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    void route();
  });
  window.addEventListener('hashchange', () => void route());
  await route();
  main.focus();
}

void start();
