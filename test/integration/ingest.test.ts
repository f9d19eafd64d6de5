import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseCsv } from '../../src/cli/csv.js';
import { loadPlatform } from '../../src/demo/load.js';
import { ImportError, parseAttemptsCsv, parseExamResults } from '../../src/ingestion/parse.js';
import { UnknownItemsError, writeSourceBatch } from '../../src/ingestion/repository.js';
import { generatePlatform, streamPlatform } from '../../src/synthetic/platform.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.close();
});

const count = async (table: string) =>
  Number((await database.query<{ n: string }>(`SELECT count(*)::int8 AS n FROM ${table}`)).rows[0]?.n);

const BOUNDS = { earliest: '2000-01-01', now: new Date() };

const opts = { seed: 7, learners: 30, weeks: 2, items: 60, start: new Date('2026-11-02T00:00:00Z') };

test('the synthetic platform loads completely, and loading it again changes nothing', async () => {
  const truth = generatePlatform(opts);
  const summary = await loadPlatform(database.db, streamPlatform(opts));
  assert.equal(summary.attempts, truth.attempts.length);
  assert.equal(await count('attempt'), truth.attempts.length);
  assert.equal(await count('exam_session'), truth.sessions.length);
  assert.equal(await count('learner'), truth.learners.length);
  assert.equal(await count('item'), truth.items.length);
  assert.equal(await count('learner_goal'), truth.goals.length);
  // topic_id is copied from the item
  const mismatched = await database.query(
    'SELECT 1 FROM attempt a JOIN item i USING (item_id) WHERE a.topic_id <> i.topic_id LIMIT 1',
  );
  assert.equal(mismatched.rows.length, 0);
  // unknown response times stay NULL, never 0
  const nulls = await count('attempt WHERE response_time_ms IS NULL');
  assert.equal(nulls, truth.attempts.filter((a) => a.response_time_ms === null).length);
  await loadPlatform(database.db, streamPlatform(opts));
  assert.equal(await count('attempt'), truth.attempts.length);
});

test('exam_results lines become sessions and attempts; errors name the line', async () => {
  const lines = [
    JSON.stringify({
      session_id: 'er-1',
      user_id: 'er-user',
      started_at: '2026-11-10T09:00:00Z',
      completed_at: '2026-11-10T09:10:00Z',
      questions: [
        { question_id: 'er-q1', is_correct: true, time_spent_sec: 30, topic: 'er-topic' },
        { question_id: 'er-q2', correct: 0, used_hints: 2, topic: 'er-topic' },
      ],
    }),
  ];
  const parsed = parseExamResults(lines.join('\n'), 'x.jsonl', BOUNDS);
  assert.equal(parsed.attempts[0]?.response_time_ms, 30000);
  assert.equal(parsed.attempts[1]?.response_time_ms, null);
  assert.equal(parsed.attempts[1]?.hints, 2);
  const res = await writeSourceBatch(database.db, {
    ...parsed,
    learners: parsed.userIds.map((user_id) => ({ user_id })),
  });
  assert.deepEqual([res.inserted, res.duplicates], [2, 0]);
  const again = await writeSourceBatch(database.db, { ...parsed, learners: [] });
  assert.deepEqual([again.inserted, again.duplicates], [0, 2]);

  const bad = `${lines[0]}\n${JSON.stringify({ session_id: 's', user_id: 'u', started_at: '2026-11-10T09:00:00Z', questions: [{ question_id: 'q' }] })}`;
  assert.throws(
    () => parseExamResults(bad, 'x.jsonl', BOUNDS),
    (e: Error) => e instanceof ImportError && /line 2: questions\[0\]: missing is_correct/.test(e.message),
  );
  assert.throws(() => parseExamResults('{not json', 'x.jsonl', BOUNDS), /line 1: not valid JSON/);
});

test('a CSV with an unknown item and no topic writes nothing and names the item', async () => {
  const before = await count('attempt');
  const csv = parseCsv(
    'session_id,user_id,item_id,correct,answered_at\ncsv-s,csv-u,er-q1,1,2026-11-11T10:00:00Z\ncsv-s,csv-u,no-such-item,0,2026-11-11T10:01:00Z\n',
    'a.csv',
  );
  const parsed = parseAttemptsCsv(
    { ...csv, col: Object.fromEntries(csv.header.map((h, i) => [h, i])) },
    BOUNDS,
  );
  await assert.rejects(
    writeSourceBatch(database.db, { ...parsed, learners: parsed.userIds.map((user_id) => ({ user_id })) }),
    (e: Error) => e instanceof UnknownItemsError && /no-such-item/.test(e.message),
  );
  assert.equal(await count('attempt'), before);
  assert.equal(await count(`learner WHERE user_id = 'csv-u'`), 0);
  const badCsv = parseCsv(
    'session_id,user_id,item_id,correct,answered_at\ns,u,i,maybe,2026-11-11T10:00:00Z\n',
    'b.csv',
  );
  assert.throws(
    () =>
      parseAttemptsCsv({ ...badCsv, col: Object.fromEntries(badCsv.header.map((h, i) => [h, i])) }, BOUNDS),
    /b\.csv: line 2: correct must be/,
  );
});
