// generate-weekly-report: a report per learner for one ISO week (spec/reports.md, pipeline.md).
// Learners are taken a page at a time (bounded memory however large the batch): the page's missing
// KPIs are computed first, its view-models are read with a fixed number of queries, and its
// learners are rendered (by one process per core for a batch larger than a page) and stored with at
// most REPORT_CONCURRENCY learners in flight. Per learner: every edition's and format's object is
// stored first, then the report_artifacts rows are upserted in one transaction, so there is never a
// row without an object. A failing learner is recorded and the batch goes on.
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Db } from '../db/connection.js';
import type { JobContext, JobResult } from '../jobs/contract.js';
import { utcToday } from '../jobs/dates.js';
import { kpiAsOf } from '../kpis/kpis.js';
import { computeWeeklyKpis } from '../kpis/service.js';
import { buildViewModels, learnersWithoutKpis, reportLearners } from './build.js';
import type { RenderedReport } from './render.js';
import { createRenderPool } from './render-pool.js';
import { recordReports, type StoredReport } from './repository.js';
import {
  CONTENT_TYPES,
  createReportStore,
  downloadUrl,
  type ReportFormat,
  type ReportStore,
  reportKey,
} from './storage.js';
import type { ReportViewModel } from './view-model.js';

/** Learners whose view-models are held at once. */
export const REPORT_PAGE = 100;

export interface WeeklyReportDeps {
  /** Default: the store the configuration selects (filesystem, or S3 with S3_BUCKET). */
  store?: ReportStore;
  /** The clock of the header's generation time and of the KPIs' as-of day. */
  now?: () => Date;
  /**
   * Render processes. Default: one per core up to REPORT_CONCURRENCY for a run of more than a page,
   * else rendering in this process (starting processes costs more than a small run saves).
   */
  renderProcesses?: number;
}

class DryRunRollback extends Error {}

/** Runs `fn` over `items` with at most `limit` in flight; rejects with the first error. */
async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** Stores every edition's and format's object, then records them; returns the number of rows upserted. */
async function storeReport(
  db: Db,
  store: ReportStore,
  vm: ReportViewModel,
  rendered: readonly RenderedReport[],
  publicBaseUrl: string | undefined,
): Promise<number> {
  const stored: StoredReport[] = [];
  for (const { edition, format, bytes } of rendered) {
    const key = reportKey(vm.learner.user_id, vm.week.start, edition, format);
    await store.put(key, bytes, CONTENT_TYPES[format]);
    stored.push({
      edition,
      format,
      key,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
  }
  return recordReports(
    db,
    { userId: vm.learner.user_id, weekStart: vm.week.start, generatedAt: new Date(vm.generated_at) },
    stored,
    (id) => downloadUrl(publicBaseUrl, id),
  );
}

export async function generateWeeklyReports(
  db: Db,
  ctx: JobContext,
  deps: WeeklyReportDeps = {},
): Promise<JobResult> {
  const { config, date: weekStart, metrics } = ctx;
  const now = deps.now ?? (() => new Date());
  const { formats, editions } = config.reports;
  const learners = await reportLearners(db, weekStart, ctx.shard, ctx.users);
  const reported = new Set(learners);
  const skipped = ctx.users ? ctx.users.filter((u) => !reported.has(u)) : [];
  const skippedNote = skipped.length
    ? `skipped ${skipped.length} (no weekly_kpi row and no attempt that week): ${skipped.join(', ')}`
    : undefined;
  if (learners.length === 0) {
    return {
      written: {},
      note:
        skippedNote ??
        `nothing to do: no learner with a weekly_kpi row or an attempt in the week of ${weekStart}`,
    };
  }
  const ownStore = deps.store === undefined;
  const store = deps.store ?? createReportStore({ dataDir: config.dataDir, ...config.reports });
  const pool = createRenderPool(
    deps.renderProcesses ??
      (learners.length > REPORT_PAGE ? Math.min(availableParallelism(), config.reports.concurrency) : 1),
  );
  const failed: string[] = [];
  let firstFailure: string | undefined;
  let rows = 0;
  let rendered = 0;
  let kpisComputed = 0;
  let done = 0;
  const fail = (userId: string, reason: string) => {
    failed.push(userId);
    firstFailure ??= `${userId}: ${reason}`;
  };
  const count = (format: ReportFormat, result: 'success' | 'failure') => {
    if (!ctx.dryRun) metrics?.reportsGeneratedTotal.inc({ format, result });
  };
  try {
    for (let i = 0; i < learners.length; i += REPORT_PAGE) {
      ctx.signal.throwIfAborted();
      const page = learners.slice(i, i + REPORT_PAGE);
      const generatedAt = now();
      // The page's missing KPIs and its view-models in one transaction: a dry run rolls the KPIs back.
      let vms = new Map<string, ReportViewModel>();
      await db
        .transaction()
        .execute(async (trx) => {
          const missing = await learnersWithoutKpis(trx, weekStart, page);
          if (missing.length > 0) {
            const asOf = kpiAsOf(weekStart, utcToday(generatedAt));
            const { rows: computed } = await computeWeeklyKpis(trx, { asOf, config, userIds: missing });
            kpisComputed += computed.length;
          }
          vms = await buildViewModels(trx, page, {
            weekStart,
            timeZone: config.reports.timeZone,
            settings: { score: config.reports.score, rules: config.reports.rules },
            generatedAt,
          });
          if (ctx.dryRun) throw new DryRunRollback();
        })
        .catch((err: unknown) => {
          if (!(err instanceof DryRunRollback)) throw err;
        });
      await forEachLimit(page, config.reports.concurrency, async (userId) => {
        ctx.signal.throwIfAborted();
        const vm = vms.get(userId);
        vms.delete(userId);
        if (!vm) {
          fail(userId, 'no learner row');
        } else {
          try {
            const output = await pool.render(vm, editions, formats);
            rendered++;
            // Awaited before the sum: `rows += await …` would read `rows` before the other lanes' additions.
            const stored = ctx.dryRun ? 0 : await storeReport(db, store, vm, output, config.publicBaseUrl);
            rows += stored;
            for (const format of formats) count(format, 'success');
          } catch (err) {
            for (const format of formats) count(format, 'failure');
            fail(userId, (err as Error).message);
          }
        }
        ctx.progress(++done, learners.length);
      });
    }
  } finally {
    pool.close();
    if (ownStore) store.close?.();
  }
  const notes = [
    ...(firstFailure ? [`first failure: ${firstFailure}`] : []),
    ...(skippedNote ? [skippedNote] : []),
  ];
  return {
    written: ctx.dryRun ? {} : { report_artifacts: rows },
    counts: { learners: learners.length, rendered, kpis_computed: kpisComputed },
    ...(failed.length ? { failedIds: failed } : {}),
    ...(notes.length ? { note: notes.join('; ') } : {}),
  };
}
