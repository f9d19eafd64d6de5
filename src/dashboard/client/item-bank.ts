// The item-bank pages (staff: analysis:run or admin; docs/dashboard.md): #/items, a calibration run's
// bank (flag counts, the difficulty × discrimination scatter by flag or topic, the test information,
// the flagged items paged by the server, the calibration history), and #/items/{id}, one item's
// curves, parameters over runs, fit, drift and exposure. A teacher's token gets the routes' 403.
import {
  api,
  type Child,
  catalogues,
  chartFigure,
  dateTime,
  failure,
  h,
  lang,
  number,
  type Paint,
  percent,
  t,
} from './app.js';

type Flag = 'drift' | 'misfit' | 'overexposed' | 'inactive';
const FLAGS: Flag[] = ['drift', 'misfit', 'overexposed', 'inactive'];
const FILTERS = ['flagged', 'all', ...FLAGS] as const;
type Filter = (typeof FILTERS)[number];
const PAGE_SIZE = 50;

interface Bank {
  run: { run_id: string; model: string; fitted_at: string } | null;
  bank_size: number;
  calibrated: number;
  sessions: number;
  max_exposure_rate: number;
  flag_counts: Record<Flag, number>;
  information: { max: number; theta: number } | null;
  total: number;
  items: {
    item_id: string;
    topic_id: string;
    topic: string;
    a: number;
    b: number;
    c: number;
    infit: number | null;
    outfit: number | null;
    sx2_p: number | null;
    exposure_rate: number | null;
    flags: Flag[];
  }[];
}

interface Run {
  run_id: string;
  model: string;
  status: 'succeeded' | 'failed';
  fitted_at: string;
  log_lik: number | null;
  n_items: number | null;
  n_persons: number | null;
  marginal_rxx: number | null;
  empirical_rxx: number | null;
  linking: { method: string; A: number | null; B: number | null; anchors_used: number | null } | null;
  dropped_anchors: string[];
  drift_flagged: number;
  error: string | null;
}

interface ItemRun {
  run_id: string;
  model: string;
  fitted_at: string;
  params: { a: number; b: number; c: number };
  se: { a: number | null; b: number | null; c: number | null };
  responses: number | null;
  p_correct: number | null;
  fit: {
    infit: number;
    outfit: number;
    sx2: number | null;
    sx2_df: number | null;
    sx2_p: number | null;
  } | null;
  drift: {
    db: number | null;
    lord_chi2: number | null;
    df: number | null;
    p: number | null;
    flag: boolean;
  } | null;
  exposure: { served: number; sessions: number; rate: number } | null;
}

interface ItemDetail {
  item: { item_id: string; topic_id: string; topic: string; active: boolean; tags: string[] };
  runs: ItemRun[];
  max_exposure_rate: number;
}

type Charts = { charts: { key: string; points: number; svg: string }[] };

const none = () => t('none');
const num = (v: number | null | undefined, digits = 2) =>
  v === null || v === undefined ? none() : number(v, digits);
/** A p-value: three decimals, "< 0.001" below. */
const pValue = (p: number | null | undefined) =>
  p === null || p === undefined ? none() : p < 0.001 ? `< ${number(0.001, 3)}` : number(p, 3);
const cell = (text: string, cls = 'num') => h('td', { class: cls }, text);
const head = (text: string, num = true) => h('th', { scope: 'col', class: num ? 'num' : '' }, text);

function flagBadges(flags: readonly Flag[]): HTMLElement {
  if (flags.length === 0) return h('span', { class: 'muted' }, none());
  return h(
    'span',
    { class: 'flags' },
    ...flags.map((f) => h('span', { class: `flag flag-${f}` }, catalogues[lang].itemFlags[f])),
  );
}

function card(label: string, value: string, note?: string, id?: string): HTMLElement {
  return h(
    'div',
    { class: 'card', ...(id ? { 'data-card': id } : {}) },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, value),
    note ? h('div', { class: 'note' }, note) : null,
  );
}

function select<T extends string>(
  id: string,
  label: string,
  options: readonly { value: T; text: string }[],
  value: T,
  onChange: (v: T) => void,
): HTMLElement[] {
  const el = h(
    'select',
    { id },
    ...options.map((o) => h('option', { value: o.value, selected: o.value === value }, o.text)),
  ) as HTMLSelectElement;
  el.addEventListener('change', () => onChange(el.value as T));
  return [h('label', { for: id }, label), el];
}

