// `seedtest irt calibrate | score | simulate`: the IRT engine on CSV files, no database.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  type Calibration,
  calibrateLinked,
  fromTriples,
  type ItemParams,
  type LinkingConstants,
  type LinkingMethod,
  type ModelName,
  type ResponseData,
  type ResponseTriple,
  type ScoreMethod,
  scorePersons,
  simulate,
} from '../irt/index.js';
import { CsvError, readCsv, writeCsv } from './csv.js';

const MODELS: readonly ModelName[] = ['Rasch', '1PL', '2PL', '3PL'];
const LINKINGS: readonly LinkingMethod[] = ['fixed', 'mean-sigma', 'stocking-lord', 'none'];

export interface CalibrateCliOptions {
  responses: string;
  model: string;
  quadpts?: string;
  thetaLim?: string;
  tol?: string;
  maxCycles?: string;
  cPrior?: string;
  minItemResponses?: string;
  anchors?: string;
  linking?: string;
  se?: boolean;
  /** mirt's own iteration (Ramsay, joint BFGS M-step, mirt's start values): stops where mirt stops. */
  mirtCompat?: boolean;
  itemsOut: string;
  abilitiesOut: string;
  json?: boolean;
}

/** The `--json` summary of a calibration. */
export interface CalibrateSummary {
  model: string;
  logLik: number;
  AIC: number;
  BIC: number;
  iterations: number;
  converged: boolean;
  elapsed_ms: number;
  n_persons: number;
  n_items: number;
  n_obs: number;
  latent: { mean: number; variance: number };
  linking: LinkingConstants;
  excluded: {
    items: { item_id: string; reason: string; n: number }[];
    persons: { user_id: string; reason: string }[];
    duplicates_dropped: number;
  };
}

export function num(value: string | undefined, what: string, fallback: number): number {
  if (value === undefined) return fallback;
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x)) throw new CsvError(`${what}: not a number: '${value}'`);
  return x;
}

export function pair(value: string | undefined, what: string): [number, number] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',');
  if (parts.length !== 2) throw new CsvError(`${what}: expected two numbers 'x,y', got '${value}'`);
  return [num(parts[0], what, 0), num(parts[1], what, 0)];
}

/** Reads `user_id,item_id,correct` rows (`correct` exactly 0 or 1) with their line numbers. */
export function readResponses(file: string): { triples: ResponseTriple[]; lines: number[] } {
  const t = readCsv(file, ['user_id', 'item_id', 'correct']);
  if (t.rows.length === 0) throw new CsvError(`${file}: no responses`);
  const triples = t.rows.map((r, i) => {
    const correct = r[t.col.correct].trim();
    if (correct !== '0' && correct !== '1') {
      throw new CsvError(`${file}: line ${t.lines[i]}: correct must be 0 or 1, got '${correct}'`);
    }
    const userId = r[t.col.user_id];
    const itemId = r[t.col.item_id];
    if (!userId || !itemId) throw new CsvError(`${file}: line ${t.lines[i]}: empty user_id or item_id`);
    return { userId, itemId, correct: Number(correct) };
  });
  return { triples, lines: t.lines };
}

/** Reads `item_id,a,b[,c]` rows (c defaults to 0) into a map by item id. */
export function readItems(file: string): Map<string, ItemParams> {
  const t = readCsv(file, ['item_id', 'a', 'b']);
  const out = new Map<string, ItemParams>();
  t.rows.forEach((r, i) => {
    const at = `${file}: line ${t.lines[i]}`;
    const a = num(r[t.col.a], `${at}: a`, Number.NaN);
    const b = num(r[t.col.b], `${at}: b`, Number.NaN);
    const cText = t.col.c === undefined ? '' : r[t.col.c].trim();
    const c = cText === '' ? 0 : num(cText, `${at}: c`, 0);
    if (!(c >= 0 && c < 1)) throw new CsvError(`${at}: c must be in [0, 1), got ${c}`);
    if (out.has(r[t.col.item_id])) throw new CsvError(`${at}: duplicate item_id '${r[t.col.item_id]}'`);
    out.set(r[t.col.item_id], { a, b, c });
  });
  return out;
}

