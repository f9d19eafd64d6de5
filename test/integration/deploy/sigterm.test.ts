// SIGTERM, as Kubernetes sends it to a pod being stopped, to the real program (`node bin/seedtest.js`,
// the image's entry point): `seedtest serve` stops taking connections, lets the request in flight
// finish and exits 0; `seedtest job run` stops between units of work, records its run as failed,
// releases its locks and exits non-zero. Both well within the grace periods of deploy/k8s/.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import pg from 'pg';
import { mintToken } from '../../../src/api/tokens.js';
import { type Database, openEmbedded } from '../../../src/db/connection.js';
import { API_NAME, generateManifests, type K8sObject } from '../../../src/deploy/k8s.js';
import { JOBS } from '../../../src/jobs/registry.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

const BIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'seedtest.js');
const SECRET = 'sigterm-test-secret-of-at-least-32-characters';
const JOB = 'aggregate-features-daily';

const manifests: K8sObject[] = generateManifests({ image: 'seedtest-analytics:test', jobs: JOBS }).flatMap(
  (f) => f.objects,
);
const apiGraceMs =
  (manifests.find((o): o is IDeployment => o.kind === 'Deployment' && o.metadata?.name === API_NAME)!.spec!
    .template.spec!.terminationGracePeriodSeconds ?? 30) * 1000;
const jobGraceMs =
  (manifests.find((o): o is ICronJob => o.kind === 'CronJob' && o.metadata?.name === JOB)!.spec!.jobTemplate
    .spec!.template.spec!.terminationGracePeriodSeconds ?? 30) * 1000;

interface Child {
  process: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

function seedtest(args: string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
    at: Date.now(),
  }));
  return { process: child, out: () => out, err: () => err, exited };
}

async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms = 120_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The port `seedtest serve` announces once it listens (it fails the test if serve exits first). */
function listeningPort(serve: Child): Promise<number> {
  return waitFor('the server to listen', () => {
    const m = /"address":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(serve.out());
    if (serve.process.exitCode !== null) throw new Error(`serve exited: ${serve.err()}`);
    return m ? Number(m[1]) : undefined;
  });
}

/** A fresh database for the child: a temporary DATA_DIR (embedded), or a new server database. */
async function target(): Promise<{
  env: NodeJS.ProcessEnv;
  open(): Promise<Database>;
  dispose(): Promise<void>;
  dataDir: string;
}> {
  const dataDir = mkdtempSync(join(tmpdir(), 'seedtest-sigterm-'));
  let server: TestDatabase | undefined;
  if (process.env.SEEDTEST_TEST_DB === 'server') server = await createTestDatabase();
  return {
    dataDir,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      DATABASE_URL: server?.url ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      JWT_SECRET: SECRET,
      JWT_ISS: '',
      JWT_AUD: '',
      LOG_LEVEL: 'info',
      ENABLE_SCHEDULER: 'false',
      PUSHGATEWAY_URL: '',
    },
    open: async () => server ?? openEmbedded(dataDir, 'test'),
    async dispose() {
      await server?.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describe('SIGTERM to seedtest serve during a slow request', () => {
  let t: Awaited<ReturnType<typeof target>>;
  let serve: Child;
  let port: number;
  before(async () => {
    t = await target();
    serve = seedtest(['serve'], t.env);
    port = await listeningPort(serve);
  });
  after(async () => {
    if (serve.process.exitCode === null) serve.process.kill('SIGKILL');
    await t.dispose();
  });

  it('completes the request in flight, refuses new connections, exits 0 within the grace period', async () => {
    const token = await mintToken({ secret: SECRET, sub: 'sigterm-learner', scope: 'exam:write', ttl: '5m' });
    const body = JSON.stringify({ session_id: 'sigterm-session', exam_id: 'weekly-math' });
    // A keep-alive client, as a proxy in front of the API would be.
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/seedtest/sessions',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        connection: 'keep-alive',
      },
    });
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
    });
    // Half the body now: the request is in flight (Fastify waits for the rest before the handler).
    req.write(body.slice(0, 20));
    await sleep(300);
    const sentAt = Date.now();
    serve.process.kill('SIGTERM');
    await waitFor('the shutdown to start', () => (/shutting down/.test(serve.out()) ? true : undefined));
    // No new connections while shutting down.
    await assert.rejects(fetch(`http://127.0.0.1:${port}/health`), 'a new connection is refused');
    await sleep(500);
    req.end(body.slice(20));
    const res = await response;
    assert.equal(res.status, 201, res.text);
    assert.equal(JSON.parse(res.text).session_id, 'sigterm-session');

    const exit = await serve.exited;
    assert.equal(exit.code, 0, `exit ${exit.code}/${exit.signal}: ${serve.err()}`);
    assert.ok(exit.at - sentAt < apiGraceMs, `exited after ${exit.at - sentAt} ms (grace ${apiGraceMs} ms)`);
    assert.ok(!existsSync(join(t.dataDir, 'db.lock')), 'the embedded data directory is released');

    const database = await t.open();
    try {
      const row = await database.db
        .selectFrom('exam_session')
        .select(['session_id', 'user_id'])
        .where('session_id', '=', 'sigterm-session')
        .executeTakeFirst();
      assert.deepEqual(row, { session_id: 'sigterm-session', user_id: 'sigterm-learner' });
    } finally {
      if (database.kind === 'embedded') await database.close();
    }
  });
});

