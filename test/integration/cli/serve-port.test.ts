// `seedtest serve --port --host` listen where they say, over PORT and HOST.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const BIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'seedtest.js');

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

test('serve --port and --host override PORT and HOST', {
  skip: process.env.SEEDTEST_TEST_DB === 'server' && 'embedded only: the same program either way',
}, async () => {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'seedtest-serve-port-'));
  const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--host', '127.0.0.1'], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: '1',
      HOST: '0.0.0.0',
      JWT_SECRET: 'serve-port-test-secret-of-32-chars!!',
      LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  try {
    let status = 0;
    for (let i = 0; i < 600 && status !== 200; i++) {
      status = await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.status,
        () => 0,
      );
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 200, `nothing answered on port ${port}`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
});
