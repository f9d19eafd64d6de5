// The real program: `seedtest import --format cohorts` on an embedded data directory (all or
// nothing, errors naming the file and line, exit 1), and `seedtest token --cohorts --link`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';

const main = join(import.meta.dirname, '..', '..', '..', 'src', 'cli', 'main.ts');
const SECRET = 'cli-test-secret-that-is-at-least-32-characters';

describe('seedtest import --format cohorts and token --link', {
  skip: process.env.SEEDTEST_TEST_DB === 'server' && 'embedded only',
}, () => {
  let dir: string;
  const seedtest = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', main, ...args], {
      encoding: 'utf8',
      env: {
        ...process.env,
        DATA_DIR: dir,
        DATABASE_URL: '',
        LOG_LEVEL: 'warn',
        JWT_SECRET: SECRET,
        PORT: '8123',
      },
    });
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'seedtest-cohorts-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('imports a roster, and refuses a bad one whole, naming the file and line', () => {
    const good = join(dir, 'roster.csv');
    writeFileSync(good, 'cohort_id,cohort_name,user_id\nc1,Class 1,u1\nc1,Class 1,u2\nc2,Class 2,u3\n');
    const ok = seedtest('import', good, '--format', 'cohorts');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /imported .*roster\.csv: 2 cohorts with 3 members, 3 new learners/);
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'cohort_id,cohort_name,user_id\nc3,Class 3,u4\nc3,,u5\n');
    const refused = seedtest('import', bad, '--format', 'cohorts');
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /^seedtest: .*bad\.csv: line 3: cohort_name must be 1 to 200 characters$/m);
    // Nothing of the bad file was written: importing the good one again finds no new learner.
    const again = seedtest('import', good, '--format', 'cohorts');
    assert.match(again.stdout, /2 cohorts with 3 members, 0 new learners/);
  });

  it('prints a dashboard link whose token carries the cohorts claim', () => {
    const res = seedtest('token', '--sub', 't1', '--scope', 'cohort:view', '--cohorts', 'c1, c2', '--link');
    assert.equal(res.status, 0, res.stderr);
    const m = /^http:\/\/127\.0\.0\.1:8123\/dashboard\/#token=(\S+)$/.exec(res.stdout.trim());
    assert.ok(m, res.stdout);
    const claims = decodeJwt(m[1]!);
    assert.deepEqual([claims.sub, claims.scope, claims.cohorts], ['t1', 'cohort:view', ['c1', 'c2']]);
  });
});
