// `seedtest irt calibrate | score | simulate | drift`: the IRT engine on CSV files, no database.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  type Calibration,
  calibrateLinked,
  calibrationDrift,
  calibrationFitModel,
  DEFAULT_GRID,
  type DriftItem,
  type FitResult,
  fitStatistics,
  fromIndexed,
  type ItemParams,
  type LinkingConstants,
  type LinkingMethod,
  type ModelName,
  prepareEstepThreads,
  type ResponseData,
  Rng,
  type ScoreMethod,
  type ScreenedLinking,
  scorePersons,
  simulate,
} from '../irt/index.js';
import { InvalidInputError, NumericalFailure, UserError } from '../user-error.js';
import { CsvError, readCsv, writeCsv } from './csv.js';
import { readResponsesFile } from './responses-csv.js';

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
  /** Item fit columns and model fit / reliability in the summary. */
  fit?: boolean;
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
  /**
   * Where the time went: reading and checking the responses, the EM fit (with SEs and linking), the
   * final pass that scores every person, writing the two files.
   */
  timings: { read_ms: number; fit_ms: number; score_ms: number; write_ms: number };
  n_persons: number;
  n_items: number;
  n_obs: number;
  latent: { mean: number; variance: number };
  linking: LinkingConstants;
  /** With --fit: model fit and reliability (null members where undefined, see fit_notes). */
  fit?: FitResult['model'];
  fit_notes?: string[];
  excluded: {
    items: { item_id: string; reason: string; n: number }[];
    persons: { user_id: string; reason: string }[];
    duplicates_dropped: number;
  };
}

/** `what` names an option (`--tol`) or a file's field ("items.csv: line 3: a"). */
const badValue = (what: string, message: string) =>
  what.startsWith('--') ? new InvalidInputError(message) : new CsvError(message);

export function num(value: string | undefined, what: string, fallback: number): number {
  if (value === undefined) return fallback;
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x)) throw badValue(what, `${what}: not a number: '${value}'`);
  return x;
}

export function pair(value: string | undefined, what: string): [number, number] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',');
  if (parts.length !== 2) throw badValue(what, `${what}: expected two numbers 'x,y', got '${value}'`);
  return [num(parts[0], what, 0), num(parts[1], what, 0)];
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
    throw new InvalidInputError(`--model must be one of ${MODELS.join(', ')}`);
  if (o.linking !== undefined && !LINKINGS.includes(o.linking as LinkingMethod)) {
    throw new InvalidInputError(`--linking must be one of ${LINKINGS.join(', ')}`);
  }
  // Every option is checked before a file is read: a usage error comes first.
  const cPrior = pair(o.cPrior, '--c-prior');
  const minItemResponses = num(o.minItemResponses, '--min-item-responses', 20);
  const quadpts = num(o.quadpts, '--quadpts', DEFAULT_GRID.quadpts);
  const thetaLim = pair(o.thetaLim, '--theta-lim') ?? DEFAULT_GRID.thetaLim;
  const tol = num(o.tol, '--tol', 1e-4);
  const maxCycles = num(o.maxCycles, '--max-cycles', 500);
  const anchors = o.anchors ? readItems(o.anchors) : undefined;
  const responses = readResponsesFile(o.responses);
  // The E-step's worker threads start while the responses are checked and indexed.
  prepareEstepThreads(responses.person.length);
  const data = fromIndexed(responses, { minItemResponses, adoptInput: true });
  if (data.nItems === 0) throw new CsvError(`${o.responses}: no item passes the data checks`);
  const read = performance.now();
  const timings = { scoreMs: 0 };
  const { calibration: cal, linking } = calibrateLinked(data, {
    timings,
    model: o.model as ModelName,
    quadpts,
    thetaLim,
    tol,
    maxCycles,
    priors: cPrior ? { c: { alpha: cPrior[0], beta: cPrior[1] } } : {},
    itemSE: !!o.se,
    anchors,
    linking: o.linking as LinkingMethod | undefined,
    mirtCompat: !!o.mirtCompat,
  });
  const fit = o.fit
    ? fitStatistics(data, calibrationFitModel(cal), {
        quadpts: cal.nodes.length,
        thetaLim: [cal.nodes[0], cal.nodes[cal.nodes.length - 1]],
      })
    : undefined;
  const fitted = performance.now();
  writeItems(o.itemsOut, cal, !!o.se, fit);
  writeAbilities(o.abilitiesOut, data, cal.abilities!.theta, cal.abilities!.se);
  const end = performance.now();
  return {
    ...summary(cal, data, linking, {
      read_ms: ms(read - start),
      fit_ms: ms(fitted - read - timings.scoreMs),
      score_ms: ms(timings.scoreMs),
      write_ms: ms(end - fitted),
    }),
    ...(fit && { fit: fit.model, fit_notes: fit.notes }),
  };
}