/** Runs `irt calibrate`: writes the item and ability files and returns the summary. */
export function runCalibrate(o: CalibrateCliOptions): CalibrateSummary {
  const start = performance.now();
  if (!MODELS.includes(o.model as ModelName))
    throw new CsvError(`--model must be one of ${MODELS.join(', ')}`);
  if (o.linking !== undefined && !LINKINGS.includes(o.linking as LinkingMethod)) {
    throw new CsvError(`--linking must be one of ${LINKINGS.join(', ')}`);
  }
  const cPrior = pair(o.cPrior, '--c-prior');
  const data = fromTriples(readResponses(o.responses).triples, {
    minItemResponses: num(o.minItemResponses, '--min-item-responses', 20),
  });
  if (data.nItems === 0) throw new CsvError(`${o.responses}: no item passes the data checks`);
  const { calibration: cal, linking } = calibrateLinked(data, {
    model: o.model as ModelName,
    quadpts: num(o.quadpts, '--quadpts', 61),
    thetaLim: pair(o.thetaLim, '--theta-lim') ?? [-6, 6],
    tol: num(o.tol, '--tol', 1e-4),
    maxCycles: num(o.maxCycles, '--max-cycles', 500),
    priors: cPrior ? { c: { alpha: cPrior[0], beta: cPrior[1] } } : {},
    itemSE: !!o.se,
    anchors: o.anchors ? readItems(o.anchors) : undefined,
    linking: o.linking as LinkingMethod | undefined,
    mirtCompat: !!o.mirtCompat,
  });
  writeItems(o.itemsOut, cal, !!o.se);
  writeAbilities(o.abilitiesOut, data, cal.abilities!.theta, cal.abilities!.se);
  return summary(cal, data, linking, performance.now() - start);
}

function writeItems(file: string, cal: Calibration, withSE: boolean): void {
  const seCols = withSE ? ['se_a', 'se_b', 'se_c', 'se_d'] : [];
  writeCsv(
    file,
    ['item_id', 'a', 'b', 'c', 'd', 'n', ...seCols],
    cal.items.map((it) => [
      it.itemId,
      it.a,
      it.b,
      it.c,
      it.d,
      it.n,
      // A missing SE (fixed parameter) is an empty field, never 0.
      ...seCols.map((k) => it.se?.[k.slice(3)] ?? ''),
    ]),
  );
}

function writeAbilities(file: string, data: ResponseData, theta: Float64Array, se: Float64Array): void {
  writeCsv(
    file,
    ['user_id', 'theta', 'se'],
    data.personIds.map((id, i) => [id, theta[i], se[i]]),
  );
}

function summary(
  cal: Calibration,
  data: ResponseData,
  linking: LinkingConstants,
  elapsed: number,
): CalibrateSummary {
  return {
    model: cal.model,
    logLik: cal.logLik,
    AIC: cal.AIC,
    BIC: cal.BIC,
    iterations: cal.iterations,
    converged: cal.converged,
    elapsed_ms: Math.round(elapsed),
    n_persons: cal.nPersons,
    n_items: cal.nItems,
    n_obs: cal.nObs,
    latent: cal.latent,
    linking,
    excluded: {
      items: data.excludedItems.map((e) => ({ item_id: e.itemId, reason: e.reason, n: e.n })),
      persons: data.excludedPersons.map((e) => ({ user_id: e.personId, reason: e.reason })),
      duplicates_dropped: data.duplicatesDropped,
    },
  };
}

export interface ScoreCliOptions {
  items: string;
  responses: string;
  method: string;
  quadpts?: string;
  thetaLim?: string;
  out: string;
}

/** Runs `irt score`: scores every user of the responses file against the given items. */
export function runScore(o: ScoreCliOptions): { n_persons: number } {
  if (!['eap', 'map', 'ml'].includes(o.method)) throw new CsvError(`--method must be eap, map or ml`);
  const items = readItems(o.items);
  const { triples, lines } = readResponses(o.responses);
  triples.forEach((t, i) => {
    if (!items.has(t.itemId))
      throw new CsvError(`${o.responses}: line ${lines[i]}: item '${t.itemId}' not in ${o.items}`);
  });
  const data = fromTriples(triples, { checkItems: false });
  const params = data.itemIds.map((id) => items.get(id)!);
  const s = scorePersons(data, params, {
    method: o.method as ScoreMethod,
    quadpts: num(o.quadpts, '--quadpts', 61),
    thetaLim: pair(o.thetaLim, '--theta-lim') ?? [-6, 6],
  });
  writeAbilities(o.out, data, s.theta, s.se);
  return { n_persons: data.nPersons };
}

export interface SimulateCliOptions {
  model: string;
  n: string;
  j: string;
  perPerson?: string;
  seed: string;
  out: string;
}