describe('SIGTERM to seedtest job run during a backfill', () => {
  let t: Awaited<ReturnType<typeof target>>;
  before(async () => {
    t = await target();
  });
  after(() => t.dispose());

  it('stops between days, records the run as failed, releases its locks and exits non-zero', async () => {
    // 3652 days (near the backfill limit), one transaction each: long enough to interrupt midway.
    const run = seedtest(['job', 'run', JOB, '--from', '2017-01-01', '--to', '2026-12-31'], t.env);
    await waitFor('the first progress line', () => {
      if (run.process.exitCode !== null) throw new Error(`the job exited early: ${run.out()} ${run.err()}`);
      return new RegExp(`${JOB}: \\d+/\\d+`).test(run.err()) ? true : undefined;
    });
    const sentAt = Date.now();
    run.process.kill('SIGTERM');
    const exit = await run.exited;
    assert.equal(exit.signal, null, 'the process handled the signal instead of being killed by it');
    assert.equal(exit.code, 1, `${run.out()}\n${run.err()}`);
    assert.ok(exit.at - sentAt < jobGraceMs, `exited after ${exit.at - sentAt} ms (grace ${jobGraceMs} ms)`);
    assert.match(run.out(), new RegExp(`${JOB} run \\d+ failed .*interrupted \\(SIGTERM\\)`));
    assert.ok(!existsSync(join(t.dataDir, 'db.lock')), 'the embedded data directory is released');

    const database = await t.open();
    try {
      const runs = await database.db
        .selectFrom('job_run')
        .select(['job', 'status', 'error', 'finished_at', 'stats'])
        .where('job', '=', JOB)
        .execute();
      assert.equal(runs.length, 1);
      assert.equal(runs[0].status, 'failed');
      assert.match(String(runs[0].error), /interrupted \(SIGTERM\)/);
      assert.ok(runs[0].finished_at instanceof Date);
      // The advisory lock of the job is free: a new run could start now.
      await database.db.connection().execute(async (conn) => {
        const { sql } = await import('kysely');
        const r = await sql<{
          ok: boolean;
        }>`SELECT pg_try_advisory_lock(hashtext(${`seedtest:job:${JOB}`})) AS ok`.execute(conn);
        assert.equal(r.rows[0].ok, true, 'the job lock is released');
        await sql`SELECT pg_advisory_unlock_all()`.execute(conn);
      });
    } finally {
      if (database.kind === 'embedded') await database.close();
    }
  });
});

