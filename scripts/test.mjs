#!/usr/bin/env node
// The test command: every test on the embedded database (PGlite), then the integration tests
// again on a real PostgreSQL server. The server is TEST_DATABASE_URL, else the machine's local
// server at postgres://postgres@127.0.0.1:5432/test; SKIP_SERVER_TESTS=1 skips that second pass.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('--'));

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...testFiles(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out.sort();
}

function run(label, files, env) {
  if (files.length === 0) return 0;
  console.log(`\n=== ${label}: ${files.length} test files ===`);
  const res = spawnSync(
    process.execPath,
    // --no-wasm-tier-up: Node 24's V8 aborted once here ("Check failed: jit_page_->allocations_.erase")
    // while freeing the embedded database's WebAssembly code after tier-up, in a file that opens and
    // closes many instances; Liftoff code is never replaced, so never freed mid-run.
    [
      '--no-wasm-tier-up',
      '--import',
      'tsx',
      '--test',
      '--test-concurrency=2',
      '--test-reporter=spec',
      ...files,
    ],
    { stdio: 'inherit', env: { ...process.env, ...env } },
  );
  return res.status ?? 1;
}

// Tests that start the real program (`bin/seedtest.js`) run dist/: build it first (incremental,
// so an unchanged tree costs a second), never test a stale build.
const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const all = only.length ? only : testFiles('test');
const integration = all.filter((f) => f.includes(`integration`));
let status = run('embedded database (PGlite)', all, { SEEDTEST_TEST_DB: 'embedded' });
if (process.env.SKIP_SERVER_TESTS !== '1') {
  const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const serverStatus = run(`PostgreSQL server (${url.replace(/:[^:@/]*@/, ':***@')})`, integration, {
    SEEDTEST_TEST_DB: 'server',
    TEST_DATABASE_URL: url,
  });
  status ||= serverStatus;
}
process.exit(status);
