// A PostgreSQL backend terminated under a request in flight (pg_terminate_backend, an idle-session
// timeout, a failover), or its connection cut: the request fails with 503 UNAVAILABLE and the server
// goes on serving. The embedded database has no backends to terminate.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildServer } from '../../../src/api/server.js';
import { type Database, openServer } from '../../../src/db/connection.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { bearer, createFixture, type Fixture, testConfig, token } from './setup.js';

/** The pid of the one backend of `database` waiting for a lock, once it waits. */
async function waitingBackend(admin: pg.Client, database: string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    // Inside a transaction pg_stat_activity is a snapshot taken at its first read.
    await admin.query('SELECT pg_stat_clear_snapshot()');
    const r = await admin.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
      [database],
    );
    if (r.rows.length === 1) return r.rows[0]!.pid;
    await sleep(50);
  }
  throw new Error('no backend started waiting for the lock');
}

describe('a terminated backend under a request', { skip: process.env.SEEDTEST_TEST_DB !== 'server' }, () => {
  let f: Fixture;
  let base: string;
  let holder: pg.Client;
  before(async () => {
    f = await createFixture();
    base = await f.app.listen({ port: 0, host: '127.0.0.1' });
    holder = new pg.Client({ connectionString: f.database.url });
    await holder.connect();
  });
  after(async () => {
    await holder.end();
    await f.close();
  });

  it('answers 503 UNAVAILABLE, and the server answers the next requests', async () => {
    const headers = {
      ...bearer(await token('terminated-learner', 'exam:write')),
      'content-type': 'application/json',
    };
    const post = (path: string, body: unknown) =>
      fetch(`${base}/api/seedtest${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    assert.equal((await post('/sessions', { session_id: 'held', exam_id: 'e1' })).status, 201);

    await holder.query('BEGIN');
    await holder.query("SELECT * FROM exam_session WHERE session_id = 'held' FOR UPDATE");
    const completion = post('/sessions/held/complete', {});
    const pid = await waitingBackend(holder, new URL(f.database.url!).pathname.slice(1));
    await holder.query('SELECT pg_terminate_backend($1)', [pid]);
    const res = await completion;
    await holder.query('ROLLBACK');
    assert.equal(res.status, 503, await res.clone().text());
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'UNAVAILABLE');

    // The process is alive and the pool has replaced the connection.
    const again = await post('/sessions/held/complete', {});
    assert.equal(again.status, 200, await again.clone().text());
    const row = await f.database.db
      .selectFrom('exam_session')
      .select('status')
      .where('session_id', '=', 'held')
      .executeTakeFirstOrThrow();
    assert.equal(row.status, 'completed');
  });
});

describe('a connection cut without a word from the server', {
  skip: process.env.SEEDTEST_TEST_DB !== 'server',
}, () => {
  // The API's database goes through a TCP proxy whose sockets the test destroys: node-postgres then
  // fails the query with its own "Connection terminated unexpectedly", which has no SQLSTATE.
  let f: Fixture;
  let app: FastifyInstance;
  let proxied: Database;
  let holder: pg.Client;
  const sockets = new Set<Socket>();
  const proxy = createServer((client) => {
    const upstream = connect(5432, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {}).on('close', () => sockets.delete(s));
    }
  });
  before(async () => {
    f = await createFixture();
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    const url = new URL(f.database.url!);
    url.host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    proxied = openServer(url.toString(), 2);
    app = buildServer({
      config: testConfig(),
      database: proxied,
      logger: createLogger('silent', false),
      metrics: createMetrics(),
    });
    await app.ready();
    holder = new pg.Client({ connectionString: f.database.url });
    await holder.connect();
  });
  after(async () => {
    await holder.end();
    await app.close();
    await proxied.close();
    proxy.close();
    await f.close();
  });

  it('answers 503 UNAVAILABLE, and the next request gets a new connection', async () => {
    const headers = bearer(await token('cut-learner', 'exam:write'));
    const post = (url: string) =>
      app.inject({ method: 'POST', url: `/api/seedtest${url}`, headers, payload: {} });
    assert.equal((await post('/sessions')).statusCode, 201);
    const id = (await post('/sessions')).json().session_id as string;

    await holder.query('BEGIN');
    await holder.query('SELECT * FROM exam_session WHERE session_id = $1 FOR UPDATE', [id]);
    const completion = post(`/sessions/${id}/complete`);
    await waitingBackend(holder, new URL(f.database.url!).pathname.slice(1));
    for (const s of sockets) s.destroy();
    const res = await completion;
    await holder.query('ROLLBACK');
    assert.equal(res.statusCode, 503, res.body);
    assert.equal(res.json().error.code, 'UNAVAILABLE');
    assert.equal((await post(`/sessions/${id}/complete`)).statusCode, 200);
  });
});