/** A chart with a sentence under it that says what it shows (the image's longer description). */
async function describedChart(
  title: string,
  chart: Charts['charts'][number],
  summary: string,
): Promise<HTMLElement> {
  const figure = await chartFigure(title, chart, chart.key);
  const id = `chart-note-${chart.key}`;
  figure.querySelector('img')?.setAttribute('aria-describedby', id);
  figure.append(h('p', { class: 'chart-note', id }, summary));
  return figure;
}

/** The test information's peak, its θ and the standard error of θ there (1/√I). */
const peak = (info: { max: number; theta: number }) => ({
  max: number(info.max, 1),
  theta: number(info.theta, 1),
  se: number(1 / Math.sqrt(info.max)),
});

interface BankState {
  run: string | null;
  color: 'flag' | 'topic';
  filter: Filter;
  offset: number;
}

export async function itemBankPage(
  paint: Paint,
  state: BankState = { run: null, color: 'flag', filter: 'flagged', offset: 0 },
): Promise<void> {
  const run = state.run ? `run=${encodeURIComponent(state.run)}&` : '';
  const [bank, charts, history] = await Promise.all([
    api<Bank>(`/item-bank?${run}filter=${state.filter}&limit=${PAGE_SIZE}&offset=${state.offset}`),
    api<Charts>(`/item-bank/charts?${run}color=${state.color}&locale=${lang}`),
    api<{ total: number; runs: Run[] }>('/item-bank/calibrations?limit=20'),
  ]);
  const rerender = (next: Partial<BankState>) =>
    void itemBankPage(paint, { ...state, ...next }).catch((err: unknown) => failure(paint, err));
  if (!bank.run) {
    paint(h('h1', {}, t('itemBank')), h('p', { class: 'message info', role: 'status' }, t('noCalibration')));
    return;
  }
  const succeeded = history.runs.filter((r) => r.status === 'succeeded');
  const runChoice = select(
    'run',
    t('run'),
    (succeeded.some((r) => r.run_id === bank.run!.run_id)
      ? succeeded
      : [{ run_id: bank.run.run_id, fitted_at: bank.run.fitted_at }, ...succeeded]
    ).map((r) => ({ value: r.run_id, text: `${r.run_id} (${dateTime(r.fitted_at)})` })),
    bank.run.run_id,
    (v) => rerender({ run: v, offset: 0 }),
  );
  const colorChoice = select(
    'color',
    t('colorBy'),
    [
      { value: 'flag' as const, text: t('colorFlag') },
      { value: 'topic' as const, text: t('colorTopic') },
    ],
    state.color,
    (v) => rerender({ color: v }),
  );
  const info = bank.information;
  const flagged = FLAGS.map((f) => `${catalogues[lang].itemFlags[f]} ${bank.flag_counts[f]}`).join(', ');
  const figures = await Promise.all(
    charts.charts.map((c) =>
      c.key === 'scatter'
        ? describedChart(t('scatter'), c, `${t('calibrated')} ${c.points}: ${flagged}.`)
        : describedChart(t('testInformation'), c, info ? t('peakNote', peak(info)) : ''),
    ),
  );
  const filter = select(
    'filter',
    t('filter'),
    FILTERS.map((f) => ({
      value: f,
      text:
        f === 'flagged'
          ? t('filterFlagged')
          : f === 'all'
            ? `${t('filterEveryItem')} (${bank.calibrated})`
            : `${catalogues[lang].itemFlags[f]} (${bank.flag_counts[f]})`,
    })),
    state.filter,
    (v) => rerender({ filter: v, offset: 0 }),
  );
  const from = bank.total === 0 ? 0 : state.offset + 1;
  const to = state.offset + bank.items.length;
  const prev = h('button', { type: 'button', disabled: state.offset === 0 }, t('previous'));
  prev.addEventListener('click', () => rerender({ offset: Math.max(0, state.offset - PAGE_SIZE) }));
  const next = h('button', { type: 'button', disabled: to >= bank.total }, t('next'));
  next.addEventListener('click', () => rerender({ offset: state.offset + PAGE_SIZE }));
  const rate = (r: number | null) => (r === null ? none() : percent(r));
  paint(
    h('h1', {}, t('itemBank')),
    h(
      'p',
      { class: 'sub' },
      t('itemBankSub', { run: bank.run.run_id, model: bank.run.model, date: dateTime(bank.run.fitted_at) }),
    ),
    h('div', { class: 'controls' }, ...runChoice, ...colorChoice),
    h(
      'div',
      { class: 'cards auto' },
      card(t('calibrated'), String(bank.calibrated), t('ofBank', { n: bank.bank_size }), 'calibrated'),
      ...FLAGS.map((f) =>
        card(
          catalogues[lang].itemFlags[f],
          String(bank.flag_counts[f]),
          t(`${f}Note`, { rate: percent(bank.max_exposure_rate), n: bank.sessions }),
          f,
        ),
      ),
      info && card(t('peakInformation'), number(info.max, 1), t('atTheta', peak(info)), 'information'),
    ),
    h('div', { class: 'charts wide', id: 'charts' }, ...figures),
    h('h2', { id: 'items-heading' }, t('items')),
    h('div', { class: 'controls' }, ...filter),
    bank.items.length === 0
      ? h('p', { class: 'muted' }, t('noItems'))
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { id: 'items', 'aria-labelledby': 'items-heading' },
            h('caption', {}, t('itemsShowing', { from, to, total: bank.total })),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                head(t('item'), false),
                head(t('topic'), false),
                head('a'),
                head('b'),
                head('c'),
                head(t('infit')),
                head(t('outfit')),
                head(t('sx2p')),
                head(t('exposure')),
                head(t('flags'), false),
              ),
            ),
            h(
              'tbody',
              {},
              ...bank.items.map((i) =>
                h(
                  'tr',
                  { 'data-item': i.item_id },
                  h(
                    'th',
                    { scope: 'row' },
                    h('a', { href: `#/items/${encodeURIComponent(i.item_id)}` }, i.item_id),
                  ),
                  h('td', { title: i.topic_id }, i.topic),
                  cell(num(i.a)),
                  cell(num(i.b)),
                  cell(num(i.c)),
                  cell(num(i.infit)),
                  cell(num(i.outfit)),
                  cell(pValue(i.sx2_p)),
                  cell(rate(i.exposure_rate)),
                  h('td', {}, flagBadges(i.flags)),
                ),
              ),
            ),
          ),
        ),
    bank.total > PAGE_SIZE && h('div', { class: 'pager' }, prev, next),
    h('h2', { id: 'runs-heading' }, t('calibrations')),
    calibrationTable(history.runs),
  );
}

