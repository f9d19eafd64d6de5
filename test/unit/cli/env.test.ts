import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = join(import.meta.dirname, '..', '..', '..');
const BIN = join(root, 'bin', 'seedtest.js');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const seedtest = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, SEEDTEST_DEV: '1' },
  });

describe('the environment and the command line', () => {
  it('.env.example lists exactly the variables src/config.ts reads', () => {
    const read_ = new Set(
      [...read('src/config.ts').matchAll(/\(\s*env,\s*'([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]!),
    );
    const listed = new Set([...read('.env.example').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!));
    assert.ok(read_.size > 40, `${read_.size} variables found in config.ts`);
    assert.deepEqual(
      [...read_].filter((v) => !listed.has(v)),
      [],
      'read but not in .env.example',
    );
    assert.deepEqual(
      [...listed].filter((v) => !read_.has(v)),
      [],
      'in .env.example but never read',
    );
  });

  it('--version prints the package version; serve and worker --help list their variables with defaults', () => {
    const version = seedtest('--version');
    assert.equal(version.status, 0);
    assert.equal(version.stdout.trim(), JSON.parse(read('package.json')).version);
    const serve = seedtest('serve', '--help');
    assert.equal(serve.status, 0);
    assert.match(serve.stdout, /--port <port>/);
    assert.match(serve.stdout, /--host <host>/);
    assert.match(serve.stdout, /PORT\s+default 8080/);
    assert.match(serve.stdout, /JWT_SECRET\s+unset/);
    assert.match(serve.stdout, /SCHEDULE_<JOB_NAME>\s+unset — overrides one job's schedule/);
    // One column for the defaults, whatever the longest name.
    const columns = serve.stdout
      .split('\n')
      .filter((l) => /^ {2}[A-Z][A-Z0-9_<>]* +(default|unset)/.test(l))
      .map((l) => l.search(/ (default|unset)/));
    assert.ok(columns.length > 40);
    assert.equal(new Set(columns).size, 1, `default columns: ${[...new Set(columns)]}`);
    const worker = seedtest('worker', '--help');
    assert.match(worker.stdout, /WORKER_METRICS_PORT\s+default 9464/);
    assert.doesNotMatch(worker.stdout, /REPORT_FORMATS/);
  });

  it('the help lists every command without loading them; an unknown command exits 2', () => {
    const help = seedtest('--help');
    assert.equal(help.status, 0);
    for (const name of [
      'serve',
      'worker',
      'demo',
      'import',
      'job',
      'report',
      'irt',
      'cat',
      'k8s',
      'migrate',
      'token',
    ]) {
      assert.match(help.stdout, new RegExp(`^  ${name}\\b`, 'm'), name);
    }
    const bogus = seedtest('bogus');
    assert.equal(bogus.status, 2);
    assert.match(bogus.stderr, /unknown command 'bogus'/);
  });
});
