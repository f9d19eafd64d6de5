// `seedtest demo --no-serve` on a fresh embedded data directory: loads the synthetic platform, runs
// every job of the registry over its weeks and leaves a report where it says.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { JOBS } from '../../../src/jobs/registry.js';

const main = join(import.meta.dirname, '..', '..', '..', 'src', 'cli', 'main.ts');

test('seedtest demo runs the whole pipeline and says where to look', {
  skip: process.env.SEEDTEST_TEST_DB === 'server' && 'embedded only',
}, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'seedtest-demo-'));
  try {
    const res = spawnSync(
      process.execPath,
      ['--import', 'tsx', main, 'demo', '--learners', '40', '--weeks', '3', '--items', '60', '--no-serve'],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          DATA_DIR: dataDir,
          DATABASE_URL: '',
          LOG_LEVEL: 'warn',
          JWT_SECRET: '',
          REPORT_FORMATS: 'html',
        },
      },
    );
    assert.equal(res.status, 0, res.stderr);
    for (const job of JOBS)
      assert.match(res.stdout, new RegExp(`^${job.name} run \\d+ succeeded`, 'm'), job.name);
    // Three weeks: a calibration and the KPIs at the end of each.
    assert.equal(res.stdout.match(/^mirt-calibrate run/gm)?.length, 3);
    assert.match(res.stdout, /^rows: learner=40 item=60 .*attempt=[1-9]\d* /m);
    assert.match(res.stdout, /^ {2}2 classes of up to 30 learners/m);
    assert.match(res.stdout, /^latest calibration cal-\d{4}-\d{2}-\d{2}: 2PL, logLik -\d+/m);
    const report = /^a report: open (\S+) in a browser/m.exec(res.stdout)?.[1];
    assert.ok(report && existsSync(report), `the report it names exists: ${report}`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a platform too small to calibrate a week: that calibration is skipped with its reason, the rest runs', {
  skip: process.env.SEEDTEST_TEST_DB === 'server' && 'embedded only',
}, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'seedtest-demo-'));
  try {
    // The size of the issue: the first week has fewer than MIRT_MIN_ITEM_RESPONSES answers per item.
    const res = spawnSync(
      process.execPath,
      ['--import', 'tsx', main, 'demo', '--learners', '60', '--weeks', '3', '--no-serve'],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          DATA_DIR: dataDir,
          DATABASE_URL: '',
          LOG_LEVEL: 'warn',
          JWT_SECRET: '',
          REPORT_FORMATS: 'html',
        },
      },
    );
    assert.equal(res.status, 0, res.stderr);
    assert.doesNotMatch(res.stderr, /^\s+at /m, 'no stack trace');
    assert.match(
      res.stdout,
      /^mirt-calibrate \d{4}-\d{2}-\d{2} skipped: calibration failed: no item has enough responses to calibrate$/m,
    );
    assert.match(res.stdout, /^mirt-calibrate run \d+ succeeded/m, 'a later week is calibrated');
    for (const job of ['compute-daily-kpis', 'detect-inactivity', 'generate-weekly-report'])
      assert.match(res.stdout, new RegExp(`^${job} run \\d+ succeeded`, 'm'), job);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
