// The pipeline page (#/pipeline, operators): each job's schedule, next slot, latest run and latest
// failure; the θ-update queue; the recent runs. Admins start a run or a dry run here (POST
// /jobs/{name}/run); while a run is in progress the page refreshes its tables every 2 s, in place,
// so keyboard focus stays where it was.
import { ago, api, type Child, claims, dateTime, failure, h, lang, type Paint, t } from './app.js';

interface Run {
  run_id: string;
  job: string;
  status: 'running' | 'succeeded' | 'partial' | 'failed';
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  dry_run: boolean;
  rows: number;
  error: string | null;
}

interface Pipeline {
  now: string;
  jobs: {
    name: string;
    description: string;
    schedule: string;
    next_run: string;
    last_run: Run | null;
    last_failure: Run | null;
    failures_7d: number;
  }[];
  runs: Run[];
  theta_queue: {
    depth: number;
    active: number;
    failed_24h: number;
    completed_1h: number;
    latency_p50_ms: number | null;
    latency_p95_ms: number | null;
    oldest_waiting_ms: number | null;
  } | null;
}

const REFRESH_MS = 2000;

function duration(ms: number | null): string {
  if (ms === null) return t('none');
  const unit = (v: number, u: 'millisecond' | 'second' | 'minute', digits = 0) =>
    new Intl.NumberFormat(lang, {
      style: 'unit',
      unit: u,
      unitDisplay: 'short',
      maximumFractionDigits: digits,
    }).format(v);
  if (ms < 1000) return unit(Math.round(ms), 'millisecond');
  if (ms < 60_000) return unit(ms / 1000, 'second', 1);
  return `${unit(Math.floor(ms / 60_000), 'minute')} ${unit(Math.round((ms % 60_000) / 1000), 'second')}`;
}

const count = (v: number) => new Intl.NumberFormat(lang).format(v);

/** The status as a word in a coloured badge, and "dry run" beside it when it was one. */
function status(r: Run): HTMLElement {
  return h(
    'span',
    { class: 'run-status' },
    h('span', { class: `status status-${r.status}` }, t(`run_${r.status}`)),
    r.dry_run && h('span', { class: 'tag' }, t('dryRun')),
  );
}

function when(iso: string): HTMLElement {
  return h('time', { datetime: iso, title: dateTime(iso) }, ago(iso));
}

function jobRows(d: Pipeline, admin: boolean, start: (job: string, dry: boolean) => void): HTMLElement[] {
  return d.jobs.map((j) => {
    const actions: Child[] = [];
    if (admin) {
      const dry = h('button', { type: 'button', id: `dry-${j.name}`, 'data-job': j.name }, t('dryRun'));
      dry.addEventListener('click', () => start(j.name, true));
      const real = h(
        'button',
        { type: 'button', id: `run-${j.name}`, class: 'primary', 'data-job': j.name },
        t('runNow'),
      );
      real.addEventListener('click', () => {
        if (confirm(t('confirmRun', { job: j.name }))) start(j.name, false);
      });
      actions.push(h('td', {}, h('div', { class: 'actions' }, dry, real)));
    }
    const fail = j.last_failure;
    return h(
      'tr',
      { 'data-job': j.name },
      h(
        'th',
        { scope: 'row' },
        h('span', { class: 'job-name' }, j.name),
        h('span', { class: 'desc' }, j.description),
      ),
      h('td', {}, h('code', {}, j.schedule), h('span', { class: 'muted small' }, ' UTC')),
      h('td', {}, h('time', { datetime: j.next_run }, dateTime(j.next_run))),
      j.last_run
        ? h('td', {}, status(j.last_run), ' ', when(j.last_run.started_at))
        : h('td', {}, t('never')),
      h('td', { class: 'num' }, duration(j.last_run?.duration_ms ?? null)),
      h('td', { class: 'num' }, j.last_run ? count(j.last_run.rows) : t('none')),
      h(
        'td',
        { class: 'failure' },
        fail
          ? h(
              'details',
              {},
              h('summary', {}, t('failures7d', { n: j.failures_7d }), ' · ', when(fail.started_at)),
              h('p', { class: 'error-text' }, fail.error ?? t(`run_${fail.status}`)),
            )
          : h('span', { class: 'muted' }, t('noFailures')),
      ),
      ...actions,
    );
  });
}

function runRows(runs: Run[]): HTMLElement[] {
  return runs.map((r) =>
    h(
      'tr',
      { 'data-run': r.run_id, 'data-status': r.status, 'data-dry-run': String(r.dry_run) },
      h('th', { scope: 'row' }, r.job),
      h('td', { class: 'num' }, r.run_id),
      h('td', {}, status(r)),
      h('td', {}, when(r.started_at)),
      h('td', { class: 'num' }, duration(r.duration_ms)),
      h('td', { class: 'num' }, count(r.rows)),
      h('td', { class: 'error-text' }, r.error ?? ''),
    ),
  );
}

