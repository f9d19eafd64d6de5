// The `seedtest serve` process: --port and --host listen where they say, over PORT and HOST; the
// process re-executes itself once (same PID) with the idle-memory settings (docs/decisions.md →
// "Idle memory"), keeping a user's own.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

const BIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'seedtest.js');
const TRIM = 'glibc.malloc.trim_threshold=131072';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** A served `seedtest serve` on `dataDir`, once /health answers on `port`; `output()` is its stdout so far. */
async function serve(port: number, args: string[], env: Record<string, string | undefined>, dataDir: string) {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      JWT_SECRET: 'serve-port-test-secret-of-32-chars!!',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  };
  let status = 0;
  for (let i = 0; i < 600 && status !== 200; i++) {
    status = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.status,
      () => 0,
    );
    if (status !== 200) await new Promise((r) => setTimeout(r, 100));
  }
  if (status !== 200) await stop();
  assert.equal(status, 200, `nothing answered on port ${port}`);
  return { child, stop, output: () => out };
}

/** The process's command line and environment as the kernel has them (after any re-execution). */
function processOf(child: ChildProcess) {
  const split = (file: string) => readFileSync(`/proc/${child.pid}/${file}`, 'utf8').split('\0');
  const environ = new Map(
    split('environ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  return { argv: split('cmdline'), env: environ };
}

describe('seedtest serve', {
  skip: process.env.SEEDTEST_TEST_DB === 'server' && 'embedded only: the same program either way',
}, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'seedtest-serve-process-'));
  let port: number;
  let server: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    port = await freePort();
    server = await serve(
      port,
      ['--port', String(port), '--host', '127.0.0.1'],
      { PORT: '1', HOST: '0.0.0.0', GLIBC_TUNABLES: undefined, NODE_OPTIONS: undefined },
      dataDir,
    );
  });
  after(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('--port and --host override PORT and HOST', async () => {
    assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
  });

  const linux = { skip: process.platform !== 'linux' && 'reads /proc' };

  test('runs with the idle-memory settings, in the process that was started', linux, () => {
    const { argv, env } = processOf(server.child);
    assert.ok(argv.includes('--max-semi-space-size=4'), argv.join(' '));
    assert.equal(env.get('GLIBC_TUNABLES'), TRIM);
  });

  test('creates the embedded database in a process of its own on the first start only', async () => {
    const creating = /creating the embedded database/;
    assert.match(server.output(), creating);
    await server.stop();
    const again = await serve(port, [], { PORT: String(port), HOST: '127.0.0.1' }, dataDir);
    try {
      assert.doesNotMatch(again.output(), creating);
      assert.match(again.output(), /serving the API/);
    } finally {
      await again.stop();
    }
  });

  test("keeps the user's own memory settings", linux, async () => {
    const own = await freePort();
    const ownDir = mkdtempSync(join(tmpdir(), 'seedtest-serve-process-'));
    const mine = await serve(
      own,
      [],
      {
        PORT: String(own),
        HOST: '127.0.0.1',
        GLIBC_TUNABLES: 'glibc.malloc.arena_max=2',
        NODE_OPTIONS: '--max-semi-space-size=8',
      },
      ownDir,
    );
    try {
      const { argv, env } = processOf(mine.child);
      assert.ok(!argv.some((a) => a.startsWith('--max-semi-space-size')), argv.join(' '));
      assert.equal(env.get('GLIBC_TUNABLES'), 'glibc.malloc.arena_max=2');
      assert.equal(env.get('NODE_OPTIONS'), '--max-semi-space-size=8');
    } finally {
      await mine.stop();
      rmSync(ownDir, { recursive: true, force: true });
    }
  });
});
