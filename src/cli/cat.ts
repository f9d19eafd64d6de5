// `seedtest cat simulate`: the adaptive-test simulator on an item CSV, no database (docs/cat.md).
import type { Command } from 'commander';
import {
  CatBank,
  CatEngine,
  type CatSettings,
  type CatSimulationSummary,
  calibrateSympsonHetter,
  type Exposure,
  simulateCat,
  type ThetaDistribution,
} from '../cat/index.js';
import { InvalidInputError } from '../user-error.js';
import { CsvError, readCsv, writeCsv } from './csv.js';
import { guarded, num, pair, readItems } from './irt.js';

export interface CatSimulateCliOptions {
  items: string;
  n: string;
  theta?: string;
  maxItems: string;
  se?: string;
  minItems?: string;
  klItems?: string;
  aStrata?: string;
  topics?: string;
  exposure?: string;
  shParams?: string;
  calibrateSh?: string;
  shOut?: string;
  seed?: string;
  out?: string;
  json?: boolean;
}

export interface CatSimulateResult extends CatSimulationSummary {
  sympson_hetter?: { target: number; iterations: number; converged: boolean; max_exposure: number };
}

/** Items CSV `item_id,a,b[,c][,topic_id]` (no topic_id: one topic 'all') as the engine's bank. */
function readBank(file: string): CatBank {
  const params = readItems(file);
  const t = readCsv(file, ['item_id']);
  const topicCol = t.col.topic_id;
  const topicOf = new Map(
    t.rows.map((r) => [r[t.col.item_id], topicCol === undefined ? 'all' : r[topicCol]]),
  );
  return new CatBank(
    [...params].map(([itemId, p]) => ({ itemId, topicId: topicOf.get(itemId)!, params: p })),
  );
}

function readShares(file: string): Map<string, number> {
  const t = readCsv(file, ['topic_id', 'share']);
  return new Map(
    t.rows.map((r, i) => [r[t.col.topic_id], num(r[t.col.share], `${file}: line ${t.lines[i]}: share`, 0)]),
  );
}

/** Sympson–Hetter parameters `item_id,sh_k` in bank order (items not listed: 1). */
function readSh(file: string, bank: CatBank): Float64Array {
  const t = readCsv(file, ['item_id', 'sh_k']);
  const k = new Float64Array(bank.n).fill(1);
  t.rows.forEach((r, i) => {
    const j = bank.indexOf(r[t.col.item_id]);
    if (j === undefined)
      throw new CsvError(`${file}: line ${t.lines[i]}: unknown item_id '${r[t.col.item_id]}'`);
    k[j] = num(r[t.col.sh_k], `${file}: line ${t.lines[i]}: sh_k`, 1);
  });
  return k;
}

function parseTheta(value: string | undefined): ThetaDistribution {
  if (value === undefined || value === 'normal') return { kind: 'normal', mean: 0, sd: 1 };
  const [kind, rest] = value.split(':');
  const p = pair(rest, '--theta');
  if (kind === 'normal' && p && p[1] > 0) return { kind: 'normal', mean: p[0], sd: p[1] };
  if (kind === 'uniform' && p && p[0] < p[1]) return { kind: 'uniform', lo: p[0], hi: p[1] };
  throw new InvalidInputError(`--theta: expected normal, normal:mean,sd or uniform:lo,hi, got '${value}'`);
}

