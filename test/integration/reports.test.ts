// The generate-weekly-report job on a small synthetic platform (real database, real renderers, the
// filesystem store and s3rver): content of the stored reports, the short report of an empty week,
// a learner without θ, KPIs computed first, idempotence, dry run, --user, shards, S3 failures.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { parseHTML } from 'linkedom';
import { PDFParse } from 'pdf-parse';
import { loadConfig } from '../../src/config.js';
import { loadPlatform } from '../../src/demo/load.js';
import { aggregateFeaturesDaily } from '../../src/features/job.js';
import { upsertLearners } from '../../src/ingestion/repository.js';
import type { JobDefinition } from '../../src/jobs/contract.js';
import { findJob } from '../../src/jobs/registry.js';
import { type RunOptions, runJob } from '../../src/jobs/runner.js';
import { KPI_KEYS } from '../../src/kpis/kpis.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { generateWeeklyReports, type WeeklyReportDeps } from '../../src/reports/job.js';
import { SECTION_IDS } from '../../src/reports/layout.js';
import { messages } from '../../src/reports/messages.js';
import { FsReportStore, reportKey, type S3ReportStore } from '../../src/reports/storage.js';
import { streamPlatform } from '../../src/synthetic/platform.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startS3, type TestS3 } from '../helpers/s3.js';
import { assertWellFormedXml } from '../unit/reports/xml.js';

const WEEK = '2026-11-16';
const NOW = new Date('2026-11-23T04:00:00Z');
const BASE_URL = 'https://analytics.example.test';

let database: TestDatabase;
let dataDir: string;
let learners: { user_id: string; locale: 'ko' | 'en' }[];
/** A Korean learner with θ; a learner active this week without θ; a learner with KPIs but no attempt this week. */
let full: string;
let noTheta: string;
const IDLE = 'u-idle';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function config(extra: Record<string, string> = {}) {
  return loadConfig({ DATA_DIR: dataDir, PUBLIC_BASE_URL: BASE_URL, LOG_LEVEL: 'silent', ...extra });
}

/** The registry's job with the test's clock and, optionally, a store of its own. */
function job(deps: WeeklyReportDeps = {}): JobDefinition {
  const definition = findJob('generate-weekly-report');
  return { ...definition, run: (db, ctx) => generateWeeklyReports(db, ctx, { now: () => NOW, ...deps }) };
}

function run(
  opts: RunOptions & { week?: string; deps?: WeeklyReportDeps; env?: Record<string, string> } = {},
) {
  return runJob(database.db, job(opts.deps), [opts.week ?? WEEK], config(opts.env), opts);
}

async function artifacts(userId?: string) {
  let q = database.db
    .selectFrom('report_artifacts')
    .selectAll()
    .orderBy('user_id')
    .orderBy('edition')
    .orderBy('format');
  if (userId) q = q.where('user_id', '=', userId);
  return q.execute();
}