describe('THETA_WORKER_IN_API=false (the API pods of the manifests): serve queues θ updates, works none', () => {
  let t: Awaited<ReturnType<typeof target>>;
  let serve: Child;
  before(async () => {
    t = await target();
    serve = seedtest(['serve'], { ...t.env, THETA_WORKER_IN_API: 'false' });
  });
  after(async () => {
    if (serve.process.exitCode === null) serve.process.kill('SIGKILL');
    await t.dispose();
  });

  it('the completion answers "queued" and the job is still waiting after the debounce', async () => {
    const port = await listeningPort(serve);
    assert.match(serve.out(), /"thetaUpdates":"queued for a worker"/);
    const token = await mintToken({ secret: SECRET, sub: 'queued-learner', scope: 'exam:write', ttl: '5m' });
    const post = (path: string, body: unknown) =>
      fetch(`http://127.0.0.1:${port}/api/seedtest${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    assert.equal(
      (await post('/sessions', { session_id: 'queued-session', exam_id: 'weekly-math' })).status,
      201,
    );
    const done = await post('/sessions/queued-session/complete', {});
    assert.equal(done.status, 200, await done.clone().text());
    assert.equal(((await done.json()) as { theta_update: string }).theta_update, 'queued');
    // Well past the 200 ms debounce: a worker in this process would have taken the job by now.
    await sleep(1500);
    serve.process.kill('SIGTERM');
    assert.equal((await serve.exited).code, 0, serve.err());

    const database = await t.open();
    try {
      const jobs = await database.query<{ state: string }>(
        "SELECT state FROM pgboss.job WHERE name = 'theta-update' AND singleton_key = $1",
        ['queued-learner'],
      );
      assert.deepEqual(
        jobs.rows.map((r) => r.state),
        ['created'],
      );
    } finally {
      if (database.kind === 'embedded') await database.close();
    }
  });
});

describe('seedtest job run whose backends are terminated (a failover)', {
  skip: process.env.SEEDTEST_TEST_DB !== 'server' && 'the embedded database has no backends to terminate',
}, () => {
  let t: Awaited<ReturnType<typeof target>>;
  before(async () => {
    t = await target();
  });
  after(() => t.dispose());

  it('records the run as failed with the cause and exits 1, no crash', async () => {
    const url = t.env.DATABASE_URL!;
    const name = new URL(url).pathname.slice(1);
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      // The job's transaction waits for this lock; its liveness connection sits idle meanwhile.
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE features_topic_daily IN ACCESS EXCLUSIVE MODE');
      const run = seedtest(['job', 'run', JOB, '--date', '2026-11-20'], t.env);
      await waitFor('the job to wait for the lock', async () => {
        if (run.process.exitCode !== null) throw new Error(`the job exited early: ${run.out()} ${run.err()}`);
        // Inside a transaction pg_stat_activity is a snapshot taken at its first read.
        await holder.query('SELECT pg_stat_clear_snapshot()');
        const r = await holder.query(
          "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
          [name],
        );
        return r.rowCount ? true : undefined;
      });
      const killed = await holder.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
      assert.ok(killed.rowCount! >= 2, 'the transaction and the liveness connection');
      await holder.query('ROLLBACK');
      const exit = await run.exited;
      assert.doesNotMatch(run.err(), /Unhandled 'error' event|^\s+at /m, run.err());
      assert.equal(exit.code, 1, `${run.out()}\n${run.err()}`);
      assert.match(run.out(), new RegExp(`${JOB} run \\d+ failed .*terminating connection`));
    } finally {
      await holder.end();
    }
    const database = await t.open();
    const runs = await database.db.selectFrom('job_run').select(['status', 'error']).execute();
    assert.equal(runs.length, 1);
    assert.equal(runs[0].status, 'failed');
    assert.match(String(runs[0].error), /terminating connection due to administrator command/);
  });
});

describe('seedtest serve without a JWT key', () => {
  let t: Awaited<ReturnType<typeof target>>;
  before(async () => {
    t = await target();
  });
  after(() => t.dispose());

  it('exits 1 with one line naming the key variables', async () => {
    const serve = seedtest(['serve'], { ...t.env, JWT_SECRET: '' });
    const exit = await Promise.race([serve.exited, sleep(60_000).then(() => undefined)]);
    if (!exit) serve.process.kill('SIGKILL');
    assert.ok(exit, `still running after 60 s: ${serve.err()}`);
    assert.equal(exit.code, 1, serve.err());
    assert.match(
      serve.err(),
      /^seedtest: no JWT key configured: set JWT_SECRET .*JWT_PUBLIC_KEY.*JWT_JWKS_URL/,
    );
    assert.doesNotMatch(serve.err(), /^\s+at /m, 'no stack trace');
    assert.doesNotMatch(serve.out(), /serving the API/);
  });
});

describe('SIGTERM to `npx seedtest serve`', () => {
  let t: Awaited<ReturnType<typeof target>>;
  let child: ChildProcess | undefined;
  before(async () => {
    t = await target();
  });
  after(async () => {
    if (child?.exitCode === null) child.kill('SIGKILL');
    // An orphaned server holds the data directory: stop it by the pid its lock file names.
    try {
      process.kill(JSON.parse(readFileSync(join(t.dataDir, 'db.lock'), 'utf8')).pid, 'SIGKILL');
    } catch {
      // no lock, or its process is gone
    }
    await t.dispose();
  });

  it('reaches the server below npm and its shell: the port is free afterwards', async () => {
    // npm runs the bin through `sh -c`; dash does not pass on the signal npm forwards to it.
    // On the embedded database, whose lock file names the server's pid.
    const npx = spawn('npx', ['seedtest', 'serve'], {
      cwd: join(import.meta.dirname, '..', '..', '..'),
      env: { ...t.env, DATABASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = npx;
    let out = '';
    npx.stdout.on('data', (d) => {
      out += d;
    });
    const exited = once(npx, 'exit');
    const port = await waitFor('the server to listen', () => {
      if (npx.exitCode !== null) throw new Error(`npx exited: ${out}`);
      const m = /"address":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(out);
      return m ? Number(m[1]) : undefined;
    });
    assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
    const server = JSON.parse(readFileSync(join(t.dataDir, 'db.lock'), 'utf8')).pid as number;
    assert.notEqual(server, npx.pid, 'the server runs below npx');
    npx.kill('SIGTERM');
    await exited;
    await waitFor(
      'the server process to end',
      () => {
        try {
          process.kill(server, 0);
          return undefined;
        } catch {
          return true;
        }
      },
      30_000,
    );
    await assert.rejects(fetch(`http://127.0.0.1:${port}/health`), 'the port is free');
    assert.match(out, /shutting down/);
    assert.ok(
      !existsSync(join(t.dataDir, 'db.lock')),
      'the server shut down and released the data directory',
    );
  });
});
