// `seedtest job list` shows each job's last real run: a dry run wrote nothing, so it is not one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../../../src/config.js';
import { type Database, openEmbedded } from '../../../src/db/connection.js';
import { ensureSchema } from '../../../src/db/migrator.js';
import { findJob } from '../../../src/jobs/registry.js';
import { runJob } from '../../../src/jobs/runner.js';
import { createTestDatabase } from '../../helpers/db.js';

const main = join(import.meta.dirname, '..', '..', '..', 'src', 'cli', 'main.ts');
const onServer = process.env.SEEDTEST_TEST_DB === 'server';
const dataDir = mkdtempSync(join(tmpdir(), 'seedtest-job-list-'));
let database: Database | undefined;
after(async () => {
  await database?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('job list does not count a dry run as the last run', async () => {
  const job = findJob('detect-inactivity');
  const config = loadConfig({});
  let env: NodeJS.ProcessEnv;
  if (onServer) {
    const server = await createTestDatabase();
    database = server;
    env = { ...process.env, DATABASE_URL: server.url };
  } else {
    const embedded = await openEmbedded(dataDir, 'test');
    await ensureSchema(embedded);
    database = embedded;
    env = { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir };
  }
  const dry = await runJob(database.db, job, ['2026-11-20'], config, { dryRun: true });
  assert.equal(dry.status, 'succeeded');
  // The embedded directory admits one process: the command's.
  if (!onServer) {
    await database.close();
    database = undefined;
  }
  const listed = spawnSync(process.execPath, ['--import', 'tsx', main, 'job', 'list'], {
    env,
    encoding: 'utf8',
  });
  assert.equal(listed.status, 0, listed.stderr);
  const lines = listed.stdout.split('\n');
  assert.match(lines[0] ?? '', /^JOB\s+SCHEDULE\s+NEXT RUN \(UTC\)\s+LAST RUN$/, 'a header row first');
  const line = lines.find((l) => l.startsWith(job.name));
  assert.match(line ?? '', /never run$/, listed.stdout);
});
