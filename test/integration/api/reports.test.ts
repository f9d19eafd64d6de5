// GET /reports and GET /reports/{id}/download over real HTTP (inject) on reports the job stored:
// own data for learners, any learner's for analysts, files streamed with their content type from
// the filesystem store, and a redirect to a presigned URL when the reports live in S3 (s3rver).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildServer } from '../../../src/api/server.js';
import { insertAttempts, upsertLearners, upsertSessions } from '../../../src/ingestion/repository.js';
import { findJob } from '../../../src/jobs/registry.js';
import { runJob } from '../../../src/jobs/runner.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { generateWeeklyReports } from '../../../src/reports/job.js';
import { reportKey } from '../../../src/reports/storage.js';
import { startS3, type TestS3 } from '../../helpers/s3.js';
import { bearer, createFixture, type Fixture, seedItems, testConfig, token } from './setup.js';

const WEEK = '2026-11-16';
const BASE_URL = 'https://analytics.example.test';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Two learners with a few attempts in the week, and their reports stored by the job. */
async function seedReports(f: Fixture, env: Record<string, string>): Promise<void> {
  const { db } = f.database;
  await seedItems(f.database);
  await upsertLearners(db, [
    { user_id: 'u1', display_name: 'Learner One', locale: 'en' },
    { user_id: 'u2', locale: 'ko' },
  ]);
  await upsertSessions(
    db,
    ['u1', 'u2'].map((u) => ({
      session_id: `s-${u}`,
      user_id: u,
      status: 'completed' as const,
      started_at: new Date('2026-11-17T09:00:00Z'),
      completed_at: new Date('2026-11-17T09:30:00Z'),
    })),
  );
  await insertAttempts(
    db,
    ['u1', 'u2'].flatMap((u) =>
      ['i1', 'i2', 'i3'].map((item, k) => ({
        session_id: `s-${u}`,
        user_id: u,
        item_id: item,
        correct: k !== 1,
        response_time_ms: 20_000 + 5_000 * k,
        answered_at: new Date(`2026-11-17T09:0${k}:00Z`),
        client_attempt_id: `c${k}`,
      })),
    ),
  );
  const job = findJob('generate-weekly-report');
  const outcome = await runJob(
    db,
    {
      ...job,
      run: (conn, ctx) => generateWeeklyReports(conn, ctx, { now: () => new Date('2026-11-23T04:00:00Z') }),
    },
    [WEEK],
    testConfig(env),
  );
  assert.equal(outcome.status, 'succeeded', outcome.summary);
}

