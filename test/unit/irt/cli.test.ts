import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCalibrate, runScore } from '../../../src/cli/irt.js';
import { lsat7Rows } from './helpers.js';

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
    assert.deepEqual(it[0], ['item_id', 'a', 'b', 'c', 'd', 'n', 'se_a', 'se_b', 'se_c', 'se_d']);
    assert.equal(it.length, 6);
    assert.ok(Math.abs(Number(it[3][1]) - 1.706) < 2e-3);
    assert.equal(it[1][8], ''); // no c in the 2PL: empty, not 0
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
