// The class page's additions: the topic filter, the CSV export and the week's KPI distributions;
// the learner page's topic heat maps. Charts come drawn by the server (the report's chart module).
import {
  API,
  api,
  type Child,
  catalogues,
  chartFigure,
  failure,
  HttpError,
  h,
  lang,
  type Paint,
  t,
  token,
} from './app.js';

type Chart = { key: string; points: number; svg: string };

export interface Distributions {
  week_start: string | null;
  learners: number;
  topics: { topic_id: string; name: string }[];
  charts: (Chart & { missing: number })[];
}

export function cohortDistributions(cohortId: string, topic: string): Promise<Distributions> {
  const q = new URLSearchParams({ locale: lang, ...(topic ? { topic } : {}) });
  return api<Distributions>(`/cohorts/${encodeURIComponent(cohortId)}/distributions?${q}`);
}

/** The topic filter: everyone, or those who practised a topic this week. */
export function topicFilter(d: Distributions, current: string, onChange: (topic: string) => void): Child[] {
  const select = h(
    'select',
    { id: 'topic' },
    h('option', { value: '', selected: current === '' }, t('allTopics')),
    ...d.topics.map((x) => h('option', { value: x.topic_id, selected: current === x.topic_id }, x.name)),
  ) as HTMLSelectElement;
  select.addEventListener('change', () => onChange(select.value));
  return [h('label', { for: 'topic' }, t('topic')), select];
}

/** Downloads the table as CSV (every row, as sorted and filtered on screen). */
export function csvButton(cohortId: string, query: Record<string, string>, paint: Paint): HTMLElement {
  const button = h('button', { type: 'button', id: 'csv' }, t('exportCsv'));
  button.addEventListener('click', () => {
    const q = new URLSearchParams({ ...query, locale: lang });
    void (async () => {
      const res = await fetch(`${API}/cohorts/${encodeURIComponent(cohortId)}/learners.csv?${q}`, {
        headers: { authorization: `Bearer ${token()}` },
      });
      if (!res.ok) throw new HttpError(res.status);
      const url = URL.createObjectURL(await res.blob());
      h('a', { href: url, download: `cohort-${cohortId}.csv` }).click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    })().catch((err: unknown) => failure(paint, err));
  });
  return button;
}

/** The six KPI histograms of the week, each saying how many learners it counts. */
export async function distributionSection(d: Distributions): Promise<HTMLElement> {
  const figures = await Promise.all(
    d.charts.map(async (c) => {
      const name = catalogues[lang].kpiLabels[c.key as 'S'];
      // Empty axes say less than a sentence: a KPI nobody has this week gets the sentence.
      const fig =
        c.points > 0
          ? await chartFigure(name, c, c.key)
          : h(
              'figure',
              { 'data-chart': c.key },
              h('figcaption', {}, name),
              h('p', { class: 'muted' }, t('noDistribution')),
            );
      fig.append(
        h(
          'p',
          { class: 'muted small' },
          t('distributionCount', { n: c.points }),
          c.missing > 0 ? ` · ${t('distributionMissing', { n: c.missing })}` : '',
        ),
      );
      return fig;
    }),
  );
  return h(
    'section',
    { 'aria-labelledby': 'dist-title' },
    h('h2', { id: 'dist-title' }, t('distributions')),
    d.learners === 0
      ? h('p', { class: 'muted' }, t('noDistributions'))
      : h('div', { class: 'charts small-charts', id: 'distributions' }, ...figures),
  );
}

/** The learner's accuracy and improvement by topic and week. */
export async function heatmapSection(userId: string): Promise<HTMLElement> {
  const { charts } = await api<{ charts: Chart[] }>(
    `/learners/${encodeURIComponent(userId)}/topics?locale=${lang}`,
  );
  const figures = await Promise.all(
    charts.map((c) => chartFigure(t(c.key === 'accuracy' ? 'heatAccuracy' : 'heatImprovement'), c, c.key)),
  );
  return h(
    'section',
    { 'aria-labelledby': 'heat-title' },
    h('h2', { id: 'heat-title' }, t('topicsByWeek')),
    figures.length === 0
      ? h('p', { class: 'muted' }, t('noTopics'))
      : h('div', { class: 'charts', id: 'heatmaps' }, ...figures),
  );
}
