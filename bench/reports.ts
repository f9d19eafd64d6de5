// `npm run bench -- reports [--n 200] [--runs 3] [--workers W]`: renders HTML + PDF for N synthetic
// learners into a filesystem store and prints learners per second (median of the runs) and the
// peak RSS. Rendering is CPU-bound and synchronous, so throughput comes from parallel workers: a
// bounded pool of W worker processes (default: one per core), each handed one small batch at a time,
// so memory stays flat however large N is (`--n 10000 --runs 1` shows it).
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderReports } from '../src/reports/render.js';
import { CONTENT_TYPES, FsReportStore, reportKey } from '../src/reports/storage.js';
import { syntheticViewModel } from '../test/unit/reports/fixtures.js';

const BATCH = 10;

/** What the job does per learner minus the database row: both formats from one layout, then stored. */
async function renderBatch(store: FsReportStore, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    const vm = syntheticViewModel(i);
    for (const [format, bytes] of await renderReports(vm, ['html', 'pdf'])) {
      await store.put(reportKey(vm.learner.user_id, vm.week.start, format), bytes, CONTENT_TYPES[format]);
    }
  }
}

const WORKER_FLAG = '--reports-bench-worker';

/** CPU milliseconds (user + system) this process has spent in renderBatch. */
let renderCpuMs = 0;
async function timedBatch(store: FsReportStore, from: number, to: number): Promise<void> {
  const c0 = process.cpuUsage();
  await renderBatch(store, from, to);
  const c = process.cpuUsage(c0);
  renderCpuMs += (c.user + c.system) / 1000;
}

interface WorkerReport {
  rssKb: number;
  cpuMs: number;
}

// A worker process: renders the batches it is sent and answers each with its peak RSS and CPU so far.
if (process.argv[2] === WORKER_FLAG) {
  const store = new FsReportStore(process.argv[3]);
  process.on('message', async ([from, to]: [number, number]) => {
    await timedBatch(store, from, to);
    process.send!({ rssKb: process.resourceUsage().maxRSS, cpuMs: renderCpuMs } satisfies WorkerReport);
  });
}

interface RunResult {
  ms: number;
  /** Summed peak RSS of the workers. */
  workerRssKb: number;
  /** CPU spent rendering and storing, all processes together. */
  cpuMs: number;
}

/**
 * Renders learners 0..n-1 with `workers` processes (0: in this process). Processes rather than worker
 * threads because Node 20 workers cannot load TypeScript through tsx. `logEvery` > 0 prints progress
 * with the memory so far (the 10,000-learner run shows the RSS stays flat).
 */
async function run(n: number, workers: number, dir: string, logEvery: number): Promise<RunResult> {
  const t0 = performance.now();
  if (workers === 0) {
    const before = renderCpuMs;
    await timedBatch(new FsReportStore(dir), 0, n);
    return { ms: performance.now() - t0, workerRssKb: 0, cpuMs: renderCpuMs - before };
  }
  let next = 0;
  let done = 0;
  const reports: WorkerReport[] = Array.from({ length: workers }, () => ({ rssKb: 0, cpuMs: 0 }));
  const pool: ChildProcess[] = Array.from({ length: workers }, () =>
    fork(fileURLToPath(import.meta.url), [WORKER_FLAG, dir], { execArgv: ['--import', 'tsx'] }),
  );
  await Promise.all(
    pool.map(
      (w, k) =>
        new Promise<void>((resolve, reject) => {
          let batch = 0;
          const feed = () => {
            if (next >= n) return resolve();
            const from = next;
            next = Math.min(n, next + BATCH);
            batch = next - from;
            w.send([from, next]);
          };
          w.on('message', (report: WorkerReport) => {
            reports[k] = report;
            const before = done;
            done += batch;
            if (logEvery > 0 && Math.floor(done / logEvery) > Math.floor(before / logEvery)) {
              const rss = reports.reduce((a, r) => a + r.rssKb, 0) / 1024;
              const s = (performance.now() - t0) / 1000;
              console.log(
                `  ${done}/${n} learners in ${s.toFixed(0)} s, workers' peak RSS ${rss.toFixed(0)} MB`,
              );
            }
            feed();
          });
          w.on('error', reject);
          feed();
        }),
    ),
  );
  const ms = performance.now() - t0;
  for (const w of pool) w.kill();
  return {
    ms,
    workerRssKb: reports.reduce((a, r) => a + r.rssKb, 0),
    cpuMs: reports.reduce((a, r) => a + r.cpuMs, 0),
  };
}

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

export async function benchReports(args: string[]): Promise<void> {
  const n = option(args, '--n', 200);
  const runs = option(args, '--runs', 3);
  const workers = option(args, '--workers', availableParallelism());
  const logEvery = option(args, '--log-every', n >= 1000 ? 1000 : 0);
  const dir = await mkdtemp(join(tmpdir(), 'bench-reports-'));
  try {
    // A warm-up batch so the first run does not carry module loading and JIT compilation alone.
    await run(Math.min(n, 2 * BATCH * Math.max(1, workers)), workers, dir, 0);
    const rates: number[] = [];
    const cpuPerLearner: number[] = [];
    let workerRssKb = 0;
    for (let r = 0; r < runs; r++) {
      const res = await run(n, workers, dir, logEvery);
      rates.push(n / (res.ms / 1000));
      cpuPerLearner.push(res.cpuMs / n);
      workerRssKb = Math.max(workerRssKb, res.workerRssKb);
      console.log(
        `run ${r + 1}: ${n} learners (HTML + PDF) in ${(res.ms / 1000).toFixed(2)} s, ${(res.cpuMs / n).toFixed(0)} ms CPU per learner`,
      );
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    // This process plus its workers' peaks: an upper bound of the batch's memory at any moment.
    const peakMb = (process.resourceUsage().maxRSS + workerRssKb) / 1024;
    const cpu = median(cpuPerLearner);
    console.log(
      `reports: ${median(rates).toFixed(1)} learners/s median of ${runs} (target >= 20; ${workers} worker process${workers === 1 ? '' : 'es'}), ` +
        `${cpu.toFixed(0)} ms CPU per learner (= ${((availableParallelism() * 1000) / cpu).toFixed(1)} learners/s on ${availableParallelism()} idle cores), ` +
        `peak RSS ${peakMb.toFixed(0)} MB (target < 1536 MB); load average ${loadavg()[0].toFixed(1)}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