async function counter(metrics: Metrics, format: string, result: string): Promise<number> {
  const m = await metrics.reportsGeneratedTotal.get();
  return m.values.find((v) => v.labels.format === format && v.labels.result === result)?.value ?? 0;
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'reports-job-'));
  database = await createTestDatabase();
  const { db } = database;
  const platform = streamPlatform({
    seed: 11,
    learners: 8,
    weeks: 3,
    items: 40,
    topics: 4,
    start: new Date('2026-11-02T00:00:00Z'),
  });
  await loadPlatform(db, platform);
  learners = await db.selectFrom('learner').select(['user_id', 'locale']).orderBy('user_id').execute();
  const active = await sql<{ user_id: string }>`
    SELECT DISTINCT user_id FROM attempt WHERE answered_at >= '2026-11-16' AND answered_at < '2026-11-23'
    ORDER BY user_id`.execute(db);
  const activeIds = active.rows.map((r) => r.user_id);
  full = activeIds.find((u) => learners.find((l) => l.user_id === u)?.locale === 'ko')!;
  noTheta = activeIds.find((u) => u !== full)!;
  assert.ok(full && noTheta, 'the platform has two learners active in the report week');

  // A calibration on the true item parameters, and θ estimates for everyone but `noTheta`.
  await db
    .insertInto('mirt_fit_meta')
    .values({
      run_id: 'run-1',
      model: '2PL',
      status: 'succeeded',
      model_spec: JSON.stringify({}),
      metrics: JSON.stringify({}),
      fitted_at: '2026-11-15T03:00:00Z',
    })
    .execute();
  await db
    .insertInto('mirt_item_params')
    .values(
      [...platform.itemTruth].map(([item_id, p]) => ({
        item_id,
        version: 'run-1',
        model: '2PL',
        params: JSON.stringify({ a: p.a, b: p.b, c: 0, d: -p.a * p.b }),
        fitted_at: '2026-11-15T03:00:00Z',
      })),
    )
    .execute();
  const estimates = learners
    .filter((l) => l.user_id !== noTheta)
    .flatMap((l, i) =>
      ['2026-11-05T10:00:00Z', '2026-11-12T10:00:00Z', '2026-11-19T10:00:00Z', '2026-11-19T18:00:00Z'].map(
        (at, k) => ({
          user_id: l.user_id,
          theta: -0.6 + 0.1 * i + 0.2 * k,
          se: 0.5 - 0.08 * k,
          model: '2PL',
          version: 'run-1',
          source: 'online' as const,
          n_responses: 20 * (k + 1),
          fitted_at: at,
        }),
      ),
    );
  await db.insertInto('mirt_ability').values(estimates).execute();
  await aggregateFeaturesDaily(db, { from: '2026-11-02', to: '2026-11-22' });
  // A learner whose KPIs exist (from earlier activity) but who did nothing in the report week.
  await upsertLearners(db, [{ user_id: IDLE, display_name: '이한결', locale: 'ko' }]);
  await db
    .insertInto('weekly_kpi')
    .values({
      user_id: IDLE,
      week_start: WEEK,
      as_of: '2026-11-22',
      kpis: JSON.stringify({ I_t: null, E_t: null, R_t: 0.3, A_t: 0.2, P: 0.4, S: 0.85 }),
    })
    .execute();
});

