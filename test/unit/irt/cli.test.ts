import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCalibrate, runDrift, runScore, runSimulate } from '../../../src/cli/irt.js';
import { lsat7Rows, mirtFitReference } from './helpers.js';

const runner = fileURLToPath(new URL('./cli-runner.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'irt-cli-'));

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', runner, 'irt', ...args], { encoding: 'utf8' });
}

function csv(file: string): string[][] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(','));
}

const lsatCsv = join(dir, 'lsat7.csv');
writeFileSync(
  lsatCsv,
  `user_id,item_id,correct\n${lsat7Rows()
    .flatMap((row, i) => row.map((x, j) => `u${i + 1},Item.${j + 1},${x}`))
    .join('\n')}\n`,
);

describe('irt CLI', () => {
  test('calibrate --mirt-compat: 28 cycles, mirt 1.45+ estimates (a1 0.9879254, d3 1.804219)', () => {
    const items = join(dir, 'items-compat.csv');
    const s = runCalibrate({
      responses: lsatCsv,
      model: '2PL',
      mirtCompat: true,
      itemsOut: items,
      abilitiesOut: join(dir, 'abilities-compat.csv'),
    });
    assert.equal(s.iterations, 28);
    const rows = csv(items);
    const col = (name: string) => rows[0].indexOf(name);
    assert.equal(Number(rows[1][col('a')]).toFixed(7), '0.9879254');
    assert.equal(Number(rows[3][col('d')]).toFixed(6), '1.804219');
  });

  test('calibrate LSAT7 2PL: files written, --json summary', () => {
    const items = join(dir, 'items.csv');
    const abilities = join(dir, 'abilities.csv');
    const r = cli(
      'calibrate',
      '--responses',
      lsatCsv,
      '--model',
      '2PL',
      '--theta-lim',
      '-6,6',
      '--se',
      '--items-out',
      items,
      '--abilities-out',
      abilities,
      '--json',
    );
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.logLik.toFixed(3), '-2658.805');
    assert.equal(s.converged, true);
    assert.deepEqual([s.n_persons, s.n_items, s.n_obs], [1000, 5, 5000]);
    for (const k of ['AIC', 'BIC', 'iterations', 'elapsed_ms']) assert.equal(typeof s[k], 'number');
    assert.deepEqual(s.excluded.items, []);
    const it = csv(items);
    assert.deepEqual(it[0], [
      'item_id',
      'a',
      'b',
      'c',
      'd',
      'n',
      'se_a',
      'se_b',
      'se_c',
      'se_d',
      'cov_ab',
      'cov_ac',
      'cov_bc',
    ]);
    assert.equal(it.length, 6);
    assert.ok(Math.abs(Number(it[3][1]) - 1.706) < 2e-3);
    assert.equal(it[1][8], ''); // no c in the 2PL: empty, not 0
    assert.equal(it[1][11], '');
    assert.ok(Number.isFinite(Number(it[1][10])) && it[1][10] !== '');
    const ab = csv(abilities);
    assert.deepEqual(ab[0], ['user_id', 'theta', 'se']);
    assert.equal(ab.length, 1001);
  });

  test('score with the calibrated items; simulate then calibrate sparse 3PL with anchors', () => {
    const items = join(dir, 'items.csv');
    const out = join(dir, 'scores.csv');
    runScore({ items, responses: lsatCsv, method: 'map', out });
    assert.equal(csv(out).length, 1001);
    const sim = join(dir, 'sim');
    const r = cli(
      'simulate',
      '--model',
      '3PL',
      '--n',
      '400',
      '--j',
      '30',
      '--per-person',
      '15',
      '--seed',
      '3',
      '--out',
      sim,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(csv(join(sim, 'responses.csv')).length, 400 * 15 + 1);
    const s = runCalibrate({
      responses: join(sim, 'responses.csv'),
      model: '3PL',
      cPrior: '5,17',
      anchors: join(sim, 'items.csv'),
      linking: 'fixed',
      itemsOut: join(dir, 'i3.csv'),
      abilitiesOut: join(dir, 't3.csv'),
    });
    assert.equal(s.linking.method, 'fixed');
    assert.equal(s.linking.nAnchors, 30);
    assert.equal(s.n_obs, 6000);
  });

  test('calibrate --fit: fit columns in the items CSV, model fit and reliability in --json (mirt ±1 %)', () => {
    const items = join(dir, 'items-fit.csv');
    const r = cli(
      'calibrate',
      '--responses',
      lsatCsv,
      '--model',
      '2PL',
      '--fit',
      '--items-out',
      items,
      '--abilities-out',
      join(dir, 'abilities-fit.csv'),
      '--json',
    );
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    const ref = mirtFitReference('LSAT7', '2PL');
    for (const [k, v] of Object.entries(ref.model))
      assert.ok(Math.abs(s.fit[k] - v) <= 0.01 * Math.abs(v) + 1e-12, k);
    assert.deepEqual(s.fit_notes, []);
    const rows = csv(items);
    assert.deepEqual(rows[0].slice(6), [
      'infit',
      'outfit',
      'infit_z',
      'outfit_z',
      'sx2',
      'sx2_df',
      'sx2_p',
      'sx2_rmsea',
    ]);
    rows.slice(1).forEach((row, j) => {
      assert.ok(
        Math.abs(Number(row[10]) - ref.itemStats[j].S_X2) <= 0.01 * ref.itemStats[j].S_X2,
        `S-X² ${j + 1}`,
      );
      assert.equal(Number(row[11]), ref.itemStats[j]['df.S_X2']);
    });
  });

  test('simulate --drift-frac, calibrate --se --fit (sparse: S-X² empty, M2 null), drift finds the drifted items', () => {
    const sim = join(dir, 'drift-sim');
    const s = runSimulate({
      model: '2PL',
      n: '2000',
      j: '30',
      seed: '9',
      out: sim,
      driftFrac: '0.1',
      driftB: '0.6',
    });
    assert.equal(s.drifted!.length, 3);
    const truth = csv(join(sim, 'items_drift.csv'));
    assert.equal(truth[0].at(-1), 'drifted');
    assert.equal(truth.slice(1).filter((r) => r.at(-1) === '1').length, 3);
    const cal = (responses: string, out: string) =>
      runCalibrate({
        responses,
        model: '2PL',
        se: true,
        itemsOut: out,
        abilitiesOut: join(dir, 'ab-drift.csv'),
      });
    cal(join(sim, 'responses.csv'), join(dir, 'A.csv'));
    cal(join(sim, 'responses_drift.csv'), join(dir, 'B.csv'));
    const r = cli(
      'drift',
      '--before',
      join(dir, 'A.csv'),
      '--after',
      join(dir, 'B.csv'),
      '--out',
      join(dir, 'D.csv'),
      '--json',
    );
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    for (const k of ['A', 'B']) assert.equal(typeof j.linking[k], 'number');
    for (const id of s.drifted!)
      assert.ok(
        j.linking.dropped.some((d: { itemId: string }) => d.itemId === id),
        id,
      );
    const d = csv(join(dir, 'D.csv'));
    assert.deepEqual(d[0], ['item_id', 'da', 'db', 'dc', 'lord_chi2', 'df', 'p', 'q_flag', 'area', 'flag']);
    const flagged = d
      .slice(1)
      .filter((row) => row[9] === '1')
      .map((row) => row[0]);
    for (const id of s.drifted!) assert.ok(flagged.includes(id), `${id} not flagged`);
    assert.ok(flagged.length <= s.drifted!.length + 1, `${flagged}`);
    // Sparse data: S-X² and M2 undefined, said so.
    const sparse = join(dir, 'sparse-sim');
    runSimulate({ model: '2PL', n: '400', j: '20', perPerson: '8', seed: '5', out: sparse });
    const f = runCalibrate({
      responses: join(sparse, 'responses.csv'),
      model: '2PL',
      fit: true,
      itemsOut: join(dir, 'sp.csv'),
      abilitiesOut: join(dir, 'sp-ab.csv'),
    });
    assert.equal(f.fit!.M2, null);
    assert.ok(f.fit!.marginal_rxx > 0);
    assert.match(f.fit_notes!.join(' '), /complete data/);
    assert.equal(csv(join(dir, 'sp.csv'))[1][10], '');
    // Too few anchors left: refused, exit 1.
    assert.throws(
      () =>
        runDrift({
          before: join(dir, 'A.csv'),
          after: join(dir, 'B.csv'),
          out: join(dir, 'D2.csv'),
          minAnchors: '29',
        }),
      /linking refused/,
    );
    const bad = cli(
      'drift',
      '--before',
      join(dir, 'A.csv'),
      '--after',
      join(dir, 'B.csv'),
      '--out',
      join(dir, 'D3.csv'),
      '--min-anchors',
      '29',
    );
    // Too few anchors for the linking asked for: the command's arguments, not a failure of the fit.
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^seedtest: linking refused/);
  });

  test('bad input exits non-zero naming the line', () => {
    const cases: [string, RegExp][] = [
      ['user_id,item_id,correct\nu1,i1,1\nu1,i2,2\n', /line 3: correct must be 0 or 1, got '2'/],
      ['user_id,item_id,correct\nu1,i1,1\nu2,i1,\n', /line 3: correct must be 0 or 1, got ''/],
      ['user_id,item,correct\nu1,i1,1\n', /line 1: missing column\(s\) item_id/],
      ['', /empty file/],
      ['user_id,item_id,correct\nu1,i1\n', /line 2: 2 fields, the header has 3/],
    ];
    cases.forEach(([text, msg], k) => {
      const f = join(dir, `bad${k}.csv`);
      writeFileSync(f, text);
      const r = cli(
        'calibrate',
        '--responses',
        f,
        '--items-out',
        join(dir, 'x.csv'),
        '--abilities-out',
        join(dir, 'y.csv'),
      );
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, msg);
    });
  });
});