/** Runs `irt simulate`: writes responses.csv, items.csv (true parameters) and abilities.csv (true θ) to a directory. */
export function runSimulate(o: SimulateCliOptions): { n_obs: number } {
  if (!MODELS.includes(o.model as ModelName))
    throw new CsvError(`--model must be one of ${MODELS.join(', ')}`);
  const sim = simulate({
    model: o.model as ModelName,
    nPersons: num(o.n, '--n', 0),
    nItems: num(o.j, '--j', 0),
    perPerson: o.perPerson === undefined ? undefined : num(o.perPerson, '--per-person', 0),
    seed: num(o.seed, '--seed', 0),
  });
  mkdirSync(o.out, { recursive: true });
  const { personIds, itemIds, person, item, correct } = sim.responses;
  writeCsv(
    join(o.out, 'responses.csv'),
    ['user_id', 'item_id', 'correct'],
    Array.from(person, (p, t) => [personIds[p], itemIds[item[t]], correct[t]]),
  );
  writeCsv(
    join(o.out, 'items.csv'),
    ['item_id', 'a', 'b', 'c', 'd'],
    sim.items.map((p, j) => [itemIds[j], p.a, p.b, p.c, -p.a * p.b]),
  );
  writeCsv(
    join(o.out, 'abilities.csv'),
    ['user_id', 'theta'],
    personIds.map((id, i) => [id, sim.theta[i]]),
  );
  return { n_obs: person.length };
}

/** Runs an action, turning input errors into a message on stderr and exit code 1. */
export function guarded(cmd: Command, run: () => void): void {
  try {
    run();
  } catch (e) {
    if (e instanceof CsvError || e instanceof RangeError) cmd.error(`error: ${e.message}`, { exitCode: 1 });
    throw e;
  }
}

/** Adds `irt calibrate`, `irt score` and `irt simulate` to the program. */
export function registerIrtCommands(program: Command): void {
  const irt = program.command('irt').description('IRT calibration, scoring and simulation on CSV files');
  irt
    .command('calibrate')
    .description('calibrate items (Bock–Aitkin EM) and score persons (EAP) from user_id,item_id,correct rows')
    .requiredOption('--responses <file>', 'CSV with user_id,item_id,correct')
    .option('--model <model>', 'Rasch | 1PL | 2PL | 3PL', '2PL')
    .option('--quadpts <n>', 'quadrature points (default 61)')
    .option('--theta-lim <lo,hi>', 'quadrature range (default -6,6)')
    .option('--tol <x>', 'convergence tolerance on the largest parameter change (default 1e-4)')
    .option('--max-cycles <n>', 'maximum EM cycles (default 500)')
    .option('--c-prior <alpha,beta>', 'Beta prior on the 3PL lower asymptote, e.g. 5,17')
    .option('--min-item-responses <n>', 'items with fewer responses are excluded (default 20)')
    .option('--anchors <file>', 'CSV item_id,a,b[,c] of anchor items with current parameters')
    .option(
      '--linking <method>',
      'fixed | mean-sigma | stocking-lord | none (default: fixed with >= 5 anchors)',
    )
    .option('--se', 'compute item standard errors (se_* columns)')
    .option('--mirt-compat', "iterate as mirt does (stops at mirt's printed estimates; small banks only)")
    .requiredOption('--items-out <file>', 'item parameters CSV: item_id,a,b,c,d,n[,se_*]')
    .requiredOption('--abilities-out <file>', 'abilities CSV: user_id,theta,se')
    .option('--json', 'print a JSON summary on stdout')
    .action(function (this: Command, opts: CalibrateCliOptions) {
      guarded(this, () => {
        const s = runCalibrate(opts);
        if (opts.json) process.stdout.write(`${JSON.stringify(s)}\n`);
        else
          process.stdout.write(
            `calibrated ${s.n_items} items, ${s.n_persons} persons; logLik ${s.logLik.toFixed(3)}, converged ${s.converged}\n`,
          );
      });
    });
  irt
    .command('score')
    .description('score persons against given item parameters')
    .requiredOption('--items <file>', 'CSV item_id,a,b[,c]')
    .requiredOption('--responses <file>', 'CSV user_id,item_id,correct')
    .option('--method <method>', 'eap | map | ml', 'eap')
    .option('--quadpts <n>', 'quadrature points (default 61)')
    .option('--theta-lim <lo,hi>', 'range (default -6,6)')
    .requiredOption('--out <file>', 'abilities CSV: user_id,theta,se')
    .action(function (this: Command, opts: ScoreCliOptions) {
      guarded(this, () => {
        const r = runScore(opts);
        process.stdout.write(`scored ${r.n_persons} persons\n`);
      });
    });
  irt
    .command('simulate')
    .description('simulate responses from random true parameters (seeded)')
    .option('--model <model>', 'Rasch | 2PL | 3PL', '2PL')
    .requiredOption('--n <persons>', 'number of persons')
    .requiredOption('--j <items>', 'number of items')
    .option('--per-person <k>', 'items per person (sparse); default all')
    .requiredOption('--seed <seed>', 'PRNG seed')
    .requiredOption('--out <dir>', 'output directory')
    .action(function (this: Command, opts: SimulateCliOptions) {
      guarded(this, () => {
        const r = runSimulate(opts);
        process.stdout.write(`simulated ${r.n_obs} responses into ${opts.out}\n`);
      });
    });
}
