// A job that does not split over learners refuses `--shard` and an Indexed Job, saying why, before
// it touches a database.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const main = join(import.meta.dirname, '..', '..', '..', 'src', 'cli', 'main.ts');
const seedtest = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', main, ...args], {
    // Nowhere to write: a command that got as far as a database would fail differently.
    env: { ...process.env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', LOG_LEVEL: 'silent' },
    encoding: 'utf8',
  });

test('mirt-calibrate refuses --shard and an Indexed Job, with the reason and no stack trace', () => {
  for (const args of [
    ['job', 'run', 'mirt-calibrate', '--shard', '0/2'],
    ['k8s', 'indexed-job', 'mirt-calibrate', '--shards', '2'],
  ]) {
    const r = seedtest(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /mirt-calibrate cannot be sharded: it is one fit of all the responses/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});
