// `npm run bench -- irt [--large] [--runs N]`: the figures of spec/irt.md → Performance.
// Data come from the engine's seeded simulator; times are medians of several runs.
import { calibrate, fromIndexed, OnlineScorer, simulate } from '../src/irt/index.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median wall time (ms) of a full calibration including EAP scores, after building the sparse data. */
function calibrationCase(
  label: string,
  nPersons: number,
  nItems: number,
  perPerson: number,
  runs: number,
  target: number,
): void {
  const sim = simulate({ model: '2PL', nPersons, nItems, perPerson, seed: 20250101 });
  const times: number[] = [];
  let last: ReturnType<typeof calibrate> | undefined;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    last = calibrate(fromIndexed(sim.responses), { model: '2PL' });
    times.push(performance.now() - t0);
  }
  const t = median(times);
  console.log(
    `${label}: ${(t / 1000).toFixed(3)} s median of ${runs} (target ${target} s; ${last!.iterations} cycles, ` +
      `${(t / (last!.iterations + 1)).toFixed(1)} ms per pass, converged ${last!.converged}, responses ${last!.nObs})`,
  );
}

export async function benchIrt(args: string[]): Promise<void> {
  const runsArg = args.indexOf('--runs');
  const runs = runsArg >= 0 ? Number(args[runsArg + 1]) : 5;
  calibrationCase('2PL sparse 20,000 x 200, 30 each (600k)', 20_000, 200, 30, runs, 1.0);
  calibrationCase('2PL dense 2,000 x 50 (100k)', 2_000, 50, 50, runs, 0.2);

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
    `online EAP, 100 responses: ${median(perCall).toFixed(2)} µs per estimate (target 20 µs; checksum ${sink.toFixed(3)})`,
  );

  if (args.includes('--large')) {
    const t0 = performance.now();
    const sim = simulate({ model: '2PL', nPersons: 1_000_000, nItems: 5_000, perPerson: 50, seed: 20250102 });
    const t1 = performance.now();
    const cal = calibrate(fromIndexed(sim.responses), { model: '2PL' });
    const t2 = performance.now();
    const rssGB = (process.resourceUsage().maxRSS * 1024) / 1e9;
    console.log(
      `2PL 1,000,000 x 5,000, 50 each (50M): engine ${((t2 - t1) / 1000).toFixed(1)} s (target 120 s; simulation ` +
        `${((t1 - t0) / 1000).toFixed(1)} s), ${cal.iterations} cycles, converged ${cal.converged}, peak RSS ${rssGB.toFixed(2)} GB (target 6 GB)`,
    );
  }
}