after(async () => {
  await database.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function pdfOf(bytes: Buffer) {
  const parser = new PDFParse({ data: new Uint8Array(bytes) });
  try {
    return await parser.getText();
  } finally {
    await parser.destroy();
  }
}

describe('generate-weekly-report on the filesystem store', () => {
  let reportCount: number;

  it('computes missing KPIs, stores every format and records each object with its size and sha256', async () => {
    const before = await database.db
      .selectFrom('weekly_kpi')
      .select('user_id')
      .where('week_start', '=', WEEK)
      .execute();
    assert.deepEqual(
      before.map((r) => r.user_id),
      [IDLE],
    );
    const metrics = createMetrics();
    const outcome = await run({ metrics });
    assert.equal(outcome.status, 'succeeded', outcome.summary);
    const rows = await artifacts();
    const users = [...new Set(rows.map((r) => r.user_id))];
    assert.ok(users.includes(full) && users.includes(noTheta) && users.includes(IDLE));
    reportCount = users.length;
    // Both editions (REPORT_EDITIONS default) in both formats.
    assert.equal(rows.length, 4 * reportCount);
    assert.equal(outcome.result.written.report_artifacts, rows.length);
    assert.ok(reportCount <= learners.length);
    for (const row of rows) {
      assert.equal(row.week_start, WEEK);
      assert.equal(row.storage_key, reportKey(row.user_id, WEEK, row.edition, row.format));
      assert.equal(row.url, `${BASE_URL}/api/seedtest/reports/${row.id}/download`);
      const bytes = await readFile(join(dataDir, row.storage_key));
      assert.equal(row.bytes, bytes.length);
      assert.equal(row.sha256, sha256(bytes));
    }
    // KPIs were computed first for the learners who had none.
    const kpis = await database.db
      .selectFrom('weekly_kpi')
      .select('user_id')
      .where('week_start', '=', WEEK)
      .execute();
    assert.deepEqual(new Set(kpis.map((k) => k.user_id)), new Set(users));
    assert.equal(outcome.result.counts?.kpis_computed, reportCount - 1);
    assert.equal(await counter(metrics, 'html', 'success'), reportCount);
    assert.equal(await counter(metrics, 'pdf', 'success'), reportCount);
  });

  it("the teacher's HTML of a Korean learner: every section, the six KPI labels, well-formed charts", async () => {
    const m = messages('ko');
    const html = await readFile(join(dataDir, reportKey(full, WEEK, 'teacher', 'html')), 'utf8');
    const { document } = parseHTML(html);
    assert.equal(document.documentElement.getAttribute('lang'), 'ko');
    for (const id of SECTION_IDS) {
      assert.equal(document.querySelector(`section#${id} h2`)?.textContent, m.sections[id], id);
    }
    const kpiText = document.querySelector('section#kpis')!.textContent!;
    for (const k of KPI_KEYS) assert.ok(kpiText.includes(m.kpiLabels[k]), m.kpiLabels[k]);
    const svgs = html.match(/<svg[\s\S]*?<\/svg>(?=<figcaption|<\/figure>)/g) ?? [];
    assert.equal(svgs.length, 6);
    for (const svg of svgs) assertWellFormedXml(svg);
    // The week's real data: the daily totals of the database appear in the sentence.
    const { attempts } = await database.db
      .selectFrom('attempt')
      .select((eb) => eb.fn.countAll<string>().as('attempts'))
      .where('user_id', '=', full)
      .where('answered_at', '>=', new Date('2026-11-16T00:00:00Z'))
      .where('answered_at', '<', new Date('2026-11-23T00:00:00Z'))
      .executeTakeFirstOrThrow();
    assert.match(document.querySelector('section#daily p')!.textContent!, new RegExp(`${attempts}문항`));
    assert.match(document.querySelector('section#ability p')!.textContent!, /θ = 0\.\d\d/);
  });

  it("the learner's PDF of a Korean learner parses, has its pages, and its text carries the Korean labels", async () => {
    const m = messages('ko');
    const text = await pdfOf(await readFile(join(dataDir, reportKey(full, WEEK, 'learner', 'pdf'))));
    assert.ok(text.total >= 2 && text.total <= 3, `${text.total} pages`);
    const flat = text.text.replace(/\s+/g, '');
    const { targeting: _, ...sections } = m.sections;
    for (const label of [m.title.learner, ...Object.values(m.kpiLabels), ...Object.values(sections)]) {
      assert.ok(flat.includes(label.replace(/\s+/g, '')), label);
    }
  });

  it('an empty week renders the short report, saying so', async () => {
    const m = messages('ko');
    const html = await readFile(join(dataDir, reportKey(IDLE, WEEK, 'learner', 'html')), 'utf8');
    const { document } = parseHTML(html);
    assert.equal(document.querySelector('#notice')?.textContent, m.emptyWeek);
    assert.deepEqual(
      [...document.querySelectorAll('section')].map((s) => s.id),
      ['kpis', 'goal', 'churn', 'recommendations'],
    );
    const text = await pdfOf(await readFile(join(dataDir, reportKey(IDLE, WEEK, 'learner', 'pdf'))));
    assert.equal(text.total, 1);
    assert.ok(text.text.replace(/\s+/g, '').includes(m.emptyWeek.replace(/\s+/g, '')));
  });

  it('a learner without θ gets the θ sections without numbers, saying why', async () => {
    const locale = learners.find((l) => l.user_id === noTheta)!.locale;
    const m = messages(locale);
    const html = await readFile(join(dataDir, reportKey(noTheta, WEEK, 'teacher', 'html')), 'utf8');
    const { document } = parseHTML(html);
    const ability = document.querySelector('section#ability')!;
    assert.equal(ability.querySelector('p.note')?.textContent, m.noTheta);
    assert.equal(ability.querySelector('svg'), null);
    assert.doesNotMatch(ability.textContent!, /\d/);
    const goal = document.querySelector('section#goal p')?.textContent;
    assert.ok(goal === m.goalNoTheta || goal === m.noGoal, goal ?? '');
    const row = await database.db
      .selectFrom('weekly_kpi')
      .select('kpis')
      .where('user_id', '=', noTheta)
      .where('week_start', '=', WEEK)
      .executeTakeFirstOrThrow();
    assert.equal(row.kpis.P, null);
  });

  it('is idempotent: a re-run overwrites the same keys and rows', async () => {
    const first = await artifacts();
    const outcome = await run();
    assert.equal(outcome.status, 'succeeded', outcome.summary);
    const second = await artifacts();
    assert.deepEqual(
      second.map((r) => [r.id, r.storage_key, r.url, r.bytes, r.sha256]),
      first.map((r) => [r.id, r.storage_key, r.url, r.bytes, r.sha256]),
    );
  });

  it('renders the same bytes in child processes (the path of a batch larger than a page)', async () => {
    const before = await artifacts(full);
    const outcome = await run({ users: [full, noTheta], deps: { renderProcesses: 2 } });
    assert.equal(outcome.status, 'succeeded', outcome.summary);
    const after = await artifacts(full);
    assert.deepEqual(
      after.map((r) => [r.id, r.sha256]),
      before.map((r) => [r.id, r.sha256]),
    );
  });

  it('a dry run renders everything and writes nothing: no object, no row, no KPI', async () => {
    const week = '2026-11-09';
    const outcome = await run({ week, dryRun: true, env: { REPORT_FORMATS: 'html' } });
    assert.equal(outcome.status, 'succeeded', outcome.summary);
    assert.ok((outcome.result.counts?.rendered ?? 0) > 0);
    assert.deepEqual(outcome.result.written, {});
    const rows = await database.db
      .selectFrom('report_artifacts')
      .select('id')
      .where('week_start', '=', week)
      .execute();
    assert.equal(rows.length, 0);
    const kpis = await database.db
      .selectFrom('weekly_kpi')
      .select('user_id')
      .where('week_start', '=', week)
      .execute();
    assert.equal(kpis.length, 0);
    await assert.rejects(stat(join(dataDir, 'reports', encodeURIComponent(full), week)));
  });

  it('--user reports only the named learners; one without activity that week is skipped and said so', async () => {
    const week = '2026-11-09';
    const outcome = await run({ week, users: [full, IDLE] });
    assert.equal(outcome.status, 'succeeded', outcome.summary);
    const rows = await database.db
      .selectFrom('report_artifacts')
      .select(['user_id', 'format'])
      .where('week_start', '=', week)
      .orderBy('format')
      .execute();
    assert.deepEqual(rows, [
      { user_id: full, format: 'html' },
      { user_id: full, format: 'html' },
      { user_id: full, format: 'pdf' },
      { user_id: full, format: 'pdf' },
    ]);
    assert.match(outcome.summary, new RegExp(`skipped 1 .*${IDLE}`));
  });

  it("times and day boundaries are the learner's: learner.time_zone, else REPORT_TIMEZONE", async () => {
    const zone = 'America/Los_Angeles';
    await database.db.updateTable('learner').set({ time_zone: zone }).where('user_id', '=', full).execute();
    const outcome = await run({ users: [full], env: { REPORT_FORMATS: 'html', REPORT_EDITIONS: 'learner' } });
    assert.equal(outcome.status, 'succeeded', outcome.summary);
    const { document } = parseHTML(
      await readFile(join(dataDir, reportKey(full, WEEK, 'learner', 'html')), 'utf8'),
    );
    // NOW is 04:00 UTC on Monday: 20:00 on Sunday in Los Angeles.
    assert.ok(document.querySelector('dl.meta')!.textContent!.includes(`2026-11-22 20:00 (${zone})`));
    // The week's attempts counted from Monday 00:00 to Monday 00:00 in Los Angeles.
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM attempt WHERE user_id = ${full}
        AND answered_at >= ('2026-11-16'::timestamp AT TIME ZONE ${zone})
        AND answered_at < ('2026-11-23'::timestamp AT TIME ZONE ${zone})`.execute(database.db);
    assert.match(document.querySelector('section#daily p')!.textContent!, new RegExp(`${rows[0].n}문항`));
    await database.db.updateTable('learner').set({ time_zone: null }).where('user_id', '=', full).execute();
    const seoul = await run({ users: [full], env: { REPORT_FORMATS: 'html', REPORT_EDITIONS: 'learner' } });
    assert.equal(seoul.status, 'succeeded', seoul.summary);
    const header = parseHTML(await readFile(join(dataDir, reportKey(full, WEEK, 'learner', 'html')), 'utf8'));
    assert.ok(
      header.document.querySelector('dl.meta')!.textContent!.includes('2026-11-23 13:00 (Asia/Seoul)'),
    );
  });

  it('an English learner reads the topics in English; a learner without a goal gets no probability', async () => {
    const english = learners.find((l) => l.locale === 'en' && l.user_id !== IDLE)!;
    const outcome = await run({ users: [english.user_id], env: { REPORT_FORMATS: 'html' } });
    assert.equal(outcome.status, 'succeeded', outcome.summary);
    const m = messages('en');
    const html = await readFile(join(dataDir, reportKey(english.user_id, WEEK, 'learner', 'html')), 'utf8');
    const { document } = parseHTML(html);
    const topics = document.querySelector('section#topics')?.textContent ?? '';
    assert.doesNotMatch(topics, /\p{Script=Hangul}/u);
    const names = await database.db.selectFrom('topic').select('name_en').execute();
    assert.ok(
      names.some((t) => t.name_en && topics.includes(t.name_en)),
      topics,
    );
    const goal = await database.db
      .selectFrom('learner_goal')
      .select('user_id')
      .where('user_id', '=', english.user_id)
      .executeTakeFirst();
    if (!goal) assert.equal(document.querySelector('section#goal p')?.textContent, m.noGoal);
    // The idle learner has no goal row: its report shows no probability although weekly_kpi holds a P.
    const idle = parseHTML(await readFile(join(dataDir, reportKey(IDLE, WEEK, 'learner', 'html')), 'utf8'));
    assert.equal(idle.document.querySelector('section#goal p')?.textContent, messages('ko').noGoal);
  });

  it('shards split the learners without overlap', async () => {
    const counts = [];
    for (const index of [0, 1]) {
      const outcome = await run({
        dryRun: true,
        shard: { index, count: 2 },
        env: { REPORT_FORMATS: 'html' },
      });
      counts.push(outcome.result.counts?.learners ?? 0);
    }
    assert.equal(counts[0] + counts[1], reportCount);
  });
});

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

describe('generate-weekly-report on S3 (s3rver)', () => {
  let s3: TestS3;
  let store: S3ReportStore;
  const week = '2026-11-02';

  before(async () => {
    s3 = await startS3();
    store = s3.store();
  });
  after(async () => {
    store.close();
    await s3.close();
  });

  it('stores the rendered bytes as objects; the row carries their sha256', async () => {
    const outcome = await run({ week, users: [full], deps: { store } });
    assert.equal(outcome.status, 'succeeded', outcome.summary);
    const rows = await database.db
      .selectFrom('report_artifacts')
      .selectAll()
      .where('week_start', '=', week)
      .where('user_id', '=', full)
      .execute();
    assert.equal(rows.length, 4);
    for (const row of rows) {
      const object = await bytesOf(await store.get(row.storage_key));
      assert.equal(object.length, row.bytes);
      assert.equal(sha256(object), row.sha256);
    }
    // Nothing went to the filesystem store.
    await assert.rejects(new FsReportStore(dataDir).get(reportKey(full, week, 'learner', 'pdf')));
  });

  it('a stopped server: no report_artifacts row, the learner failed and counted, the run partial', async () => {
    await s3.stop();
    const metrics = createMetrics();
    const outcome = await run({ week, users: [noTheta], deps: { store }, metrics });
    assert.equal(outcome.status, 'partial', outcome.summary);
    assert.deepEqual(outcome.result.failedIds, [noTheta]);
    const rows = await database.db
      .selectFrom('report_artifacts')
      .select('id')
      .where('week_start', '=', week)
      .where('user_id', '=', noTheta)
      .execute();
    assert.equal(rows.length, 0);
    assert.equal(await counter(metrics, 'html', 'failure'), 1);
    assert.equal(await counter(metrics, 'pdf', 'failure'), 1);
    const record = await database.db
      .selectFrom('job_run')
      .select(['status', 'stats'])
      .where('run_id', '=', outcome.runId)
      .executeTakeFirstOrThrow();
    assert.equal(record.status, 'partial');
    assert.deepEqual((record.stats as { failed_ids: string[] }).failed_ids, [noTheta]);
  });
});