function queueCards(q: Pipeline['theta_queue']): HTMLElement {
  if (!q) return h('p', { class: 'muted' }, t('queueNotStarted'));
  const card = (label: string, value: string, title?: string) =>
    h(
      'div',
      { class: 'card', ...(title ? { title } : {}) },
      h('div', { class: 'label' }, label),
      h('div', { class: 'value' }, value),
    );
  return h(
    'div',
    { class: 'cards', id: 'queue' },
    card(t('queueDepth'), count(q.depth)),
    card(t('queueActive'), count(q.active)),
    card(
      t('queueLatency'),
      q.latency_p50_ms === null ? t('none') : duration(q.latency_p50_ms),
      t('queueLatencyHelp'),
    ),
    card(
      t('queueLatency95'),
      q.latency_p95_ms === null ? t('none') : duration(q.latency_p95_ms),
      t('queueLatencyHelp'),
    ),
    card(t('queueCompleted'), count(q.completed_1h)),
    card(t('queueOldest'), duration(q.oldest_waiting_ms)),
    card(t('queueFailed'), count(q.failed_24h)),
  );
}

function table(
  id: string,
  caption: string,
  heads: string[],
  rows: HTMLElement[],
  numeric: number[],
): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { id },
      h('caption', {}, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...heads.map((x, i) => h('th', { scope: 'col', class: numeric.includes(i) ? 'num' : '' }, x)),
        ),
      ),
      h('tbody', {}, ...rows),
    ),
  );
}

export async function pipelinePage(paint: Paint): Promise<void> {
  const admin = claims().scopes.includes('admin');
  const notice = h('p', { id: 'run-notice', role: 'status', class: 'notice' });
  // The day a started run computes (a UTC calendar day, as the jobs count days); empty: the job's own
  // default (yesterday for the daily jobs, the last complete week for the weekly ones).
  const runDate = h('input', { type: 'date', id: 'run-date' }) as HTMLInputElement;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const start = (job: string, dryRun: boolean) => {
    notice.textContent = t('starting', { job });
    api<{ run_id: string }>(`/jobs/${encodeURIComponent(job)}/run`, {
      method: 'POST',
      body: { dry_run: dryRun, ...(runDate.value ? { date: runDate.value } : {}) },
    }).then(
      (r) => {
        notice.textContent = t(dryRun ? 'runStartedDry' : 'runStarted', { job, id: r.run_id });
        void refresh();
      },
      (err: unknown) => {
        notice.textContent = `${t('startFailed', { job })}: ${String(err)}`;
      },
    );
  };

  const jobsBody = () => document.querySelector('#jobs tbody');
  const runsBody = () => document.querySelector('#runs tbody');
  /** Replaces the tables' rows and the queue figures; polls again while a run is in progress. */
  const refresh = async () => {
    clearTimeout(timer);
    if (!jobsBody()?.isConnected) return;
    const d = await api<Pipeline>('/pipeline');
    const focused = document.activeElement?.id;
    jobsBody()?.replaceChildren(...jobRows(d, admin, start));
    runsBody()?.replaceChildren(...runRows(d.runs));
    document.getElementById('queue-box')?.replaceChildren(queueCards(d.theta_queue));
    if (focused) document.getElementById(focused)?.focus();
    schedule(d);
  };
  const schedule = (d: Pipeline) => {
    if (d.runs.some((r) => r.status === 'running'))
      timer = setTimeout(() => void refresh().catch((err: unknown) => failure(paint, err)), REFRESH_MS);
  };

  const d = await api<Pipeline>('/pipeline');
  const heads = [
    t('job'),
    t('schedule'),
    t('nextRun'),
    t('lastRun'),
    t('duration'),
    t('rows'),
    t('failures'),
    ...(admin ? [t('actions')] : []),
  ];
  paint(
    h('h1', {}, t('pipeline')),
    h('p', { class: 'sub' }, admin ? t('pipelineSubAdmin') : t('pipelineSub')),
    admin &&
      h(
        'p',
        { class: 'run-date' },
        h('label', { for: 'run-date' }, t('runDate')),
        runDate,
        h('span', { class: 'muted' }, t('runDateHint')),
      ),
    notice,
    table('jobs', t('jobsCaption'), heads, jobRows(d, admin, start), [4, 5]),
    h('h2', {}, t('thetaQueue')),
    h('div', { id: 'queue-box' }, queueCards(d.theta_queue)),
    h('h2', {}, t('recentRuns')),
    table(
      'runs',
      t('runsCaption', { n: d.runs.length }),
      [t('job'), t('runId'), t('status'), t('started'), t('duration'), t('rows'), t('message')],
      runRows(d.runs),
      [1, 4, 5],
    ),
  );
  schedule(d);
}
