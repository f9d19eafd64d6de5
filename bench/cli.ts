// `npm run bench -- cli [--runs N] [--large-rows N] [--server URL]`: the program as a user starts it, in fresh
// processes of the built `bin/seedtest.js` run from another directory: `seedtest --help`, `irt
// calibrate` on the 600k sparse case from CSV (with its read/fit/score/write split), the response
// reader's rate on a large CSV, and the resident memory of an idle `seedtest serve` on the embedded
// database and on a scratch PostgreSQL database (--server, default the local one; skipped if unreachable).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arg, BENCH_SECRET, freePort, median, withScratchDatabase } from './support.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'seedtest.js');

function wallMs(args: string[], cwd: string): { ms: number; stdout: string } {
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 26 });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

function simulate(dir: string, n: number, j: number, perPerson: number, cwd: string): string {
  wallMs(
    [
      BIN,
      'irt',
      'simulate',
      '--n',
      String(n),
      '--j',
      String(j),
      '--per-person',
      String(perPerson),
      '--seed',
      '7',
      '--out',
      dir,
    ],
    cwd,
  );
  return join(dir, 'responses.csv');
}

interface CalibrateJson {
  n_obs: number;
  iterations: number;
  timings: { read_ms: number; fit_ms: number; score_ms: number; write_ms: number };
}

function calibrate(responses: string, out: string, cwd: string): { ms: number; json: CalibrateJson } {
  const { ms, stdout } = wallMs(
    [
      BIN,
      'irt',
      'calibrate',
      '--responses',
      responses,
      '--model',
      '2PL',
      '--items-out',
      join(out, 'i.csv'),
      '--abilities-out',
      join(out, 't.csv'),
      '--json',
    ],
    cwd,
  );
  return { ms, json: JSON.parse(stdout) as CalibrateJson };
}

/** RSS in MB of `seedtest serve` 3 s and 12 s after /ready (V8's memory reducer runs ~8 s after start-up). */
interface ServeRss {
  early: number;
  settled: number;
}

/** RSS of `seedtest serve` (the built program) once it answers /ready; `env` picks the database. */
async function serveRssMb(cwd: string, env: Record<string, string>): Promise<ServeRss> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [BIN, 'serve'], {
    cwd,
    env: {
      ...process.env,
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      JWT_SECRET: BENCH_SECRET,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const until = Date.now() + 60_000;
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${port}/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > until) throw new Error('seedtest serve did not become ready within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const rssAfter = async (ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
    };
    const early = await rssAfter(3000);
    return { early, settled: await rssAfter(9000) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

/** Idle RSS of a server on an existing data directory (the first start also runs initdb and migrations). */
async function idleEmbeddedRssMb(cwd: string): Promise<{ first: ServeRss; idle: ServeRss }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'seedtest-bench-serve-'));
  try {
    const first = await serveRssMb(cwd, { DATA_DIR: dataDir });
    return { first, idle: await serveRssMb(cwd, { DATA_DIR: dataDir }) };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function benchCli(args: string[]): Promise<void> {
  const runs = Number(arg(args, '--runs', '5'));
  const largeRows = Number(arg(args, '--large-rows', '4000000'));
  const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
  // Another directory than the checkout: nothing may depend on the current directory.
  const cwd = mkdtempSync(join(tmpdir(), 'seedtest-bench-cli-'));
  try {
    const bare = median(Array.from({ length: runs }, () => wallMs(['-e', '0'], cwd).ms));
    const help = median(Array.from({ length: runs }, () => wallMs([BIN, '--help'], cwd).ms));
    console.log(
      `seedtest --help            median ${help.toFixed(0)} ms (bare node -e 0: ${bare.toFixed(0)} ms; target <= 300 ms)`,
    );

    const sparse = simulate(join(cwd, 'sparse'), 20_000, 200, 30, cwd);
    const fits = Array.from({ length: Math.max(3, Math.ceil(runs / 2)) }, () => calibrate(sparse, cwd, cwd));
    const t = fits.map((f) => f.json.timings);
    console.log(
      `irt calibrate 600k CSV     median ${median(fits.map((f) => f.ms)).toFixed(0)} ms wall, fresh process (target <= 1000 ms); ` +
        `read ${median(t.map((x) => x.read_ms)).toFixed(0)} / fit ${median(t.map((x) => x.fit_ms)).toFixed(0)} / ` +
        `score ${median(t.map((x) => x.score_ms)).toFixed(0)} / write ${median(t.map((x) => x.write_ms)).toFixed(0)} ms`,
    );

    const perPerson = 30;
    const large = simulate(join(cwd, 'large'), Math.ceil(largeRows / perPerson), 200, perPerson, cwd);
    const big = Array.from({ length: 3 }, () => calibrate(large, cwd, cwd).json);
    const readMs = median(big.map((b) => b.timings.read_ms));
    const fitMs = median(big.map((b) => b.timings.fit_ms));
    console.log(
      `read ${(big[0]!.n_obs / 1e6).toFixed(1)}M-row CSV     median ${readMs.toFixed(0)} ms = ${(big[0]!.n_obs / readMs / 1000).toFixed(2)} M rows/s ` +
        `(target >= 5); fit ${fitMs.toFixed(0)} ms (read/fit ${(readMs / fitMs).toFixed(2)}, target <= 1)`,
    );

    const both = (r: ServeRss) =>
      `${r.early.toFixed(0)} MB 3 s after /ready, ${r.settled.toFixed(0)} MB at 12 s`;
    const rss = await idleEmbeddedRssMb(cwd);
    console.log(
      `idle seedtest serve RSS    ${both(rss.idle)} on an existing embedded database (target <= 200 MB); ` +
        `${both(rss.first)} on the first start (initdb, migrations)`,
    );
    // The same server on PostgreSQL (production's setup): the database's memory is not in the process.
    const server = arg(args, '--server', 'postgres://postgres@127.0.0.1:5432/test');
    try {
      const pgRss = await withScratchDatabase(server, 'cli', (_db, url) =>
        serveRssMb(cwd, { DATABASE_URL: url, ENABLE_SCHEDULER: 'true' }),
      );
      console.log(`idle seedtest serve RSS    ${both(pgRss)} on PostgreSQL, scheduler on (target <= 200 MB)`);
    } catch (err) {
      console.log(`idle seedtest serve RSS    on PostgreSQL skipped: ${(err as Error).message}`);
    }
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}