describe('report routes on the filesystem store', () => {
  let f: Fixture;
  let dataDir: string;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'reports-api-'));
    const env = { DATA_DIR: dataDir, PUBLIC_BASE_URL: BASE_URL };
    f = await createFixture(env);
    await seedReports(f, env);
  });
  after(async () => {
    await f.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const get = (url: string, t: string) => f.app.inject({ method: 'GET', url, headers: bearer(t) });

  it("lists a learner its own reports, the learner's edition only, each with its download URL", async () => {
    const res = await get('/api/seedtest/reports', await token('u1', 'reports:view'));
    assert.equal(res.statusCode, 200, res.body);
    const { reports } = res.json();
    assert.deepEqual(
      reports.map((r: { format: string; week_start: string; user_id: string; edition: string }) => [
        r.user_id,
        r.week_start,
        r.edition,
        r.format,
      ]),
      [
        ['u1', WEEK, 'learner', 'html'],
        ['u1', WEEK, 'learner', 'pdf'],
      ],
    );
    const rows = await f.database.db
      .selectFrom('report_artifacts')
      .select(['id', 'url'])
      .where('user_id', '=', 'u1')
      .where('edition', '=', 'learner')
      .orderBy('format')
      .execute();
    for (const [i, r] of reports.entries()) {
      assert.equal(r.id, rows[i].id);
      assert.equal(r.download_url, `${BASE_URL}/api/seedtest/reports/${r.id}/download`);
      assert.equal(r.download_url, rows[i].url);
    }
    // Without PUBLIC_BASE_URL the link is the address the request came to.
    const served = buildServer({
      config: testConfig({ DATA_DIR: dataDir }),
      database: f.database,
      logger: createLogger('silent', false),
      metrics: createMetrics(),
    });
    const here = await served.inject({
      method: 'GET',
      url: '/api/seedtest/reports',
      headers: { ...bearer(await token('u1', 'reports:view')), host: '127.0.0.1:18099' },
    });
    assert.equal(
      here.json().reports[0].download_url,
      `http://127.0.0.1:18099/api/seedtest/reports/${rows[0]!.id}/download`,
    );
    await served.close();
    const filtered = await get(
      `/api/seedtest/reports?user_id=u1&week_start=2026-11-09`,
      await token('u1', 'reports:view'),
    );
    assert.deepEqual(filtered.json().reports, []);
    const teacher = await get('/api/seedtest/reports?edition=teacher', await token('u1', 'reports:view'));
    assert.equal(teacher.statusCode, 403);
    assert.equal(teacher.json().error.code, 'INSUFFICIENT_SCOPE');
  });

  it("refuses another learner's list (403) and a token without the scope; analysts see anyone's", async () => {
    const other = await get('/api/seedtest/reports?user_id=u1', await token('u2', 'reports:view'));
    assert.equal(other.statusCode, 403);
    assert.equal(other.json().error.code, 'NOT_YOUR_DATA');
    const noScope = await get('/api/seedtest/reports', await token('u1', 'exam:write'));
    assert.equal(noScope.statusCode, 403);
    assert.equal(noScope.json().error.code, 'INSUFFICIENT_SCOPE');
    const analyst = await get('/api/seedtest/reports?user_id=u1', await token('ana', 'analysis:run'));
    assert.equal(analyst.statusCode, 200);
    assert.deepEqual(
      analyst.json().reports.map((r: { edition: string; format: string }) => `${r.edition}.${r.format}`),
      ['learner.html', 'learner.pdf', 'teacher.html', 'teacher.pdf'],
    );
    const onlyTeacher = await get(
      '/api/seedtest/reports?user_id=u1&edition=teacher',
      await token('ana', 'analysis:run'),
    );
    assert.equal(onlyTeacher.json().reports.length, 2);
    const bad = await get('/api/seedtest/reports?week_start=last-week', await token('u1', 'reports:view'));
    assert.equal(bad.statusCode, 400);
  });

  it("streams the file with its content type to the owner and to analysts; another learner gets 403, the owner the teacher's edition neither", async () => {
    const rows = await f.database.db
      .selectFrom('report_artifacts')
      .selectAll()
      .where('user_id', '=', 'u1')
      .orderBy('edition')
      .orderBy('format')
      .execute();
    assert.equal(rows.length, 4);
    const owner = await token('u1', 'reports:view');
    for (const row of rows) {
      const url = `/api/seedtest/reports/${row.id}/download`;
      const res = await get(url, owner);
      if (row.edition === 'teacher') {
        assert.equal(res.statusCode, 403, res.body);
        assert.equal(res.json().error.code, 'INSUFFICIENT_SCOPE');
        const analyst = await get(url, await token('ana', 'analysis:run'));
        assert.equal(analyst.statusCode, 200);
        assert.equal(sha256(analyst.rawPayload), row.sha256);
        continue;
      }
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(
        res.headers['content-type'],
        row.format === 'html' ? 'text/html; charset=utf-8' : 'application/pdf',
      );
      const body = res.rawPayload;
      assert.equal(sha256(body), row.sha256);
      assert.deepEqual(body, await readFile(join(dataDir, reportKey('u1', WEEK, 'learner', row.format))));
      assert.match(
        String(res.headers['content-disposition']),
        /^inline; filename="report-u1-2026-11-16-learner\./,
      );
      const admin = await get(url, await token('ops', 'admin'));
      assert.equal(admin.statusCode, 200);
      assert.equal(sha256(admin.rawPayload), row.sha256);
      const other = await get(url, await token('u2', 'reports:view'));
      assert.equal(other.statusCode, 403);
      assert.equal(other.json().error.code, 'NOT_YOUR_DATA');
    }
    const missing = await get('/api/seedtest/reports/999999/download', await token('ops', 'admin'));
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 'REPORT_NOT_FOUND');
    const bad = await get('/api/seedtest/reports/abc/download', owner);
    assert.equal(bad.statusCode, 400);
  });
});

describe('report download from S3 (s3rver)', () => {
  let f: Fixture;
  let s3: TestS3;
  const credentials = {
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY,
  };

  before(async () => {
    s3 = await startS3();
    // The route's store takes credentials from the SDK's provider chain, as in production.
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    const env = {
      DATA_DIR: s3.dir,
      PUBLIC_BASE_URL: BASE_URL,
      S3_BUCKET: 'reports',
      S3_ENDPOINT: s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      REPORT_URL_TTL_SECONDS: '120',
    };
    f = await createFixture(env);
    await seedReports(f, env);
  });
  after(async () => {
    await f.close();
    await s3.close();
    for (const [k, v] of Object.entries(credentials)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('redirects the owner to a presigned URL that serves the stored bytes; another learner gets 403', async () => {
    const row = await f.database.db
      .selectFrom('report_artifacts')
      .selectAll()
      .where('user_id', '=', 'u2')
      .where('edition', '=', 'learner')
      .where('format', '=', 'pdf')
      .executeTakeFirstOrThrow();
    const url = `/api/seedtest/reports/${row.id}/download`;
    const res = await f.app.inject({
      method: 'GET',
      url,
      headers: bearer(await token('u2', 'reports:view')),
    });
    assert.equal(res.statusCode, 302, res.body);
    const location = String(res.headers.location);
    assert.match(location, /X-Amz-Expires=120/);
    assert.ok(location.includes(`/reports/${row.storage_key}`), location);
    const file = await fetch(location);
    assert.equal(file.status, 200);
    assert.equal(sha256(Buffer.from(await file.arrayBuffer())), row.sha256);
    const other = await f.app.inject({
      method: 'GET',
      url,
      headers: bearer(await token('u1', 'reports:view')),
    });
    assert.equal(other.statusCode, 403);
  });
});
