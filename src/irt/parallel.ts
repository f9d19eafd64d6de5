// The per-person E-step split over threads for large data (docs/irt.md → Performance).
// Persons are cut into `threads` fixed ranges of about equal response counts; the calling thread
// computes the first range and worker threads the others. Everything a worker reads or writes lives
// in SharedArrayBuffers; the calibration stays synchronous: the main thread publishes a command with
// Atomics.notify, computes its own range, then blocks in Atomics.wait until every worker is done.
// Each range accumulates into its own counts and node masses, added in range order, so the result is
// deterministic for a given number of threads (and equal to the one-thread E-step up to rounding).
//
// The workers are started once per process and kept (unref'd, so they never hold the process open):
// starting one costs tens of milliseconds (hundreds under tsx), which a calibration of a few hundred
// milliseconds should not pay every time. A calibration attaches its data with one message per worker.
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../threads.js';
import { type PersonResponses, type PosteriorSinks, posteriorRange } from './posterior.js';

/** What one worker receives for one calibration. */
export interface WorkerJob {
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

/** Commands in control[1]: CMD_DETACH ends the calibration; otherwise bit flags for a pass. */
export const CMD_DETACH = -1;
export const FLAG_COUNTS = 1;
export const FLAG_THETA = 2;
export const FLAG_WINDOWS = 4;

const sab = (bytes: number) => new SharedArrayBuffer(Math.max(8, bytes));

/** The process's E-step workers, started on first use and reused by every later calibration. */
const workers: Worker[] = [];
/** Set once workers failed to start here: later calibrations run on the calling thread alone. */
let unavailable = false;
/** How long a calibration waits for its workers to take their jobs (a first start included). */
const START_TIMEOUT_MS = 30_000;

class WorkersDidNotStart extends Error {}

function worker(w: number): Worker {
  while (workers.length <= w) {
    const created = startModuleWorker(import.meta.url, 'estep-worker');
    created.unref();
    // A worker that cannot load reports here (after the calibration waiting for it gave up).
    created.on('error', () => {
      unavailable = true;
    });
    workers.push(created);
  }
  return workers[w];
}

/**
 * Starts the workers a `threads`-thread E-step will use, ahead of the calibration: a caller that
 * reads its data first (the CLI) overlaps the workers' start-up (~0.1 s) with the reading.
 */
export function startEstepWorkers(threads: number): void {
  if (unavailable) return;
  for (let w = 0; w < threads - 1; w++) worker(w);
}

/** One calibration's view of the workers: its data attached, `pass()` per E-step, `close()` at the end. */
export class EstepPool {
  /**
   * A pool over `threads` threads, or null when worker threads cannot be started in this process
   * (a worker that fails to load never reports ready): the E-step then runs on the calling thread,
   * with results equal to rounding, rather than the calibration hanging or failing.
   */
  static open(
    data: PersonResponses,
    nodes: Float64Array,
    tableLength: number,
    nCat: number,
    threads: number,
  ): EstepPool | null {
    if (unavailable) return null;
    try {
      return new EstepPool(data, nodes, tableLength, nCat, threads);
    } catch (err) {
      if (!(err instanceof WorkersDidNotStart)) throw err;
      unavailable = true;
      for (const w of workers.splice(0)) void w.terminate();
      return null;
    }
  }

  readonly table: Float64Array;
  readonly logPrior: Float64Array;
  /** Threads the E-step runs on (the calling thread and the workers). */
  readonly threads: number;
  private readonly data: PersonResponses;
  private readonly nodes: Float64Array;
  private readonly nCat: number;
  private readonly control: Int32Array;
  /** The calling thread's range of persons [0, mainTo). */
  private readonly mainTo: number;
  private readonly windows: Uint8Array;
  private readonly counts: Float64Array[] = [];
  private readonly nk: Float64Array[] = [];
  private readonly results: Float64Array[] = [];
  private readonly theta: Float64Array;
  private readonly se: Float64Array;
  private generation = 0;

  private constructor(
    data: PersonResponses,
    nodes: Float64Array,
    tableLength: number,
    nCat: number,
    threads: number,
  ) {
    const Q = nodes.length;
    this.threads = threads;
    this.data = data;
    this.nodes = nodes;
    this.nCat = nCat;
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
    this.windows = new Uint8Array(windows).fill(255);
    const thetaBuf = sab(data.nPersons * 8);
    const seBuf = sab(data.nPersons * 8);
    this.theta = new Float64Array(thetaBuf);
    this.se = new Float64Array(seBuf);
    // Range r ends where the responses before it reach r/threads of the total.
    const total = data.personPtr[data.nPersons];
    const rangeEnd = (r: number) => {
      if (r >= threads) return data.nPersons;
      let to = 0;
      while (to < data.nPersons && data.personPtr[to] < (total * r) / threads) to++;
      return to;
    };
    this.mainTo = rangeEnd(1);
    for (let r = 1; r < threads; r++) {
      const counts = sab(tableLength * 8);
      const nk = sab(Q * 8);
      const result = sab(8);
      this.counts.push(new Float64Array(counts));
      this.nk.push(new Float64Array(nk));
      this.results.push(new Float64Array(result));
      const job: WorkerJob = {
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
        from: rangeEnd(r),
        to: rangeEnd(r + 1),
      };
      worker(r - 1).postMessage(job);
    }
    // Wait until every worker has taken its job (each adds 1 to control[3]).
    const n = threads - 1;
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const ready = Atomics.load(this.control, 3);
      if (ready >= n) break;
      const left = deadline - Date.now();
      if (left <= 0) {
        this.close(); // the workers that did take the job see the detach command and return
        throw new WorkersDidNotStart(
          `E-step workers: ${ready} of ${n} started within ${START_TIMEOUT_MS} ms`,
        );
      }
      Atomics.wait(this.control, 3, ready, left);
    }
  }

  /** One E-step pass over all persons into `sinks` (table and logPrior must be filled). */
  pass(sinks: PosteriorSinks, useWindows: boolean): number {
    const flags =
      (sinks.counts || sinks.nk ? FLAG_COUNTS : 0) |
      (sinks.theta ? FLAG_THETA : 0) |
      (useWindows ? FLAG_WINDOWS : 0);
    const n = this.results.length;
    Atomics.store(this.control, 2, 0);
    Atomics.store(this.control, 1, flags);
    this.generation++;
    Atomics.store(this.control, 0, this.generation);
    Atomics.notify(this.control, 0);
    const { counts, nk, theta, se } = sinks;
    let logLik = posteriorRange(this.data, 0, this.mainTo, this.table, this.nCat, this.logPrior, this.nodes, {
      counts,
      nk,
      theta: theta ? this.theta : undefined,
      se: theta ? this.se : undefined,
      windows: useWindows ? this.windows : undefined,
    });
    for (;;) {
      const done = Atomics.load(this.control, 2);
      if (done >= n) break;
      Atomics.wait(this.control, 2, done);
    }
    for (let w = 0; w < n; w++) logLik += this.results[w][0];
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

  /** Releases the workers for the next calibration (they stay started). */
  close(): void {
    Atomics.store(this.control, 1, CMD_DETACH);
    this.generation++;
    Atomics.store(this.control, 0, this.generation);
    Atomics.notify(this.control, 0);
  }
}
