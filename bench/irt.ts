// `npm run bench -- irt [--large] [--only sparse|dense|online|large|health|drift] [--runs N] [--mirt] [--threads N]`:
// the figures of spec/irt.md → Performance, and the item-bank health's (issue 17). Data come from the engine's seeded simulator; times are
// medians of several runs, wall clock and (in brackets) the process's CPU time, which is the
// figure to compare when other work shares the machine's 2 cores (the load average is printed).
import { loadavg } from 'node:os';
import {
  type Calibration,
  calibrate,
  calibrationDrift,
  calibrationFitModel,
  fitStatistics,
  fromIndexed,
  itemDrift,
  OnlineScorer,
  simulate,
} from '../src/irt/index.js';
import { median } from './support.js';

/** The E-step threads of a run: as given, or the engine's default (2 from PARALLEL_MIN_OBS responses). */
const threadsLabel = (threads: number | undefined) =>
  threads === undefined ? 'default threads' : `${threads} thread(s)`;

function cpuMs(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
}

/** Median wall and CPU time (ms) of building the sparse data and a full calibration with EAP scores. */
function calibrationCase(
  label: string,
  nPersons: number,
  nItems: number,
  perPerson: number,
  runs: number,
  target: number,
  mirtCompat: boolean,
  threads: number | undefined,
): void {
  const sim = simulate({ model: '2PL', nPersons, nItems, perPerson, seed: 20250101 });
  const times: number[] = [];
  const cpu: number[] = [];
  let last: ReturnType<typeof calibrate> | undefined;
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    last = calibrate(fromIndexed(sim.responses), { model: '2PL', mirtCompat, threads });
    times.push(performance.now() - t0);
    cpu.push(cpuMs(c0));
  }
  const t = median(times);
  console.log(
    `${label}${mirtCompat ? ' [mirtCompat]' : ''}: ${(t / 1000).toFixed(3)} s median of ${runs} ` +
      `[cpu ${(median(cpu) / 1000).toFixed(3)} s, min ${(Math.min(...cpu) / 1000).toFixed(3)} s] (target ${target} s; ` +
      `${last!.iterations} cycles, ${(t / (last!.iterations + 1)).toFixed(1)} ms per pass, converged ${last!.converged}, ` +
      `responses ${last!.nObs})`,
  );
}

function onlineCase(runs: number): void {
  const bank = simulate({ model: '2PL', nPersons: 1, nItems: 1000, seed: 7 }).items;
  const scorer = new OnlineScorer(bank);
  const item = Int32Array.from({ length: 100 }, (_, r) => (r * 37) % 1000);
  const correct = Uint8Array.from({ length: 100 }, (_, r) => ((r * 7) % 3 === 0 ? 0 : 1));
  const perCall: number[] = [];
  let sink = 0;
  for (let r = 0; r < runs; r++) {
    const n = 100_000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) sink += scorer.eap(item, correct).theta;
    perCall.push(((performance.now() - t0) * 1000) / n);
  }
  console.log(
    `online EAP, 100 responses: ${median(perCall).toFixed(2)} µs per estimate, min ${Math.min(...perCall).toFixed(2)} ` +
      `(target 20 µs; checksum ${sink.toFixed(3)})`,
  );
}

/** The 50M case: one run (it takes minutes); simulation is not counted, data building is. */
function largeCase(threads: number | undefined): void {
  const t0 = performance.now();
  const sim = simulate({ model: '2PL', nPersons: 1_000_000, nItems: 5_000, perPerson: 50, seed: 20250102 });
  const t1 = performance.now();
  const c0 = process.cpuUsage();
  const data = fromIndexed(sim.responses);
  const t2 = performance.now();
  const cal = calibrate(data, { model: '2PL', threads });
  const t3 = performance.now();
  const cpu = cpuMs(c0);
  const rssGB = (process.resourceUsage().maxRSS * 1024) / 1e9;
  console.log(
    `2PL 1,000,000 x 5,000, 50 each (50M), ${threadsLabel(threads)}: engine ${((t3 - t1) / 1000).toFixed(1)} s [cpu ${(cpu / 1000).toFixed(1)} s] ` +
      `(target 120 s; data ${((t2 - t1) / 1000).toFixed(1)} s, calibration ${((t3 - t2) / 1000).toFixed(1)} s, ` +
      `${((t3 - t2) / (cal.iterations + 1) / 1000).toFixed(2)} s per pass; simulation ${((t1 - t0) / 1000).toFixed(1)} s), ` +
      `${cal.iterations} cycles, converged ${cal.converged}, peak RSS ${rssGB.toFixed(2)} GB (target 6 GB)`,
  );
}

/** Wall and CPU time (ms) of one call. */
function timed<T>(run: () => T): { value: T; ms: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = run();
  return { value, ms: performance.now() - t0, cpu: cpuMs(c0) };
}

/**
 * Cost of the bank's health at 1M responses (2PL sparse 33,334 × 200, 30 each): the calibration the
 * nightly job runs anyway, then what issue 17 adds — fit and reliability (fitStatistics), drift
 * against a previous run (itemDrift), and, listed apart, the item SEs and covariances drift needs and
 * the free calibration anchor screening needs.
 */
