// A run whose process was killed (no outcome recorded) must not stay `running` forever: on
// PostgreSQL nobody holds its liveness lock, on the embedded database the next open finds it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.js';
import { findJob } from '../../src/jobs/registry.js';
import { failLostRuns, runJob } from '../../src/jobs/runner.js';
import { LOST_RUN_ERROR } from '../../src/jobs/runs.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { gatedJob } from '../helpers/gated-job.js';

const onServer = process.env.SEEDTEST_TEST_DB === 'server';
const KILLED_RUN = fileURLToPath(new URL('../helpers/killed-run.ts', import.meta.url));
const config = loadConfig({});
const job = findJob('detect-inactivity');

// Only the PostgreSQL test uses a database in this process (the embedded one runs in children).
let database: TestDatabase;
before(async () => {
  if (onServer) database = await createTestDatabase();
});
after(async () => {
  await database?.close();
});

/** A job_run row as a process that was then SIGKILLed leaves it. */
async function leftRunning(): Promise<string> {
  const row = await database.db
    .insertInto('job_run')
    .values({ job: job.name, params: '{}', status: 'running', stats: '{}' })
    .returning('run_id')
    .executeTakeFirstOrThrow();
  return row.run_id;
}

const runRow = (runId: string) =>
  database.db.selectFrom('job_run').selectAll().where('run_id', '=', runId).executeTakeFirstOrThrow();

test('PostgreSQL: a run nobody is running any more is failed as lost; a live one is left alone', {
  skip: !onServer && 'the embedded database fails left-over runs when it is opened (next test)',
}, async () => {
  const killed = await leftRunning();
  const slow = gatedJob(job);
  const live = runJob(database.db, slow.job, ['2026-11-25'], config);
  await slow.inside;
  // The live run started by failing the killed one; sweeping again changes nothing.
  assert.equal(await failLostRuns(database.db), 0);
  const failed = await runRow(killed);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error, LOST_RUN_ERROR);
  assert.ok(failed.finished_at instanceof Date);
  const running = await database.db
    .selectFrom('job_run')
    .selectAll()
    .where('status', '=', 'running')
    .execute();
  assert.equal(running.length, 1, 'the live run is still running');
  slow.release();
  const outcome = await live;
  assert.equal(outcome.status, 'succeeded');
  assert.equal((await runRow(outcome.runId)).status, 'succeeded');
  // Another left-over row is found by the sweep itself (job list and the scheduler tick call it too).
  const killedAgain = await leftRunning();
  assert.equal(await failLostRuns(database.db), 1);
  assert.equal((await runRow(killedAgain)).error, LOST_RUN_ERROR);
});

test('embedded: opening the data directory fails the runs a killed process left running', {
  skip: onServer && 'PostgreSQL recognises lost runs by their liveness lock (previous test)',
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'seedtest-lost-'));
  const child = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', KILLED_RUN, ...args], { encoding: 'utf8' });
  try {
    const killed = child('kill', dir);
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    const runId = killed.stdout.trim();
    assert.match(runId, /^[0-9]+$/);
    const reopened = child('reopen', dir, runId);
    assert.equal(reopened.status, 0, reopened.stderr);
    const { row, swept } = JSON.parse(reopened.stdout) as {
      row: { status: string; error: string };
      swept: number;
    };
    assert.equal(row.status, 'failed');
    assert.equal(row.error, LOST_RUN_ERROR);
    // Within the process that owns the directory a running row is live: the sweep leaves it.
    assert.equal(swept, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