const ms = (x: number) => Math.round(x * 10) / 10;

const FIT_COLUMNS = [
  'infit',
  'outfit',
  'infit_z',
  'outfit_z',
  'sx2',
  'sx2_df',
  'sx2_p',
  'sx2_rmsea',
] as const;
const COV_PAIRS = [
  ['a', 'b'],
  ['a', 'c'],
  ['b', 'c'],
] as const;

function writeItems(file: string, cal: Calibration, withSE: boolean, fit?: FitResult): void {
  const seCols = withSE ? ['se_a', 'se_b', 'se_c', 'se_d', ...COV_PAIRS.map(([x, y]) => `cov_${x}${y}`)] : [];
  const covOf = (it: Calibration['items'][number], x: string, y: string) => {
    const i = it.cov?.names.indexOf(x) ?? -1;
    const j = it.cov?.names.indexOf(y) ?? -1;
    return i >= 0 && j >= 0 ? it.cov!.matrix[i * it.cov!.names.length + j] : '';
  };
  writeCsv(
    file,
    ['item_id', 'a', 'b', 'c', 'd', 'n', ...seCols, ...(fit ? FIT_COLUMNS : [])],
    cal.items.map((it, j) => {
      const f = fit?.items[j];
      return [
        it.itemId,
        it.a,
        it.b,
        it.c,
        it.d,
        it.n,
        // A missing SE or covariance (fixed parameter, c at its bound) is an empty field, never 0.
        ...(withSE ? ['a', 'b', 'c', 'd'].map((k) => it.se?.[k] ?? '') : []),
        ...(withSE ? COV_PAIRS.map(([x, y]) => covOf(it, x, y)) : []),
        // A null statistic (S-X² on sparse data) is an empty field.
        ...(f
          ? [
              f.infit,
              f.outfit,
              f.infitZ,
              f.outfitZ,
              f.sx2 ?? '',
              f.sx2Df ?? '',
              f.sx2P ?? '',
              f.sx2Rmsea ?? '',
            ]
          : []),
      ];
    }),
  );
}

export interface DriftCliOptions {
  before: string;
  after: string;
  out: string;
  q?: string;
  minArea?: string;
  z?: string;
  minAnchors?: string;
  linkingMethod?: string;
}

/** The `irt drift --json` summary. */
export interface DriftSummary {
  linking: ScreenedLinking;
  n_items: number;
  n_q_flagged: number;
  n_flagged: number;
}

/**
 * Reads an items CSV as `calibrate --se` writes it: item_id,a,b[,c] and, when present, se_a, se_b,
 * se_c and cov_ab, cov_ac, cov_bc (the covariance of the parameters that have an SE; a missing
 * covariance is taken as 0).
 */
export function readDriftItems(file: string): DriftItem[] {
  const params = readItems(file);
  const t = readCsv(file, ['item_id', 'a', 'b']);
  const field = (r: string[], name: string, at: string): number | null => {
    const k = t.col[name];
    const text = k === undefined ? '' : r[k].trim();
    return text === '' ? null : num(text, `${at}: ${name}`, 0);
  };
  return t.rows.map((r, i) => {
    const itemId = r[t.col.item_id];
    const at = `${file}: line ${t.lines[i]}`;
    const names = ['a', 'b', 'c'].filter((x) => field(r, `se_${x}`, at) !== null);
    if (names.length === 0) return { itemId, ...params.get(itemId)! };
    const matrix = names.flatMap((x) =>
      names.map((y) => {
        if (x === y) return field(r, `se_${x}`, at)! ** 2;
        const [u, v] = [x, y].sort();
        return field(r, `cov_${u}${v}`, at) ?? 0;
      }),
    );
    return { itemId, ...params.get(itemId)!, cov: { names, matrix } };
  });
}