function healthCase(threads: number | undefined): void {
  const sim = simulate({ model: '2PL', nPersons: 33_334, nItems: 200, perPerson: 30, seed: 20250101 });
  const data = fromIndexed(sim.responses);
  const cal = timed(() => calibrate(data, { model: '2PL', threads }));
  const withSE = timed(() => calibrate(data, { model: '2PL', threads, itemSE: true }));
  const fit = timed(() => fitStatistics(data, calibrationFitModel(cal.value)));
  const drift = timed(() => itemDrift(withSE.value.items, withSE.value.items));
  const share = (x: number) => `${((100 * x) / cal.cpu).toFixed(1)} %`;
  console.log(
    `health at ${data.nObs} responses: calibration ${(cal.ms / 1000).toFixed(2)} s [cpu ${(cal.cpu / 1000).toFixed(2)} s]; ` +
      `fit + reliability ${(fit.ms / 1000).toFixed(3)} s [cpu ${share(fit.cpu)}], drift ${(drift.ms / 1000).toFixed(3)} s [cpu ${share(drift.cpu)}]: ` +
      `fit and drift ${share(fit.cpu + drift.cpu)} of the calibration (target ≤ 20 %); ` +
      `item SEs (calibration with itemSE) +${share(withSE.cpu - cal.cpu)}; anchor screening's free calibration ≈ +100 %`,
  );
}

/**
 * Drift by simulation at 20,000 × 200 × 30 (issue 17): two free calibrations with SEs, 10 % of the
 * items shifted by 0.5 in b in the second (whose abilities are N(0.3, 1.1²)), linked with robust
 * screening; and a pair without drift. Reports the share of drifted items flagged (target ≥ 90 %),
 * the false-flag rate (≤ 5 %) and the flag rate without drift (≤ 5 %).
 */
function driftCase(threads: number | undefined): void {
  const items = simulate({ model: '2PL', nPersons: 1, nItems: 200, seed: 7 }).items;
  const fitOf = (seed: number, its: typeof items, thetaMean = 0, thetaSd = 1): Calibration =>
    calibrate(
      fromIndexed(
        simulate({
          model: '2PL',
          nPersons: 20_000,
          nItems: 200,
          perPerson: 30,
          seed,
          items: its,
          thetaMean,
          thetaSd,
        }).responses,
      ),
      { model: '2PL', itemSE: true, abilities: false, threads },
    );
  const drifted = new Set(Array.from({ length: 20 }, (_, k) => k * 10 + 3));
  const before = fitOf(8, items);
  const t0 = performance.now();
  const after = fitOf(
    9,
    items.map((p, j) => (drifted.has(j) ? { ...p, b: p.b + 0.5 } : p)),
    0.3,
    1.1,
  );
  const { items: d, linking } = calibrationDrift(before.items, after.items);
  const ms = performance.now() - t0;
  const hit = d.filter((r, j) => r.flag && drifted.has(j)).length;
  const falseFlags = d.filter((r, j) => r.flag && !drifted.has(j)).length;
  const none = calibrationDrift(before.items, fitOf(10, items, -0.2).items).items.filter(
    (r) => r.flag,
  ).length;
  console.log(
    `drift 20,000 x 200 x 30: ${hit}/20 drifted flagged (${(5 * hit).toFixed(0)} %, target ≥ 90 %), ` +
      `false flags ${falseFlags}/180 (${((100 * falseFlags) / 180).toFixed(1)} %, ≤ 5 %), no drift: ${none}/200 flagged ` +
      `(${(none / 2).toFixed(1)} %, ≤ 5 %); linking A ${linking.A.toFixed(3)} (truth 1.1), B ${linking.B.toFixed(3)} (0.3), ` +
      `${linking.dropped.length} anchors screened out; calibration with SEs + drift ${(ms / 1000).toFixed(2)} s`,
  );
}

export async function benchIrt(args: string[]): Promise<void> {
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const runs = Number(opt('--runs') ?? 5);
  const only = opt('--only');
  const mirt = args.includes('--mirt');
  const threads = opt('--threads') === undefined ? undefined : Number(opt('--threads'));
  // The heavy cases (50M, the 1M health cost, the 20,000 × 200 drift study) run only when asked for.
  const want = (c: string) =>
    only ? only === c : !['large', 'health', 'drift'].includes(c) || args.includes(`--${c}`);
  console.log(
    `load average at start: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} (2 cores)`,
  );
  if (want('sparse'))
    calibrationCase(
      `2PL sparse 20,000 x 200, 30 each (600k), ${threadsLabel(threads)}`,
      20_000,
      200,
      30,
      runs,
      1.0,
      false,
      threads,
    );
  if (want('dense')) calibrationCase('2PL dense 2,000 x 50 (100k)', 2_000, 50, 50, runs, 0.2, false, threads);
  if (mirt && want('dense'))
    calibrationCase('2PL dense 2,000 x 50 (100k)', 2_000, 50, 50, runs, 0.2, true, threads);
  if (want('online')) onlineCase(runs);
  if (want('large')) largeCase(threads);
  if (want('health')) healthCase(threads);
  if (want('drift')) driftCase(threads);
}
