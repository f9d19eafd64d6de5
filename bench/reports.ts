// `npm run bench -- reports [--n 200] [--runs 3] [--workers W]`: renders HTML + PDF for N synthetic
// learners into a filesystem store and prints learners per second (median of the runs) and the
// peak RSS. Rendering is CPU-bound and synchronous, so throughput comes from parallel workers: a
// bounded pool of W worker processes (default: one per core), each handed one small batch at a time,
// so memory stays flat however large N is (`--n 10000 --runs 1` shows it).
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderReport } from '../src/reports/render.js';
import { CONTENT_TYPES, FsReportStore, reportKey } from '../src/reports/storage.js';
import { syntheticViewModel } from '../test/unit/reports/fixtures.js';

const BATCH = 10;

async function renderBatch(store: FsReportStore, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    const vm = syntheticViewModel(i);
    for (const format of ['html', 'pdf'] as const) {
      await store.put(
        reportKey(vm.learner.user_id, vm.week.start, format),
        await renderReport(vm, format),
        CONTENT_TYPES[format],
      );
    }
  }
}

const WORKER_FLAG = '--reports-bench-worker';

// A worker process: renders the batches it is sent and answers each with its peak RSS so far.
if (process.argv[2] === WORKER_FLAG) {
  const store = new FsReportStore(process.argv[3]);
  process.on('message', async ([from, to]: [number, number]) => {
    await renderBatch(store, from, to);
    process.send!(process.resourceUsage().maxRSS);
  });
}

/**
 * Renders learners 0..n-1 with `workers` processes (0: in this process). Processes rather than worker
 * threads because Node 20 workers cannot load TypeScript through tsx. Returns the wall time in ms and
 * the summed peak RSS of the workers in KB.
 */
async function run(n: number, workers: number, dir: string): Promise<{ ms: number; workerRssKb: number }> {
  const t0 = performance.now();
  if (workers === 0) {
    await renderBatch(new FsReportStore(dir), 0, n);
    return { ms: performance.now() - t0, workerRssKb: 0 };
  }
  let next = 0;
  const peaks = new Array<number>(workers).fill(0);
  const pool: ChildProcess[] = Array.from({ length: workers }, () =>
    fork(fileURLToPath(import.meta.url), [WORKER_FLAG, dir], { execArgv: ['--import', 'tsx'] }),
  );
  await Promise.all(
    pool.map(
      (w, k) =>
        new Promise<void>((resolve, reject) => {
          const feed = () => {
            if (next >= n) return resolve();
            const from = next;
            next = Math.min(n, next + BATCH);
            w.send([from, next]);
          };
          w.on('message', (rss: number) => {
            peaks[k] = rss;
            feed();
          });
          w.on('error', reject);
          feed();
        }),
    ),
  );
  const ms = performance.now() - t0;
  for (const w of pool) w.kill();
  return { ms, workerRssKb: peaks.reduce((a, b) => a + b, 0) };
}

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

export async function benchReports(args: string[]): Promise<void> {
  const n = option(args, '--n', 200);
  const runs = option(args, '--runs', 3);
  const workers = option(args, '--workers', availableParallelism());
  const dir = await mkdtemp(join(tmpdir(), 'bench-reports-'));
  try {
    // A warm-up batch so the first run does not carry module loading and JIT compilation alone.
    await run(Math.min(n, 2 * BATCH * Math.max(1, workers)), workers, dir);
    const rates: number[] = [];
    let workerRssKb = 0;
    for (let r = 0; r < runs; r++) {
      const res = await run(n, workers, dir);
      rates.push(n / (res.ms / 1000));
      workerRssKb = Math.max(workerRssKb, res.workerRssKb);
      console.log(`run ${r + 1}: ${n} learners (HTML + PDF) in ${(res.ms / 1000).toFixed(2)} s`);
    }
    rates.sort((a, b) => a - b);
    // This process plus its workers' peaks: an upper bound of the batch's memory at any moment.
    const peakMb = (process.resourceUsage().maxRSS + workerRssKb) / 1024;
    console.log(
      `reports: ${rates[Math.floor(rates.length / 2)].toFixed(1)} learners/s median of ${runs} ` +
        `(target >= 20; ${workers} worker process${workers === 1 ? '' : 'es'}), peak RSS ${peakMb.toFixed(0)} MB (target < 1536 MB)`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