/** Runs `cat simulate`; returns the figures (and writes the steps and Sympson–Hetter files asked for). */
export function runCatSimulate(o: CatSimulateCliOptions): CatSimulateResult {
  const bank = readBank(o.items);
  const nSimulees = num(o.n, '--n', 0);
  const seed = num(o.seed, '--seed', 1);
  const theta = parseTheta(o.theta);
  const settings: Omit<CatSettings, 'exposure'> = {
    maxItems: num(o.maxItems, '--max-items', 30),
    minItems: num(o.minItems, '--min-items', 1),
    seTarget: num(o.se, '--se', 0),
    klItems: num(o.klItems, '--kl-items', 0),
    aStrata: num(o.aStrata, '--a-strata', 0),
    topics: o.topics ? readShares(o.topics) : undefined,
  };
  let exposure: Exposure = { kind: 'none' };
  let sh: CatSimulateResult['sympson_hetter'];
  const calibrate = (target: number) => {
    const c = calibrateSympsonHetter(bank, settings, { target, nSimulees, seed: seed + 1_000_003, theta });
    sh = { target, iterations: c.iterations, converged: c.converged, max_exposure: c.maxExposure };
    return c.k;
  };
  if (o.calibrateSh !== undefined) {
    if (o.exposure !== undefined)
      throw new InvalidInputError('--calibrate-sh and --exposure exclude each other');
    if (o.shOut === undefined) throw new InvalidInputError('--calibrate-sh needs --sh-out FILE');
    const k = calibrate(num(o.calibrateSh, '--calibrate-sh', 0));
    writeCsv(
      o.shOut,
      ['item_id', 'sh_k'],
      bank.itemIds.map((id, j) => [id, k[j]]),
    );
    exposure = { kind: 'sympson-hetter', k };
  } else if (o.exposure !== undefined) {
    const [kind, value] = o.exposure.split(':');
    if (kind === 'randomesque') exposure = { kind, k: num(value, '--exposure randomesque:k', Number.NaN) };
    else if (kind === 'sympson-hetter') {
      const k = o.shParams
        ? readSh(o.shParams, bank)
        : calibrate(num(value, '--exposure sympson-hetter:R', Number.NaN));
      exposure = { kind, k };
    } else
      throw new InvalidInputError(
        `--exposure: expected randomesque:K or sympson-hetter:R, got '${o.exposure}'`,
      );
  }
  const engine = new CatEngine(bank, { ...settings, exposure });
  const steps: (string | number)[][] = [];
  // The validating simulation draws simulees of its own (not those the parameters were fitted on).
  const sim = simulateCat(engine, {
    nSimulees,
    seed,
    theta,
    onStep: o.out
      ? (i, s, x) => steps.push([i + 1, s.position, s.itemId, s.topicId, s.rule, s.theta, s.se, x])
      : undefined,
  });
  if (o.out) {
    writeCsv(o.out, ['simulee', 'position', 'item_id', 'topic_id', 'rule', 'theta', 'se', 'correct'], steps);
  }
  return sh ? { ...sim.summary, sympson_hetter: sh } : sim.summary;
}

/** Adds `cat simulate` to the program. */
export function registerCatCommands(program: Command): void {
  const cat = program.command('cat');
  cat
    .command('simulate')
    .description('simulate adaptive tests of simulees with known θ and print the design figures')
    .requiredOption('--items <file>', 'CSV item_id,a,b[,c][,topic_id]')
    .requiredOption('--n <simulees>', 'number of simulees')
    .option('--theta <dist>', 'normal | normal:mean,sd | uniform:lo,hi (default normal)')
    .option('--max-items <n>', 'maximum test length', '30')
    .option('--se <x>', 'stop when the posterior SD is at most x')
    .option('--min-items <n>', 'no SE stop before n items (default 1)')
    .option('--kl-items <n>', 'choose the first n items by KL information (default 0)')
    .option('--a-strata <n>', 'a-stratified selection with n strata')
    .option('--topics <file>', 'CSV topic_id,share: Kingsbury–Zara content balance')
    .option('--exposure <rule>', 'randomesque:K | sympson-hetter:R')
    .option('--sh-params <file>', 'Sympson–Hetter parameters item_id,sh_k (else calibrated to R first)')
    .option('--calibrate-sh <r>', 'calibrate Sympson–Hetter parameters to maximum exposure r, then simulate')
    .option('--sh-out <file>', 'where --calibrate-sh writes item_id,sh_k')
    .option('--seed <seed>', 'PRNG seed (default 1)')
    .option('--out <file>', 'steps CSV: simulee,position,item_id,topic_id,rule,theta,se,correct')
    .option('--json', 'print the figures as JSON')
    .action((opts: CatSimulateCliOptions) => {
      guarded(() => {
        const r = runCatSimulate(opts);
        if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
        else
          process.stdout.write(
            `${r.n_simulees} simulees: RMSE ${r.rmse.toFixed(3)}, bias ${r.bias.toFixed(3)}, r ${r.correlation.toFixed(3)}, ` +
              `reliability ${r.reliability.toFixed(3)}, length ${r.mean_length.toFixed(1)} ± ${r.sd_length.toFixed(1)}, ` +
              `max exposure ${r.max_exposure.toFixed(3)}, never used ${r.never_used.toFixed(3)}, overlap ${r.mean_overlap.toFixed(3)}\n`,
          );
      });
    });
}