function calibrationTable(runs: readonly Run[]): HTMLElement {
  const linking = (r: Run) =>
    r.linking === null || r.linking.method === 'none'
      ? t('notLinked')
      : `${r.linking.method} (${num(r.linking.A, 3)}, ${num(r.linking.B, 3)})`;
  const dropped = (r: Run): Child =>
    r.dropped_anchors.length === 0
      ? '0'
      : h('span', { title: r.dropped_anchors.join(', ') }, String(r.dropped_anchors.length));
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { id: 'calibrations', 'aria-labelledby': 'runs-heading' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          head(t('run'), false),
          head(t('fitted'), false),
          head(t('runStatus'), false),
          head(t('items')),
          head(t('persons')),
          head(t('logLik')),
          head(t('reliability')),
          head(t('linking'), false),
          head(t('anchors')),
          head(t('drifted')),
        ),
      ),
      h(
        'tbody',
        {},
        ...runs.map((r) =>
          h(
            'tr',
            { 'data-run': r.run_id },
            h('th', { scope: 'row' }, r.run_id, h('div', { class: 'note' }, r.model)),
            cell(dateTime(r.fitted_at), ''),
            h(
              'td',
              r.error ? { title: r.error } : {},
              h('span', { class: `band band-${r.status === 'failed' ? 'high' : 'low'}` }, t(r.status)),
              r.error ? h('div', { class: 'error-text' }, r.error) : null,
            ),
            cell(r.n_items === null ? none() : String(r.n_items)),
            cell(r.n_persons === null ? none() : String(r.n_persons)),
            cell(num(r.log_lik, 1)),
            cell(r.marginal_rxx === null ? none() : `${num(r.marginal_rxx, 3)} / ${num(r.empirical_rxx, 3)}`),
            cell(linking(r), ''),
            h('td', { class: 'num' }, `${r.linking?.anchors_used ?? 0} / `, dropped(r)),
            cell(String(r.drift_flagged)),
          ),
        ),
      ),
    ),
  );
}

