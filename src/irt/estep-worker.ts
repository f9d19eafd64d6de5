// Worker side of parallel.ts: waits for a command, runs the per-person E-step over its fixed range
// of persons into its own counts and node masses, reports done.
import { workerData } from 'node:worker_threads';
import { CMD_EXIT, FLAG_COUNTS, FLAG_THETA, FLAG_WINDOWS, type WorkerShared } from './parallel.js';
import { type PersonResponses, personPosterior, posteriorMoments, scatterPosterior } from './posterior.js';

const s = workerData as WorkerShared;
const control = new Int32Array(s.control);
const personPtr = new Int32Array(s.personPtr);
const data: PersonResponses = {
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
const Q = nodes.length;
const post = new Float64Array(Q);
const win = new Int32Array(2);
const mom = new Float64Array(2);
const { nCat, from, to } = s;

function pass(flags: number): void {
  const withCounts = (flags & FLAG_COUNTS) !== 0;
  const withTheta = (flags & FLAG_THETA) !== 0;
  const hint = (flags & FLAG_WINDOWS) !== 0 ? windows : undefined;
  if (withCounts) {
    counts.fill(0);
    nk.fill(0);
  }
  let logLik = 0;
  for (let i = from; i < to; i++) {
    logLik += personPosterior(data, i, table, nCat, logPrior, post, win, hint);
    const lo = win[0];
    const hi = win[1];
    if (withCounts) {
      for (let k = lo; k <= hi; k++) nk[k] += post[k];
      scatterPosterior(data, i, post, lo, hi, nCat, counts);
    }
    if (withTheta) {
      posteriorMoments(post, nodes, mom);
      theta[i] = mom[0];
      se[i] = mom[1];
    }
  }
  result[0] = logLik;
}

Atomics.add(control, 3, 1);
Atomics.notify(control, 3);
let seen = 0;
for (;;) {
  Atomics.wait(control, 0, seen);
  seen = Atomics.load(control, 0);
  const cmd = Atomics.load(control, 1);
  if (cmd === CMD_EXIT) break;
  pass(cmd);
  Atomics.add(control, 2, 1);
  Atomics.notify(control, 2);
}