/** Runs `irt drift`: links `after` onto `before` with robust anchor screening, then tests every common item. */
export function runDrift(o: DriftCliOptions): DriftSummary {
  if (
    o.linkingMethod !== undefined &&
    o.linkingMethod !== 'stocking-lord' &&
    o.linkingMethod !== 'mean-sigma'
  )
    throw new InvalidInputError('--linking must be stocking-lord or mean-sigma');
  const { linking, items } = calibrationDrift(readDriftItems(o.before), readDriftItems(o.after), {
    q: num(o.q, '--q', 0.05),
    minArea: num(o.minArea, '--min-area', 0.02),
    z: num(o.z, '--z', 1.645),
    minAnchors: num(o.minAnchors, '--min-anchors', 5),
    method: o.linkingMethod as 'stocking-lord' | 'mean-sigma' | undefined,
  });
  writeCsv(
    o.out,
    ['item_id', 'da', 'db', 'dc', 'lord_chi2', 'df', 'p', 'q_flag', 'area', 'flag'],
    items.map((d) => [
      d.itemId,
      d.da,
      d.db,
      d.dc,
      d.lordChi2 ?? '',
      d.df,
      d.p ?? '',
      d.qFlag ? 1 : 0,
      d.area,
      d.flag ? 1 : 0,
    ]),
  );
  return {
    linking,
    n_items: items.length,
    n_q_flagged: items.filter((d) => d.qFlag).length,
    n_flagged: items.filter((d) => d.flag).length,
  };
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
  timings: CalibrateSummary['timings'],
): CalibrateSummary {
  return {
    model: cal.model,
    logLik: cal.logLik,
    AIC: cal.AIC,
    BIC: cal.BIC,
    iterations: cal.iterations,
    converged: cal.converged,
    elapsed_ms: Math.round(timings.read_ms + timings.fit_ms + timings.score_ms + timings.write_ms),
    timings,
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
  if (!['eap', 'map', 'ml'].includes(o.method))
    throw new InvalidInputError(`--method must be eap, map or ml`);
  const items = readItems(o.items);
  const responses = readResponsesFile(o.responses);
  const unknown = responses.itemIds.findIndex((id) => !items.has(id));
  if (unknown >= 0) {
    const line = responses.lineOf(responses.item.indexOf(unknown));
    throw new CsvError(
      `${o.responses}: line ${line}: item '${responses.itemIds[unknown]}' not in ${o.items}`,
    );
  }
  const data = fromIndexed(responses, { checkItems: false });
  const params = data.itemIds.map((id) => items.get(id)!);
  const s = scorePersons(data, params, {
    method: o.method as ScoreMethod,
    quadpts: num(o.quadpts, '--quadpts', DEFAULT_GRID.quadpts),
    thetaLim: pair(o.thetaLim, '--theta-lim') ?? DEFAULT_GRID.thetaLim,
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
  /** Share of the items that drift in a second response set (responses_drift.csv). */
  driftFrac?: string;
  /** Shift of the drifting items' b in the second set. */
  driftB?: string;
}

/**
 * Runs `irt simulate`: writes responses.csv, items.csv (true parameters) and abilities.csv (true θ) to
 * a directory; with --drift-frac also a second response set from new persons (seed + 1) in which
 * round(F·J) items, drawn with the seed, have b shifted by --drift-b: responses_drift.csv and
 * items_drift.csv (its true parameters and a `drifted` 0/1 column).
 */
export function runSimulate(o: SimulateCliOptions): { n_obs: number; drifted?: string[] } {
  if (!MODELS.includes(o.model as ModelName))
    throw new InvalidInputError(`--model must be one of ${MODELS.join(', ')}`);
  const base = {
    model: o.model as ModelName,
    nPersons: num(o.n, '--n', 0),
    nItems: num(o.j, '--j', 0),
    perPerson: o.perPerson === undefined ? undefined : num(o.perPerson, '--per-person', 0),
  };
  const seed = num(o.seed, '--seed', 0);
  const sim = simulate({ ...base, seed });
  mkdirSync(o.out, { recursive: true });
  const { itemIds } = sim.responses;
  const write = (s: typeof sim, suffix: string, drifted?: Set<number>) => {
    const { personIds, person, item, correct } = s.responses;
    writeCsv(
      join(o.out, `responses${suffix}.csv`),
      ['user_id', 'item_id', 'correct'],
      Array.from(person, (p, t) => [personIds[p], itemIds[item[t]], correct[t]]),
    );
    writeCsv(
      join(o.out, `items${suffix}.csv`),
      ['item_id', 'a', 'b', 'c', 'd', ...(drifted ? ['drifted'] : [])],
      s.items.map((p, j) => [
        itemIds[j],
        p.a,
        p.b,
        p.c,
        -p.a * p.b,
        ...(drifted ? [drifted.has(j) ? 1 : 0] : []),
      ]),
    );
  };
  write(sim, '');
  writeCsv(
    join(o.out, 'abilities.csv'),
    ['user_id', 'theta'],
    sim.responses.personIds.map((id, i) => [id, sim.theta[i]]),
  );
  if (o.driftFrac === undefined) return { n_obs: sim.responses.person.length };
  const frac = num(o.driftFrac, '--drift-frac', 0);
  if (!(frac >= 0 && frac <= 1)) throw new InvalidInputError('--drift-frac must be in [0, 1]');
  const shift = num(o.driftB, '--drift-b', 0.5);
  // Drifting items: the first round(F·J) of a seeded permutation.
  const rng = new Rng(seed ^ 0x5bd1e995);
  const order = Array.from({ length: base.nItems }, (_, j) => j);
  for (let j = order.length - 1; j > 0; j--) {
    const k = Math.floor(rng.next() * (j + 1));
    [order[j], order[k]] = [order[k], order[j]];
  }
  const drifted = new Set(order.slice(0, Math.round(frac * base.nItems)));
  const moved = sim.items.map((p, j) => (drifted.has(j) ? { ...p, b: p.b + shift } : p));
  const second = simulate({ ...base, seed: seed + 1, items: moved });
  write(second, '_drift', drifted);
  return {
    n_obs: sim.responses.person.length + second.responses.person.length,
    drifted: [...drifted].sort((x, y) => x - y).map((j) => itemIds[j]),
  };
}

/**
 * Runs an action; an error the user can act on becomes one line on stderr and the exit code: 1 when
 * valid data cannot be fitted (NumericalFailure), else 2: the options and the files named on the
 * command line are its arguments.
 */
export function guarded(run: () => void): void {
  try {
    run();
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    console.error(`seedtest: ${e.message}`);
    process.exitCode = e instanceof NumericalFailure ? 1 : 2;
  }
}

/** Adds `irt calibrate`, `irt score`, `irt simulate` and `irt drift` to the program. */
export function registerIrtCommands(program: Command): void {
  const irt = program.command('irt');
  irt
    .command('calibrate')
    .description('calibrate items (Bock–Aitkin EM) and score persons (EAP) from user_id,item_id,correct rows')
    .requiredOption('--responses <file>', 'CSV with user_id,item_id,correct')
    .option('--model <model>', 'Rasch | 1PL | 2PL | 3PL', '2PL')
    .option('--quadpts <n>', `quadrature points (default ${DEFAULT_GRID.quadpts})`)
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
    .option('--se', 'compute item standard errors (se_* and cov_* columns)')
    .option('--fit', 'item fit columns (infit, outfit, S-X²) and model fit / reliability in --json')
    .option('--mirt-compat', "iterate as mirt does (stops at mirt's printed estimates; small banks only)")
    .requiredOption('--items-out <file>', 'item parameters CSV: item_id,a,b,c,d,n[,se_*,cov_*][,fit columns]')
    .requiredOption('--abilities-out <file>', 'abilities CSV: user_id,theta,se')
    .option('--json', 'print a JSON summary on stdout')
    .action((opts: CalibrateCliOptions) => {
      guarded(() => {
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
    .option('--quadpts <n>', `quadrature points (default ${DEFAULT_GRID.quadpts})`)
    .option('--theta-lim <lo,hi>', 'range (default -6,6)')
    .requiredOption('--out <file>', 'abilities CSV: user_id,theta,se')
    .action((opts: ScoreCliOptions) => {
      guarded(() => {
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
    .option(
      '--drift-frac <f>',
      'also write a second set (responses_drift.csv) where this share of items drifts',
    )
    .option('--drift-b <x>', 'shift of the drifting items in b (default 0.5)')
    .action((opts: SimulateCliOptions) => {
      guarded(() => {
        const r = runSimulate(opts);
        process.stdout.write(`simulated ${r.n_obs} responses into ${opts.out}\n`);
      });
    });
  irt
    .command('drift')
    .description('link B onto A over common items (robust anchor screening), then test every item for drift')
    .requiredOption('--before <file>', 'items CSV of the reference calibration (as calibrate --se writes it)')
    .requiredOption('--after <file>', 'items CSV of the new free calibration')
    .requiredOption('--out <file>', 'CSV item_id,da,db,dc,lord_chi2,df,p,q_flag,area,flag')
    .option('--q <q>', 'false discovery rate of the Benjamini–Hochberg flag (default 0.05)')
    .option('--min-area <x>', 'smallest ability-weighted ICC area that is flagged (default 0.02)')
    .option('--z <z>', 'robust z above which an anchor is screened out (default 1.645)')
    .option('--min-anchors <n>', 'refuse to link with fewer anchors left (default 5)')
    .option('--linking-method <m>', 'stocking-lord | mean-sigma (default stocking-lord)')
    .option('--json', 'print linking constants and screened-out anchors as JSON')
    .action((opts: DriftCliOptions & { json?: boolean }) => {
      guarded(() => {
        const r = runDrift(opts);
        if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
        else
          process.stdout.write(
            `linked on ${r.linking.kept.length} anchors (${r.linking.dropped.length} screened out); ${r.n_flagged} of ${r.n_items} items flagged\n`,
          );
      });
    });
}
