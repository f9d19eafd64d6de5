// Exit codes of `seedtest`: 2 for an invalid command line (an unknown option, a bad option value, a
// file argument it cannot use), 1 for a runtime failure (a database that does not answer), each with
// one line and no stack trace.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const main = join(import.meta.dirname, '..', '..', '..', 'src', 'cli', 'main.ts');
const dataDir = mkdtempSync(join(tmpdir(), 'seedtest-exit-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

async function seedtest(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
    env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', JWT_SECRET: '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const [code] = await once(child, 'exit');
  return { code, stderr };
}

test('a far-future backfill is refused at once with exit 2, naming the limit', async () => {
  const r = await seedtest(['job', 'run', 'detect-inactivity', '--from', '2026-11-01', '--to', '9999-12-31']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /^seedtest: a backfill covers at most 3660 days; 2026-11-01\.\.9999-12-31 spans \d+ days\n$/,
  );
});

test('an unknown option exits 2', async () => {
  const r = await seedtest(['job', 'run', 'detect-inactivity', '--frm', '2026-11-01']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /unknown option '--frm'/);
});

test('an unknown option exits 2 with a hint, not the whole help', async () => {
  const r = await seedtest(['serve', '--bogus']);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, "error: unknown option '--bogus'\n(add --help for the options)\n");
});

test('a bad option value exits 2 naming the option', async () => {
  for (const [args, message] of [
    [['serve', '--port', 'abc'], '--port must be an integer, got "abc"'],
    [
      ['job', 'run', 'compute-daily-kpis', '--week', '12-01-2026'],
      '--week must be a date YYYY-MM-DD, got "12-01-2026"',
    ],
    [
      ['job', 'run', 'compute-daily-kpis', '--from', '2026-11-02', '--to', 'xyz'],
      '--to must be a date YYYY-MM-DD, got "xyz"',
    ],
    [
      [
        'irt',
        'calibrate',
        '--responses',
        'r.csv',
        '--items-out',
        'i.csv',
        '--abilities-out',
        'a.csv',
        '--tol',
        'tiny',
      ],
      "--tol: not a number: 'tiny'",
    ],
  ] as const) {
    const r = await seedtest([...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, `seedtest: ${message}\n`);
  }
});

test('a file named on the command line that cannot be used exits 2 with one line', async () => {
  const missing = join(dataDir, 'missing.csv');
  const r = await seedtest([
    'irt',
    'calibrate',
    '--responses',
    missing,
    '--items-out',
    'i.csv',
    '--abilities-out',
    'a.csv',
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^seedtest: \S+missing\.csv: cannot read \(ENOENT[^\n]*\n$/);
});

test('a runtime failure exits 1 with one line', async () => {
  const r = await seedtest(['token', '--sub', 'someone']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^seedtest: seedtest token needs JWT_SECRET/);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
});

test('a database that does not answer: exit 1, one line naming the address', async () => {
  const r = await seedtest(['migrate'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^seedtest: the database is unavailable: connect ECONNREFUSED 127\.0\.0\.1:1\n$/);
});
