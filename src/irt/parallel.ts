// The per-person E-step split over worker threads for large data (docs/irt.md → Performance).
// Everything the workers read or write lives in SharedArrayBuffers; the calibration stays
// synchronous: the main thread publishes a command with Atomics.notify and blocks in Atomics.wait
// until every worker has finished its fixed range of persons. Each worker accumulates into its own
// counts and node masses, which the main thread adds in worker order, so the result is
// deterministic for a given number of threads (and equal to the one-thread E-step up to rounding).
import { Worker } from 'node:worker_threads';
import type { PersonResponses, PosteriorSinks } from './posterior.js';

/** Shared state handed to each worker at start. */
export interface WorkerShared {
  control: SharedArrayBuffer; // Int32: [generation, command, done, ready]
  personPtr: SharedArrayBuffer;
  personItem: SharedArrayBuffer;
  personValue: SharedArrayBuffer;
  table: SharedArrayBuffer;
  logPrior: SharedArrayBuffer;
  nodes: SharedArrayBuffer;
  windows: SharedArrayBuffer;
  theta: SharedArrayBuffer;
  se: SharedArrayBuffer;
  counts: SharedArrayBuffer; // this worker's own
  nk: SharedArrayBuffer; // this worker's own
  result: SharedArrayBuffer; // Float64: [logLik]
  nCat: number;
  from: number;
  to: number;
}

/** Commands in control[1]; bit flags for the pass. */
export const CMD_EXIT = -1;
export const FLAG_COUNTS = 1;
export const FLAG_THETA = 2;
export const FLAG_WINDOWS = 4;

const sab = (bytes: number) => new SharedArrayBuffer(Math.max(8, bytes));

/** A pool of E-step workers over fixed person ranges; `close()` ends them. */
export class EstepPool {
  readonly table: Float64Array;
  readonly logPrior: Float64Array;
  private readonly control: Int32Array;
  private readonly workers: Worker[] = [];
  private readonly counts: Float64Array[] = [];
  private readonly nk: Float64Array[] = [];
  private readonly results: Float64Array[] = [];
  private readonly theta: Float64Array;
  private readonly se: Float64Array;
  private generation = 0;

  constructor(
    data: PersonResponses,
    nodes: Float64Array,
    tableLength: number,
    nCat: number,
    threads: number,
  ) {
    const Q = nodes.length;
    const control = sab(16);
    this.control = new Int32Array(control);
    const copy = <T extends Int32Array | Uint8Array>(src: T, Ctor: new (b: SharedArrayBuffer) => T) => {
      const buf = sab(src.byteLength);
      new Ctor(buf).set(src);
      return buf;
    };
    const personPtr = copy(data.personPtr, Int32Array);
    const personItem = copy(data.personItem, Int32Array);
    const personValue = copy(data.personValue, Uint8Array);
    const tableBuf = sab(tableLength * 8);
    this.table = new Float64Array(tableBuf);
    const priorBuf = sab(Q * 8);
    this.logPrior = new Float64Array(priorBuf);
    const nodesBuf = sab(Q * 8);
    new Float64Array(nodesBuf).set(nodes);
    const windows = sab(2 * data.nPersons);
    new Uint8Array(windows).fill(255);
    const thetaBuf = sab(data.nPersons * 8);
    const seBuf = sab(data.nPersons * 8);
    this.theta = new Float64Array(thetaBuf);
    this.se = new Float64Array(seBuf);
    // Split persons so that each worker gets about the same number of responses.
    const total = data.personPtr[data.nPersons];
    let from = 0;
    // Built code loads estep-worker.js; from TypeScript sources (tsx, the tests) the worker first
    // registers tsx's loader, which workers do not inherit, then imports estep-worker.ts.
    const fromSource = import.meta.url.endsWith('.ts');
    const url = new URL(`./estep-worker${fromSource ? '.ts' : '.js'}`, import.meta.url);
    const bootstrap = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
    for (let w = 0; w < threads; w++) {
      let to = data.nPersons;
      if (w < threads - 1) {
        const target = (total * (w + 1)) / threads;
        to = from;
        while (to < data.nPersons && data.personPtr[to] < target) to++;
      }
      const counts = sab(tableLength * 8);
      const nk = sab(Q * 8);
      const result = sab(8);
      this.counts.push(new Float64Array(counts));
      this.nk.push(new Float64Array(nk));
      this.results.push(new Float64Array(result));
      const shared: WorkerShared = {
        control,
        personPtr,
        personItem,
        personValue,
        table: tableBuf,
        logPrior: priorBuf,
        nodes: nodesBuf,
        windows,
        theta: thetaBuf,
        se: seBuf,
        counts,
        nk,
        result,
        nCat,
        from,
        to,
      };
      const worker = fromSource
        ? new Worker(bootstrap, { eval: true, workerData: shared })
        : new Worker(url, { workerData: shared });
      worker.unref();
      this.workers.push(worker);
      from = to;
    }
    // Wait until every worker has started (each adds 1 to control[3]).
    for (;;) {
      const ready = Atomics.load(this.control, 3);
      if (ready >= threads) break;
      Atomics.wait(this.control, 3, ready, 60_000);
    }
  }

  /** One E-step pass over all persons into `sinks` (table and logPrior must be filled). */
  pass(sinks: PosteriorSinks, useWindows: boolean): number {
    const flags =
      (sinks.counts || sinks.nk ? FLAG_COUNTS : 0) |
      (sinks.theta ? FLAG_THETA : 0) |
      (useWindows ? FLAG_WINDOWS : 0);
    Atomics.store(this.control, 2, 0);
    Atomics.store(this.control, 1, flags);
    this.generation++;
    Atomics.store(this.control, 0, this.generation);
    Atomics.notify(this.control, 0);
    const n = this.workers.length;
    for (;;) {
      const done = Atomics.load(this.control, 2);
      if (done >= n) break;
      Atomics.wait(this.control, 2, done);
    }
    let logLik = 0;
    for (let w = 0; w < n; w++) logLik += this.results[w][0];
    const { counts, nk, theta, se } = sinks;
    if (counts) {
      for (let w = 0; w < n; w++) {
        const c = this.counts[w];
        for (let q = 0; q < counts.length; q++) counts[q] += c[q];
      }
    }
    if (nk) for (let w = 0; w < n; w++) for (let k = 0; k < nk.length; k++) nk[k] += this.nk[w][k];
    if (theta) theta.set(this.theta);
    if (se) se.set(this.se);
    return logLik;
  }

  close(): void {
    Atomics.store(this.control, 1, CMD_EXIT);
    this.generation++;
    Atomics.store(this.control, 0, this.generation);
    Atomics.notify(this.control, 0);
    for (const w of this.workers) void w.terminate();
  }
}
