// `npm run bench -- reports [--n 200] [--runs 3] [--workers W] [--log-every K] [--editions both]`: renders HTML + PDF
// for N synthetic learners the way the generate-weekly-report job does (its render pool: one child
// process per core; one layout per learner; objects into a filesystem store) and prints learners per
// second (median of the runs), CPU per learner, and the peak RSS of all processes together. A page of
// learners is in flight at a time, as in the job, so memory stays flat however large N is
// (`--n 10000 --runs 1` shows it, with progress lines every 1,000 learners).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPORT_PAGE } from '../src/reports/job.js';
import { createRenderPool, type RenderPool } from '../src/reports/render-pool.js';
import { CONTENT_TYPES, FsReportStore, reportKey } from '../src/reports/storage.js';
import type { Edition } from '../src/reports/view-model.js';
import { syntheticViewModel } from '../test/unit/reports/fixtures.js';
import { median } from './support.js';

/** Peak RSS (VmHWM, KB) and CPU time (ms) of a process, from Linux's /proc. */
async function usage(pid: number): Promise<{ peakKb: number; cpuMs: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  // Fields 14 and 15 of stat (utime, stime) in clock ticks of 10 ms; index 11 and 12 after the name.
  return {
    peakKb: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0),
    cpuMs: (Number(stat[11]) + Number(stat[12])) * 10,
  };
}

async function total(pool: RenderPool) {
  const all = await Promise.all([process.pid, ...pool.pids].map(usage));
  return { peakKb: all.reduce((a, u) => a + u.peakKb, 0), cpuMs: all.reduce((a, u) => a + u.cpuMs, 0) };
}

async function run(
  pool: RenderPool,
  store: FsReportStore,
  n: number,
  logEvery: number,
  editions: readonly Edition[],
  t0 = performance.now(),
) {
  for (let page = 0; page < n; page += REPORT_PAGE) {
    const ids = Array.from({ length: Math.min(REPORT_PAGE, n - page) }, (_, k) => page + k);
    await Promise.all(
      ids.map(async (i) => {
        const vm = syntheticViewModel(i);
        for (const { edition, format, bytes } of await pool.render(vm, editions, ['html', 'pdf'])) {
          const key = reportKey(vm.learner.user_id, vm.week.start, edition, format);
          await store.put(key, bytes, CONTENT_TYPES[format]);
        }
      }),
    );
    const done = page + ids.length;
    if (logEvery > 0 && Math.floor(done / logEvery) > Math.floor(page / logEvery)) {
      const { peakKb } = await total(pool);
      const s = (performance.now() - t0) / 1000;
      console.log(
        `  ${done}/${n} learners in ${s.toFixed(0)} s, peak RSS so far ${(peakKb / 1024).toFixed(0)} MB`,
      );
    }
  }
  return performance.now() - t0;
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
  // One edition by default, as the throughput target is stated; `--editions both` renders what the
  // job renders by default (REPORT_EDITIONS), for the batch's memory target.
  const both = args[args.indexOf('--editions') + 1] === 'both' && args.includes('--editions');
  const editions: Edition[] = both ? ['learner', 'teacher'] : ['learner'];
  const dir = await mkdtemp(join(tmpdir(), 'bench-reports-'));
  const store = new FsReportStore(dir);
  const pool = createRenderPool(workers);
  try {
    // A warm-up so the first run does not carry module loading and JIT compilation alone.
    await run(pool, store, Math.min(n, 20 * Math.max(1, workers)), 0, editions);
    const rates: number[] = [];
    const cpu: number[] = [];
    for (let r = 0; r < runs; r++) {
      const before = await total(pool);
      const ms = await run(pool, store, n, logEvery, editions);
      const cpuMs = (await total(pool)).cpuMs - before.cpuMs;
      rates.push(n / (ms / 1000));
      cpu.push(cpuMs / n);
      console.log(
        `run ${r + 1}: ${n} learners (HTML + PDF, ${editions.join(' + ')}) in ${(ms / 1000).toFixed(2)} s, ${(cpuMs / n).toFixed(0)} ms CPU per learner`,
      );
    }
    const { peakKb } = await total(pool);
    const cores = availableParallelism();
    console.log(
      `reports: ${median(rates).toFixed(1)} learners/s median of ${runs} (target >= 20; ${workers} render process${workers === 1 ? '' : 'es'}), ` +
        `${median(cpu).toFixed(0)} ms CPU per learner (${((cores * 1000) / median(cpu)).toFixed(1)} learners/s if ${cores} cores were idle), ` +
        `peak RSS ${(peakKb / 1024).toFixed(0)} MB (target < 1536 MB); load average ${loadavg()[0].toFixed(1)}`,
    );
  } finally {
    pool.close();
    await rm(dir, { recursive: true, force: true });
  }
}
