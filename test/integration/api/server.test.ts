import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { buildServer } from '../../../src/api/server.js';
import { DATABASE_GAUGES_TTL_MS } from '../../../src/observability/database-gauges.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { bearer, createFixture, type Fixture, testConfig, token } from './setup.js';

describe('server endpoints', () => {
  let f: Fixture;
  before(async () => {
    f = await createFixture();
  });
  after(() => f.close());

  it('GET /health answers and echoes the request id', async () => {
    const res = await f.app.inject({ url: '/health', headers: { 'x-request-id': 'req-123' } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok' });
    assert.equal(res.headers['x-request-id'], 'req-123');
    const generated = await f.app.inject({ url: '/health' });
    assert.match(String(generated.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  it('GET /ready is 200 on a migrated database and 503 when migrations are pending', async () => {
    const ok = await f.app.inject({ url: '/ready' });
    assert.equal(ok.statusCode, 200, ok.body);
    await f.database.query("DELETE FROM schema_migrations WHERE version = '0001'");
    const pending = await f.app.inject({ url: '/ready' });
    assert.equal(pending.statusCode, 503);
    assert.equal(pending.json().error.code, 'NOT_READY');
  });

  it('does not log probe and scrape requests, only their warnings; other requests are logged', async () => {
    const lines: { msg: string; level: number; req?: { url: string }; pending?: string[] }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const app = buildServer({ config: testConfig(), database: f.database, logger, metrics: createMetrics() });
    try {
      for (const url of ['/health', '/metrics', '/docs/openapi.json']) {
        assert.equal((await app.inject({ url })).statusCode, 200, url);
      }
      const urls = lines.filter((l) => l.req).map((l) => l.req!.url);
      assert.ok(urls.includes('/docs/openapi.json'), JSON.stringify(lines));
      assert.ok(!urls.includes('/health') && !urls.includes('/metrics'), JSON.stringify(urls));
      // (The readiness test above left migration 0001 pending.)
      assert.equal((await app.inject({ url: '/ready' })).statusCode, 503);
      const warning = lines.find((l) => l.msg === 'not ready: migrations pending');
      assert.ok(warning && warning.level === 40 && warning.pending?.includes('0001'), JSON.stringify(lines));
    } finally {
      await app.close();
    }
  });

  it('answers 404 in the error shape for unknown routes', async () => {
    const res = await f.app.inject({ url: '/api/seedtest/nothing-here' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.code, 'NOT_FOUND');
  });

  it('GET /metrics counts requests by route pattern', async () => {
    const h = bearer(await token('m', 'exam:write'));
    await f.app.inject({ method: 'POST', url: '/api/seedtest/sessions/abc/complete', headers: h });
    const res = await f.app.inject({ url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /text\/plain/);
    assert.match(res.body, /http_requests_total\{method="GET",route="\/health",status="200"\}/);
    assert.match(res.body, /route="\/api\/seedtest\/sessions\/:session_id\/complete",status="404"/);
    assert.doesNotMatch(res.body, /sessions\/abc/);
    assert.match(res.body, /http_request_duration_seconds_bucket/);
    assert.match(res.body, /process_cpu_user_seconds_total/);
    assert.match(res.body, /seedtest_theta_updates_total/);
  });

  it("GET /metrics exports every job's last success from job_run, whoever ran it", async () => {
    await f.database.query(
      `INSERT INTO job_run (job, params, status, started_at, finished_at, stats) VALUES
        ('mirt-calibrate', '{}', 'succeeded', '2026-11-20T03:00:00Z', '2026-11-20T03:00:30Z', '{}'),
        ('mirt-calibrate', '{}', 'succeeded', '2026-11-21T03:00:00Z', '2026-11-21T03:00:10Z', '{}'),
        ('mirt-calibrate', '{}', 'failed', '2026-11-22T03:00:00Z', '2026-11-22T03:00:10Z', '{}')`,
    );
    // Past the cache of the earlier scrapes: the database is read at most once per TTL.
    await sleep(DATABASE_GAUGES_TTL_MS);
    const res = await f.app.inject({ url: '/metrics' });
    const expected = Date.parse('2026-11-21T03:00:10Z') / 1000;
    assert.match(
      res.body,
      new RegExp(`seedtest_job_last_success_timestamp_seconds\\{job="mirt-calibrate"\\} ${expected}\\n`),
    );
  });

  it('GET /docs/openapi.json lists the routes with bearer security; /docs is the API reference', async () => {
    const res = await f.app.inject({ url: '/docs/openapi.json' });
    assert.equal(res.statusCode, 200);
    const doc = res.json();
    assert.equal(doc.components.securitySchemes.bearerAuth.scheme, 'bearer');
    for (const path of [
      '/api/seedtest/sessions',
      '/api/seedtest/sessions/{session_id}/attempts',
      '/api/seedtest/sessions/{session_id}/complete',
    ]) {
      assert.ok(doc.paths[path]?.post, path);
    }
    assert.equal(doc.paths['/health'], undefined);
    const page = await f.app.inject({ url: '/docs' });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /text\/html/);
    // Swagger UI, started by a script of this server (test/integration/api/docs.test.ts has the rest).
    assert.match(page.body, /<script src="\/docs\/assets\/swagger-ui-bundle\.js">/);
    assert.match(page.headers['content-security-policy'] as string, /script-src 'self'(;|$)/);
  });
});
