import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { DataDirLockedError, openEmbedded } from '../../src/db/connection.js';
import { ensureSchema, listMigrations, migrate, pendingMigrations } from '../../src/db/migrator.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const QUERY_AND_CLOSE = fileURLToPath(new URL('../helpers/query-and-close.ts', import.meta.url));

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.close();
});

test('every migration is applied and a second migrate is a no-op', async () => {
  assert.deepEqual(await pendingMigrations(database), []);
  assert.deepEqual(await migrate(database), []);
  const { rows } = await database.query<{ n: string }>('SELECT count(*)::int8 AS n FROM schema_migrations');
  assert.equal(rows[0]?.n, String(listMigrations().length));
  await ensureSchema(database);
});

test('the verification queries of the data model run as written', async () => {
  const queries = [
    `SELECT user_id, week_start, kpis->>'I_t', kpis->>'P', kpis->>'S' FROM weekly_kpi ORDER BY updated_at DESC LIMIT 10`,
    `SELECT user_id, topic_id, date, attempts, correct, rt_median FROM features_topic_daily ORDER BY date DESC LIMIT 20`,
    `SELECT item_id, params->>'a' AS discrimination, params->>'b' AS difficulty FROM mirt_item_params ORDER BY fitted_at DESC LIMIT 20`,
    `SELECT user_id, theta, se FROM mirt_ability ORDER BY fitted_at DESC LIMIT 20`,
    `SELECT DATE(fitted_at), COUNT(*) FROM mirt_ability WHERE fitted_at >= NOW() - INTERVAL '7 days' GROUP BY 1`,
    `SELECT user_id, week_start, format, url, generated_at FROM report_artifacts ORDER BY generated_at DESC LIMIT 10`,
  ];
  for (const q of queries) await database.query(q);
});

test('both drivers return dates as text, timestamps as Date and int8 as string', async () => {
  const { db } = database;
  await db.insertInto('learner').values({ user_id: 'u1', org_id: null, display_name: null }).execute();
  await db.insertInto('topic').values({ topic_id: 't1', name: 'Algebra', subject: null }).execute();
  await db
    .insertInto('item')
    .values({ item_id: 'i1', topic_id: 't1', tags: ['anchor'] })
    .execute();
  await db
    .insertInto('exam_session')
    .values({
      session_id: 's1',
      user_id: 'u1',
      exam_id: null,
      status: 'open',
      started_at: '2026-11-02T10:00:00Z',
    })
    .execute();
  const inserted = await db
    .insertInto('attempt')
    .values({
      session_id: 's1',
      user_id: 'u1',
      item_id: 'i1',
      topic_id: 't1',
      correct: true,
      response_time_ms: null,
      answered_at: '2026-11-02T10:01:00Z',
      client_attempt_id: 'c1',
    })
    .returning(['attempt_id', 'answered_at', 'hints'])
    .executeTakeFirstOrThrow();
  assert.equal(typeof inserted.attempt_id, 'string');
  assert.ok(inserted.answered_at instanceof Date);
  assert.equal(inserted.hints, 0);
  const row = await sql<{ d: string }>`SELECT ${'2026-11-02'}::date AS d`.execute(db);
  assert.equal(row.rows[0]?.d, '2026-11-02');
  const item = await db.selectFrom('item').selectAll().executeTakeFirstOrThrow();
  assert.deepEqual(item.tags, ['anchor']);
  assert.deepEqual(item.meta, {});
});

test('constraints reject what the model forbids', async () => {
  await assert.rejects(database.query(`INSERT INTO learner (user_id, locale) VALUES ('u2', 'fr')`));
  await assert.rejects(
    database.query(
      `INSERT INTO weekly_kpi (user_id, week_start, kpis, as_of) VALUES ('u1', '2026-11-03', '{}', '2026-11-03')`,
    ),
    /check/i,
  );
  await assert.rejects(
    database.query(
      `INSERT INTO attempt (session_id, user_id, item_id, topic_id, correct, response_time_ms, answered_at)
       VALUES ('s1', 'u1', 'i1', 't1', true, -5, now())`,
    ),
  );
});

test('a failed transaction leaves nothing behind', async () => {
  const { db } = database;
  await assert.rejects(
    db.transaction().execute(async (trx) => {
      await trx.insertInto('topic').values({ topic_id: 'tx-topic', name: 'x', subject: null }).execute();
      throw new Error('boom');
    }),
    /boom/,
  );
  const found = await db.selectFrom('topic').where('topic_id', '=', 'tx-topic').selectAll().execute();
  assert.equal(found.length, 0);
});

test('mirt_item_params_current picks the latest succeeded run per item', async () => {
  await database.query(`INSERT INTO mirt_fit_meta (run_id, model, status, fitted_at) VALUES
    ('r1', '2PL', 'succeeded', '2026-11-01'), ('r2', '2PL', 'succeeded', '2026-11-02'), ('r3', '2PL', 'failed', '2026-11-03')`);
  await database.query(`INSERT INTO mirt_item_params (item_id, version, model, params, fitted_at) VALUES
    ('i1', 'r1', '2PL', '{"a":1,"b":0,"c":0,"d":0}', '2026-11-01'),
    ('i1', 'r2', '2PL', '{"a":2,"b":0,"c":0,"d":0}', '2026-11-02'),
    ('i1', 'r3', '2PL', '{"a":3,"b":0,"c":0,"d":0}', '2026-11-03')`);
  const rows = await database.db.selectFrom('mirt_item_params_current').selectAll().execute();
  assert.equal(rows.length, 1);
  assert.equal(rows[0]?.version, 'r2');
  assert.equal(rows[0]?.params.a, 2);
});

test('a process that used the embedded database without Kysely exits once it closes it', {
  skip: process.env.SEEDTEST_TEST_DB === 'server',
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'seedtest-close-'));
  try {
    // Kysely closes PGlite only when a query went through it; the open instance's timer kept such a
    // process alive (on an existing data directory: the first run creates it). A hang shows as the
    // 60 s timeout killing the child.
    for (const run of ['creates the directory', 'opens it again']) {
      const child = spawnSync(process.execPath, ['--import', 'tsx', QUERY_AND_CLOSE, dir], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(child.signal, null, `${run}: the process did not exit by itself`);
      assert.equal(child.status, 0, child.stderr);
      assert.equal(child.stdout.trim(), '1');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a second process never opens the embedded data directory twice', {
  skip: process.env.SEEDTEST_TEST_DB === 'server',
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'seedtest-lock-'));
  try {
    const first = await openEmbedded(dir, 'serve');
    // A foreign live pid holds the lock: simulate by writing the parent's pid into the lock file.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      join(dir, 'db.lock'),
      JSON.stringify({ pid: process.ppid, command: 'serve', startedAt: 'now' }),
    );
    await assert.rejects(openEmbedded(dir, 'job run'), (err: Error) => {
      assert.ok(err instanceof DataDirLockedError);
      assert.match(err.message, new RegExp(`process ${process.ppid}`));
      assert.match(err.message, /seedtest serve/);
      return true;
    });
    await first.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