export async function itemPage(paint: Paint, itemId: string): Promise<void> {
  const path = `/item-bank/items/${encodeURIComponent(itemId)}`;
  const [d, charts] = await Promise.all([
    api<ItemDetail>(path),
    api<Charts>(`${path}/charts?locale=${lang}`),
  ]);
  const latest = d.runs[0];
  const withSe = (v: number, se: number | null) => (se === null ? num(v) : `${num(v)} ± ${num(se)}`);
  const exposure = (e: ItemRun['exposure']) =>
    e === null ? none() : `${percent(e.rate)} (${t('served', { served: e.served, sessions: e.sessions })})`;
  const figures = await Promise.all(
    charts.charts.map((c) =>
      c.key === 'curve' && latest
        ? describedChart(
            t('curve'),
            c,
            `a = ${num(latest.params.a)}, b = ${num(latest.params.b)}, c = ${num(latest.params.c)} (${latest.run_id}).`,
          )
        : describedChart(
            t('paramHistory'),
            c,
            d.runs
              .slice()
              .reverse()
              .map((r) => `${r.run_id}: a ${num(r.params.a)}, b ${num(r.params.b)}`)
              .join('; '),
          ),
    ),
  );
  paint(
    h('a', { class: 'crumb', href: '#/items' }, `← ${t('backToBank')}`),
    h('h1', {}, d.item.item_id),
    h(
      'p',
      { class: 'sub' },
      [`${t('topic')}: ${d.item.topic}`, ...(d.item.tags.length ? [d.item.tags.join(', ')] : [])].join(' · '),
    ),
    !d.item.active && h('p', { class: 'alert', role: 'status' }, t('inactiveItem')),
    latest
      ? h(
          'div',
          {},
          h('h2', {}, t('current', { run: latest.run_id })),
          h(
            'div',
            { class: 'cards auto' },
            card('a', withSe(latest.params.a, latest.se.a)),
            card('b', withSe(latest.params.b, latest.se.b)),
            card('c', withSe(latest.params.c, latest.se.c)),
            card(
              `${t('infit')} / ${t('outfit')}`,
              latest.fit ? `${num(latest.fit.infit)} / ${num(latest.fit.outfit)}` : none(),
            ),
            card(t('sx2p'), pValue(latest.fit?.sx2_p)),
            card(
              t('driftFlag'),
              latest.drift ? (latest.drift.flag ? t('yes') : t('no')) : none(),
              latest.drift ? `Δb ${num(latest.drift.db)}` : undefined,
            ),
            card(
              t('exposure'),
              latest.exposure ? percent(latest.exposure.rate) : none(),
              t('exposureLimit', { rate: percent(d.max_exposure_rate) }),
            ),
          ),
          h('div', { class: 'charts wide', id: 'charts' }, ...figures),
        )
      : h('p', { class: 'muted' }, t('noRuns')),
    d.runs.length > 0 && h('h2', { id: 'item-runs-heading' }, t('runs')),
    d.runs.length > 0 &&
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { id: 'item-runs', 'aria-labelledby': 'item-runs-heading' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              head(t('run'), false),
              head(t('fitted'), false),
              head('a'),
              head('b'),
              head('c'),
              head(t('responsesCorrect')),
              head(`${t('infit')} / ${t('outfit')}`),
              head('S-X² (df, p)'),
              head(t('drift')),
              head(t('lordChi2')),
              head(t('driftFlag'), false),
              head(t('exposure')),
            ),
          ),
          h(
            'tbody',
            {},
            ...d.runs.map((r) =>
              h(
                'tr',
                { 'data-run': r.run_id },
                h('th', { scope: 'row' }, r.run_id),
                cell(dateTime(r.fitted_at), ''),
                cell(withSe(r.params.a, r.se.a)),
                cell(withSe(r.params.b, r.se.b)),
                cell(num(r.params.c)),
                cell(
                  r.responses === null
                    ? none()
                    : `${r.responses}${r.p_correct === null ? '' : ` (${percent(r.p_correct)})`}`,
                ),
                cell(r.fit ? `${num(r.fit.infit)} / ${num(r.fit.outfit)}` : none()),
                cell(
                  r.fit?.sx2 == null
                    ? none()
                    : `${num(r.fit.sx2, 1)} (${r.fit.sx2_df ?? none()}, ${pValue(r.fit.sx2_p)})`,
                ),
                cell(num(r.drift?.db)),
                cell(
                  r.drift?.lord_chi2 == null
                    ? none()
                    : `${num(r.drift.lord_chi2, 1)} (${r.drift.df ?? none()}, ${pValue(r.drift.p)})`,
                ),
                h(
                  'td',
                  {},
                  r.drift === null
                    ? h('span', { class: 'muted' }, none())
                    : r.drift.flag
                      ? flagBadges(['drift'])
                      : t('no'),
                ),
                cell(exposure(r.exposure)),
              ),
            ),
          ),
        ),
      ),
  );
}
