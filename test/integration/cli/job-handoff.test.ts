// On the embedded database, `seedtest job run` while `seedtest serve` holds the data directory
// hands the run to the server instead of opening the directory a second time.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readDataDirLock } from '../../../src/db/connection.js';

const main = join(import.meta.dirname, '..', '..', '..', 'src', 'cli', 'main.ts');
const onServer = process.env.SEEDTEST_TEST_DB === 'server';

function seedtest(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', main, ...args], { env, stdio: 'pipe' });
}

async function finished(child: ChildProcess): Promise<{ code: number | null; out: string; err: string }> {
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, out, err };
}

describe('a CLI job while seedtest serve owns the embedded database', {
  skip: onServer && 'embedded only',
}, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'seedtest-handoff-'));
  const env = {
    ...process.env,
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_SECRET: 'handoff-test-secret-at-least-32-characters',
    LOG_LEVEL: 'warn',
    ENABLE_SCHEDULER: 'false',
    ENABLE_IRT_ONLINE_UPDATE: 'false',
    DATABASE_URL: '',
  };
  let server: ChildProcess;
  before(async () => {
    server = seedtest(['serve'], env);
    for (let i = 0; i < 600 && !readDataDirLock(dataDir)?.port; i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.ok(readDataDirLock(dataDir)?.port, 'the server announced its port');
  });
  after(async () => {
    server.kill('SIGTERM');
    await once(server, 'exit');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('hands the run to the server, follows it to the end and exits 0', async () => {
    const run = await finished(
      seedtest(['job', 'run', 'aggregate-features-daily', '--date', '2026-11-20'], env),
    );
    assert.equal(run.code, 0, run.err);
    assert.match(run.err, /held by seedtest serve \(pid \d+\): run \d+ handed to it/);
    assert.match(run.out, /aggregate-features-daily run \d+ succeeded/);
  });

  it('without a key to mint an admin token it refuses, naming the holder and what to do', async () => {
    const run = await finished(
      seedtest(['job', 'run', 'mirt-calibrate'], { ...env, JWT_SECRET: '', AUTH_DISABLED: 'true' }),
    );
    assert.notEqual(run.code, 0);
    assert.match(run.err, /in use by process \d+ .*POST \/api\/seedtest\/jobs\/\{name\}\/run/s);
  });

  it('a server that signs with another secret (the demo) refuses the hand-off: one line saying how', async () => {
    const run = await finished(
      seedtest(['job', 'run', 'aggregate-features-daily', '--date', '2026-11-20'], {
        ...env,
        JWT_SECRET: 'another-secret-than-the-servers-32-characters',
      }),
    );
    assert.equal(run.code, 1, run.err);
    assert.equal(run.err.trim().split('\n').length, 1, run.err);
    assert.match(
      run.err,
      /does not accept tokens signed with this JWT_SECRET.*start it with the same JWT_SECRET/,
    );
  });
});
