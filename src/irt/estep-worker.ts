// Worker side of parallel.ts: for each calibration's job message, waits for pass commands, runs the
// per-person E-step over its fixed range of persons into its own counts and node masses, reports
// done; the detach command returns it to the event loop, ready for the next calibration.
import { parentPort } from 'node:worker_threads';
import { CMD_DETACH, FLAG_COUNTS, FLAG_THETA, FLAG_WINDOWS, type WorkerJob } from './parallel.js';
import { posteriorRange } from './posterior.js';

function attach(s: WorkerJob): void {
  const control = new Int32Array(s.control);
  const personPtr = new Int32Array(s.personPtr);
  const data = {
    nPersons: personPtr.length - 1,
    personPtr,
    personItem: new Int32Array(s.personItem),
    personValue: new Uint8Array(s.personValue),
  };
  const table = new Float64Array(s.table);
  const logPrior = new Float64Array(s.logPrior);
  const nodes = new Float64Array(s.nodes);
  const windows = new Uint8Array(s.windows);
  const theta = new Float64Array(s.theta);
  const se = new Float64Array(s.se);
  const counts = new Float64Array(s.counts);
  const nk = new Float64Array(s.nk);
  const result = new Float64Array(s.result);
  Atomics.add(control, 3, 1);
  Atomics.notify(control, 3);
  let seen = 0;
  for (;;) {
    Atomics.wait(control, 0, seen);
    seen = Atomics.load(control, 0);
    const cmd = Atomics.load(control, 1);
    if (cmd === CMD_DETACH) return;
    const withCounts = (cmd & FLAG_COUNTS) !== 0;
    if (withCounts) {
      counts.fill(0);
      nk.fill(0);
    }
    result[0] = posteriorRange(data, s.from, s.to, table, s.nCat, logPrior, nodes, {
      counts: withCounts ? counts : undefined,
      nk: withCounts ? nk : undefined,
      theta: (cmd & FLAG_THETA) !== 0 ? theta : undefined,
      se: (cmd & FLAG_THETA) !== 0 ? se : undefined,
      windows: (cmd & FLAG_WINDOWS) !== 0 ? windows : undefined,
    });
    Atomics.add(control, 2, 1);
    Atomics.notify(control, 2);
  }
}

parentPort?.on('message', attach);
